package kql_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/kql/kqltest"
)

// Shorthands for expected trees; positions are checked separately.
func match(field, text string) *kql.Match {
	return &kql.Match{Field: field, Value: kql.Value{Text: text}}
}
func quoted(field, text string) *kql.Match {
	return &kql.Match{Field: field, Value: kql.Value{Text: text, Quoted: true}}
}
func wild(field string, parts ...string) *kql.Match {
	text := ""
	for i, p := range parts {
		if i > 0 {
			text += "*"
		}
		text += p
	}
	return &kql.Match{Field: field, Value: kql.Value{Text: text, Parts: parts}}
}
func and(ns ...kql.Node) *kql.And { return &kql.And{Nodes: ns} }
func or(ns ...kql.Node) *kql.Or   { return &kql.Or{Nodes: ns} }
func not(n kql.Node) *kql.Not     { return &kql.Not{Node: n} }

// stripPos returns a copy of n with every position zeroed.
func stripPos(n kql.Node) kql.Node {
	switch n := n.(type) {
	case *kql.And:
		out := &kql.And{}
		for _, c := range n.Nodes {
			out.Nodes = append(out.Nodes, stripPos(c))
		}
		return out
	case *kql.Or:
		out := &kql.Or{}
		for _, c := range n.Nodes {
			out.Nodes = append(out.Nodes, stripPos(c))
		}
		return out
	case *kql.Not:
		return &kql.Not{Node: stripPos(n.Node)}
	case *kql.Match:
		c := *n
		c.At = 0
		return &c
	case *kql.Range:
		c := *n
		c.At = 0
		return &c
	case *kql.Exists:
		c := *n
		c.At = 0
		return &c
	case *kql.MatchAll:
		return &kql.MatchAll{}
	}
	return n
}

func TestParse(t *testing.T) {
	tests := []struct {
		query string
		want  kql.Node
	}{
		{"", &kql.MatchAll{}},
		{" \t\n", &kql.MatchAll{}},
		{"*", &kql.MatchAll{}},
		{"*:*", &kql.MatchAll{}},
		{"tanaka", match("", "tanaka")},
		{"  foo  ", match("", "foo")},
		{"quick brown fox", match("", "quick brown fox")},
		{`"quick brown"`, quoted("", "quick brown")},
		{"user.name:tanaka", match("user.name", "tanaka")},
		{"user.name : tanaka ", match("user.name", "tanaka")},
		{`"user.name":tanaka`, match("user.name", "tanaka")},
		{"message:quick brown", match("message", "quick brown")},
		{"user name:x", match("user name", "x")},
		{`message:"failed \"root\" \\ login"`, quoted("message", `failed "root" \ login`)},
		{`f:"a\tb\nc\u0041\q"`, quoted("f", "a\tb\ncA\\q")},
		{`f:a\tb`, match("f", "a\tb")},
		{`f:\u0041\uD83D\uDE00\uD800`, match("f", "A😀\uFFFD")},
		{`f:\\\(\)\:\<\>\"\*\{\}`, match("f", `\():<>"*{}`)},
		{`f:\or \AND \not x`, match("f", "or AND not x")},
		{`f:\nothing`, match("f", "othing")}, // \n, then Kibana's trim
		{`f:x\nothing`, match("f", "x\nothing")},
		{"f:a*", wild("f", "a", "")},
		{"f:*a*b", wild("f", "", "a", "b")},
		{`f:a\*b*`, wild("f", "a*b", "")},
		{"f:*", &kql.Exists{Field: "f"}},
		{"f:(*)", &kql.Exists{Field: "f"}},
		{`f:"*"`, quoted("f", "*")},
		{"f:**", wild("f", "", "", "")},
		{"a and b", and(match("", "a"), match("", "b"))},
		{"a AND b and c", and(match("", "a"), match("", "b"), match("", "c"))},
		{"a or b or c", or(match("", "a"), match("", "b"), match("", "c"))},
		{"a or b and c or d", or(match("", "a"), and(match("", "b"), match("", "c")), match("", "d"))},
		{"not a and b", and(not(match("", "a")), match("", "b"))},
		{"not (a or b)", not(or(match("", "a"), match("", "b")))},
		{"(a or b) and c", and(or(match("", "a"), match("", "b")), match("", "c"))},
		{"(a and b) and c", and(and(match("", "a"), match("", "b")), match("", "c"))},
		{"((a))", match("", "a")},
		{"not (not a)", not(not(match("", "a")))},
		{"a and\u00a0b", and(match("", "a"), match("", "b"))},
		{"f:(a or b)", or(match("f", "a"), match("f", "b"))},
		{"f:(a or b and not c)", or(match("f", "a"), and(match("f", "b"), not(match("f", "c"))))},
		{"f:((a or b) and not (c or d))", and(or(match("f", "a"), match("f", "b")), not(or(match("f", "c"), match("f", "d"))))},
		{`f:(quick brown or "lazy dog")`, or(match("f", "quick brown"), quoted("f", "lazy dog"))},
		{"f:(a*)", wild("f", "a", "")},
		// Kibana's keyword rules: they need whitespace on both sides.
		{"f:a or", match("f", "a or")},
		{"f:x or or y", or(match("f", "x"), match("", "or y"))},
		{"f:orange and android", and(match("f", "orange"), match("", "android"))},
		{"not:x", match("not", "x")},
		{"not", match("", "not")},
		{"message:cannot connect", match("message", "cannot connect")},
		// Ranges.
		{"bytes > 10", &kql.Range{Field: "bytes", Op: kql.Gt, Value: "10"}},
		{"bytes>=10", &kql.Range{Field: "bytes", Op: kql.Gte, Value: "10"}},
		{"bytes < 10", &kql.Range{Field: "bytes", Op: kql.Lt, Value: "10"}},
		{"bytes <= 10", &kql.Range{Field: "bytes", Op: kql.Lte, Value: "10"}},
		{`@timestamp < "2026-01-02T03:04:05Z"`, &kql.Range{Field: "@timestamp", Op: kql.Lt, Value: "2026-01-02T03:04:05Z"}},
		{"@timestamp >= now-15m and x:y", and(&kql.Range{Field: "@timestamp", Op: kql.Gte, Value: "now-15m"}, match("x", "y"))},
		{`bytes > 1\*`, &kql.Range{Field: "bytes", Op: kql.Gt, Value: "1*"}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			n, err := kql.Parse(tc.query)
			require.NoError(t, err)
			require.Equal(t, tc.want, stripPos(n))
		})
	}
}

