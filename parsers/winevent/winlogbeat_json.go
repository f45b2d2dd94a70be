package winevent

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/mamori-soc/mamori/event"
)

// jsonReader reads one JSON document, for the JSON formats (Winlogbeat and
// NXLog). It is a scanner made for them rather than a general decoder:
// it visits an object's members in document order (a decoder into a map
// would lose it), checks the JSON grammar as it goes (one object, nothing
// after it), and returns strings without escapes as slices of the
// document, so that reading an event allocates almost nothing. A general
// tokenizer (github.com/segmentio/encoding/json's) took twice as long per
// event, and the JSON formats have a throughput goal (bench_test.go). The
// document must be valid UTF-8 (toUTF8 checks it).
type jsonReader struct {
	text  string
	b     []byte // text's bytes, read eight at a time; never written
	pos   int
	depth int
}

// newJSONReader returns a reader of text.
func newJSONReader(text string) *jsonReader {
	return &jsonReader{text: text, b: unsafe.Slice(unsafe.StringData(text), len(text))}
}

// maxDepth bounds the nesting of the objects and arrays the reader
// descends into; Windows events nest three or four levels.
const maxDepth = 64

// jsonKind is the kind of the next value.
type jsonKind uint8

const (
	kindEnd jsonKind = iota // end of the input
	kindObject
	kindArray
	kindString
	kindNumber
	kindBool
	kindNull
	kindBad // a byte that starts no value
)

