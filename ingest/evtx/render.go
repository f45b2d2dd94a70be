package evtx

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	goevtx "github.com/0xrawsec/golang-evtx/evtx"
)

// maxOps bounds the reads and seeks the decoder may make for one record.
// A real record needs a few per byte of its at most 64 KiB; crafted
// templates that refer to themselves would otherwise recurse until the
// stack overflows, which no recover can catch.
const maxOps = 1 << 18

// maxNesting bounds nested binary XML (a template value that holds a
// template instance, as UserData does).
const maxNesting = 16

var errBudget = errors.New("binary XML decoder exceeded its work budget (self-referencing template?)")

// budgetReader is the chunk as the decoder reads it, counting operations.
type budgetReader struct {
	r    *bytes.Reader
	left int
}

func (b *budgetReader) spend() {
	b.left--
	if b.left < 0 {
		panic(errBudget)
	}
}

func (b *budgetReader) Read(p []byte) (int, error) { b.spend(); return b.r.Read(p) }

func (b *budgetReader) Seek(off int64, whence int) (int64, error) {
	b.spend()
	return b.r.Seek(off, whence)
}

// chunk is one chunk as the library decodes it. Templates defined by one
// record are cached in it for the next ones.
type chunk struct {
	lib goevtx.Chunk
}

func newChunk(data []byte, off int64) (c *chunk, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("chunk header: %v", r)
		}
	}()
	c = &chunk{lib: goevtx.NewChunk()}
	c.lib.Offset = off
	c.lib.Data = data
	c.lib.ParseChunkHeader(bytes.NewReader(data))
	return c, nil
}

// render decodes the binary XML of the record whose event data spans
// data[start:end] and renders it as Event XML.
func (c *chunk) render(start, end int) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("binary XML: decoder failed: %v", r)
		}
	}()
	rd := &budgetReader{r: bytes.NewReader(c.lib.Data), left: maxOps}
	if _, err := rd.Seek(int64(start), io.SeekStart); err != nil {
		return nil, err
	}
	elt, perr := goevtx.Parse(rd, &c.lib, false)
	if perr != nil && !errors.Is(perr, io.EOF) {
		return nil, fmt.Errorf("binary XML: %w", perr)
	}
	pos, _ := rd.r.Seek(0, io.SeekCurrent)
	if pos > int64(end) {
		return nil, fmt.Errorf("binary XML runs %d bytes past the end of the record", pos-int64(end))
	}
	frag, ok := elt.(*goevtx.Fragment)
	if !ok {
		return nil, fmt.Errorf("binary XML: record starts with %T, not a fragment", elt)
	}
	r := renderer{data: c.lib.Data}
	// The decoder stops after the last value, or one byte short of its
	// end when that value is a nested fragment (its end token is not read).
	if err := r.fragment(frag, 0, []int{int(pos), int(pos) + 1}); err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(r.buf.Bytes(), []byte("<")) {
		return nil, errors.New("binary XML: record holds no element")
	}
	return r.buf.Bytes(), nil
}

// renderer writes decoded binary XML as XML text, in the compact style of
// "wevtutil qe /f:xml": no indentation, single-quoted attributes.
type renderer struct {
	buf  bytes.Buffer
	data []byte // the chunk, for values the library leaves undecoded
}

// fragment renders a fragment; ends are the chunk offsets where its
// template instance data may end (see valueSpans).
func (r *renderer) fragment(f *goevtx.Fragment, depth int, ends []int) error {
	ti, ok := f.BinXMLElement.(*goevtx.TemplateInstance)
	if !ok {
		return fmt.Errorf("binary XML: fragment holds %T, not an element or template instance", f.BinXMLElement)
	}
	return r.template(ti, depth, ends)
}

