// Package textan is Mamori's text analysis: it turns the value of a text field
// (message, and any field searched as free text) into the tokens that the
// query language, the embedded store and the in-memory matcher all compare, so
// that "message:ログイン" finds the same events everywhere.
//
// # Tokens
//
// The text is normalised to NFKC (so half-width katakana become full width,
// full-width Latin letters become ASCII, ligatures are split), then every
// character is lower-cased with its simple mapping (unicode.ToLower). A token
// is then a maximal run of letters and numbers (unicode.IsLetter,
// unicode.IsNumber), except that every Han, Hiragana and Katakana character
// (and the prolonged sound mark "ー") is a token of its own: Japanese has no
// spaces, so a Japanese word or phrase matches as consecutive one-character
// tokens, as with Elasticsearch's standard analyzer for Han and Hiragana.
// Every other character (spaces, punctuation, symbols, emoji, combining marks)
// only separates tokens.
//
// # Compatibility with SQLite FTS5
//
// The embedded store keeps the tokens of a document joined by spaces in an
// FTS5 table with the unicode61 tokenizer, which splits on every character
// that Unicode 6.1 does not class as a letter, number or private use
// character. Tokens therefore only contain characters that were already
// assigned in Unicode 6.1 and were already letters or numbers then: a letter
// added to Unicode later separates tokens here too, so unicode61 never splits
// or drops a token of ours. (unicode61
// folds case and, by default, removes diacritics; tokens are already lower
// case, and the store should use remove_diacritics 0 so that "café" and
// "cafe" stay different, as they are here.)
package textan

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/unicode/rangetable"
)

// unicode61 is the set of code points assigned in Unicode 6.1, the version of
// SQLite's unicode61 tokenizer tables. Read-only.
var unicode61 = rangetable.Assigned("6.1.0")

// marks61 are the characters that are letters now but were spacing marks (Mc)
// in Unicode 6.1, so unicode61 separates on them (New Tai Lue vowel and tone
// signs, Vedic ardhavisarga signs). The FTS5 test in this package finds them by
// running every letter and number through SQLite. Read-only.
var marks61 = &unicode.RangeTable{R16: []unicode.Range16{
	{Lo: 0x19B0, Hi: 0x19C0, Stride: 1},
	{Lo: 0x19C8, Hi: 0x19C9, Stride: 1},
	{Lo: 0x1CF2, Hi: 0x1CF3, Stride: 1},
}}

// Character classes.
const (
	sep    = iota // separates tokens
	word          // part of a run of letters and digits
	single        // a token on its own (Han, Hiragana, Katakana)
)

// asciiClass classes the (already lower-cased) ASCII characters.
var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = word
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = word
	}
	return t
}()

// class returns the class of a lower-cased character.
func class(r rune) uint8 {
	if r < utf8.RuneSelf {
		return asciiClass[r]
	}
	if !unicode.IsLetter(r) && !unicode.IsNumber(r) || !unicode.Is(unicode61, r) || unicode.Is(marks61, r) {
		return sep
	}
	if r == 'ー' || unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) {
		return single
	}
	return word
}

// lower is the per-character case mapping, with an ASCII fast path.
func lower(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(r)
}

// Normalize returns s in NFKC. It returns s itself, without allocating, when
// s is already normalised (always the case for ASCII).
func Normalize(s string) string { return norm.NFKC.String(s) }

// Tokens returns the tokens of s (see the package documentation).
func Tokens(s string) []string { return AppendTokens(nil, s) }

// AppendTokens appends the tokens of s to dst and returns the extended slice.
// A token that needs no case mapping shares memory with s (or with its NFKC
// form), so the only allocations are the growth of dst and the lower-casing of
// tokens that contain upper-case letters.
func AppendTokens(dst []string, s string) []string {
	sc := NewScanner(s)
	for sc.Next() {
		dst = append(dst, sc.Text())
	}
	return dst
}

