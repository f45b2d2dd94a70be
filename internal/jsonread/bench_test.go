package jsonread

import (
	"os"
	"testing"
)

// BenchmarkReader reads an event as the pipeline encodes it (a Windows
// logon with the Winlogbeat JSON in event.original): skipping every
// value, and unescaping every string.
func BenchmarkReader(b *testing.B) {
	raw, err := os.ReadFile("testdata/winlogbeat_event.json")
	if err != nil {
		b.Fatal(err)
	}
	text := string(raw)
	var r Reader
	var visit func() error
	visit = func() error {
		switch r.Kind() {
		case Object:
			return r.Object("an object", func(string) error { return visit() })
		case Array:
			return r.Array("an array", visit)
		case String:
			_, _, err := r.StringValue()
			return err
		}
		return r.Skip()
	}
	b.Run("skip", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			r.Reset(text)
			if err := r.Document(func(string) error { return r.Skip() }); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("strings", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for b.Loop() {
			r.Reset(text)
			if err := r.Document(func(string) error { return visit() }); err != nil {
				b.Fatal(err)
			}
		}
	})
}
