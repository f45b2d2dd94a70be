// Package kqltest holds the one table of query cases that every compiler of
// the query language must pass: the in-memory matcher (package kql), the SQL
// of the embedded store and the Elasticsearch query DSL. Each case is a KQL
// query over the fixture documents of Docs with the ids it must match, or the
// error Parse or Plan must give; Run drives a compiler through the table.
//
// A store's conformance test indexes Docs, then calls Run with a function
// that searches for the planned condition and returns the matching ids:
//
//	func TestKQL(t *testing.T) {
//		s := newStoreWith(t, kqltest.Docs())
//		kqltest.Run(t, func(t *testing.T, c kql.Cond) []string {
//			return s.searchIDs(t, c)
//		})
//	}
package kqltest

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/kql"
)

// Doc is one fixture document: its id and its ECS JSON.
type Doc struct{ ID, JSON string }

// Case is one query of the table. Want lists the ids of the documents it
// matches, in any order (empty: none). Err, when set, is a substring of the
// error that Parse or Plan must return instead.
type Case struct {
	Name, Query string
	Want        []string
	Err         string
}

// Options returns the planning options of the table: Now is
// 2026-03-10T12:00:00 in Asia/Tokyo, dates without a zone are in Tokyo, and
// free text searches message.
func Options() kql.Options {
	tokyo := time.FixedZone("Asia/Tokyo", 9*60*60) // no daylight saving time
	return kql.Options{
		Location:   tokyo,
		Now:        time.Date(2026, 3, 10, 12, 0, 0, 0, tokyo),
		TextFields: []string{"message"},
	}
}

// Run parses and plans every case with Options. An error case must fail with
// a *kql.Error that contains Err; any other case must plan, and eval, given
// the planned condition, must return the ids of exactly the documents in
// Want.
func Run(t *testing.T, eval func(t *testing.T, c kql.Cond) []string) {
	t.Helper()
	opts := Options()
	for _, tc := range Cases() {
		t.Run(tc.Name, func(t *testing.T) {
			n, err := kql.Parse(tc.Query)
			var cond kql.Cond
			if err == nil {
				cond, err = kql.Plan(n, opts)
			}
			if tc.Err != "" {
				require.Error(t, err, "query %q must fail", tc.Query)
				var kerr *kql.Error
				require.ErrorAs(t, err, &kerr, "query %q", tc.Query)
				require.Contains(t, err.Error(), tc.Err, "query %q", tc.Query)
				return
			}
			require.NoError(t, err, "query %q", tc.Query)
			got := eval(t, cond)
			if !sameIDs(tc.Want, got) {
				t.Fatalf("query %q (parsed as %s)\n want %v\n  got %v", tc.Query, kql.String(n), sorted(tc.Want), sorted(got))
			}
		})
	}
}

func sameIDs(want, got []string) bool {
	return strings.Join(sorted(want), "\x00") == strings.Join(sorted(got), "\x00")
}

func sorted(ids []string) []string {
	out := append([]string{}, ids...)
	sort.Strings(out)
	return out
}

// allBut returns the ids of every document except the given ones, to keep
// the table short where a case matches most documents.
func allBut(except ...string) []string {
	skip := map[string]bool{}
	for _, id := range except {
		skip[id] = true
	}
	var out []string
	for _, d := range Docs() {
		if !skip[d.ID] {
			out = append(out, d.ID)
		}
	}
	if len(out) != len(Docs())-len(except) {
		panic(fmt.Sprintf("kqltest: allBut(%q) names an unknown document", except))
	}
	return out
}
