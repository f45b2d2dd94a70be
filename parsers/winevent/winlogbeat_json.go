package winevent

import (
	"strconv"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/internal/jsonread"
)

// jsonReader reads one JSON document, for the JSON formats (Winlogbeat and
// NXLog): a jsonread.Reader with the helpers the formats share. It visits
// an object's members in document order (a decoder into a map would lose
// it) and returns strings without escapes as slices of the document, so
// that reading an event allocates almost nothing; the JSON formats have a
// throughput goal (bench_test.go). The document must be valid UTF-8
// (toUTF8 checks it). Errors of the reader become parse errors in
// withFormat.
type jsonReader struct {
	jsonread.Reader
}

// newJSONReader returns a reader of text.
func newJSONReader(text string) *jsonReader {
	r := &jsonReader{}
	r.Reset(text)
	return r
}

// stringValue reads a string; null reads as "".
func (r *jsonReader) stringValue(what string) (string, error) {
	switch r.Kind() {
	case jsonread.String:
		return r.RawString(true)
	case jsonread.Null:
		_, err := r.Literal()
		return "", err
	}
	return "", errorf("%s is %s, want a string", what, r.KindName())
}

// scalarText reads a string, number or boolean as text (numbers as
// written, booleans as true and false); ok is false for null. The value is
// named prefix.key (or key, without a prefix) in errors.
func (r *jsonReader) scalarText(prefix, key string) (s string, ok bool, err error) {
	switch r.Kind() {
	case jsonread.String:
		s, err = r.RawString(true)
		return s, err == nil, err
	case jsonread.Number:
		s, err = r.Number()
		return s, err == nil, err
	case jsonread.Bool:
		s, err = r.Literal()
		return s, err == nil, err
	case jsonread.Null:
		_, err = r.Literal()
		return "", false, err
	}
	what := key
	if prefix != "" {
		what = prefix + "." + key
	}
	return "", false, errorf("%s is %s, want a string", what, r.KindName())
}

// numberText reads a number, or a string holding one (trimmed), as text;
// null reads as "". hex reports a string with a 0x prefix, which is cut.
func (r *jsonReader) numberText(what string) (s string, hex bool, err error) {
	switch r.Kind() {
	case jsonread.Number:
		s, err = r.Number()
		return s, false, err
	case jsonread.String:
		if s, err = r.RawString(true); err != nil {
			return "", false, err
		}
		s, hex = cutHexPrefix(strings.TrimSpace(s))
		return s, hex, nil
	case jsonread.Null:
		_, err = r.Literal()
		return "", false, err
	}
	return "", false, errorf("%s is %s, want a number", what, r.KindName())
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
	switch r.Kind() {
	case jsonread.Object:
		if depth > 4 {
			return r.Skip()
		}
		return r.Object(prefix, func(key string) error {
			return r.flatten(x, joinName(prefix, key), depth+1)
		})
	case jsonread.Array:
		var buf [8]string
		list := buf[:0]
		mixed := false
		err := r.Array(prefix, func() error {
			if r.Kind() == jsonread.String {
				s, err := r.RawString(true)
				list = append(list, s)
				return err
			}
			mixed = true
			return r.Skip()
		})
		if err == nil && !mixed && len(list) > 0 {
			x.add(prefix, x.box.list(list))
		}
		return err
	case jsonread.String:
		s, err := r.RawString(true)
		x.addString(prefix, s)
		return err
	case jsonread.Number:
		lit, err := r.Number()
		if err != nil {
			return err
		}
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			x.add(prefix, x.box.int(n))
		} else if f, err := strconv.ParseFloat(lit, 64); err == nil {
			x.add(prefix, f)
		}
		return nil
	case jsonread.Bool:
		lit, err := r.Literal()
		x.add(prefix, lit == "true")
		return err
	}
	return r.Skip()
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
