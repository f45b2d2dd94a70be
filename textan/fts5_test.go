package textan_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/mamori-soc/mamori/textan"
)

// TestFTS5Unicode61KeepsTokens checks the promise the embedded store relies
// on: SQLite's unicode61 tokenizer, given our tokens joined by spaces, finds
// exactly the same tokens (it never splits or drops one of ours).
func TestFTS5Unicode61KeepsTokens(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`CREATE VIRTUAL TABLE doc USING fts5(body, tokenize = 'unicode61 remove_diacritics 0');
		CREATE VIRTUAL TABLE vocab USING fts5vocab(doc, instance);`)
	require.NoError(t, err)

	texts := []string{
		// Samples from every Unicode block that has letters or numbers.
		allLettersAndNumbers(),
	}
	for _, tc := range tokenCases {
		texts = append(texts, tc.in)
	}
	// terms returns the terms unicode61 finds in text.
	terms := func(text string) []string {
		t.Helper()
		_, err := db.Exec(`INSERT INTO doc(rowid, body) VALUES (1, ?)`, text)
		require.NoError(t, err)
		rows, err := db.Query(`SELECT term FROM vocab ORDER BY offset`)
		require.NoError(t, err)
		defer rows.Close()
		var out []string
		for rows.Next() {
			var term string
			require.NoError(t, rows.Scan(&term))
			out = append(out, term)
		}
		require.NoError(t, rows.Err())
		_, err = db.Exec(`DELETE FROM doc`)
		require.NoError(t, err)
		return out
	}
	// bad returns the tokens unicode61 splits or drops, by bisection.
	var bad func(toks []string) []string
	bad = func(toks []string) []string {
		if same(toks, terms(strings.Join(toks, " "))) {
			return nil
		}
		if len(toks) == 1 {
			return []string{fmt.Sprintf("%q %U", toks[0], []rune(toks[0]))}
		}
		return append(bad(toks[:len(toks)/2]), bad(toks[len(toks)/2:])...)
	}
	for _, text := range texts {
		toks := textan.Tokens(text)
		got := terms(strings.Join(toks, " "))
		if !same(toks, got) {
			t.Errorf("unicode61 does not keep our tokens of %.40q...: %s", text, strings.Join(bad(toks), "; "))
			continue
		}
		for i, tok := range toks {
			// unicode61 folds case its own way (σ for ς, ...), but an ASCII
			// or CJK token must come back unchanged.
			if isASCIIOrCJK(tok) {
				require.Equal(t, tok, got[i])
			}
		}
	}
}

// allLettersAndNumbers returns every letter and number of Unicode, one
// character at a time with separators between runs of scripts, so that each
// character becomes part of some token.
func allLettersAndNumbers() string {
	var b strings.Builder
	for r := rune(0); r <= 0x10FFFF; r++ {
		if r%64 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// same reports whether unicode61 found our tokens: as many, each with as many
// characters (unicode61 folds case one character to one character).
func same(toks, terms []string) bool {
	if len(toks) != len(terms) {
		return false
	}
	for i := range toks {
		if utf8.RuneCountInString(toks[i]) != utf8.RuneCountInString(terms[i]) {
			return false
		}
	}
	return true
}

func isASCIIOrCJK(tok string) bool {
	for _, r := range tok {
		if r >= 0x80 && (r < 0x3040 || r > 0x9FFF) {
			return false
		}
	}
	return true
}
