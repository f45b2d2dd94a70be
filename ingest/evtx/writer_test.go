package evtx

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"maps"
	"time"
	"unicode/utf16"
)

// This file is a small EVTX writer, used only to produce the committed
// fixture testdata/security.evtx (go test -run TestFixtureIsUpToDate
// -update) and damaged variants of it. It follows libyal's "Windows XML
// Event Log (EVTX) format": a 4 KiB file header with its CRC32, 64 KiB
// chunks whose header carries the CRC32 of the header and of the records,
// and records whose binary XML is a template instance, with the template
// definition written inline at its first use in the chunk and referred to
// by offset afterwards, as Windows does. The System part is one template;
// the EventData is a nested binary XML value holding a second template
// instance, as in real Security logs.

// Value types of binary XML.
const (
	tNull     = 0x00
	tString   = 0x01
	tUInt8    = 0x04
	tUInt16   = 0x06
	tUInt32   = 0x08
	tUInt64   = 0x0a
	tGUID     = 0x0f
	tSizeT    = 0x10
	tFileTime = 0x11
	tSID      = 0x13
	tHex32    = 0x14
	tHex64    = 0x15
	tBinXML   = 0x21
	tStrArray = 0x81
)

// wval is one substitution value.
type wval struct {
	typ  byte
	data []byte
}

func vNull() wval { return wval{typ: tNull} }
func vString(s string) wval {
	return wval{typ: tString, data: utf16le(s, false)}
}
func vStrings(items ...string) wval {
	var b []byte
	for _, s := range items {
		b = append(b, utf16le(s, true)...)
	}
	return wval{typ: tStrArray, data: b}
}
func vU8(v uint8) wval   { return wval{typ: tUInt8, data: []byte{v}} }
func vU16(v uint16) wval { return wval{typ: tUInt16, data: binary.LittleEndian.AppendUint16(nil, v)} }
func vU32(v uint32) wval { return wval{typ: tUInt32, data: binary.LittleEndian.AppendUint32(nil, v)} }
func vU64(v uint64) wval { return wval{typ: tUInt64, data: binary.LittleEndian.AppendUint64(nil, v)} }
func vHex32(v uint32) wval {
	return wval{typ: tHex32, data: binary.LittleEndian.AppendUint32(nil, v)}
}
func vHex64(v uint64) wval {
	return wval{typ: tHex64, data: binary.LittleEndian.AppendUint64(nil, v)}
}
func vSizeT(v uint64) wval {
	return wval{typ: tSizeT, data: binary.LittleEndian.AppendUint64(nil, v)}
}
func vTime(t time.Time) wval {
	return wval{typ: tFileTime, data: binary.LittleEndian.AppendUint64(nil, toFiletime(t))}
}

// vGUID takes the canonical text form without braces.
func vGUID(s string) wval {
	var g [16]byte
	var a uint32
	var b, c uint16
	var d [8]byte
	if _, err := fmt.Sscanf(s, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", &a, &b, &c, &d[0], &d[1], &d[2], &d[3], &d[4], &d[5], &d[6], &d[7]); err != nil {
		panic(err)
	}
	binary.LittleEndian.PutUint32(g[0:], a)
	binary.LittleEndian.PutUint16(g[4:], b)
	binary.LittleEndian.PutUint16(g[6:], c)
	copy(g[8:], d[:])
	return wval{typ: tGUID, data: g[:]}
}

// vSID takes "S-1-5-21-...".
func vSID(s string) wval {
	var parts []uint64
	for _, p := range bytes.Split([]byte(s)[2:], []byte("-")) {
		var n uint64
		fmt.Sscanf(string(p), "%d", &n)
		parts = append(parts, n)
	}
	b := []byte{byte(parts[0]), byte(len(parts) - 2), 0, 0, 0, 0, 0, 0}
	auth := parts[1]
	for i := 7; i >= 2; i-- {
		b[i] = byte(auth)
		auth >>= 8
	}
	for _, sa := range parts[2:] {
		b = binary.LittleEndian.AppendUint32(b, uint32(sa))
	}
	return wval{typ: tSID, data: b}
}

func toFiletime(t time.Time) uint64 {
	return uint64(t.UnixNano()/100) + 116444736000000000
}

