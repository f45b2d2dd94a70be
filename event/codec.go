package event

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	json "github.com/goccy/go-json"
)

// ErrNoTimestamp reports a document without a usable @timestamp.
var ErrNoTimestamp = errors.New("event: document has no @timestamp")

// Marshal uses github.com/goccy/go-json: it writes the same bytes as
// encoding/json for Event and was about twice as fast in
// BenchmarkJSONLib* (see docs/benchmarks.md). It does not escape <, > and &
// as HTML, so raw log lines read as they were sent ("<38>Jan 15 ...").
// Unmarshal (decode.go) reads with internal/jsonread and builds the event
// directly, without a map[string]any in between.

// Marshal encodes an event as an ECS JSON document: the typed core as nested
// objects, then Fields as dotted keys in sorted order, so equal events always
// encode to equal bytes. The result is freshly allocated.
func Marshal(e *Event) ([]byte, error) {
	out, err := json.MarshalWithOption(e, json.DisableHTMLEscape())
	if err != nil {
		return nil, fmt.Errorf("event: encode: %w", err)
	}
	if len(e.Fields) == 0 {
		return out, nil
	}
	out = out[:len(out)-1] // reopen the object
	keys := make([]string, 0, len(e.Fields))
	size := len(out)
	for k, v := range e.Fields {
		keys = append(keys, k)
		size += len(k) + 6
		if s, ok := v.(string); ok {
			size += len(s)
		}
	}
	out = slices.Grow(out, size-len(out)+64) // one allocation for the usual document
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, ',')
		out = appendString(out, k)
		out = append(out, ':')
		if out, err = appendValue(out, e.Fields[k]); err != nil {
			return nil, fmt.Errorf("event: encode field %s: %w", k, err)
		}
	}
	return append(out, '}'), nil
}

// appendValue appends v as JSON: the common shapes of Fields values
// directly, anything else through the JSON library.
func appendValue(out []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return appendString(out, v), nil
	case []string:
		out = append(out, '[')
		for i, s := range v {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendString(out, s)
		}
		return append(out, ']'), nil
	case int64:
		return strconv.AppendInt(out, v, 10), nil
	case int:
		return strconv.AppendInt(out, int64(v), 10), nil
	case bool:
		return strconv.AppendBool(out, v), nil
	}
	b, err := json.MarshalWithOption(v, json.DisableHTMLEscape())
	return append(out, b...), err
}

// appendString appends s as a JSON string. Strings that need no escape
// (the vast majority: printable ASCII and valid multi-byte UTF-8, Japanese
// included) are copied as they are; any other goes through the JSON
// library, so the bytes are always exactly the library's.
func appendString(out []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == 0x7f {
				return appendSlow(out, s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
			return appendSlow(out, s)
		}
		i += size
	}
	out = append(out, '"')
	out = append(out, s...)
	return append(out, '"')
}

func appendSlow(out []byte, s string) []byte {
	b, _ := json.MarshalWithOption(s, json.DisableHTMLEscape()) // a string always encodes
	return append(out, b...)
}