func TestParsePositions(t *testing.T) {
	n, err := kql.Parse(`not a:b and (c >= 5 or d:(e or *)) or "f"`)
	require.NoError(t, err)
	o := n.(*kql.Or)
	require.Equal(t, 0, o.Pos())
	a := o.Nodes[0].(*kql.And)
	require.Equal(t, 0, a.Nodes[0].Pos(), "not")
	require.Equal(t, 4, a.Nodes[0].(*kql.Not).Node.Pos(), "a:b")
	inner := a.Nodes[1].(*kql.Or)
	require.Equal(t, 13, inner.Nodes[0].Pos(), "c >= 5")
	list := inner.Nodes[1].(*kql.Or)
	require.Equal(t, 26, list.Nodes[0].Pos(), "e in the value list")
	require.Equal(t, 31, list.Nodes[1].Pos(), "* in the value list")
	require.Equal(t, 38, o.Nodes[1].Pos(), `"f"`)
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ query, want string }{
		{`user.name:`, `kql: expected a value after "user.name:" but found the end of the query at position 11`},
		{`a:b c:d`, `kql: expected "and", "or" or the end of the query but found ":" at position 6 (to search for ":", quote the value or escape it as "\:")`},
		{`(a) b`, `kql: expected "and", "or" or the end of the query but found "b" at position 5 (join conditions with "and" or "or")`},
		{`a and`, ``}, // valid: the value is "a and"
		{`a and `, `kql: expected a query after "and" but found the end of the query at position 7`},
		{`a or `, `kql: expected a query after "or" but found the end of the query at position 6`},
		{`not `, `kql: expected a query after "not" but found the end of the query at position 5`},
		{`not not a`, `kql: expected a query after "not" but found "not" at position 5 (write "not (not ...)" to negate a negation, or quote the word)`},
		{`not(a)`, `kql: expected "and", "or" or the end of the query but found "(" at position 4 (to search for "(", quote the value or escape it as "\(")`},
		{`(a`, `kql: expected "and", "or" or ")" to close the "(" at position 1 but found the end of the query at position 3`},
		{`f:(a`, `kql: expected "and", "or" or ")" to close the "(" at position 3 but found the end of the query at position 5`},
		{`()`, `kql: expected a query after "(" but found ")" at position 2`},
		{`f:()`, `kql: expected a value after "(" but found ")" at position 4`},
		{`f:(a or )`, `kql: expected a value after "or" but found ")" at position 9`},
		{`f:(not )`, `kql: expected a value after "not" but found ")" at position 8`},
		{`:x`, `kql: expected a query but found ":" at position 1`},
		{`a:b)`, `kql: expected "and", "or" or the end of the query but found ")" at position 4`},
		{`f:"abc`, `kql: expected a closing " for the quoted string but found the end of the query at position 3`},
		{`f:"abc\"`, `kql: expected a closing " for the quoted string but found the end of the query at position 3`},
		{`f:a\`, `kql: expected an escaped character after "\" but found the end of the query at position 4 (write "\\" for a backslash)`},
		{`f:C:\x`, `kql: expected "and", "or" or the end of the query but found ":" at position 4 (to search for ":", quote the value or escape it as "\:")`},
		{`f:\x`, `kql: unknown escape "\\x" at position 3 (a backslash escapes \ ( ) : < > " * { } and the words and, or, not, or writes \t \r \n \uXXXX; write "\\" for a backslash, or quote the value)`},
		{`f:\u12`, `kql: unknown escape "\\u" at position 3 (a backslash escapes \ ( ) : < > " * { } and the words and, or, not, or writes \t \r \n \uXXXX; write "\\" for a backslash, or quote the value)`},
		{`f:{ g:x }`, `kql: nested field queries (f:{ ... }) are not supported at position 3`},
		{`{`, `kql: expected a query but found "{" at position 1`},
		{`f.*:x`, `kql: wildcards in field names are not supported, but "f.*" has one at position 1 (name the field)`},
		{`f.* > 1`, `kql: wildcards in field names are not supported, but "f.*" has one at position 1 (name the field)`},
		{`*:x`, `kql: searching every field (*:value) is not supported at position 1 (name the field)`},
		{`"":x`, `kql: expected a field name but found an empty one at position 1`},
		{`f:not x`, `kql: expected a value after "f:" but found "not" at position 3 (write "not f:..." to negate, or quote the word)`},
		{`f >`, `kql: expected a value after "f >" but found the end of the query at position 4`},
		{`f > (1)`, `kql: expected a value after "f >" but found "(" at position 5`},
		{`f > 1*`, `kql: a range value cannot contain a wildcard, but "1*" does at position 5 (escape "*" as "\*")`},
		{`f:\t`, `kql: expected a value but found only whitespace at position 3`},
		{`f:x < 1`, `kql: expected "and", "or" or the end of the query but found "<" at position 5 (to search for "<", quote the value or escape it as "\<")`},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			_, err := kql.Parse(tc.query)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var kerr *kql.Error
			require.True(t, errors.As(err, &kerr))
			require.Equal(t, tc.want, err.Error())
		})
	}
}

