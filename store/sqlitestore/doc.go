package sqlitestore

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/textan"
)

// timeField is the field every document must carry; its value fills the ts
// column that orders, ranges and ages documents.
const timeField = "@timestamp"

// parsed is what Index and Update need from a document besides its bytes.
type parsed struct {
	ts   int64    // UTC nanoseconds of @timestamp
	text []string // analysed tokens joined by spaces, per FTS column
}

// parseDoc validates a document and extracts its time and the tokens of its
// text fields. It reads the document in one pass without building a tree.
func (c *collection) parseDoc(src []byte) (parsed, error) {
	var p parsed
	if !json.Valid(src) {
		return p, fmt.Errorf("%w: not valid JSON", store.ErrBadDocument)
	}
	s := scanner{b: src}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return p, fmt.Errorf("%w: not a JSON object", store.ErrBadDocument)
	}
	var tsRaw []byte
	values := make([][]string, len(c.textFields))
	descend := func(path string) bool {
		for _, f := range c.textFields {
			if strings.HasPrefix(f, path+".") {
				return true
			}
		}
		return false
	}
	s.object("", descend, func(path string, raw []byte) {
		if path == timeField {
			tsRaw = raw
			return
		}
		for i, f := range c.textFields {
			if path == f {
				values[i] = append(values[i], stringsOf(raw)...)
			}
		}
	})
	if tsRaw == nil {
		return p, fmt.Errorf("%w: no %s", store.ErrBadDocument, timeField)
	}
	var tsText string
	if err := json.Unmarshal(tsRaw, &tsText); err != nil {
		return p, fmt.Errorf("%w: %s is not a string", store.ErrBadDocument, timeField)
	}
	ts, ok := parseTime(tsText)
	if !ok {
		return p, fmt.Errorf("%w: %s %q is not an RFC 3339 time", store.ErrBadDocument, timeField, tsText)
	}
	p.ts = ts
	p.text = make([]string, len(values))
	for i, vs := range values {
		var toks []string
		for _, v := range vs {
			toks = textan.AppendTokens(toks, v)
		}
		p.text[i] = strings.Join(toks, " ")
	}
	return p, nil
}

// stringsOf returns the string, or the strings of an array, in raw JSON.
func stringsOf(raw []byte) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []any
	if json.Unmarshal(raw, &many) != nil {
		return nil
	}
	var out []string
	for _, v := range many {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// scanner walks valid JSON (checked by json.Valid beforehand).
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// object walks the object at s.i, calling leaf with each member's dotted path
// and raw value, except that it walks into an object value whose path
// descend accepts.
func (s *scanner) object(prefix string, descend func(path string) bool, leaf func(path string, raw []byte)) {
	s.i++ // {
	for {
		s.ws()
		if s.b[s.i] == '}' {
			s.i++
			return
		}
		if s.b[s.i] == ',' {
			s.i++
			s.ws()
		}
		key := s.str()
		s.ws()
		s.i++ // :
		s.ws()
		path := key
		if prefix != "" {
			path = prefix + "." + key
		}
		start := s.i
		if s.b[s.i] == '{' && descend(path) {
			s.object(path, descend, leaf)
			continue
		}
		s.skip()
		leaf(path, s.b[start:s.i])
	}
}

// str reads a string and returns its decoded value.
func (s *scanner) str() string {
	start := s.i
	s.i++
	escaped := false
	for s.b[s.i] != '"' {
		if s.b[s.i] == '\\' {
			escaped = true
			s.i++
		}
		s.i++
	}
	s.i++
	if !escaped {
		return string(s.b[start+1 : s.i-1])
	}
	var out string
	_ = json.Unmarshal(s.b[start:s.i], &out)
	return out
}

// skip moves past one value.
func (s *scanner) skip() {
	switch s.b[s.i] {
	case '"':
		s.str()
	case '{', '[':
		depth := 0
		for {
			switch s.b[s.i] {
			case '"':
				s.str()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				return
			}
		}
	default:
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			s.i++
		}
	}
}
