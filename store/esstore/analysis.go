package esstore

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/mamori-soc/mamori/textan"
)

// The text analyzer of the message field reproduces package textan inside
// Elasticsearch, so that Kibana's queries and Mamori's find the same tokens:
//
//   - a mapping character filter applies NFKC to the characters where it
//     changes a token (full- and half-width forms, enclosed and squared
//     characters, ligatures, composed letters and kana written with combining
//     marks or half-width voiced marks);
//   - a pattern tokenizer emits every Han, Hiragana and Katakana character as
//     a token and every other run of letters and numbers as one token (see
//     tokenPattern for the one difference);
//   - the lowercase filter folds case, and a truncate filter keeps every term
//     within Lucene's 32 KiB limit (Mamori truncates query tokens the same
//     way).
//
// Mamori's own queries never rely on Elasticsearch's query-time analysis:
// they send textan's tokens as term and span queries. What the mapping filter
// leaves out (mathematical alphanumerics, CJK compatibility ideographs, Arabic
// presentation forms, Kangxi radicals, and NFKC compositions beyond one base
// and one mark) tokenizes differently here than in textan; such characters
// are rare in logs and the analyzer stays small, since every backing index
// carries it in its settings.
const (
	analyzerName = "mamori_text"
	maxTokenLen  = 8191 // characters; at most 32,764 bytes of UTF-8
)

// analysis returns the index.analysis settings.
var analysis = sync.OnceValue(func() map[string]any {
	return map[string]any{
		"char_filter": map[string]any{
			"mamori_nfkc": map[string]any{"type": "mapping", "mappings": nfkcRules()},
		},
		"tokenizer": map[string]any{
			"mamori_tokens": map[string]any{"type": "pattern", "pattern": tokenPattern(), "group": 0},
		},
		"filter": map[string]any{
			"mamori_truncate": map[string]any{"type": "truncate", "length": maxTokenLen},
		},
		"analyzer": map[string]any{
			analyzerName: map[string]any{
				"type":        "custom",
				"char_filter": []string{"mamori_nfkc"},
				"tokenizer":   "mamori_tokens",
				"filter":      []string{"lowercase", "mamori_truncate"},
			},
		},
	}
})

// tokenPattern is a Java regular expression matching one token: a single
// Han, Hiragana or Katakana letter (or "ー"), or a run of other letters and
// numbers. It uses Java's own Unicode classes: an explicit class of the
// ~550 ranges textan.ClassOf allows made the node spend about half a
// millisecond per event in the regular expression (Java tests a character
// against a union of ranges one range at a time). The cost of the short
// form: letters assigned after Unicode 6.1, which textan treats as
// separators (for SQLite's unicode61 tokenizer), are letters here.
func tokenPattern() string {
	const single = `\p{IsHan}\p{IsHiragana}\p{IsKatakana}\x{30FC}`
	return `[\p{L}\p{N}&&[` + single + `]]|[\p{L}\p{N}&&[^` + single + `]]+`
}

// skipNFKC are blocks whose NFKC forms the analyzer leaves out (see above).
var skipNFKC = []struct{ lo, hi rune }{
	{0x2F00, 0x2FDF},   // Kangxi radicals
	{0xF900, 0xFAFF},   // CJK compatibility ideographs
	{0xFB50, 0xFDFF},   // Arabic presentation forms A
	{0xFE70, 0xFEFF},   // Arabic presentation forms B
	{0x1D400, 0x1D7FF}, // mathematical alphanumeric symbols
	{0x1EE00, 0x1EEFF}, // Arabic mathematical alphabetic symbols
	{0x2F800, 0x2FA1F}, // CJK compatibility ideographs supplement
}

// composed are the blocks whose letters are also mapped from their
// decomposed form (base character and one combining mark).
var composed = []struct{ lo, hi rune }{
	{0x00C0, 0x024F}, // Latin-1 supplement, Latin extended A and B
	{0x0370, 0x04FF}, // Greek, Cyrillic
	{0x1E00, 0x1EFF}, // Latin extended additional
	{0x3040, 0x30FF}, // Hiragana, Katakana
}

func in(r rune, blocks []struct{ lo, hi rune }) bool {
	for _, b := range blocks {
		if b.lo <= r && r <= b.hi {
			return true
		}
	}
	return false
}

// tokenChars reports whether s holds a character that is part of a token.
func tokenChars(s string) bool {
	for _, r := range s {
		if textan.ClassOf(r) != textan.Separator {
			return true
		}
	}
	return false
}

// nfkcRules returns the mapping filter's rules, "from => to", with ASCII
// punctuation and every space escaped as \uXXXX so that no rule depends on the
// rule syntax's own characters or on whitespace trimming.
func nfkcRules() []string {
	var rules []string
	add := func(from, to string) { rules = append(rules, escape(from)+" => "+escape(to)) }
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) || in(r, skipNFKC) {
			continue
		}
		s := string(r)
		k := norm.NFKC.String(s)
		if k != s && (tokenChars(s) || tokenChars(k)) {
			add(s, k)
		}
		if in(r, composed) && unicode.IsLetter(r) {
			if d := norm.NFD.String(s); utf8.RuneCountInString(d) == 2 {
				add(d, norm.NFKC.String(s))
			}
		}
	}
	// Half-width katakana with a half-width voiced or semi-voiced mark.
	for h := rune(0xFF66); h <= 0xFF9D; h++ {
		for _, m := range []rune{0xFF9E, 0xFF9F} {
			s := string([]rune{h, m})
			if k := norm.NFKC.String(s); utf8.RuneCountInString(k) == 1 {
				add(s, k)
			}
		}
	}
	return rules
}

func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= utf8.RuneSelf && !unicode.IsSpace(r) || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, `\u%04X`, r)
		}
	}
	return b.String()
}
