package event

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/mamori-soc/mamori/internal/jsonread"
)

// Unmarshal decodes an ECS JSON document, nested or with dotted keys, into e.
// Typed core fields are checked; everything else lands in Fields by dotted name.
//
// Each member is named by its dotted path (prefix + "." + key). A name in the
// catalogue is set with its typed value (a Date from an RFC 3339 string); a
// nested non-empty object is read member by member; any other value goes in
// Fields: strings, int64 (a number written as an integer that fits) or
// float64, booleans, nil, and for arrays []any of those (objects in arrays
// as map[string]any). Strings are copied: e keeps nothing of data.
//
// Within one object a repeated key replaces the earlier member entirely, as
// in a decoder into a map. When two members name the same field (the dotted
// key "a.b" and the nested {"a":{"b":...}}), the later in the document wins.
// Each byte of invalid UTF-8 in a string becomes U+FFFD, as encoding/json
// decodes it. The document must be one JSON object, optionally surrounded by
// white space, nested at most jsonread.MaxDepth levels.
//
// On ErrNoTimestamp e holds the rest of the event; on any other error e is
// left unchanged.
func Unmarshal(data []byte, e *Event) error { return unmarshal(data, e, nil) }

// UnmarshalProjected is Unmarshal reading only the fields of p (and
// @timestamp and event.id): every other member is skipped unread, so
// consumers that look at a few fields of large events (the detect stage)
// do not pay for the rest. The JSON must still be valid.
func UnmarshalProjected(data []byte, e *Event, p *Projection) error { return unmarshal(data, e, p) }

func unmarshal(data []byte, e *Event, p *Projection) error {
	d := decoders.Get().(*decoder)
	defer d.release()
	d.proj = p
	// The reader needs a string; the view never outlives this call, and
	// every string kept is copied.
	text := unsafe.String(unsafe.SliceData(data), len(data))
	err := d.decode(text)
	if err == errRepeated {
		// A key repeated within an object: find the members a later one
		// replaces, and decode again without them.
		d.reset()
		d.proj = p
		if d.skip, err = replaced(text); err == nil {
			err = d.decode(text)
		}
	}
	if err != nil {
		var je *jsonread.Error
		if errors.As(err, &je) {
			return fmt.Errorf("event: decode: %w", err)
		}
		return err
	}
	*e = d.ev
	if e.Timestamp.IsZero() {
		return ErrNoTimestamp
	}
	return nil
}

// decoder is the working memory of one Unmarshal, pooled so that the
// buffers are reused; it keeps nothing of the document between uses.
type decoder struct {
	r  jsonread.Reader
	ev Event
	// name is the dotted name of the member being read.
	name []byte
	// fields are the members for Fields, in document order, added to the
	// map at the end so that it is made at its final size.
	fields []namedValue
	// keys are the keys of the objects being read, innermost last, for
	// finding a repeated key.
	keys []string
	// skip holds the offsets of the members a repeated key replaces; nil
	// until one is found.
	skip map[int]bool
	// names interns the names of Fields: events of a kind repeat them, and
	// sharing them saves an allocation per field.
	names map[string]string
	// err is the first field of the wrong type. Reading goes on, for a
	// later member with the same key would replace it.
	err error
	// proj, when set, names the only fields to read.
	proj *Projection
}

type namedValue struct {
	name  string
	value any
}

var decoders = sync.Pool{New: func() any {
	return &decoder{
		name: make([]byte, 0, 128), fields: make([]namedValue, 0, 64), keys: make([]string, 0, 64),
		names: make(map[string]string, 256),
	}
}}

var errDataAfterNull = errors.New("event: decode: data after the JSON null")

// errRepeated stops the first reading of a document with a repeated key.
var errRepeated = errors.New("event: repeated key")

// reset clears what a decoding left, references included, so that the
// pool keeps nothing alive.
func (d *decoder) reset() {
	d.r.Reset("")
	d.ev = Event{}
	d.name = d.name[:0]
	clear(d.fields)
	d.fields = d.fields[:0]
	d.keys = d.keys[:0] // object cleared its keys
	d.skip = nil
	d.err = nil
	d.proj = nil
}

func (d *decoder) release() {
	d.reset()
	if cap(d.fields) > 1024 || cap(d.keys) > 1024 || cap(d.name) > 4096 {
		return // an unusual document; let its buffers go
	}
	decoders.Put(d)
}

// decode reads text into d.ev.
func (d *decoder) decode(text string) error {
	d.r.Reset(text)
	if d.r.Kind() == jsonread.Null {
		// The reference decoder read null as an empty object.
		if !d.r.Null() {
			return d.r.Skip() // the error
		}
		if d.r.Kind() != jsonread.End {
			return errDataAfterNull
		}
		return nil
	}
	if _, err := d.object(0, true); err != nil {
		return err
	}
	if d.err != nil {
		return d.err
	}
	if len(d.fields) > 0 {
		if d.ev.Fields == nil {
			d.ev.Fields = make(map[string]any, len(d.fields))
		}
		for _, f := range d.fields {
			d.ev.Fields[f.name] = f.value
		}
	}
	return nil
}

