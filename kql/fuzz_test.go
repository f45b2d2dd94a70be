package kql_test

import (
	"errors"
	"testing"

	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/kql/kqltest"
)

// FuzzParse: Parse never panics and fails only with a positioned *Error; a
// tree it returns prints (String) as a query that parses back to the same
// tree, and plans and compiles without panicking.
func FuzzParse(f *testing.F) {
	for _, c := range kqltest.Cases() {
		f.Add(c.Query)
	}
	for _, q := range []string{`f:\u0000\uD83D`, "f:\"\\u", "a\u00a0or\u00a0b", `f:(a or (b and not (c)))`, "f:x\xff", `\not \and \or`} {
		f.Add(q)
	}
	_, events := decodeDocs(f)
	f.Fuzz(func(t *testing.T, q string) {
		n, err := kql.Parse(q)
		if err != nil {
			checkError(t, q, err)
			return
		}
		roundTrip(t, n)
		c, err := kql.Plan(n, kqltest.Options())
		if err != nil {
			checkError(t, q, err)
			return
		}
		m := kql.Compile(c)
		for _, e := range events {
			m.Match(e)
		}
	})
}

func checkError(t *testing.T, q string, err error) {
	t.Helper()
	var kerr *kql.Error
	if !errors.As(err, &kerr) {
		t.Fatalf("query %q: error %v is not a *kql.Error", q, err)
	}
	if kerr.Pos < 0 || kerr.Pos > len(q) {
		t.Fatalf("query %q: error position %d outside the query: %v", q, kerr.Pos, err)
	}
}
