package parsers

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
)

// Encoding is a text encoding that ToUTF8 recognises.
type Encoding uint8

// The encodings ToUTF8 recognises. Japanese devices and Windows hosts still
// send Shift_JIS (Windows-31J); older Unix systems send EUC-JP; mail-derived
// text arrives as ISO-2022-JP.
const (
	UTF8      Encoding = iota // UTF-8, including plain ASCII
	ShiftJIS                  // Shift_JIS with the Windows-31J (CP932) extensions
	EUCJP                     // EUC-JP (JIS X 0208 and JIS X 0212)
	ISO2022JP                 // ISO-2022-JP (7-bit, escape sequences)
)

var encodingNames = [...]string{"UTF-8", "Shift_JIS", "EUC-JP", "ISO-2022-JP"}

// String returns the IANA name of the encoding.
func (e Encoding) String() string {
	if int(e) < len(encodingNames) {
		return encodingNames[e]
	}
	return fmt.Sprintf("Encoding(%d)", int(e))
}

// TextError reports input that is not text in any encoding ToUTF8
// recognises (binary data, or text in an unsupported charset such as
// Latin-1). It wraps ErrUnparsable.
type TextError struct {
	Offset int  // offset of the first byte that no recognised encoding accepts
	Byte   byte // the byte at Offset
}

func (e *TextError) Error() string {
	return fmt.Sprintf("not UTF-8 or Shift_JIS text: byte 0x%02x at offset %d is invalid", e.Byte, e.Offset)
}

// Unwrap returns ErrUnparsable.
func (e *TextError) Unwrap() error { return ErrUnparsable }

// ToUTF8 returns text as UTF-8. Valid UTF-8 is returned as is, without a
// copy. Otherwise text is converted into a new slice when it decodes cleanly
// (every byte sequence maps to a character) as Shift_JIS or EUC-JP; when both
// decode, the one that yields more ordinary Japanese characters (kana, kanji)
// wins, and Shift_JIS wins ties. Valid UTF-8 that carries ISO-2022-JP escape
// sequences and decodes cleanly as such is converted too. Anything else is a
// *TextError.
//
// ToUTF8 is safe for concurrent use and never retains text.
func ToUTF8(text []byte) ([]byte, Encoding, error) {
	enc, err := DetectEncoding(text)
	if err != nil || enc == UTF8 {
		return text, enc, err
	}
	out, err := decoderFor(enc).Bytes(text)
	if err != nil { // unreachable: DetectEncoding checked every character
		return text, enc, fmt.Errorf("%s: %w", enc, ErrUnparsable)
	}
	return out, enc, nil
}

// DetectEncoding reports the encoding of text as ToUTF8 would decide it,
// without converting. The error is a *TextError.
func DetectEncoding(text []byte) (Encoding, error) {
	if utf8.Valid(text) {
		if bytes.IndexByte(text, 0x1b) >= 0 && isISO2022JP(text) {
			return ISO2022JP, nil
		}
		return UTF8, nil
	}
	sjisScore, sjisBad := scan(text, ShiftJIS)
	eucScore, eucBad := scan(text, EUCJP)
	switch {
	case sjisBad < 0 && eucBad < 0:
		if eucScore > sjisScore {
			return EUCJP, nil
		}
		return ShiftJIS, nil
	case sjisBad < 0:
		return ShiftJIS, nil
	case eucBad < 0:
		return EUCJP, nil
	}
	// Report the furthest point any candidate reached: for text in one of
	// them with a single bad byte, that is the bad byte.
	at := max(sjisBad, eucBad, utf8Bad(text))
	return UTF8, &TextError{Offset: at, Byte: text[at]}
}

func decoderFor(enc Encoding) *encoding.Decoder {
	switch enc {
	case ShiftJIS:
		return japanese.ShiftJIS.NewDecoder()
	case EUCJP:
		return japanese.EUCJP.NewDecoder()
	default:
		return japanese.ISO2022JP.NewDecoder()
	}
}

// utf8Bad returns the offset of the first byte that is not valid UTF-8.
func utf8Bad(b []byte) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b) - 1
}

// charLen returns the length of the character starting at b[0] in enc, or 0
// when b[0] cannot start one or the character is cut short. It checks byte
// ranges only; whether the character is assigned is checked by decoding it.
func charLen(b []byte, enc Encoding) int {
	c := b[0]
	if c < 0x80 {
		return 1
	}
	trail := func(n int, ok func(byte) bool) int {
		if len(b) < n {
			return 0
		}
		for _, t := range b[1:n] {
			if !ok(t) {
				return 0
			}
		}
		return n
	}
	switch enc {
	case ShiftJIS:
		switch {
		case c >= 0xa1 && c <= 0xdf: // half-width katakana
			return 1
		case (c >= 0x81 && c <= 0x9f) || (c >= 0xe0 && c <= 0xfc):
			return trail(2, func(t byte) bool { return (t >= 0x40 && t <= 0x7e) || (t >= 0x80 && t <= 0xfc) })
		}
	case EUCJP:
		gr := func(t byte) bool { return t >= 0xa1 && t <= 0xfe }
		switch {
		case c == 0x8e: // SS2: half-width katakana
			return trail(2, func(t byte) bool { return t >= 0xa1 && t <= 0xdf })
		case c == 0x8f: // SS3: JIS X 0212
			return trail(3, gr)
		case gr(c):
			return trail(2, gr)
		}
	}
	return 0
}

// scan checks that every character of b decodes cleanly in enc. It returns a
// score of how Japanese the decoded text looks and -1, or the offset of the
// first bad byte.
func scan(b []byte, enc Encoding) (score, bad int) {
	dec := decoderFor(enc)
	var out [8]byte
	for i := 0; i < len(b); {
		n := charLen(b[i:], enc)
		if n == 0 {
			return score, i
		}
		if n == 1 && b[i] < 0x80 {
			i++
			continue
		}
		dec.Reset()
		nDst, _, err := dec.Transform(out[:], b[i:i+n], true)
		r, _ := utf8.DecodeRune(out[:nDst])
		if err != nil || r == utf8.RuneError {
			return score, i
		}
		score += runeScore(r)
		i += n
	}
	return score, -1
}

// runeScore rates how typical a character is of Japanese text.
func runeScore(r rune) int {
	switch {
	case r >= 0x3040 && r <= 0x30ff: // hiragana, katakana
		return 3
	case r >= 0x4e00 && r <= 0x9fff: // common kanji
		return 2
	case r >= 0x3000 && r <= 0x303f, r >= 0xff01 && r <= 0xff5e: // CJK and full-width punctuation
		return 1
	case r >= 0xff61 && r <= 0xff9f: // half-width katakana: rare today
		return 0
	}
	return -1
}

// isISO2022JP reports whether b, already valid UTF-8, switches into a JIS
// X 0208 set with an ISO-2022-JP escape and decodes cleanly as ISO-2022-JP.
func isISO2022JP(b []byte) bool {
	if !bytes.Contains(b, []byte("\x1b$B")) && !bytes.Contains(b, []byte("\x1b$@")) {
		return false
	}
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	out, err := japanese.ISO2022JP.NewDecoder().Bytes(b)
	return err == nil && !bytes.ContainsRune(out, utf8.RuneError)
}