func (r *renderer) template(ti *goevtx.TemplateInstance, depth int, ends []int) error {
	if depth > maxNesting {
		return fmt.Errorf("binary XML: nested deeper than %d templates", maxNesting)
	}
	var spans [][2]int
	for _, end := range ends {
		if spans = valueSpans(r.data, ti, end); spans != nil {
			break
		}
	}
	return r.walk(ti.Definition.Data.Elements, values{ti.Data.Values, spans}, depth)
}

// values are a template instance's substitution values and, when they
// could be located, the chunk offsets of each value's bytes.
type values struct {
	v     []goevtx.Element
	spans [][2]int
}

// valueSpans locates the bytes of each value of a template instance whose
// data ends at chunk offset end: the library decodes values without
// keeping their position, and string arrays need their raw bytes (the
// library drops the empty strings of an array, shifting the positional
// <Data> of classic events). It returns nil unless the value count and
// descriptors found before the values match the decoded ones exactly.
func valueSpans(data []byte, ti *goevtx.TemplateInstance, end int) [][2]int {
	descs := ti.Data.ValDescs
	total := 0
	for _, d := range descs {
		total += int(d.Size)
	}
	start := end - total
	descAt := start - 4*len(descs)
	countAt := descAt - 4
	if countAt < 0 || end > len(data) {
		return nil
	}
	le := binary.LittleEndian
	if le.Uint32(data[countAt:]) != uint32(len(descs)) {
		return nil
	}
	spans := make([][2]int, len(descs))
	for i, d := range descs {
		p := descAt + 4*i
		if le.Uint16(data[p:]) != d.Size || data[p+2] != uint8(d.ValType) {
			return nil
		}
		spans[i] = [2]int{start, start + int(d.Size)}
		start += int(d.Size)
	}
	return spans
}

// walk renders a token list in document order. values are the template
// instance's substitution values.
func (r *renderer) walk(elts []goevtx.Element, vals values, depth int) error {
	var open []string
	for i := 0; i < len(elts); i++ {
		switch e := elts[i].(type) {
		case *goevtx.ElementStart:
			// <Data>%n</Data> with an array value repeats the element per
			// item; with an optional NULL value it is still written, empty,
			// so that its Name is kept.
			if i+3 < len(elts) && isToken[*goevtx.BinXMLCloseStartElementTag](elts[i+1]) && isToken[*goevtx.BinXMLEndElementTag](elts[i+3]) {
				if sub, ok := substitution(elts[i+2]); ok {
					v, span, err := vals.lookup(sub)
					if err != nil {
						return err
					}
					if items, isArray, err := r.array(v, span); err != nil {
						return err
					} else if isArray {
						if len(items) == 0 {
							items = []string{""}
						}
						for _, it := range items {
							if err := r.startTag(e, vals); err != nil {
								return err
							}
							r.closeWith(e.Name.String(), it)
						}
						i += 3
						continue
					}
				}
			}
			if err := r.startTag(e, vals); err != nil {
				return err
			}
			open = append(open, e.Name.String())
		case *goevtx.BinXMLCloseStartElementTag:
			if len(open) == 0 {
				return errors.New("binary XML: close of a start tag outside any element")
			}
			r.buf.WriteByte('>')
		case *goevtx.BinXMLCloseEmptyElementTag:
			if len(open) == 0 {
				return errors.New("binary XML: empty-element close outside any element")
			}
			r.buf.WriteString("/>")
			open = open[:len(open)-1]
		case *goevtx.BinXMLEndElementTag:
			if len(open) == 0 {
				return errors.New("binary XML: end tag outside any element")
			}
			r.buf.WriteString("</")
			r.buf.WriteString(open[len(open)-1])
			r.buf.WriteByte('>')
			open = open[:len(open)-1]
		case *goevtx.BinXMLEOF:
			if len(open) != 0 {
				return fmt.Errorf("binary XML: end of fragment inside <%s>", open[len(open)-1])
			}
		default:
			if len(open) == 0 {
				return fmt.Errorf("binary XML: %T outside any element", e)
			}
			if err := r.content(e, vals, depth); err != nil {
				return err
			}
		}
	}
	if len(open) != 0 {
		return fmt.Errorf("binary XML: element <%s> is not closed", open[len(open)-1])
	}
	return nil
}