// roundTrip checks that String prints a query Parse reads back as the same
// tree.
func roundTrip(t testing.TB, n kql.Node) {
	t.Helper()
	s := kql.String(n)
	back, err := kql.Parse(s)
	if err != nil {
		t.Fatalf("String printed %q, which does not parse: %v", s, err)
	}
	require.Equal(t, stripPos(n), stripPos(back), "String printed %q", s)
}

func TestStringRoundTrip(t *testing.T) {
	queries := []string{
		`user.name:tanaka and not (source.ip:10.0.0.0/8 or event.severity >= 5)`,
		`f:(a or b and not (c or d))`,
		`not (not a)`, `(a or b) or c`, `(a and b) and c`, `a or b and c`,
		`f:\or`, `f:x \and y`, `f:\NOT x`, `f:not\:x`, `f:x or`, `f:a\nother`, `f:a\not\u0041`,
		`f:"quote \" and backslash \\ and\ttab"`, `f:\u0001\u007f`,
		`f:a\*b*c\\`, `f:\(x\)`, `f:*`, `*`, `""`, `f:""`, `"or"`,
		`bytes > "a b"`, `t < "2026-01-02T03:04:05"`, `t >= now-1d/d`, `x <= "not"`, `x > \*`,
		"f:ｶﾅ\u3000ログイン", "f:a\u00a0b", "\"f g\":x", `f\:g:x`, `f\*:x`,
	}
	for _, c := range kqltest.Cases() {
		queries = append(queries, c.Query)
	}
	for _, q := range queries {
		n, err := kql.Parse(q)
		if err != nil {
			continue // error cases of the table
		}
		roundTrip(t, n)
	}
	require.Equal(t, `f:"a\"b"`, kql.String(quoted("f", `a"b`)))
	require.Equal(t, `user.name:a or user.name:b`, kql.String(or(match("user.name", "a"), match("user.name", "b"))))
	require.Equal(t, `not (a and b)`, kql.String(not(and(match("", "a"), match("", "b")))))
	require.Equal(t, `t < "2026-01-02T03:04:05"`, kql.String(&kql.Range{Field: "t", Op: kql.Lt, Value: "2026-01-02T03:04:05"}))
	require.Equal(t, `event.severity >= 5`, (&kql.Range{Field: "event.severity", Op: kql.Gte, Value: "5"}).String())
	require.Equal(t, `x:\not y`, kql.String(match("x", "not y")))
}
