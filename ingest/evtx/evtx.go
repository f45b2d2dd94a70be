// Package evtx reads Windows binary event log files (.evtx) and renders
// every event record as the Event XML document that wevtutil prints for it,
// so that imported events take the same parse path (winevent.ParseXML,
// format "eventxml") as events forwarded as XML.
//
// The binary XML of each record is decoded by github.com/0xrawsec/golang-evtx;
// this package drives it one chunk and one record at a time (never through
// the library's goroutine-based iterators, whose panics would end the
// process), recovers its panics, bounds its work on hostile input, checks
// the file, chunk and record framing and checksums itself, and renders the
// decoded tokens in document order with its own value formatting (the
// library's map output loses the order of EventData, pads hexadecimal
// values and drops the braces of GUIDs).
//
// A chunk or record that cannot be read is reported as a Problem with its
// file offset, and reading goes on with the next one.
package evtx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// Magic is the signature at the start of every EVTX file.
const Magic = "ElfFile\x00"

// Layout constants of the format (libyal's "Windows XML Event Log (EVTX)
// format", sections "File header", "Chunk" and "Event record").
const (
	FileHeaderSize   = 4096
	ChunkSize        = 65536
	chunkMagic       = "ElfChnk\x00"
	chunkHeaderSize  = 512
	recordMagic      = "\x2a\x2a\x00\x00"
	recordHeaderSize = 24
)

// ErrNotEVTX reports input that does not start with the EVTX signature.
var ErrNotEVTX = errors.New("evtx: not an EVTX file (no ElfFile signature)")

// Header is what the file header declares.
type Header struct {
	MajorVersion, MinorVersion uint16
	Chunks                     uint16 // number of chunks, as last recorded
	NextRecordID               uint64
	Dirty                      bool // not closed cleanly: the chunk count may be stale
	Full                       bool
}

// File is an open EVTX file.
type File struct {
	r    io.ReaderAt
	size int64
	// Header is the file header.
	Header Header
	// Warnings are problems of the file header that do not stop reading
	// (a bad checksum, an unknown version): chunks are found by scanning.
	Warnings []error
}

// Open reads and checks the file header of an EVTX file of the given size.
// It fails only when the input is not an EVTX file at all.
func Open(r io.ReaderAt, size int64) (*File, error) {
	hdr := make([]byte, 128)
	n, err := r.ReadAt(hdr, 0)
	if n < len(Magic) || string(hdr[:len(Magic)]) != Magic {
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("evtx: read file header: %w", err)
		}
		return nil, ErrNotEVTX
	}
	f := &File{r: r, size: size}
	if n < len(hdr) {
		return nil, fmt.Errorf("evtx: file header truncated: %d of %d bytes", n, FileHeaderSize)
	}
	le := binary.LittleEndian
	f.Header = Header{
		MinorVersion: le.Uint16(hdr[36:]),
		MajorVersion: le.Uint16(hdr[38:]),
		Chunks:       le.Uint16(hdr[42:]),
		NextRecordID: le.Uint64(hdr[24:]),
		Dirty:        le.Uint32(hdr[120:])&1 != 0,
		Full:         le.Uint32(hdr[120:])&2 != 0,
	}
	if got, want := crc32.ChecksumIEEE(hdr[:120]), le.Uint32(hdr[124:]); got != want {
		f.Warnings = append(f.Warnings, fmt.Errorf("evtx: file header checksum is 0x%08x, computed 0x%08x", want, got))
	}
	if f.Header.MajorVersion != 3 || f.Header.MinorVersion > 2 {
		f.Warnings = append(f.Warnings, fmt.Errorf("evtx: unknown format version %d.%d (known: 3.1, 3.2)", f.Header.MajorVersion, f.Header.MinorVersion))
	}
	if size < FileHeaderSize {
		f.Warnings = append(f.Warnings, fmt.Errorf("evtx: file is %d bytes, shorter than its %d-byte header: it holds no chunk", size, FileHeaderSize))
	}
	return f, nil
}

// Size is the size of the file in bytes.
func (f *File) Size() int64 { return f.size }

// Record is one event record.
type Record struct {
	Offset  int64     // file offset of the record
	Chunk   int       // index of its chunk
	ID      uint64    // event record identifier from the record header
	Written time.Time // when the record was written, from the record header
	// XML is the event as an Event XML document in UTF-8. It is only valid
	// during the callback: copy it to keep it.
	XML []byte
}

// ProblemKind says what a Problem cost.
type ProblemKind int

const (
	// RecordLost: one record could not be decoded; Raw holds its bytes.
	RecordLost ProblemKind = iota + 1
	// ChunkLost: a chunk, or the rest of one, could not be read; the
	// records in it were not read.
	ChunkLost
	// ChecksumMismatch: a checksum did not match; the records were read
	// anyway and may be damaged.
	ChecksumMismatch
)

func (k ProblemKind) String() string {
	switch k {
	case RecordLost:
		return "record lost"
	case ChunkLost:
		return "chunk lost"
	case ChecksumMismatch:
		return "checksum mismatch"
	}
	return fmt.Sprintf("ProblemKind(%d)", int(k))
}

// Problem is damage found while reading.
type Problem struct {
	Kind   ProblemKind
	Offset int64  // file offset of the chunk or record
	Chunk  int    // chunk index
	ID     uint64 // record identifier (RecordLost), when its header was readable
	Err    error
	// Raw is the whole binary record (RecordLost); only valid during the
	// callback.
	Raw []byte
}

