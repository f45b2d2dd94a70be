package textan_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/textan"
)

var tokenCases = []struct {
	name, in string
	want     []string
}{
	{"empty", "", nil},
	{"only separators", " \t\n-:;/()", nil},
	{"syslog", "Failed password for root from 203.0.113.5 port 22 ssh2",
		[]string{"failed", "password", "for", "root", "from", "203", "0", "113", "5", "port", "22", "ssh2"}},
	{"punctuation separates", "user@example.com:C:\\Windows\\cmd.exe",
		[]string{"user", "example", "com", "c", "windows", "cmd", "exe"}},
	{"underscore separates", "SQLITE_ERROR", []string{"sqlite", "error"}},
	{"japanese phrase", "ログイン失敗: ユーザー 田中",
		[]string{"ロ", "グ", "イ", "ン", "失", "敗", "ユ", "ー", "ザ", "ー", "田", "中"}},
	{"hiragana", "ひらがなです", []string{"ひ", "ら", "が", "な", "で", "す"}},
	{"half-width katakana becomes full width", "ｶﾅ-PC", []string{"カ", "ナ", "pc"}},
	{"half-width voiced mark composes", "ｶﾞｽ ﾊﾟｽﾜｰﾄﾞ", []string{"ガ", "ス", "パ", "ス", "ワ", "ー", "ド"}},
	{"full-width latin and digits", "ＡＢＣ１２３ ｘｙｚ", []string{"abc123", "xyz"}},
	{"ideographic space separates", "田中　太郎", []string{"田", "中", "太", "郎"}},
	{"mixed scripts", "abc日本語def 123円", []string{"abc", "日", "本", "語", "def", "123", "円"}},
	{"kanji numerals and iteration mark", "第1回 人々", []string{"第", "1", "回", "人", "々"}},
	{"emoji separate", "🚨alert👍🏽 ok 🇯🇵", []string{"alert", "ok"}},
	{"squared era name", "㍻", []string{"平", "成"}},
	{"circled digits", "①②", []string{"12"}},
	{"ligature", "ﬁle", []string{"file"}},
	{"combining accent composes", "e\u0301cole", []string{"école"}},
	{"accented upper case", "ÉCOLE Straße", []string{"école", "straße"}},
	{"dotted capital I", "İSTANBUL", []string{"istanbul"}},
	{"greek sigma", "ΣΟΦΟΣ", []string{"σοφοσ"}},
	{"hangul words stay whole", "안녕하세요 세계", []string{"안녕하세요", "세계"}},
	{"arabic-indic digits", "رقم ٣٤", []string{"رقم", "٣٤"}},
	{"devanagari marks separate", "नमस्ते", []string{"नमस", "त"}},
	{"letters newer than unicode 6.1 separate", "aᲀb 𫠠x", []string{"a", "b", "x"}},
	{"letters that were marks in unicode 6.1 separate", "aᦰb ᳲx", []string{"a", "b", "x"}},
	{"invalid utf-8 separates", "ab\xffcd", []string{"ab", "cd"}},
	{"cve id", "CVE-2026-1234", []string{"cve", "2026", "1234"}},
}

func TestTokens(t *testing.T) {
	for _, tc := range tokenCases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, textan.Tokens(tc.in))
		})
	}
}

func TestAppendTokensReusesDst(t *testing.T) {
	dst := make([]string, 0, 8)
	dst = textan.AppendTokens(dst, "Hello World")
	dst = textan.AppendTokens(dst, "田中")
	require.Equal(t, []string{"hello", "world", "田", "中"}, dst)
}

func TestScanner(t *testing.T) {
	sc := textan.NewScanner("Failed FAILURE fail")
	require.True(t, sc.Next())
	require.True(t, sc.Equal("failed"))
	require.True(t, sc.HasPrefix("fail"))
	require.False(t, sc.Equal("fail"))
	require.False(t, sc.HasPrefix("failedx"))

	saved := sc
	require.True(t, sc.Next())
	require.Equal(t, "failure", sc.Text())
	require.True(t, sc.Equal("failure"))
	require.False(t, sc.Equal("failed"))

	require.True(t, saved.Next(), "a copied scanner resumes where it was copied")
	require.Equal(t, "failure", saved.Text())

	require.True(t, sc.Next())
	require.True(t, sc.Equal("fail"))
	require.False(t, sc.Next())
	require.False(t, sc.Next(), "Next stays false at the end")
}