func isToken[T goevtx.Element](e goevtx.Element) bool {
	_, ok := e.(T)
	return ok
}

func (r *renderer) closeWith(name, text string) {
	if text == "" {
		r.buf.WriteString("/>")
		return
	}
	r.buf.WriteByte('>')
	escape(&r.buf, text)
	r.buf.WriteString("</")
	r.buf.WriteString(name)
	r.buf.WriteByte('>')
}

// startTag writes "<name attr='v'..." without the closing bracket. An
// attribute whose substitution value is NULL is left out, as Windows does
// (<Correlation/> without ActivityID).
func (r *renderer) startTag(e *goevtx.ElementStart, vals values) error {
	name := e.Name.String()
	if !validName(name) {
		return fmt.Errorf("binary XML: bad element name %q", name)
	}
	r.buf.WriteByte('<')
	r.buf.WriteString(name)
	for _, a := range e.AttributeList.Attributes {
		an := a.Name.String()
		if !validName(an) {
			return fmt.Errorf("binary XML: bad attribute name %q on <%s>", an, name)
		}
		var val bytes.Buffer
		null, err := r.attrValue(&val, a.AttributeData, vals)
		if err != nil {
			return fmt.Errorf("attribute %s of <%s>: %w", an, name, err)
		}
		if null {
			continue
		}
		r.buf.WriteByte(' ')
		r.buf.WriteString(an)
		r.buf.WriteString("='")
		r.buf.Write(val.Bytes())
		r.buf.WriteByte('\'')
	}
	return nil
}

func (r *renderer) attrValue(w *bytes.Buffer, d goevtx.Element, vals values) (null bool, err error) {
	switch d := d.(type) {
	case *goevtx.ValueText:
		escape(w, d.String())
	case *goevtx.CharEntityRef:
		fmt.Fprintf(w, "&#%d;", uint16(d.Value))
	case *goevtx.BinXMLEntityReference:
		return false, entity(w, d)
	default:
		sub, ok := substitution(d)
		if !ok {
			return false, fmt.Errorf("unsupported attribute data %T", d)
		}
		v, _, err := vals.lookup(sub)
		if err != nil {
			return false, err
		}
		if _, isNull := v.(*goevtx.ValueNull); isNull {
			return true, nil
		}
		s, err := r.scalar(v)
		if err != nil {
			return false, err
		}
		escape(w, s)
	}
	return false, nil
}

// content writes one piece of element content.
func (r *renderer) content(e goevtx.Element, vals values, depth int) error {
	switch e := e.(type) {
	case *goevtx.ValueText:
		escape(&r.buf, e.String())
	case *goevtx.CharEntityRef:
		fmt.Fprintf(&r.buf, "&#%d;", uint16(e.Value))
	case *goevtx.BinXMLEntityReference:
		return entity(&r.buf, e)
	case *goevtx.Fragment:
		return r.fragment(e, depth+1, nil)
	case *goevtx.TemplateInstance:
		return r.template(e, depth+1, nil)
	default:
		sub, ok := substitution(e)
		if !ok {
			return fmt.Errorf("binary XML: unsupported token %T", e)
		}
		v, span, err := vals.lookup(sub)
		if err != nil {
			return err
		}
		// A nested fragment's data ends at the end of the value or one
		// byte before it (its end-of-fragment token).
		var ends []int
		if span != nil {
			ends = []int{span[1] - 1, span[1]}
		}
		switch v := v.(type) {
		case *goevtx.Fragment:
			return r.fragment(v, depth+1, ends)
		case *goevtx.TemplateInstance:
			return r.template(v, depth+1, ends)
		case *goevtx.ValueNull:
			return nil
		}
		items, isArray, err := r.array(v, span)
		if err != nil {
			return err
		}
		if isArray {
			escape(&r.buf, strings.Join(items, " "))
			return nil
		}
		s, err := r.scalar(v)
		if err != nil {
			return err
		}
		escape(&r.buf, s)
	}
	return nil
}

