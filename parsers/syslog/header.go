package syslog

import (
	"encoding/binary"
	"fmt"

	"github.com/mamori-soc/mamori/parsers"
)

// parseError is an input problem. It wraps parsers.ErrUnparsable, so the
// parse stage sends the raw record to the dead-letter topic with this text.
type parseError struct{ msg string }

func (e *parseError) Error() string { return "syslog: " + e.msg }
func (e *parseError) Unwrap() error { return parsers.ErrUnparsable }

func unparsable(format string, args ...any) error {
	return &parseError{msg: fmt.Sprintf(format, args...)}
}

const bom = "\ufeff"

// trimLine drops what framing leaves around a message and never belongs to
// it: a leading UTF-8 BOM, and carriage returns, line feeds and NULs at either
// end (some senders terminate UDP datagrams with "\n" or "\x00").
func trimLine(b []byte) (start, end int) {
	end = len(b)
	if len(b) >= 3 && string(b[:3]) == bom {
		start = 3
	}
	for start < end && isFraming(b[start]) {
		start++
	}
	for end > start && isFraming(b[end-1]) {
		end--
	}
	return start, end
}

func isFraming(c byte) bool { return c == '\n' || c == '\r' || c == 0 }

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != 0 {
			return false
		}
	}
	return true
}

// isControl reports a C0 control character other than tab, line feed and
// carriage return, or DEL.
func isControl(c byte) bool { return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f }

// checkControls rejects input that is mostly control characters: binary data
// that happens to be valid UTF-8. A few control characters (an ANSI colour
// escape, a stray bell) are kept: rsyslog accepts them too.
func checkControls(b []byte) error {
	n, i := 0, 0
	// Eight bytes at a time: most messages have no control character at
	// all, and the word test below finds that without a branch per byte.
	for ; i+8 <= len(b); i += 8 {
		if v := binary.LittleEndian.Uint64(b[i:]); hasLess(v, 0x20) || hasZero(v^0x7f7f7f7f7f7f7f7f) {
			for _, c := range b[i : i+8] {
				if isControl(c) {
					n++
				}
			}
		}
	}
	for _, c := range b[i:] {
		if isControl(c) {
			n++
		}
	}
	if n > 0 && n*8 > len(b) {
		return unparsable("control-character garbage, not a syslog message: %d of %d bytes are control characters", n, len(b))
	}
	return nil
}

const lsb, msb = 0x0101010101010101, 0x8080808080808080

// hasLess reports whether any byte of v is below n (n <= 128).
func hasLess(v, n uint64) bool { return (v-lsb*n)&^v&msb != 0 }

// hasZero reports whether any byte of v is zero.
func hasZero(v uint64) bool { return (v-lsb)&^v&msb != 0 }

// parsePRI reads the "<PRI>" at the start of b. ok is false when b does not
// start with '<' (a message without PRI); an error reports a PRI that is
// there but malformed. Leading zeros are accepted, as rsyslog does.
func parsePRI(b []byte) (pri, n int, ok bool, err error) {
	if len(b) == 0 || b[0] != '<' {
		return 0, 0, false, nil
	}
	i := 1
	for i < len(b) && i <= 4 && b[i] >= '0' && b[i] <= '9' {
		pri = pri*10 + int(b[i]-'0')
		i++
	}
	switch {
	case i == 1:
		return 0, 0, false, unparsable("invalid PRI: want 1 to 3 digits after '<', got %s", quoteAt(b, 1))
	case i > 4:
		return 0, 0, false, unparsable("invalid PRI: more than 3 digits after '<'")
	case i >= len(b) || b[i] != '>':
		return 0, 0, false, unparsable("invalid PRI: want '>' after <%s, got %s", b[1:i], quoteAt(b, i))
	case pri > 191:
		return 0, 0, false, unparsable("invalid PRI <%d>: the priority must be 0 to 191 (facility*8 + severity)", pri)
	}
	return pri, i + 1, true, nil
}

// quoteAt describes the byte at b[i] for an error message.
func quoteAt(b []byte, i int) string {
	if i >= len(b) {
		return "the end of the message"
	}
	if b[i] < 0x20 || b[i] >= 0x7f {
		return fmt.Sprintf("byte 0x%02x", b[i])
	}
	return fmt.Sprintf("%q", b[i])
}