func utf16le(s string, nul bool) []byte {
	u := utf16.Encode([]rune(s))
	if nul {
		u = append(u, 0)
	}
	b := make([]byte, 0, 2*len(u))
	for _, c := range u {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

// node is an element of a template definition. Attribute values and text
// are either literal text or a substitution of value index sub.
type node struct {
	name  string
	attrs []attr
	text  string // literal text content
	sub   int    // substitution index of the content, -1 for none
	kids  []node
}

type attr struct {
	name string
	text string
	sub  int // -1: literal text
}

func el(name string, sub int, attrs ...attr) node { return node{name: name, sub: sub, attrs: attrs} }
func subAttr(name string, sub int) attr           { return attr{name: name, sub: sub} }
func textAttr(name, text string) attr             { return attr{name: name, text: text, sub: -1} }

// template is a template definition and the value types of its
// substitutions.
type template struct {
	guid  [16]byte
	root  node
	types map[int]byte
}

// chunkWriter lays out one chunk.
type chunkWriter struct {
	buf       []byte
	names     map[string]uint32 // element and attribute names already written
	templates map[*template]uint32
	order     []uint32   // template definition offsets, in the order written
	strTable  [64]uint32 // common string table: hash buckets of name offsets
	first     uint64
	last      uint64
	count     uint64
	lastRec   uint32
}

func newChunkWriter() *chunkWriter {
	return &chunkWriter{buf: make([]byte, chunkHeaderSize, ChunkSize), names: map[string]uint32{}, templates: map[*template]uint32{}}
}

func (w *chunkWriter) pos() uint32 { return uint32(len(w.buf)) }
func (w *chunkWriter) u8(v byte)   { w.buf = append(w.buf, v) }
func (w *chunkWriter) u16(v uint16) {
	w.buf = binary.LittleEndian.AppendUint16(w.buf, v)
}
func (w *chunkWriter) u32(v uint32) {
	w.buf = binary.LittleEndian.AppendUint32(w.buf, v)
}
func (w *chunkWriter) patch32(at, v uint32) { binary.LittleEndian.PutUint32(w.buf[at:], v) }

// nameHash is the hash Windows stores with names (libyal leaves it open;
// readers ignore it): hash = hash*65599 + code unit, low 16 bits.
func nameHash(s string) uint16 {
	var h uint32
	for _, c := range utf16.Encode([]rune(s)) {
		h = h*65599 + uint32(c)
	}
	return uint16(h)
}

// name writes a name reference: the chunk offset of the name, followed by
// the name itself when this is its first use in the chunk.
func (w *chunkWriter) name(s string) {
	if off, ok := w.names[s]; ok {
		w.u32(off)
		return
	}
	off := w.pos() + 4
	w.names[s] = off
	w.u32(off)
	h := nameHash(s)
	w.u32(w.strTable[h%64]) // the next string in the same hash bucket
	w.strTable[h%64] = off
	w.u16(h)
	w.u16(uint16(len(utf16.Encode([]rune(s)))))
	w.buf = append(w.buf, utf16le(s, true)...)
}

func (w *chunkWriter) valueText(s string, more bool) {
	tok := byte(0x05)
	if more {
		tok = 0x45
	}
	w.u8(tok)
	w.u8(tString)
	w.u16(uint16(len(utf16.Encode([]rune(s)))))
	w.buf = append(w.buf, utf16le(s, false)...)
}

func (w *chunkWriter) substitution(sub int, typ byte) {
	w.u8(0x0e) // optional substitution
	w.u16(uint16(sub))
	w.u8(typ)
}

// element writes an element of a template definition.
func (w *chunkWriter) element(n node, types map[int]byte) {
	tok := byte(0x01)
	if len(n.attrs) > 0 {
		tok = 0x41
	}
	start := w.pos()
	w.u8(tok)
	w.u16(0xffff) // dependency identifier: not set
	sizeAt := w.pos()
	w.u32(0)
	w.name(n.name)
	if len(n.attrs) > 0 {
		listAt := w.pos()
		w.u32(0)
		for i, a := range n.attrs {
			t := byte(0x06)
			if i < len(n.attrs)-1 {
				t = 0x46
			}
			w.u8(t)
			w.name(a.name)
			if a.sub >= 0 {
				w.substitution(a.sub, types[a.sub])
			} else {
				w.valueText(a.text, false)
			}
		}
		w.patch32(listAt, w.pos()-listAt-4)
	}
	if n.sub < 0 && n.text == "" && len(n.kids) == 0 {
		w.u8(0x03) // />
	} else {
		w.u8(0x02) // >
		if n.text != "" {
			w.valueText(n.text, false)
		}
		for _, k := range n.kids {
			w.element(k, types)
		}
		if n.sub >= 0 {
			w.substitution(n.sub, types[n.sub])
		}
		w.u8(0x04) // </name>
	}
	w.patch32(sizeAt, w.pos()-start-7)
}

// instance writes a template instance: the definition inline at its first
// use in the chunk, a reference to it afterwards, then the values.
func (w *chunkWriter) instance(t *template, vals []wval) {
	w.u8(0x0c)
	w.u8(0x01)
	w.u32(binary.LittleEndian.Uint32(t.guid[:])) // template identifier
	if off, ok := w.templates[t]; ok {
		w.u32(off)
	} else {
		off := w.pos() + 4
		w.templates[t] = off
		w.order = append(w.order, off)
		w.u32(off)
		w.u32(0) // next template definition
		w.buf = append(w.buf, t.guid[:]...)
		sizeAt := w.pos()
		w.u32(0)
		w.buf = append(w.buf, 0x0f, 0x01, 0x01, 0x00) // fragment header
		w.element(t.root, t.types)
		w.u8(0x00) // end of fragment
		w.patch32(sizeAt, w.pos()-sizeAt-4)
	}
	w.u32(uint32(len(vals)))
	for _, v := range vals {
		w.u16(uint16(len(v.data)))
		w.u8(v.typ)
		w.u8(0)
	}
	for _, v := range vals {
		w.buf = append(w.buf, v.data...)
	}
}

// fixtureRecord is one event to write: values of the System template and,
// when data is set, the EventData template and its values.
type fixtureRecord struct {
	id      uint64
	written time.Time
	system  []wval // without the last (EventData) value
	data    *template
	values  []wval
}

// record appends one event record; it reports false when it does not fit.
func (w *chunkWriter) record(sys *template, r fixtureRecord) bool {
	save, saveOrder, saveStrings := len(w.buf), len(w.order), w.strTable
	saveNames, saveTemplates := maps.Clone(w.names), maps.Clone(w.templates)
	at := w.pos()
	w.buf = append(w.buf, recordMagic...)
	w.u32(0)
	w.buf = binary.LittleEndian.AppendUint64(w.buf, r.id)
	w.buf = binary.LittleEndian.AppendUint64(w.buf, toFiletime(r.written))
	w.buf = append(w.buf, 0x0f, 0x01, 0x01, 0x00)
	// The EventData is a nested fragment: its value bytes are written in
	// place, so they must be laid out at their final offset.
	vals := append([]wval(nil), r.system...)
	if r.data != nil {
		vals = append(vals, wval{typ: tBinXML})
	}
	if r.data == nil {
		w.instance(sys, vals)
	} else {
		w.instanceWithNested(sys, vals, r.data, r.values)
	}
	w.u8(0x00)
	size := w.pos() + 4 - at
	w.u32(size)
	if len(w.buf) > ChunkSize {
		w.buf, w.order = w.buf[:save], w.order[:saveOrder]
		w.names, w.templates, w.strTable = saveNames, saveTemplates, saveStrings
		return false
	}
	w.patch32(at+4, size)
	if w.count == 0 {
		w.first = r.id
	}
	w.last, w.lastRec = r.id, at
	w.count++
	return true
}

// instanceWithNested writes the System instance whose last value is a
// nested fragment holding the EventData instance.
func (w *chunkWriter) instanceWithNested(sys *template, vals []wval, data *template, dvals []wval) {
	// Write the System instance with a placeholder size for the last value.
	w.instance(sys, vals)
	// The last descriptor is the nested value's: patch its size after.
	lastDesc := int(w.pos()) - sumSizes(vals) - 4
	nestedAt := w.pos()
	w.buf = append(w.buf, 0x0f, 0x01, 0x01, 0x00)
	w.instance(data, dvals)
	w.u8(0x00)
	binary.LittleEndian.PutUint16(w.buf[lastDesc:], uint16(w.pos()-nestedAt))
}

func sumSizes(vals []wval) int {
	n := 0
	for _, v := range vals {
		n += len(v.data)
	}
	return n
}

// finish fills in the chunk header and returns the 64 KiB chunk.
func (w *chunkWriter) finish() []byte {
	free := w.pos()
	out := make([]byte, ChunkSize)
	copy(out, w.buf)
	le := binary.LittleEndian
	copy(out, chunkMagic)
	le.PutUint64(out[8:], w.first)
	le.PutUint64(out[16:], w.last)
	le.PutUint64(out[24:], w.first)
	le.PutUint64(out[32:], w.last)
	le.PutUint32(out[40:], 128)
	le.PutUint32(out[44:], w.lastRec)
	le.PutUint32(out[48:], free)
	le.PutUint32(out[52:], crc32.ChecksumIEEE(out[chunkHeaderSize:free]))
	for i, off := range w.strTable {
		le.PutUint32(out[128+4*i:], off)
	}
	// Template pointers (chunk offset 384): the definitions of this chunk.
	for i, off := range w.order[:min(len(w.order), 32)] {
		le.PutUint32(out[384+4*i:], off)
	}
	le.PutUint32(out[124:], crc32.Update(crc32.ChecksumIEEE(out[:120]), crc32.IEEETable, out[128:chunkHeaderSize]))
	return out
}

// writeFile lays records out in chunks and returns the whole file.
func writeFile(sys *template, recs []fixtureRecord) []byte {
	var chunks [][]byte
	w := newChunkWriter()
	var next uint64 = 1
	for _, r := range recs {
		if !w.record(sys, r) {
			chunks = append(chunks, w.finish())
			w = newChunkWriter()
			if !w.record(sys, r) {
				panic("record larger than a chunk")
			}
		}
		next = r.id + 1
	}
	if w.count > 0 {
		chunks = append(chunks, w.finish())
	}
	le := binary.LittleEndian
	hdr := make([]byte, FileHeaderSize)
	copy(hdr, Magic)
	le.PutUint64(hdr[8:], 0)
	le.PutUint64(hdr[16:], uint64(len(chunks)-1))
	le.PutUint64(hdr[24:], next)
	le.PutUint32(hdr[32:], 128)
	le.PutUint16(hdr[36:], 1)
	le.PutUint16(hdr[38:], 3)
	le.PutUint16(hdr[40:], FileHeaderSize)
	le.PutUint16(hdr[42:], uint16(len(chunks)))
	le.PutUint32(hdr[124:], crc32.ChecksumIEEE(hdr[:120]))
	out := hdr
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out
}