func (p Problem) Error() string {
	if p.Kind == RecordLost {
		return fmt.Sprintf("record %d at offset %d (0x%x) in chunk %d: %v", p.ID, p.Offset, p.Offset, p.Chunk, p.Err)
	}
	return fmt.Sprintf("chunk %d at offset %d (0x%x): %v", p.Chunk, p.Offset, p.Offset, p.Err)
}

// Walk reads every chunk in file order and calls fn for each record that
// decodes and problem for each piece of damage. Chunks are found by
// position, not by the header's count, so the chunks of a dirty file that
// its header does not count yet are read too; zero-filled (unused) chunks
// are skipped. An error from fn or problem stops the walk and is returned;
// Walk itself fails only when the file cannot be read.
func (f *File) Walk(fn func(Record) error, problem func(Problem) error) error {
	if problem == nil {
		problem = func(Problem) error { return nil }
	}
	buf := make([]byte, ChunkSize)
	for i := 0; ; i++ {
		off := int64(FileHeaderSize) + int64(i)*ChunkSize
		if off >= f.size {
			return nil
		}
		n, err := f.r.ReadAt(buf, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("evtx: read chunk %d at offset %d: %w", i, off, err)
		}
		data := buf[:n]
		if allZero(data) {
			continue
		}
		if n < ChunkSize {
			if err := problem(Problem{Kind: ChunkLost, Offset: off, Chunk: i, Err: fmt.Errorf("truncated: %d of %d bytes", n, ChunkSize)}); err != nil {
				return err
			}
			return nil
		}
		if err := f.walkChunk(i, off, data, fn, problem); err != nil {
			return err
		}
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// walkChunk reads the records of one chunk.
func (f *File) walkChunk(idx int, off int64, data []byte, fn func(Record) error, problem func(Problem) error) error {
	le := binary.LittleEndian
	if string(data[:8]) != chunkMagic {
		return problem(Problem{Kind: ChunkLost, Offset: off, Chunk: idx, Err: fmt.Errorf("bad chunk signature %q", data[:8])})
	}
	lastRec := int(le.Uint32(data[44:]))
	free := int(le.Uint32(data[48:]))
	if want, got := le.Uint32(data[124:]), crc32.Update(crc32.ChecksumIEEE(data[:120]), crc32.IEEETable, data[128:chunkHeaderSize]); want != got {
		if err := problem(Problem{Kind: ChecksumMismatch, Offset: off, Chunk: idx, Err: fmt.Errorf("chunk header checksum is 0x%08x, computed 0x%08x", want, got)}); err != nil {
			return err
		}
	}
	if free < chunkHeaderSize || free > ChunkSize {
		if err := problem(Problem{Kind: ChecksumMismatch, Offset: off, Chunk: idx, Err: fmt.Errorf("free space offset %d is outside the chunk", free)}); err != nil {
			return err
		}
		free = ChunkSize
	} else if want, got := le.Uint32(data[52:]), crc32.ChecksumIEEE(data[chunkHeaderSize:free]); want != got {
		if err := problem(Problem{Kind: ChecksumMismatch, Offset: off, Chunk: idx, Err: fmt.Errorf("event records checksum is 0x%08x, computed 0x%08x", want, got)}); err != nil {
			return err
		}
	}
	c, err := newChunk(data, off)
	if err != nil {
		return problem(Problem{Kind: ChunkLost, Offset: off, Chunk: idx, Err: err})
	}
	end := free
	if lastRec >= chunkHeaderSize && lastRec < ChunkSize && lastRec+recordHeaderSize > end {
		end = min(lastRec+recordHeaderSize, ChunkSize) // trust the last record offset over a short free offset
	}
	for pos := chunkHeaderSize; pos+recordHeaderSize <= end; {
		if string(data[pos:pos+4]) != recordMagic {
			if allZero(data[pos:end]) {
				return nil
			}
			return problem(Problem{Kind: ChunkLost, Offset: off + int64(pos), Chunk: idx,
				Err: fmt.Errorf("no record signature at chunk offset %d: the rest of the chunk (%d bytes) is not read", pos, end-pos)})
		}
		size := int(le.Uint32(data[pos+4:]))
		if size < recordHeaderSize+4 || pos+size > ChunkSize || le.Uint32(data[pos+size-4:]) != uint32(size) {
			return problem(Problem{Kind: ChunkLost, Offset: off + int64(pos), Chunk: idx,
				Err: fmt.Errorf("bad record size %d at chunk offset %d: the rest of the chunk is not read", size, pos)})
		}
		id := le.Uint64(data[pos+8:])
		written := filetime(le.Uint64(data[pos+16:]))
		xml, err := c.render(pos+recordHeaderSize, pos+size-4)
		if err != nil {
			if err := problem(Problem{Kind: RecordLost, Offset: off + int64(pos), Chunk: idx, ID: id, Err: err, Raw: data[pos : pos+size]}); err != nil {
				return err
			}
		} else if err := fn(Record{Offset: off + int64(pos), Chunk: idx, ID: id, Written: written, XML: xml}); err != nil {
			return err
		}
		pos += size
	}
	return nil
}

// filetime converts a FILETIME (100 ns ticks since 1601) to UTC time.
func filetime(ft uint64) time.Time {
	const ticksTo1970 = 116444736000000000
	if ft < ticksTo1970 {
		d := ticksTo1970 - ft
		return time.Unix(-int64(d/1e7), -int64(d%1e7)*100).UTC()
	}
	d := ft - ticksTo1970
	return time.Unix(int64(d/1e7), int64(d%1e7)*100).UTC()
}

// Detect reports whether data (the first bytes of a file) is EVTX.
func Detect(data []byte) bool { return bytes.HasPrefix(data, []byte(Magic)) }