// object reads the members of an object named d.name[:prefix] (the
// document when top is set) and returns how many it has.
func (d *decoder) object(prefix int, top bool) (n int, err error) {
	var seen uint64 // keyBit of the keys so far
	first := len(d.keys)
	fn := func(key string) error {
		n++
		if d.skip == nil {
			b := keyBit(key)
			if seen&b != 0 && repeated(d.keys[first:], key) {
				return errRepeated
			}
			seen |= b
			d.keys = append(d.keys, key)
		} else if d.skip[d.r.Pos()] {
			return d.r.Skip()
		}
		return d.member(prefix, key)
	}
	if top {
		err = d.r.Document(fn)
	} else {
		err = d.r.Object("an object", fn)
	}
	clear(d.keys[first:])
	d.keys = d.keys[:first]
	return n, err
}

// keyBit returns one of 64 bits for a key, the same for equal keys: a
// hash of its length and three of its bytes.
func keyBit(k string) uint64 {
	h := uint64(len(k))
	if len(k) > 0 {
		h |= uint64(k[0])<<32 | uint64(k[len(k)/2])<<40 | uint64(k[len(k)-1])<<48
	}
	return 1 << (h * 0x9E3779B97F4A7C15 >> 58)
}

func repeated(keys []string, key string) bool {
	for _, k := range keys {
		if k == key {
			return true
		}
	}
	return false
}

// member reads the value of the member key of the object named
// d.name[:prefix].
func (d *decoder) member(prefix int, key string) error {
	d.name = d.name[:prefix]
	if prefix > 0 {
		d.name = append(d.name, '.')
	}
	d.name = append(d.name, key...)
	end := len(d.name)
	if d.proj != nil {
		switch d.proj.names[string(d.name)] {
		case projRead:
		case projHolds:
			if d.r.Kind() == jsonread.Object {
				_, err := d.object(end, false)
				return err
			}
			return d.r.Skip()
		default:
			return d.r.Skip()
		}
	}
	if f := fieldIndex.lookup(d.name); f != nil {
		return d.setField(f)
	}
	if d.r.Kind() == jsonread.Object {
		n, err := d.object(end, false)
		if err != nil || n > 0 {
			return err
		}
		d.fields = append(d.fields, namedValue{d.intern(d.name[:end]), map[string]any{}})
		return nil
	}
	v, err := d.value(Keyword)
	if err != nil {
		return err
	}
	d.fields = append(d.fields, namedValue{d.intern(d.name), v})
	return nil
}

// maxNames bounds the names a decoder interns; it starts over when full.
const maxNames = 4096

// intern returns name as a string, the same string for the same name.
func (d *decoder) intern(name []byte) string {
	if s, ok := d.names[string(name)]; ok {
		return s
	}
	if len(d.names) >= maxNames {
		clear(d.names)
	}
	s := string(name)
	d.names[s] = s
	return s
}

// setField reads the value of the catalogue field f and sets it.
func (d *decoder) setField(f *Field) error {
	var v any
	var err error
	switch k := d.r.Kind(); {
	case f.setString != nil && k == jsonread.String:
		s, err := d.string()
		if err == nil {
			f.setString(&d.ev, s)
		}
		return err
	case f.Multi && k == jsonread.Array:
		v, err = d.strings(f.Type)
	case f.Type == Date && k == jsonread.String:
		v, err = d.date()
	default:
		v, err = d.value(f.Type)
	}
	if err != nil {
		return err
	}
	if err := f.set(&d.ev, v); err != nil && d.err == nil {
		d.err = fmt.Errorf("event: field %s: %w", d.name, err)
	}
	return nil
}

// value reads any value as Fields holds it. In a field of type Date,
// strings in RFC 3339 become times.
func (d *decoder) value(t Type) (any, error) {
	switch d.r.Kind() {
	case jsonread.String:
		if t == Date {
			return d.date()
		}
		return d.string()
	case jsonread.Number:
		lit, err := d.r.Number()
		if err != nil {
			return nil, err
		}
		return number(lit), nil
	case jsonread.Bool:
		lit, err := d.r.Literal()
		return lit == "true", err
	case jsonread.Null:
		_, err := d.r.Literal()
		return nil, err
	case jsonread.Array:
		a := []any{}
		err := d.r.Array("an array", func() error {
			v, err := d.value(t)
			a = append(a, v)
			return err
		})
		return a, err
	case jsonread.Object:
		m := map[string]any{}
		err := d.r.Object("an object", func(k string) error {
			v, err := d.value(t)
			m[strings.Clone(k)] = v
			return err
		})
		return m, err
	}
	return nil, d.r.Skip() // not a value: the error
}