// Scanner walks the tokens of a text without allocating (beyond the NFKC
// normalisation of text that is not already normalised). A Scanner is a small
// value: copying it saves its position, which lets a caller look ahead and
// come back.
//
//	sc := textan.NewScanner(text)
//	for sc.Next() {
//		if sc.Equal("failed") { ... }
//	}
type Scanner struct {
	s          string // NFKC text
	pos        int    // where scanning resumes
	start, end int    // current token
	upper      bool   // the current token has characters that lower-case differently
}

// NewScanner returns a Scanner positioned before the first token of text.
func NewScanner(text string) Scanner { return Scanner{s: Normalize(text)} }

// Next advances to the next token and reports whether there is one.
func (sc *Scanner) Next() bool {
	s := sc.s
	i := sc.pos
	// Skip separators.
	var c uint8
	var size int
	var upper bool
	for i < len(s) {
		r, n := decode(s, i)
		l := lower(r)
		c, size, upper = class(l), n, l != r
		if c != sep {
			break
		}
		i += n
	}
	if i >= len(s) {
		sc.pos, sc.start, sc.end = len(s), len(s), len(s)
		return false
	}
	sc.start, sc.upper = i, upper
	i += size
	if c == word {
		for i < len(s) {
			r, n := decode(s, i)
			l := lower(r)
			if class(l) != word {
				break
			}
			sc.upper = sc.upper || l != r
			i += n
		}
	}
	sc.end, sc.pos = i, i
	return true
}

// decode returns the character at s[i] with an ASCII fast path; an invalid
// byte decodes as utf8.RuneError (a separator).
func decode(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// Text returns the current token, lower-cased.
func (sc *Scanner) Text() string {
	t := sc.s[sc.start:sc.end]
	if !sc.upper {
		return t
	}
	return strings.Map(lower, t)
}

// Equal reports whether the current token is tok (a token as returned by
// Tokens: lower case, NFKC), without allocating.
func (sc *Scanner) Equal(tok string) bool {
	ok, whole := sc.compare(tok)
	return ok && whole
}

// HasPrefix reports whether the current token starts with prefix (a token as
// returned by Tokens), without allocating.
func (sc *Scanner) HasPrefix(prefix string) bool {
	ok, _ := sc.compare(prefix)
	return ok
}

// compare reports whether want is a prefix of the lower-cased current token,
// and whether it is the whole token.
func (sc *Scanner) compare(want string) (ok, whole bool) {
	t := sc.s[sc.start:sc.end]
	if !sc.upper { // the token is its own lower-case form
		if !strings.HasPrefix(t, want) {
			return false, false
		}
		return true, len(t) == len(want)
	}
	i := 0
	for j := 0; j < len(want); {
		if i >= len(t) {
			return false, false
		}
		r, n := decode(t, i)
		w, m := decode(want, j)
		if lower(r) != w {
			return false, false
		}
		i, j = i+n, j+m
	}
	return true, i == len(t)
}

// ContainsPhrase reports whether the tokens of text contain tokens
// consecutively (tokens as returned by Tokens). With prefix, the last of
// tokens only has to be a prefix of the text's token. An empty phrase is
// contained in no text.
func ContainsPhrase(text string, tokens []string, prefix bool) bool {
	if len(tokens) == 0 {
		return false
	}
	last := len(tokens) - 1
	match := func(sc *Scanner, i int) bool {
		if prefix && i == last {
			return sc.HasPrefix(tokens[i])
		}
		return sc.Equal(tokens[i])
	}
	sc := NewScanner(text)
	for sc.Next() {
		if !match(&sc, 0) {
			continue
		}
		ahead := sc
		i := 1
		for ; i <= last; i++ {
			if !ahead.Next() || !match(&ahead, i) {
				break
			}
		}
		if i > last {
			return true
		}
	}
	return false
}

// Class is how the tokenizer treats a character (after case mapping).
type Class uint8

// Character classes, for analyzers outside Go that must reproduce Tokens
// (the Elasticsearch store generates its analyzer from them).
const (
	Separator Class = sep    // separates tokens
	Word      Class = word   // part of a run of letters and numbers
	Single    Class = single // a token on its own
)

// ClassOf returns the class of r once lower-cased, as Tokens sees it in NFKC
// text.
func ClassOf(r rune) Class { return Class(class(lower(r))) }