func entity(w *bytes.Buffer, e *goevtx.BinXMLEntityReference) error {
	switch n := e.Name.String(); n {
	case "amp", "lt", "gt", "quot", "apos":
		w.WriteString("&" + n + ";")
		return nil
	default:
		return fmt.Errorf("binary XML: unknown entity &%s;", n)
	}
}

// substitution returns the substitution token behind e, if it is one.
func substitution(e goevtx.Element) (*goevtx.NormalSubstitution, bool) {
	switch s := e.(type) {
	case *goevtx.NormalSubstitution:
		return s, true
	case *goevtx.OptionalSubstitution:
		return &s.NormalSubstitution, true
	}
	return nil, false
}

// lookup returns a substitution's value and, when known, its chunk span.
func (vs values) lookup(s *goevtx.NormalSubstitution) (goevtx.Element, *[2]int, error) {
	id := int(uint16(s.SubID))
	if id >= len(vs.v) {
		return nil, nil, fmt.Errorf("binary XML: substitution %d of a template instance with %d values", id, len(vs.v))
	}
	if vs.v[id] == nil {
		return nil, nil, fmt.Errorf("binary XML: substitution value %d is missing", id)
	}
	if vs.spans != nil {
		return vs.v[id], &vs.spans[id], nil
	}
	return vs.v[id], nil, nil
}

// fileTimeLayout is how Windows renders FILETIME values: UTC, 100 ns.
const fileTimeLayout = "2006-01-02T15:04:05.0000000Z"

// scalar renders one substitution value the way Windows renders it:
// hexadecimal integers as 0x without padding, GUIDs in braces, times with
// seven fractional digits, binary as upper-case hex.
func (r *renderer) scalar(v goevtx.Element) (string, error) {
	switch v := v.(type) {
	case *goevtx.ValueString:
		return v.String(), nil
	case *goevtx.AnsiString:
		return strings.TrimRight(string(v.Value().([]byte)), "\x00"), nil
	case *goevtx.ValueInt8, *goevtx.ValueUInt8, *goevtx.ValueInt16, *goevtx.ValueUInt16,
		*goevtx.ValueInt32, *goevtx.ValueUInt32, *goevtx.ValueInt64, *goevtx.ValueUInt64, *goevtx.ValueSID:
		return v.(goevtx.Value).String(), nil
	case *goevtx.ValueHexInt32:
		// Not v.Value(): the library's ValueHexInt32.Value calls itself.
		return "0x" + strconv.FormatUint(uint64(v.ValueUInt32.Value().(uint32)), 16), nil
	case *goevtx.ValueHexInt64:
		return "0x" + strconv.FormatUint(v.ValueUInt64.Value().(uint64), 16), nil
	case *goevtx.ValueReal64:
		return strconv.FormatFloat(v.Value().(float64), 'g', -1, 64), nil
	case *goevtx.ValueBool:
		return strconv.FormatBool(v.Value().(bool)), nil
	case *goevtx.ValueBinary:
		return strings.ToUpper(hex.EncodeToString(v.Value().([]byte))), nil
	case *goevtx.ValueGUID:
		return guid(v.Value().(goevtx.GUID)), nil
	case *goevtx.ValueFileTime:
		return time.Time(v.Value().(goevtx.UTCTime)).UTC().Format(fileTimeLayout), nil
	case *goevtx.ValueSysTime:
		// The library's own conversion takes milliseconds for microseconds.
		s := v.Value().(goevtx.SysTime)
		t := time.Date(int(s.Year), time.Month(s.Month), int(s.DayOfMonth), int(s.Hours), int(s.Minutes), int(s.Seconds), int(s.Milliseconds)*int(time.Millisecond), time.UTC)
		return t.Format(fileTimeLayout), nil
	case *goevtx.UnkVal:
		return r.unknown(v)
	case *goevtx.ValueNull:
		return "", nil
	}
	return "", fmt.Errorf("binary XML: unsupported value %T", v)
}