// string reads a string and returns a copy.
func (d *decoder) string() (string, error) {
	s, fresh, err := d.r.StringValue()
	if !fresh {
		s = strings.Clone(s)
	}
	return s, err
}

// date reads a string: a time in UTC when it is one in RFC 3339, else
// the string.
func (d *decoder) date() (any, error) {
	s, fresh, err := d.r.StringValue()
	if err != nil {
		return nil, err
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if !fresh {
		s = strings.Clone(s)
	}
	return s, nil
}

// strings reads an array for a Multi field: a []string when it holds only
// strings, else an []any (which the field refuses).
func (d *decoder) strings(t Type) (any, error) {
	ss := make([]string, 0, 2)
	var other []any
	err := d.r.Array("an array", func() error {
		if other == nil && d.r.Kind() == jsonread.String {
			s, err := d.string()
			ss = append(ss, s)
			return err
		}
		if other == nil {
			other = make([]any, len(ss), len(ss)+1)
			for i, s := range ss {
				other[i] = s
			}
		}
		v, err := d.value(t)
		other = append(other, v)
		return err
	})
	if other != nil {
		return other, err
	}
	return ss, err
}

// number returns a number as an int64 when it is written as an integer
// that fits, else as a float64 (±Inf beyond its range).
func number(lit string) any {
	integer := true
	for i := 0; i < len(lit); i++ {
		if c := lit[i]; c == '.' || c == 'e' || c == 'E' {
			integer = false
			break
		}
	}
	if integer {
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return n
		}
	}
	f, _ := strconv.ParseFloat(lit, 64)
	return f
}

// replaced returns the offsets of the members of the document's objects
// that a later member with the same key replaces. Objects in arrays are
// left out: value decodes them into maps, where the later key wins too.
func replaced(text string) (map[int]bool, error) {
	var r jsonread.Reader
	r.Reset(text)
	skip := map[int]bool{}
	var object func(top bool) error
	object = func(top bool) error {
		last := map[string]int{}
		fn := func(key string) error {
			if prev, ok := last[key]; ok {
				skip[prev] = true
			}
			last[key] = r.Pos()
			if r.Kind() == jsonread.Object {
				return object(false)
			}
			return r.Skip()
		}
		if top {
			return r.Document(fn)
		}
		return r.Object("an object", fn)
	}
	return skip, object(true)
}

// fieldIndex finds the catalogue's fields by name for Unmarshal, which
// looks up every member's name: an open-addressing table on a hash of the
// name's length and three of its bytes, cheaper than the map's hash of the
// whole name, and the slot of most other names is empty.
var fieldIndex fieldTable

type fieldTable [512]*Field // at most a quarter full

func nameHash(name string) uint64 {
	h := uint64(len(name))
	if len(name) > 0 {
		h |= uint64(name[0])<<32 | uint64(name[len(name)/2])<<40 | uint64(name[len(name)-1])<<48
	}
	return h * 0x9E3779B97F4A7C15
}

func (t *fieldTable) add(f *Field) {
	if len(catalogue) > len(t)/4 {
		panic("event: fieldIndex is too small for the catalogue")
	}
	for i := nameHash(f.Name) >> 55; ; i = (i + 1) % uint64(len(t)) {
		if t[i] == nil || t[i].Name == f.Name {
			t[i] = f
			return
		}
	}
}

// lookup returns the field named name, or nil.
func (t *fieldTable) lookup(name []byte) *Field {
	s := unsafe.String(unsafe.SliceData(name), len(name)) // only compared
	for i := nameHash(s) >> 55; ; i = (i + 1) % uint64(len(t)) {
		f := t[i]
		if f == nil || f.Name == s {
			return f
		}
	}
}

// Projection is a set of fields to decode (see UnmarshalProjected). It is
// immutable and safe for concurrent use.
type Projection struct {
	// names maps the names read, and the objects that hold them ("user"
	// for user.name), to what to do with them.
	names map[string]projAction
}

type projAction uint8

const (
	projSkip  projAction = iota
	projRead             // a field read
	projHolds            // an object holding fields read
)

// NewProjection returns the projection reading the named fields (dotted
// names, as KQL writes them), @timestamp and event.id. A nil *Projection
// reads everything.
func NewProjection(fields []string) *Projection {
	p := &Projection{names: map[string]projAction{}}
	for _, f := range append([]string{"@timestamp", "event.id"}, fields...) {
		p.names[f] = projRead
		for i := 0; i < len(f); i++ {
			if f[i] == '.' && p.names[f[:i]] == projSkip {
				p.names[f[:i]] = projHolds
			}
		}
	}
	return p
}
