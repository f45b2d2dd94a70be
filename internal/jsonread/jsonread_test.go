package jsonread

import (
	"encoding/json"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSpecial8 checks that the lowest byte special8 marks is the first
// quote, backslash or control character, on random words rich in them.
func TestSpecial8(t *testing.T) {
	alphabet := []byte{'"', '\\', 0, 0x1f, 0x20, 0x21, 'a', 0x7f, 0x80, 0xa2, 0xdc, 0xff, 0x5b, 0x5d}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var v uint64
		want := 8
		for i := range 8 {
			c := alphabet[r.IntN(len(alphabet))]
			v |= uint64(c) << (8 * i)
			if want == 8 && (c == '"' || c == '\\' || c < 0x20) {
				want = i
			}
		}
		got := 8
		if m := special8(v); m != 0 {
			got = bits.TrailingZeros64(m) >> 3
		}
		require.Equal(t, want, got, "%#x", v)
	}
}

// decodeAny reads any value as encoding/json decodes it into an any
// (numbers as json.Number), with r's methods.
func decodeAny(r *Reader) (any, error) {
	switch r.Kind() {
	case Object:
		m := map[string]any{}
		err := r.Object("an object", func(k string) error {
			v, err := decodeAny(r)
			m[k] = v
			return err
		})
		return m, err
	case Array:
		a := []any{}
		err := r.Array("an array", func() error {
			v, err := decodeAny(r)
			a = append(a, v)
			return err
		})
		return a, err
	case String:
		s, _, err := r.StringValue()
		return s, err
	case Number:
		s, err := r.Number()
		return json.Number(s), err
	case Bool:
		s, err := r.Literal()
		return s == "true", err
	case Null:
		_, err := r.Literal()
		return nil, err
	}
	return nil, r.Skip()
}

// check reads doc as a document with Skip and with decodeAny, and
// compares both with encoding/json.
func check(t *testing.T, doc string) {
	var want map[string]any
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	stdErr := dec.Decode(&want)
	if stdErr == nil && dec.More() || stdErr == nil && !json.Valid([]byte(doc)) {
		stdErr = json.Unmarshal([]byte(doc), &want) // data after the value
	}
	deep := strings.Count(doc, "{")+strings.Count(doc, "[") > MaxDepth
	r := NewReader(doc)
	skipErr := r.Document(func(string) error { return r.Skip() })
	var got map[string]any
	r.Reset(doc)
	anyErr := r.Document(func(k string) error {
		if got == nil {
			got = map[string]any{}
		}
		v, err := decodeAny(r)
		got[k] = v
		return err
	})
	if anyErr == nil && got == nil {
		got = map[string]any{}
	}
	require.Equal(t, skipErr == nil, anyErr == nil, "%q: %v, %v", doc, skipErr, anyErr)
	if stdErr != nil || want == nil {
		require.Error(t, anyErr, "%q: accepted; encoding/json: %v", doc, stdErr)
		return
	}
	if anyErr != nil {
		require.True(t, deep, "%q: %v", doc, anyErr)
		require.Contains(t, anyErr.Error(), "nested deeper", doc)
		return
	}
	require.Equal(t, want, got, "%q", doc)
}

func TestReaderMatchesEncodingJSON(t *testing.T) {
	for _, doc := range []string{
		`{}`, ` {"a" : [ 1 , -0.5e+3 , "x" , true , false , null , { } , [ ] ] } `, `{"a":"\u00e9\/\ud83d\ude00\ud800\u0041\udc00"}`,
		`{"日本":"語\n\t"}`, "{\"a\":\"\xff\xfe\xed\xa0\x80\"}", "{\"\xff\":1}", `{"a":1,"a":2}`,
		`{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`, `{"a":tru}`, `{"a":"\x"}`, `{"a":"\u12g4"}`, `{"a":[1,]}`,
		`{"a":1,}`, `{"a" 1}`, `{"a":1} x`, `{"a":1}}`, `[1]`, `"x"`, ``, ` `, `{"a":"x`, "{\"a\":\"\x01\"}",
		`{"a":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`,
	} {
		check(t, doc)
	}
}

func FuzzReader(f *testing.F) {
	for _, doc := range []string{
		`{"a":[1,{"b":"c\u00e9"}],"d":-1.5e3,"e":null,"f":true}`, `{"日本":"語"}`, "{\"a\":\"\xff\"}", `{"a":"\ud83d\ude00"}`,
	} {
		f.Add(doc)
	}
	f.Fuzz(check)
}
