package evtx

import (
	"bytes"
	"encoding/xml"
	"io"
	"log"
	"os"
	"testing"
)

// FuzzWalk: no input may panic or hang the process, and every record that
// is reported as read is well-formed XML.
func FuzzWalk(f *testing.F) {
	log.SetOutput(io.Discard) // the library logs parse errors with stack traces
	good, err := os.ReadFile(fixturePath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:FileHeaderSize+2000])
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		_ = file.Walk(func(r Record) error {
			dec := xml.NewDecoder(bytes.NewReader(r.XML))
			for {
				_, err := dec.Token()
				if err == io.EOF {
					return nil
				}
				if err != nil {
					t.Fatalf("record %d renders as malformed XML: %v\n%s", r.ID, err, r.XML)
				}
			}
		}, nil)
	})
}
