package event

import (
	"math/rand/v2"
	"testing"

	json "github.com/goccy/go-json"
)

// The direct encoding of Fields must give exactly the JSON library's bytes.
func TestAppendValueMatchesLibrary(t *testing.T) {
	alphabet := []string{"a", "Z", "0", " ", "\"", "\\", "\n", "\t", "\x01", "\x7f", "<", ">", "&", "田", "中", "ｱ", "\u2028", "\u2029", "\ufffd", "\xff", "\xe3\x81", "😀", "/"}
	rng := rand.New(rand.NewPCG(1, 2))
	values := []any{"", "tanaka", "田中 太郎", int64(-42), 7, true, false, []string{"a", "営業部"}, []string{}, 1.5, []any{"x", int64(1)}, map[string]any{"k": "v"}, nil}
	for range 5000 {
		var s string
		for range rng.IntN(12) {
			s += alphabet[rng.IntN(len(alphabet))]
		}
		values = append(values, s, []string{s, s + "x"})
	}
	for _, v := range values {
		want, err := json.MarshalWithOption(v, json.DisableHTMLEscape())
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendValue(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("%#v: got %s, want %s", v, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "abc", "田中\n", "\xff\x00\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.MarshalWithOption(s, json.DisableHTMLEscape())
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}
