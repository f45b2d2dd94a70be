// Package jsonread reads a JSON document member by member, for decoders
// that build their result directly instead of going through a generic
// map[string]any (the Winlogbeat and NXLog parsers, and event.Unmarshal).
//
// A Reader visits an object's members in document order, checks the JSON
// grammar as it goes (one value, nothing after it) and returns strings
// without escapes as slices of the document, so that reading a document
// allocates almost nothing. It is a scanner made for those decoders rather
// than a general decoder: the caller reads each value with the method for
// its kind (Kind tells which), or skips it with Skip. A general tokenizer
// (github.com/segmentio/encoding/json's) took twice as long per event.
//
// Nesting is limited to MaxDepth objects and arrays. Errors are *Error
// values whose messages say "bad JSON" or "truncated JSON" for bad syntax;
// errors returned by the caller's functions are passed through as they are.
package jsonread

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Error is a problem with the document: bad or truncated JSON, or a value
// of another kind than the caller asked for.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

func errorf(format string, args ...any) error {
	return &Error{msg: fmt.Sprintf(format, args...)}
}

// Reader reads one JSON document. The zero value reads an empty document;
// Reset gives it another. A Reader is not safe for concurrent use.
type Reader struct {
	text  string
	b     []byte // text's bytes, read eight at a time; never written
	pos   int
	depth int
	buf   []byte // for unescaping strings, reused
}

// NewReader returns a reader of text.
func NewReader(text string) *Reader {
	r := &Reader{}
	r.Reset(text)
	return r
}

// Reset makes r read text from its start.
func (r *Reader) Reset(text string) {
	buf := r.buf[:0]
	if cap(buf) > 64<<10 {
		buf = nil // kept after an unusual string; let it go
	}
	*r = Reader{text: text, b: unsafe.Slice(unsafe.StringData(text), len(text)), buf: buf}
}

// Pos returns the reader's offset in the document. In the function given
// to Object or Document it is the offset of the member's value, which
// identifies the member.
func (r *Reader) Pos() int { return r.pos }

// MaxDepth bounds the nesting of the objects and arrays the reader
// descends into (events nest three or four levels).
const MaxDepth = 64

// Kind is the kind of the next value.
type Kind uint8

// The kinds of value.
const (
	End    Kind = iota // end of the input
	Object             // {
	Array              // [
	String             // "
	Number             // - or a digit
	Bool               // t or f
	Null               // n
	Bad                // a byte that starts no value
)

