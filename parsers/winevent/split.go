package winevent

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// MaxEventSize bounds one <Event> document in SplitXML. Event log records
// are at most 64 KiB in UTF-16; forwarded events with rendering info stay
// far below this.
const MaxEventSize = 4 << 20

// SplitXML reads a stream of Windows Event XML documents and calls fn with
// each <Event> element, as UTF-8 text, in stream order. It reads what
// "wevtutil qe LOG /f:xml" writes (a sequence of <Event> documents without
// a root element) and Event Viewer's "Save as XML" exports (one <Events>
// root holding them), in UTF-8 or UTF-16 (little or big endian, with or
// without a byte order mark), with or without an XML declaration, with any
// white space or comments between events.
//
// The slice passed to fn is only valid during the call: fn must not retain
// it. An error from fn stops the split and is returned as is. Malformed
// input (an unclosed or truncated <Event>, text or an unknown element
// between events, an event larger than MaxEventSize) stops it with an
// error that wraps parsers.ErrUnparsable and names the line and column;
// the events before it have been passed to fn.
func SplitXML(r io.Reader, fn func(event []byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4)
	var text io.Reader = br
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		text = transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
	case len(head) >= 2 && head[0] != 0 && head[1] == 0:
		text = transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder())
	case len(head) >= 2 && head[0] == 0 && head[1] != 0:
		text = transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder())
	case bytes.HasPrefix(head, []byte("\uFEFF")):
		_, _ = br.Discard(3)
	}
	s := &splitter{src: bufio.NewReaderSize(text, 64<<10)}
	dec := xml.NewDecoder(s)
	// The text is UTF-8 by now, whatever its declaration says.
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "utf-16", "utf-16le", "utf-16be", "unicode", "us-ascii", "ascii":
			return r, nil
		}
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	return s.run(dec, fn)
}

// splitter feeds the decoder byte by byte (so that the decoder's offsets
// are offsets in rec) and records the bytes of the current event.
type splitter struct {
	src       *bufio.Reader
	rec       []byte // bytes read from stream offset base on
	base      int64
	recording bool  // inside an <Event>
	err       error // read error other than EOF
}

func (s *splitter) ReadByte() (byte, error) {
	c, err := s.src.ReadByte()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			s.err = err
		}
		return 0, err
	}
	if len(s.rec) >= MaxEventSize {
		return 0, errTooLarge
	}
	s.rec = append(s.rec, c)
	return c, nil
}

func (s *splitter) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c, err := s.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = c
	return 1, nil
}

var errTooLarge = fmt.Errorf("event larger than %d bytes", MaxEventSize)

func (s *splitter) run(dec *xml.Decoder, fn func([]byte) error) error {
	depth := 0      // element depth
	eventDepth := 0 // depth of the open <Event>, 0 when outside one
	wrapped := false
	var startLine, startCol int
	for {
		before := dec.InputOffset()
		line, col := dec.InputPos()
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) && depth == 0 {
				return nil
			}
			if s.err != nil {
				return fmt.Errorf("winevent: read: %w", s.err)
			}
			if errors.Is(err, errTooLarge) {
				return errorf("the <Event> at line %d, column %d: %v", startLine, startCol, err)
			}
			if eventDepth > 0 {
				return errorf("the <Event> at line %d, column %d is truncated or malformed: %v", startLine, startCol, err)
			}
			if se := (*xml.SyntaxError)(nil); errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
				errors.As(err, &se) && se.Msg == "unexpected EOF" {
				return errorf("input ends inside an element at line %d, column %d", line, col)
			}
			return errorf("bad XML at line %d, column %d: %v", line, col, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case eventDepth > 0:
			case t.Name.Local == "Event":
				eventDepth = depth
				startLine, startCol = line, col
				s.drop(before) // keep from the '<' of this start tag on
				s.recording = true
			case depth == 1 && t.Name.Local == "Events" && !wrapped:
				wrapped = true
			default:
				return errorf("unexpected element <%s> at line %d, column %d: want <Event>", t.Name.Local, line, col)
			}
		case xml.EndElement:
			if depth == eventDepth {
				end := dec.InputOffset()
				if err := fn(s.rec[:end-s.base]); err != nil {
					return err
				}
				eventDepth = 0
				s.recording = false
				s.drop(end)
			}
			depth--
		case xml.CharData:
			if eventDepth == 0 && len(bytes.TrimSpace(t)) != 0 {
				return errorf("text %q outside any <Event> at line %d, column %d", preview(t), line, col)
			}
		}
		if !s.recording {
			s.drop(dec.InputOffset()) // what the decoder consumed between events
		}
	}
}

// drop forgets the bytes before stream offset off. The decoder may have
// read one byte past its offset; that byte is kept.
func (s *splitter) drop(off int64) {
	n := copy(s.rec, s.rec[off-s.base:])
	s.rec = s.rec[:n]
	s.base = off
}

func preview(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 20 {
		return string(b[:20]) + "..."
	}
	return string(b)
}