// array returns the items of an array value; isArray is false for scalars.
func (r *renderer) array(v goevtx.Element, span *[2]int) (items []string, isArray bool, err error) {
	switch v := v.(type) {
	case *goevtx.ValueStringTable:
		if span != nil {
			return utf16Strings(r.data[span[0]:span[1]]), true, nil
		}
		for _, s := range v.Value().([]goevtx.UTF16String) {
			items = append(items, s.ToString())
		}
		return items, true, nil
	case *goevtx.ValueArrayUInt16:
		for _, n := range v.Value().([]uint16) {
			items = append(items, strconv.FormatUint(uint64(n), 10))
		}
		return items, true, nil
	case *goevtx.ValueArrayUInt64:
		for _, n := range v.Value().([]uint64) {
			items = append(items, strconv.FormatUint(n, 10))
		}
		return items, true, nil
	case *goevtx.UnkVal:
		if v.Desc.ValType&goevtx.ArrayType == 0 {
			return nil, false, nil
		}
		items, err := r.unknownArray(v)
		return items, true, err
	}
	return nil, false, nil
}

// raw returns the bytes of a value the library skipped.
func (r *renderer) raw(v *goevtx.UnkVal) ([]byte, error) {
	end := v.Offset + int64(v.Desc.Size)
	if v.Offset < 0 || end > int64(len(r.data)) {
		return nil, fmt.Errorf("binary XML: value of type 0x%02x runs past the chunk", uint8(v.Desc.ValType))
	}
	return r.data[v.Offset:end], nil
}

// unknown renders the scalar types the library does not decode.
func (r *renderer) unknown(v *goevtx.UnkVal) (string, error) {
	b, err := r.raw(v)
	if err != nil {
		return "", err
	}
	s, ok := fixed(uint8(v.Desc.ValType), b)
	if !ok {
		return "", fmt.Errorf("binary XML: unsupported value type 0x%02x (%d bytes)", uint8(v.Desc.ValType), len(b))
	}
	return s, nil
}

// unknownArray renders the array types the library does not decode.
func (r *renderer) unknownArray(v *goevtx.UnkVal) ([]string, error) {
	b, err := r.raw(v)
	if err != nil {
		return nil, err
	}
	t := uint8(v.Desc.ValType) &^ uint8(goevtx.ArrayType)
	if t == goevtx.AnsiStringType {
		var items []string
		for _, s := range bytes.Split(bytes.TrimRight(b, "\x00"), []byte{0}) {
			items = append(items, string(s))
		}
		return items, nil
	}
	size := map[uint8]int{goevtx.Int8Type: 1, goevtx.UInt8Type: 1, goevtx.Int16Type: 2, goevtx.UInt16Type: 2,
		goevtx.Int32Type: 4, goevtx.UInt32Type: 4, goevtx.Int64Type: 8, goevtx.UInt64Type: 8, goevtx.Real32Type: 4,
		goevtx.Real64Type: 8, goevtx.BoolType: 4, goevtx.GuidType: 16, goevtx.FileTimeType: 8,
		goevtx.HexInt32Type: 4, goevtx.HexInt64Type: 8}[t]
	if size == 0 || len(b)%size != 0 {
		return nil, fmt.Errorf("binary XML: unsupported array type 0x%02x (%d bytes)", uint8(v.Desc.ValType), len(b))
	}
	items := make([]string, 0, len(b)/size)
	for i := 0; i < len(b); i += size {
		s, ok := fixed(t, b[i:i+size])
		if !ok {
			return nil, fmt.Errorf("binary XML: unsupported array type 0x%02x", uint8(v.Desc.ValType))
		}
		items = append(items, s)
	}
	return items, nil
}