// ws skips white space.
func (r *Reader) ws() {
	for r.pos < len(r.text) {
		switch r.text[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, 0 at the end.
func (r *Reader) peek() byte {
	if r.pos < len(r.text) && r.text[r.pos] > ' ' {
		return r.text[r.pos] // no white space: the usual case in shippers' JSON
	}
	r.ws()
	if r.pos >= len(r.text) {
		return 0
	}
	return r.text[r.pos]
}

// Kind returns the kind of the next value, skipping white space before it.
func (r *Reader) Kind() Kind {
	switch c := r.peek(); {
	case c == 0 && r.pos >= len(r.text):
		return End
	case c == '{':
		return Object
	case c == '[':
		return Array
	case c == '"':
		return String
	case c == 't', c == 'f':
		return Bool
	case c == 'n':
		return Null
	case c == '-', c >= '0' && c <= '9':
		return Number
	}
	return Bad
}

// KindName names the kind of the next value, for errors: "an object",
// "a string", "null"...
func (r *Reader) KindName() string {
	switch r.Kind() {
	case Object:
		return "an object"
	case Array:
		return "an array"
	case String:
		return "a string"
	case Number:
		return "a number"
	case Bool:
		return "a boolean"
	case Null:
		return "null"
	}
	return "not a value"
}

// syntax reports bad JSON at the reader's position; at the end of the
// input, truncated JSON.
func (r *Reader) syntax(what string) error {
	if r.pos >= len(r.text) {
		return errorf("truncated JSON")
	}
	return errorf("bad JSON: %s at offset %d, found %q", what, r.pos, r.text[r.pos])
}

// Document reads the top-level object, calling fn for each member as
// Object does, and checks that only white space follows it.
func (r *Reader) Document(fn func(key string) error) error {
	switch r.Kind() {
	case Object:
	case End:
		return errorf("empty document")
	case Bad:
		return r.syntax("want a JSON object")
	default:
		return errorf("not a JSON object")
	}
	if err := r.Object("the document", fn); err != nil {
		return err
	}
	if r.ws(); r.pos < len(r.text) {
		return errorf("data after the JSON object: one event per document")
	}
	return nil
}

// Object reads an object, calling fn with each key while the reader is
// before the member's value. fn must read the value (with Skip if it has
// no use for it). Keys are unescaped, with each byte of invalid UTF-8
// replaced by U+FFFD (as encoding/json decodes them); a key without
// escapes is a slice of the document. what names the object in error
// messages.
func (r *Reader) Object(what string, fn func(key string) error) error {
	if r.peek() != '{' {
		return errorf("%s is %s, want an object", what, r.KindName())
	}
	if r.depth++; r.depth > MaxDepth {
		return errorf("bad JSON: nested deeper than %d", MaxDepth)
	}
	r.pos++
	if r.peek() == '}' {
		r.pos++
		r.depth--
		return nil
	}
	for {
		if r.peek() != '"' {
			return r.syntax("want a key in " + what)
		}
		key, _, err := r.StringValue()
		if err != nil {
			return err
		}
		if r.peek() != ':' {
			return r.syntax("want ':' after key " + strconv.Quote(key))
		}
		r.pos++
		if k := r.Kind(); k == End || k == Bad {
			return r.syntax("want a value for " + strconv.Quote(key))
		}
		if err := fn(key); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.pos++
		case '}':
			r.pos++
			r.depth--
			return nil
		default:
			return r.syntax("want ',' or '}' after " + strconv.Quote(key))
		}
	}
}

// Array reads an array, calling fn before each element; fn must read it.
// what names the array in error messages.
func (r *Reader) Array(what string, fn func() error) error {
	if r.peek() != '[' {
		return errorf("%s is %s, want an array", what, r.KindName())
	}
	if r.depth++; r.depth > MaxDepth {
		return errorf("bad JSON: nested deeper than %d", MaxDepth)
	}
	r.pos++
	if r.peek() == ']' {
		r.pos++
		r.depth--
		return nil
	}
	for {
		if k := r.Kind(); k == End || k == Bad {
			return r.syntax("want a value in " + what)
		}
		if err := fn(); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.pos++
		case ']':
			r.pos++
			r.depth--
			return nil
		default:
			return r.syntax("want ',' or ']' in " + what)
		}
	}
}

// Skip reads any value, checking its grammar.
func (r *Reader) Skip() error {
	switch r.Kind() {
	case Object:
		return r.Object("an object", func(string) error { return r.Skip() })
	case Array:
		return r.Array("an array", r.Skip)
	case String:
		_, err := r.scan()
		return err
	case Number:
		_, err := r.Number()
		return err
	case Bool, Null:
		_, err := r.Literal()
		return err
	}
	return r.syntax("want a value")
}

// strPlain marks the bytes a string holds as they are: not the quote, the
// backslash or a control character.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const ones, highs = 0x0101010101010101, 0x8080808080808080

// special8 marks the bytes of v (eight bytes of the document, read little
// endian) that are a quote, a backslash or a control character, by their
// high bits. The lowest mark is always right; marks above it may be wrong
// (a borrow carries into the next byte), so only the lowest may be used.
func special8(v uint64) uint64 {
	q := v ^ ('"' * ones)
	b := v ^ ('\\' * ones)
	return ((q-ones)&^q | (b-ones)&^b | (v-0x20*ones)&^v) & highs
}

// escape checks the escape at text[i] (a backslash) and returns its
// length, or an error.
func (r *Reader) escape(i int) (int, error) {
	text := r.text
	if i+1 >= len(text) {
		r.pos = len(text)
		return 0, errorf("truncated JSON")
	}
	switch text[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
		if _, ok := hex4(text[i+2:]); !ok {
			r.pos = i
			return 0, errorf("bad JSON: bad \\u escape in a string at offset %d", i)
		}
		return 6, nil
	}
	r.pos = i
	return 0, errorf("bad JSON: bad escape \\%c in a string at offset %d", text[i+1], i)
}

// badByte reports the byte at text[i] that ends a string early: the end
// of the input or a control character.
func (r *Reader) badByte(i int) error {
	r.pos = i
	if i >= len(r.text) {
		return errorf("truncated JSON")
	}
	return errorf("bad JSON: control character %q in a string at offset %d", r.text[i], i)
}

// scan reads a string (the reader is on its quote) and returns its
// contents as written, a slice of the document.
func (r *Reader) scan() (raw string, err error) {
	p := r.b
	start := r.pos + 1
	i := start
	for {
		// Eight bytes at a time up to the first special one, then the
		// last few bytes of the document one by one.
		for i+8 <= len(p) {
			if m := special8(binary.LittleEndian.Uint64(p[i : i+8])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(p) && strPlain[p[i]] {
			i++
		}
		switch {
		case i >= len(p) || p[i] < 0x20:
			return "", r.badByte(i)
		case p[i] == '"':
			r.pos = i + 1
			return r.text[start:i], nil
		case i+1 < len(p) && escapes[p[i+1]] != 0:
			i += 2 // the usual escapes, without a call
			continue
		}
		n, err := r.escape(i)
		if err != nil {
			return "", err
		}
		i += n
	}
}

// escapes are the bytes the one-letter escapes stand for.
var escapes = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// str reads a string (the reader is on its quote) and returns its text,
// unescaped: a slice of the document when it has no escapes, else a new
// string (fresh). A lone UTF-16 surrogate becomes U+FFFD, as encoding/json
// decodes it. nonASCII reports that the text may hold bytes above 0x7F.
func (r *Reader) str() (s string, fresh, nonASCII bool, err error) {
	p := r.b
	start := r.pos + 1
	i := start
	run := start    // the plain bytes not yet in buf
	var seen uint64 // the bytes read, or'ed together, for their high bits
	buf := r.buf[:0]
	for {
		for i+8 <= len(p) {
			v := binary.LittleEndian.Uint64(p[i : i+8])
			seen |= v // may take in bytes after the string: a false nonASCII at worst
			if m := special8(v); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(p) && strPlain[p[i]] {
			seen |= uint64(p[i])
			i++
		}
		switch {
		case i >= len(p) || p[i] < 0x20:
			return "", false, false, r.badByte(i)
		case p[i] == '"':
			r.pos = i + 1
			if run == start {
				return r.text[start:i], false, seen&highs != 0, nil
			}
			buf = append(buf, p[run:i]...)
			r.buf = buf
			return string(buf), true, seen&highs != 0, nil
		case i+1 < len(p) && escapes[p[i+1]] != 0:
			buf = append(buf, p[run:i]...)
			buf = append(buf, escapes[p[i+1]])
			i += 2
			run = i
			continue
		}
		n, err := r.escape(i)
		if err != nil {
			return "", false, false, err
		}
		buf = append(buf, p[run:i]...)
		r1, _ := hex4(r.text[i+2:])
		if utf16.IsSurrogate(r1) {
			// Half of a pair; alone, it is U+FFFD.
			dec := utf8.RuneError
			if j := i + 6; j+6 <= len(p) && p[j] == '\\' && p[j+1] == 'u' {
				if r2, ok := hex4(r.text[j+2:]); ok {
					if pair := utf16.DecodeRune(r1, r2); pair != utf8.RuneError {
						dec, n = pair, 12
					}
				}
			}
			r1 = dec
		}
		buf = utf8.AppendRune(buf, r1)
		i += n
		run = i
	}
}

// RawString reads a string (the reader is on its quote), unescaped when
// unescape is set; a string without escapes is a slice of the document.
// Bytes of invalid UTF-8 are kept as they are: it is for documents known
// to be valid UTF-8.
func (r *Reader) RawString(unescape bool) (string, error) {
	if !unescape {
		return r.scan()
	}
	s, _, _, err := r.str()
	return s, err
}

// StringValue reads a string (the reader is on its quote), unescaped and
// with each byte of invalid UTF-8 replaced by U+FFFD, as encoding/json
// decodes strings. fresh reports a string allocated for the result;
// otherwise s is a slice of the document.
func (r *Reader) StringValue() (s string, fresh bool, err error) {
	s, fresh, nonASCII, err := r.str()
	if err != nil {
		return "", false, err
	}
	if nonASCII && !utf8.ValidString(s) {
		s, fresh = validUTF8(s), true
	}
	return s, fresh, nil
}

// validUTF8 replaces each byte of invalid UTF-8 in s by U+FFFD (unlike
// strings.ToValidUTF8, which replaces a run of them by one).
func validUTF8(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			b.WriteByte(s[i])
			i++
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Number reads a number and returns it as written, a slice of the
// document.
func (r *Reader) Number() (string, error) {
	text, i := r.text, r.pos
	digits := func() bool {
		j := i
		for i < len(text) && text[i] >= '0' && text[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(text) && text[i] == '-' {
		i++
	}
	switch {
	case i < len(text) && text[i] == '0':
		i++
	case !digits():
		r.pos = i
		return "", r.syntax("want digits in a number")
	}
	if i < len(text) && text[i] == '.' {
		i++
		if !digits() {
			r.pos = i
			return "", r.syntax("want digits after '.' in a number")
		}
	}
	if i < len(text) && (text[i] == 'e' || text[i] == 'E') {
		i++
		if i < len(text) && (text[i] == '+' || text[i] == '-') {
			i++
		}
		if !digits() {
			r.pos = i
			return "", r.syntax("want digits in a number's exponent")
		}
	}
	lit := text[r.pos:i]
	r.pos = i
	return lit, nil
}

// Literal reads true, false or null and returns it.
func (r *Reader) Literal() (string, error) {
	for _, lit := range [...]string{"true", "false", "null"} {
		if strings.HasPrefix(r.text[r.pos:], lit) {
			r.pos += len(lit)
			return lit, nil
		}
	}
	if strings.HasPrefix("true", r.text[r.pos:]) || strings.HasPrefix("false", r.text[r.pos:]) || strings.HasPrefix("null", r.text[r.pos:]) {
		r.pos = len(r.text)
		return "", errorf("truncated JSON")
	}
	return "", r.syntax("want true, false or null")
}

// Null reads a null if one comes next and reports whether it did.
func (r *Reader) Null() bool {
	if r.peek() == 'n' && strings.HasPrefix(r.text[r.pos:], "null") {
		r.pos += 4
		return true
	}
	return false
}

// hex4 reads the four hex digits of a \u escape.
func hex4(s string) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var n rune
	for _, c := range []byte(s[:4]) {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}
