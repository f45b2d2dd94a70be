package syslog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// Framing is how syslog messages are delimited on a stream (RFC 6587).
type Framing int

const (
	// FramingAuto decides per frame: a frame starting with a non-zero digit
	// followed by digits and a space is octet-counted, anything else is
	// delimited by LF (or NUL, or CRLF), as rsyslog and syslog-ng accept.
	FramingAuto Framing = iota + 1
	// FramingOctetCounting: "MSG-LEN SP SYSLOG-MSG" (RFC 6587 3.4.1,
	// RFC 5425 4.3). Stray LF, CR or NUL between frames are skipped.
	FramingOctetCounting
	// FramingNonTransparent: each message ends with LF or NUL; a CR before
	// the LF is part of the delimiter (RFC 6587 3.4.2).
	FramingNonTransparent
)

var framingNames = map[Framing]string{
	FramingAuto:           "auto",
	FramingOctetCounting:  "octet-counting",
	FramingNonTransparent: "non-transparent",
}

// String returns the configuration name ("auto", "octet-counting",
// "non-transparent").
func (f Framing) String() string {
	if s, ok := framingNames[f]; ok {
		return s
	}
	return fmt.Sprintf("Framing(%d)", int(f))
}

// MarshalText implements encoding.TextMarshaler.
func (f Framing) MarshalText() ([]byte, error) {
	if _, ok := framingNames[f]; !ok && f != 0 {
		return nil, fmt.Errorf("unknown framing %d", int(f))
	}
	if f == 0 {
		return nil, nil
	}
	return []byte(f.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (f *Framing) UnmarshalText(text []byte) error {
	for k, v := range framingNames {
		if v == string(text) {
			*f = k
			return nil
		}
	}
	return fmt.Errorf("framing %q is unknown: use auto, octet-counting or non-transparent", text)
}

// UnmarshalYAML decodes a YAML scalar, naming its line on error.
func (f *Framing) UnmarshalYAML(n *yaml.Node) error { return unmarshalScalar(n, f) }

// ErrFraming: the stream broke the framing rules and cannot be followed
// further; the connection should be closed.
var ErrFraming = errors.New("syslog: framing error")

// maxLenDigits bounds MSG-LEN so it fits an int64; larger counts are a
// framing error (or, in auto mode, the start of a delimited frame).
const maxLenDigits = 18

// DefaultScanBuffer is the read buffer of a Scanner. Messages that fit it
// are returned without being copied.
const DefaultScanBuffer = 32 << 10

// Scanner reads syslog messages from a stream, like bufio.Scanner reads
// lines. A message longer than the maximum is cut to the maximum and
// reported with its original size; the rest of it is read and discarded
// without being buffered. Scanner never returns more than max bytes.
type Scanner struct {
	br      *bufio.Reader
	framing Framing
	max     int

	msg  []byte // current message
	size int64  // original size of the current message
	acc  []byte // message assembled across buffer refills
	err  error
	done bool
}

// NewScanner returns a Scanner reading r with the given framing (zero
// means FramingAuto) and maximum message size (at least 1).
func NewScanner(r io.Reader, framing Framing, maxSize int) *Scanner {
	if framing == 0 {
		framing = FramingAuto
	}
	if maxSize < 1 {
		maxSize = 1
	}
	return &Scanner{br: bufio.NewReaderSize(r, DefaultScanBuffer), framing: framing, max: maxSize}
}

// Message returns the current message without its framing. It is valid
// until the next call to Scan.
func (s *Scanner) Message() []byte { return s.msg }

// Size returns the current message's original size in bytes. It is larger
// than len(Message()) when the message was truncated: cut at the maximum,
// or, for an octet-counted frame, cut short by the end of the stream.
func (s *Scanner) Size() int64 { return s.size }

// Truncated reports whether the current message is incomplete.
func (s *Scanner) Truncated() bool { return s.size > int64(len(s.msg)) }

// Err returns the error that ended scanning: nil at a clean end of stream,
// an error wrapping ErrFraming when the stream broke the framing rules,
// io.ErrUnexpectedEOF when it ended inside an octet-counted frame, or the
// reader's error.
func (s *Scanner) Err() error { return s.err }

// Scan advances to the next message and reports whether there is one.
func (s *Scanner) Scan() bool {
	s.msg, s.size = nil, 0
	if s.done {
		return false
	}
	// Skip delimiters left between frames (empty frames, "\n" after an
	// octet-counted frame).
	for {
		c, err := s.br.ReadByte()
		if err != nil {
			s.stop(err)
			return false
		}
		if c != '\n' && c != '\r' && c != 0 {
			_ = s.br.UnreadByte()
			break
		}
	}
	switch s.framing {
	case FramingNonTransparent:
		return s.scanDelimited()
	case FramingOctetCounting:
		n, ok, err := s.msgLen()
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("syslog: stream ended inside MSG-LEN: %w", io.ErrUnexpectedEOF)
		}
		if err != nil {
			s.stop(err)
			return false
		}
		if !ok {
			c, _ := s.br.ReadByte()
			s.stop(fmt.Errorf("%w: octet-counted frame must start with MSG-LEN and a space, got %q", ErrFraming, c))
			return false
		}
		return s.scanCounted(n)
	default:
		n, ok, err := s.msgLen()
		if err != nil && !errors.Is(err, ErrFraming) {
			// End of stream inside what looked like a count: what was
			// sent is a last, undelimited frame.
			if errors.Is(err, io.EOF) {
				return s.scanDelimited()
			}
			s.stop(err)
			return false
		}
		if ok {
			return s.scanCounted(n)
		}
		return s.scanDelimited()
	}
}

func (s *Scanner) stop(err error) {
	s.done = true
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
	}
}