// ws skips white space.
func (r *jsonReader) ws() {
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
func (r *jsonReader) peek() byte {
	if r.pos < len(r.text) && r.text[r.pos] > ' ' {
		return r.text[r.pos] // no white space: the usual case in shippers' JSON
	}
	r.ws()
	if r.pos >= len(r.text) {
		return 0
	}
	return r.text[r.pos]
}

// kind returns the kind of the next value.
func (r *jsonReader) kind() jsonKind {
	switch c := r.peek(); {
	case c == 0 && r.pos >= len(r.text):
		return kindEnd
	case c == '{':
		return kindObject
	case c == '[':
		return kindArray
	case c == '"':
		return kindString
	case c == 't', c == 'f':
		return kindBool
	case c == 'n':
		return kindNull
	case c == '-', c >= '0' && c <= '9':
		return kindNumber
	}
	return kindBad
}

// kindName names the kind of the next value, for errors.
func (r *jsonReader) kindName() string {
	switch r.kind() {
	case kindObject:
		return "an object"
	case kindArray:
		return "an array"
	case kindString:
		return "a string"
	case kindNumber:
		return "a number"
	case kindBool:
		return "a boolean"
	case kindNull:
		return "null"
	}
	return "not a value"
}

// syntax reports bad JSON at the reader's position; at the end of the
// input, truncated JSON.
func (r *jsonReader) syntax(what string) error {
	if r.pos >= len(r.text) {
		return errorf("truncated JSON")
	}
	return errorf("bad JSON: %s at offset %d, found %q", what, r.pos, r.text[r.pos])
}

// document reads the top-level object, calling fn for each member, and
// checks that nothing follows it.
func (r *jsonReader) document(fn func(key string) error) error {
	switch r.kind() {
	case kindObject:
	case kindEnd:
		return errorf("empty document")
	case kindBad:
		return r.syntax("want a JSON object")
	default:
		return errorf("not a JSON object")
	}
	if err := r.object("the document", fn); err != nil {
		return err
	}
	if r.ws(); r.pos < len(r.text) {
		return errorf("data after the JSON object: one event per document")
	}
	return nil
}

// object reads an object, calling fn with each key while the reader is
// before the value. fn must read the value (with skip if it has no use for
// it). what names the object in error messages.
func (r *jsonReader) object(what string, fn func(key string) error) error {
	if r.peek() != '{' {
		return errorf("%s is %s, want an object", what, r.kindName())
	}
	if r.depth++; r.depth > maxDepth {
		return errorf("bad JSON: nested deeper than %d", maxDepth)
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
		key, err := r.rawString(true)
		if err != nil {
			return err
		}
		if r.peek() != ':' {
			return r.syntax("want ':' after key " + strconv.Quote(key))
		}
		r.pos++
		if k := r.kind(); k == kindEnd || k == kindBad {
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

// array reads an array, calling fn before each element; fn must read it.
func (r *jsonReader) array(what string, fn func() error) error {
	if r.peek() != '[' {
		return errorf("%s is %s, want an array", what, r.kindName())
	}
	if r.depth++; r.depth > maxDepth {
		return errorf("bad JSON: nested deeper than %d", maxDepth)
	}
	r.pos++
	if r.peek() == ']' {
		r.pos++
		r.depth--
		return nil
	}
	for {
		if k := r.kind(); k == kindEnd || k == kindBad {
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

// skip reads any value, checking its grammar.
func (r *jsonReader) skip() error {
	switch r.kind() {
	case kindObject:
		return r.object("an object", func(string) error { return r.skip() })
	case kindArray:
		return r.array("an array", r.skip)
	case kindString:
		_, err := r.rawString(false)
		return err
	case kindNumber:
		_, err := r.number()
		return err
	case kindBool, kindNull:
		_, err := r.literal()
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

// special8 marks the bytes of v (eight bytes of the document, read little
// endian) that are a quote, a backslash or a control character, by their
// high bits. The lowest mark is always right; marks above it may be wrong
// (a borrow carries into the next byte), so only the lowest may be used.
func special8(v uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := v ^ ('"' * ones)
	b := v ^ ('\\' * ones)
	return ((q-ones)&^q | (b-ones)&^b | (v-0x20*ones)&^v) & highs
}

// rawString reads a string (the reader is on its quote), unescaped when
// unescape is set; a string without escapes is a slice of the document.
func (r *jsonReader) rawString(unescape bool) (string, error) {
	text := r.text
	start := r.pos + 1
	escaped := false
	i := start
	for {
		// Eight bytes at a time up to the first special one, then the
		// last few bytes of the document one by one.
		for {
			if i+8 > len(text) {
				for i < len(text) && strPlain[text[i]] {
					i++
				}
				break
			}
			if m := special8(binary.LittleEndian.Uint64(r.b[i : i+8])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(text) {
			r.pos = i
			return "", errorf("truncated JSON")
		}
		switch c := text[i]; {
		case c == '"':
			r.pos = i + 1
			if escaped && unescape {
				return unescapeJSON(text[start:i]), nil
			}
			return text[start:i], nil
		case c == '\\':
			escaped = true
			if i+1 >= len(text) {
				r.pos = len(text)
				return "", errorf("truncated JSON")
			}
			switch text[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(text[i+2:]); !ok {
					r.pos = i
					return "", errorf("bad JSON: bad \\u escape in a string at offset %d", i)
				}
				i += 6
			default:
				r.pos = i
				return "", errorf("bad JSON: bad escape \\%c in a string at offset %d", text[i+1], i)
			}
		default:
			r.pos = i
			return "", errorf("bad JSON: control character %q in a string at offset %d", c, i)
		}
	}
}

// number reads a number and returns it as written.
func (r *jsonReader) number() (string, error) {
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

// literal reads true, false or null and returns it.
func (r *jsonReader) literal() (string, error) {
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

// null reads a null if one comes next and reports whether it did.
func (r *jsonReader) null() bool {
	if r.peek() == 'n' && strings.HasPrefix(r.text[r.pos:], "null") {
		r.pos += 4
		return true
	}
	return false
}

// unescapeJSON decodes the escapes of a JSON string rawString has checked.
// A lone UTF-16 surrogate becomes U+FFFD, as encoding/json decodes it.
func unescapeJSON(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.IndexByte(s, '\\')
		if i < 0 || i+1 >= len(s) {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		c := s[i+1]
		s = s[i+2:]
		switch c {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			r1, ok := hex4(s)
			if !ok {
				b.WriteRune(utf8.RuneError)
				continue
			}
			s = s[4:]
			if utf16.IsSurrogate(r1) {
				if len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
					if r2, ok := hex4(s[2:]); ok {
						if dec := utf16.DecodeRune(r1, r2); dec != utf8.RuneError {
							b.WriteRune(dec)
							s = s[6:]
							continue
						}
					}
				}
				r1 = utf8.RuneError
			}
			b.WriteRune(r1)
		default: // '"', '\\', '/'
			b.WriteByte(c)
		}
	}
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

// stringValue reads a string; null reads as "".
func (r *jsonReader) stringValue(what string) (string, error) {
	switch r.kind() {
	case kindString:
		return r.rawString(true)
	case kindNull:
		_, err := r.literal()
		return "", err
	}
	return "", errorf("%s is %s, want a string", what, r.kindName())
}

// scalarText reads a string, number or boolean as text (numbers as
// written, booleans as true and false); ok is false for null. The value is
// named prefix.key (or key, without a prefix) in errors.
func (r *jsonReader) scalarText(prefix, key string) (s string, ok bool, err error) {
	switch r.kind() {
	case kindString:
		s, err = r.rawString(true)
		return s, err == nil, err
	case kindNumber:
		s, err = r.number()
		return s, err == nil, err
	case kindBool:
		s, err = r.literal()
		return s, err == nil, err
	case kindNull:
		_, err = r.literal()
		return "", false, err
	}
	what := key
	if prefix != "" {
		what = prefix + "." + key
	}
	return "", false, errorf("%s is %s, want a string", what, r.kindName())
}

// numberText reads a number, or a string holding one (trimmed), as text;
// null reads as "". hex reports a string with a 0x prefix, which is cut.
func (r *jsonReader) numberText(what string) (s string, hex bool, err error) {
	switch r.kind() {
	case kindNumber:
		s, err = r.number()
		return s, false, err
	case kindString:
		if s, err = r.rawString(true); err != nil {
			return "", false, err
		}
		s, hex = cutHexPrefix(strings.TrimSpace(s))
		return s, hex, nil
	case kindNull:
		_, err = r.literal()
		return "", false, err
	}
	return "", false, errorf("%s is %s, want a number", what, r.kindName())
}

// uintValue reads an unsigned integer of bits bits, written as a number or
// as a string (decimal, or hex after 0x); null and "" read as 0.
func (r *jsonReader) uintValue(what string, bits int) (uint64, error) {
	s, hex, err := r.numberText(what)
	if err != nil || s == "" {
		return 0, err
	}
	base := 10
	if hex {
		base = 16
	}
	n, err := strconv.ParseUint(s, base, bits)
	if err != nil {
		if hex {
			s = "0x" + s
		}
		return 0, errorf("%s %q is not a %d-bit unsigned number", what, s, bits)
	}
	return n, nil
}

// cutHexPrefix returns s without a leading 0x or 0X, and whether it had one.
func cutHexPrefix(s string) (string, bool) {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return s[2:], true
	}
	return s, false
}

// timeValue reads an RFC 3339 time.
func (r *jsonReader) timeValue(what string) (time.Time, error) {
	s, err := r.stringValue(what)
	if err != nil {
		return time.Time{}, err
	}
	return parseRFC3339(what, s)
}

// parseRFC3339 reads an RFC 3339 time, in UTC.
func parseRFC3339(what, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, errorf("%s %q is not an RFC 3339 time", what, s)
	}
	return inRange(what, s, t)
}

// inRange returns t in UTC if it lies in the years 1 to 9999, which a
// JSON document (and Elasticsearch) can hold.
func inRange(what, s string, t time.Time) (time.Time, error) {
	t = t.UTC()
	if y := t.Year(); y < 1 || y > 9999 {
		return time.Time{}, errorf("%s %q is out of range", what, s)
	}
	return t, nil
}

// flatten reads the value the reader is on into extra fields named
// prefix (and, inside objects, prefix.key): strings, integers, floats and
// booleans, and arrays of strings. Other arrays are skipped.
func (r *jsonReader) flatten(x *extras, prefix string, depth int) error {
	switch r.kind() {
	case kindObject:
		if depth > 4 {
			return r.skip()
		}
		return r.object(prefix, func(key string) error {
			return r.flatten(x, joinName(prefix, key), depth+1)
		})
	case kindArray:
		var buf [8]string
		list := buf[:0]
		mixed := false
		err := r.array(prefix, func() error {
			if r.kind() == kindString {
				s, err := r.rawString(true)
				list = append(list, s)
				return err
			}
			mixed = true
			return r.skip()
		})
		if err == nil && !mixed && len(list) > 0 {
			x.add(prefix, x.box.list(list))
		}
		return err
	case kindString:
		s, err := r.rawString(true)
		x.addString(prefix, s)
		return err
	case kindNumber:
		lit, err := r.number()
		if err != nil {
			return err
		}
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			x.add(prefix, x.box.int(n))
		} else if f, err := strconv.ParseFloat(lit, 64); err == nil {
			x.add(prefix, f)
		}
		return nil
	case kindBool:
		lit, err := r.literal()
		x.add(prefix, lit == "true")
		return err
	}
	return r.skip()
}

// joinName returns prefix.key. The names flatten meets in every Winlogbeat
// event (add_host_metadata's) are constants, so that joining them
// allocates nothing.
func joinName(prefix, key string) string {
	switch prefix {
	case "host":
		switch key {
		case "name":
			return "host.name"
		case "hostname":
			return "host.hostname"
		case "architecture":
			return "host.architecture"
		case "id":
			return "host.id"
		case "ip":
			return "host.ip"
		case "mac":
			return "host.mac"
		case "domain":
			return "host.domain"
		case "os":
			return "host.os"
		}
	case "host.os":
		switch key {
		case "platform":
			return "host.os.platform"
		case "version":
			return "host.os.version"
		case "family":
			return "host.os.family"
		case "name":
			return "host.os.name"
		case "kernel":
			return "host.os.kernel"
		case "build":
			return "host.os.build"
		case "type":
			return "host.os.type"
		}
	}
	return prefix + "." + key
}

// extras are what a shipper set that a Record does not hold, applied to the
// event after ToECS by their dotted ECS names.
type extras struct {
	fields []extraField
	box    boxes // for these fields and, in Parse, the event's others
}

type extraField struct {
	name  string
	value any
}

func (x *extras) add(name string, v any) {
	if x.fields == nil {
		x.fields = make([]extraField, 0, 16) // add_host_metadata writes about a dozen
	}
	x.fields = append(x.fields, extraField{name, v})
}

// addString adds a non-empty string.
func (x *extras) addString(name, v string) {
	if v != "" {
		x.add(name, x.box.str(v))
	}
}

// apply sets the extra fields on e. A value of the wrong type for a typed
// ECS field (host.name as a number) is an error.
func (x *extras) apply(e *event.Event) error {
	for _, f := range x.fields {
		if err := e.Set(f.name, f.value); err != nil {
			return errorf("%v", err)
		}
	}
	return nil
}