// fixed renders a fixed-size value from its little-endian bytes.
func fixed(t uint8, b []byte) (string, bool) {
	le := binary.LittleEndian
	switch {
	case t == goevtx.Int8Type && len(b) == 1:
		return strconv.Itoa(int(int8(b[0]))), true
	case t == goevtx.UInt8Type && len(b) == 1:
		return strconv.Itoa(int(b[0])), true
	case t == goevtx.Int16Type && len(b) == 2:
		return strconv.Itoa(int(int16(le.Uint16(b)))), true
	case t == goevtx.UInt16Type && len(b) == 2:
		return strconv.Itoa(int(le.Uint16(b))), true
	case t == goevtx.Int32Type && len(b) == 4:
		return strconv.FormatInt(int64(int32(le.Uint32(b))), 10), true
	case t == goevtx.UInt32Type && len(b) == 4:
		return strconv.FormatUint(uint64(le.Uint32(b)), 10), true
	case t == goevtx.Int64Type && len(b) == 8:
		return strconv.FormatInt(int64(le.Uint64(b)), 10), true
	case t == goevtx.UInt64Type && len(b) == 8:
		return strconv.FormatUint(le.Uint64(b), 10), true
	case t == goevtx.Real32Type && len(b) == 4:
		return strconv.FormatFloat(float64(math.Float32frombits(le.Uint32(b))), 'g', -1, 32), true
	case t == goevtx.Real64Type && len(b) == 8:
		return strconv.FormatFloat(math.Float64frombits(le.Uint64(b)), 'g', -1, 64), true
	case t == goevtx.BoolType && len(b) == 4:
		return strconv.FormatBool(le.Uint32(b) != 0), true
	case t == goevtx.GuidType && len(b) == 16:
		var g goevtx.GUID
		copy(g[:], b)
		return guid(g), true
	case t == goevtx.FileTimeType && len(b) == 8:
		return filetime(le.Uint64(b)).Format(fileTimeLayout), true
	case (t == goevtx.SizeTType || t == goevtx.HexInt32Type) && len(b) == 4:
		return "0x" + strconv.FormatUint(uint64(le.Uint32(b)), 16), true
	case (t == goevtx.SizeTType || t == goevtx.HexInt64Type) && len(b) == 8:
		return "0x" + strconv.FormatUint(le.Uint64(b), 16), true
	}
	return "", false
}

// guid renders a GUID as Windows does: {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}.
func guid(g goevtx.GUID) string {
	return "{" + g.String() + "}"
}

// escape writes s as XML character data or attribute value. Tabs, line
// feeds and carriage returns stay as they are, as wevtutil writes them, so
// an XML parser reads imported and forwarded events alike; characters XML
// cannot carry become U+FFFD.
func escape(w *bytes.Buffer, s string) {
	for _, c := range s {
		switch {
		case c == '&':
			w.WriteString("&amp;")
		case c == '<':
			w.WriteString("&lt;")
		case c == '>':
			w.WriteString("&gt;")
		case c == '\'':
			w.WriteString("&apos;")
		case c == '"':
			w.WriteString("&quot;")
		case c == '\t' || c == '\n' || c == '\r' || c >= 0x20 && c <= 0xD7FF || c >= 0xE000 && c <= 0xFFFD || c >= 0x10000 && c <= 0x10FFFF:
			w.WriteRune(c)
		default:
			w.WriteRune(0xFFFD)
		}
	}
}

// validName reports whether s can be written as an XML name.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c == ':' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c > 0x7f && c != 0xFFFD:
		case i > 0 && (c == '-' || c == '.' || c >= '0' && c <= '9'):
		default:
			return false
		}
	}
	return true
}

// utf16Strings splits an array of NUL-terminated UTF-16LE strings,
// keeping empty ones.
func utf16Strings(b []byte) []string {
	var items []string
	var cur []uint16
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			items = append(items, string(utf16.Decode(cur)))
			cur = cur[:0]
			continue
		}
		cur = append(cur, c)
	}
	if len(cur) > 0 {
		items = append(items, string(utf16.Decode(cur)))
	}
	return items
}