// msgLen looks for "MSG-LEN SP" at the current position. If it is there it
// consumes it and returns the length with ok. If the bytes are not a count
// (no leading non-zero digit, a non-digit before the space, too many
// digits) nothing is consumed and ok is false; for too many digits or a
// missing space err also wraps ErrFraming. An error from the reader (io.EOF
// inside the digits) is returned as is, nothing consumed.
func (s *Scanner) msgLen() (int64, bool, error) {
	var n int64
	for i := 0; ; i++ {
		b, err := s.br.Peek(i + 1)
		if len(b) <= i {
			return 0, false, err
		}
		c := b[i]
		switch {
		case c >= '0' && c <= '9' && !(i == 0 && c == '0'):
			if i == maxLenDigits {
				return 0, false, fmt.Errorf("%w: MSG-LEN longer than %d digits", ErrFraming, maxLenDigits)
			}
			n = n*10 + int64(c-'0')
		case c == ' ' && i > 0:
			_, _ = s.br.Discard(i + 1)
			return n, true, nil
		case i == 0:
			return 0, false, nil
		default:
			return 0, false, fmt.Errorf("%w: MSG-LEN %q followed by %q, not a space", ErrFraming, b[:i], c)
		}
	}
}

// scanCounted reads an octet-counted message of n bytes.
func (s *Scanner) scanCounted(n int64) bool {
	s.size = n
	keep := int(min(n, int64(s.max)))
	rest := n - int64(keep)
	if keep <= s.br.Size() {
		b, _ := s.br.Peek(keep)
		if len(b) < keep {
			s.msg = s.own(b)
			_, _ = s.br.Discard(len(b))
			s.stop(fmt.Errorf("syslog: octet-counted frame of %d bytes ended after %d: %w", n, len(b), io.ErrUnexpectedEOF))
			return true
		}
		if rest > 0 {
			// Discarding the rest refills the buffer: keep a copy.
			b = s.own(b)
		}
		s.msg = b
		_, _ = s.br.Discard(keep)
	} else {
		if cap(s.acc) < keep {
			s.acc = make([]byte, keep)
		}
		s.acc = s.acc[:keep]
		got, err := io.ReadFull(s.br, s.acc)
		s.msg = s.acc[:got]
		if err != nil {
			s.stop(fmt.Errorf("syslog: octet-counted frame of %d bytes ended after %d: %w", n, got, io.ErrUnexpectedEOF))
			return true
		}
	}
	for rest > 0 {
		d, err := s.br.Discard(int(min(rest, int64(s.br.Size()))))
		rest -= int64(d)
		if err != nil {
			// The message is kept, cut; the stream is over.
			s.stop(fmt.Errorf("syslog: octet-counted frame of %d bytes ended %d bytes early: %w", n, rest, io.ErrUnexpectedEOF))
			return true
		}
	}
	return true
}

// own copies b into the scanner's own buffer.
func (s *Scanner) own(b []byte) []byte {
	s.acc = append(s.acc[:0], b...)
	return s.acc
}

// scanDelimited reads a message ending at LF or NUL (a CR before the LF is
// part of the delimiter), or at the end of the stream.
func (s *Scanner) scanDelimited() bool {
	s.acc = s.acc[:0]
	var size int64
	prevCR := false // the last byte counted so far is a CR
	for {
		buf, err := s.peekBuffered()
		if len(buf) == 0 {
			if size == 0 {
				s.stop(err)
				return false
			}
			// Last message, not delimited: kept as sent.
			s.msg, s.size = s.acc, size
			s.stop(err)
			return true
		}
		i := indexDelim(buf)
		if i >= 0 && size == 0 && i <= s.max {
			// Fast path: the whole message is in the buffer.
			msg := buf[:i]
			if buf[i] == '\n' && i > 0 && msg[i-1] == '\r' {
				msg = msg[:i-1]
			}
			_, _ = s.br.Discard(i + 1)
			s.msg, s.size = msg, int64(len(msg))
			return true
		}
		chunk := buf
		if i >= 0 {
			chunk = buf[:i]
		}
		if room := s.max - len(s.acc); room > 0 {
			s.acc = append(s.acc, chunk[:min(room, len(chunk))]...)
		}
		size += int64(len(chunk))
		if len(chunk) > 0 {
			prevCR = chunk[len(chunk)-1] == '\r'
		}
		if i < 0 {
			_, _ = s.br.Discard(len(chunk))
			continue
		}
		if buf[i] == '\n' && prevCR {
			if int64(len(s.acc)) == size {
				s.acc = s.acc[:len(s.acc)-1]
			}
			size--
		}
		_, _ = s.br.Discard(i + 1)
		s.msg, s.size = s.acc, size
		return true
	}
}

// peekBuffered returns the buffered bytes, reading more when none are.
func (s *Scanner) peekBuffered() ([]byte, error) {
	if s.br.Buffered() == 0 {
		if _, err := s.br.Peek(1); err != nil {
			return nil, err
		}
	}
	b, _ := s.br.Peek(s.br.Buffered())
	return b, nil
}

// indexDelim returns the index of the first LF or NUL in b, or -1.
func indexDelim(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	end := i
	if i < 0 {
		end = len(b)
	}
	if j := bytes.IndexByte(b[:end], 0); j >= 0 {
		return j
	}
	return i
}