func TestContainsPhrase(t *testing.T) {
	const msg = "Failed password for invalid user admin from 203.0.113.5; ログイン失敗: ユーザー ｶﾅ"
	tests := []struct {
		query  string
		prefix bool
		want   bool
	}{
		{"failed password", false, true},
		{"FAILED PASSWORD", false, true},
		{"password failed", false, false},
		{"invalid user", false, true},
		{"invalid admin", false, false},
		{"fail", false, false},
		{"fail", true, true},
		{"failed pass", true, true},
		{"failed pas", false, false},
		{"for inv", true, true},
		{"admin from 203", true, true},
		{"203.0.113.5", false, true},
		{"113 5", false, true},
		{"ログイン", false, true},
		{"グイン失", false, true},
		{"失敗 ユーザー", false, true},
		{"ユーザー カナ", false, true},
		{"ユーザー ｶﾅ", false, true},
		{"失敗 ログイン", false, false},
		{"ナ", false, true},
		{"🚨", false, false}, // no tokens: matches nothing
	}
	for _, tc := range tests {
		got := textan.ContainsPhrase(msg, textan.Tokens(tc.query), tc.prefix)
		require.Equal(t, tc.want, got, "query %q prefix %v", tc.query, tc.prefix)
	}
	require.False(t, textan.ContainsPhrase("", []string{"a"}, false))
	require.False(t, textan.ContainsPhrase("a b", nil, false))
	require.True(t, textan.ContainsPhrase("Ａｂ ｃ", []string{"ab", "c"}, false))
}

func TestContainsPhraseDoesNotAllocate(t *testing.T) {
	msg := "Accepted publickey for Tanaka from 10.0.1.20 port 50122 ssh2: ED25519 SHA256:abc"
	phrase := textan.Tokens("tanaka from 10.0.1")
	allocs := testing.AllocsPerRun(100, func() {
		if !textan.ContainsPhrase(msg, phrase, true) {
			t.Fatal("no match")
		}
	})
	require.Zero(t, allocs)
}

func FuzzTokens(f *testing.F) {
	for _, tc := range tokenCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks := textan.Tokens(s)
		for _, tok := range toks {
			if tok == "" {
				t.Fatalf("empty token in %q", toks)
			}
			runes := []rune(tok)
			for _, r := range runes {
				if !unicode.IsLetter(r) && !unicode.IsNumber(r) {
					t.Fatalf("token %q has %U, neither letter nor number", tok, r)
				}
			}
			if len(runes) > 1 {
				for _, r := range runes {
					if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) {
						t.Fatalf("token %q joins a CJK character %U to others", tok, r)
					}
				}
			}
		}
		// Tokens are stable: analysing the joined tokens gives them back, so a
		// store may index the joined form.
		again := textan.Tokens(strings.Join(toks, " "))
		if len(toks) == 0 {
			require.Empty(t, again)
		} else {
			require.Equal(t, toks, again)
			// The text contains any run of its own tokens (a short one: the
			// search is quadratic in the worst case).
			mid := len(toks) / 2
			run := toks[mid:min(len(toks), mid+8)]
			require.True(t, textan.ContainsPhrase(s, run, false), "text must contain its tokens %q", run)
			last := toks[len(toks)-1]
			_, size := utf8.DecodeLastRuneInString(last)
			require.True(t, textan.ContainsPhrase(s, []string{last[:len(last)-size]}, true) || len(last) == size)
		}
	})
}

func BenchmarkTokens(b *testing.B) {
	msg := "Failed password for invalid user admin from 203.0.113.5 port 52122 ssh2 ログイン失敗: ユーザー 田中"
	var dst []string
	b.ReportAllocs()
	for b.Loop() {
		dst = textan.AppendTokens(dst[:0], msg)
	}
}

func BenchmarkContainsPhrase(b *testing.B) {
	msg := "Failed password for invalid user admin from 203.0.113.5 port 52122 ssh2"
	phrase := textan.Tokens("invalid user admin")
	b.ReportAllocs()
	for b.Loop() {
		textan.ContainsPhrase(msg, phrase, false)
	}
}
