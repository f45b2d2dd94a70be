package native_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/detections/native"
)

const newSource = `kind: new_terms
query: 'event.code:4624'
new_terms:
  group_by: [user.name]
  fields: [source.ip]
  history: 30d
  learning: 7d
`

func TestNewTerms(t *testing.T) {
	r := parse(t, newSource)
	day := func(d int) time.Time { return at(time.Duration(d) * 24 * time.Hour) }
	noIP := logon("n", "4624", "taro", "", day(8))
	noIP.Source = nil
	steps := []step{
		ev(logon("a", "4624", "taro", "10.0.0.1", day(0))),                  // learning
		ev(logon("b", "4624", "taro", "10.0.0.2", day(6))),                  // learning
		ev(logon("c", "4624", "taro", "10.0.0.1", day(8))),                  // seen
		ev(logon("d", "4624", "taro", "10.0.0.3", day(8))),                  // new
		ev(logon("e", "4624", "hanako", "10.0.0.1", day(8).Add(time.Hour))), // new for hanako
		ev(logon("f", "4624", "taro", "10.0.0.3", day(9))),                  // seen now
		ev(logon("g", "4625", "taro", "10.0.0.9", day(9))),                  // not selected
		ev(noIP), // no term: ignored
		advance(day(37)),
		ev(logon("h", "4624", "taro", "10.0.0.2", day(37))), // last seen day 6: 31 days ago
		ev(logon("i", "4624", "taro", "10.0.0.1", day(37))), // last seen day 8: 29 days ago
		ev(logon("j", "4624", "taro", "10.0.0.4", day(36))), // late, and new
	}
	want := []hitSummary{{Event: "d"}, {Event: "e"}, {Event: "h"}, {Event: "j"}}
	require.Equal(t, want, play(t, r, steps, -1))
	requireRestartable(t, r, steps)
}

func TestNewTermsSeveralFields(t *testing.T) {
	r := parse(t, "kind: new_terms\nquery: 'event.code:4624'\nnew_terms: {fields: [user.name, source.ip], history: 1d}\n")
	hits := play(t, r, []step{
		ev(logon("a", "4624", "taro", "10.0.0.1", t0)),
		ev(logon("b", "4624", "taro", "10.0.0.1", t0.Add(time.Minute))),
		ev(logon("c", "4624", "hanako", "10.0.0.1", t0.Add(2*time.Minute))),
		ev(logon("d", "4624", "taro", "10.0.0.2", t0.Add(3*time.Minute))),
	}, -1)
	require.Equal(t, []hitSummary{{Event: "a"}, {Event: "c"}, {Event: "d"}}, hits)
}

func TestNewTermsBounds(t *testing.T) {
	r := parseOpts(t, "kind: new_terms\nquery: 'event.code:4624'\nnew_terms: {group_by: [user.name], fields: [source.ip], history: 30d}\n", native.Options{MaxGroups: 100})
	run := newRunner(t, r)
	for i := range 1000 {
		run.event(logon(fmt.Sprint(i), "4624", "taro", fmt.Sprintf("10.0.%d.%d", i/256, i%256), at(time.Duration(i)*time.Minute)))
		require.LessOrEqual(t, run.state.Len(), 100)
	}
	require.GreaterOrEqual(t, run.state.Len(), 90)
	// The oldest terms were evicted: they count as new again.
	require.Len(t, run.event(logon("x", "4624", "taro", "10.0.0.0", at(1000*time.Minute))), 1)
	require.Empty(t, run.event(logon("y", "4624", "taro", "10.0.3.231", at(1000*time.Minute))))
	// Terms older than the history go.
	run.state.Advance(at(31 * 24 * time.Hour))
	require.Zero(t, run.state.Len())
}

func TestNewTermsErrors(t *testing.T) {
	for body, want := range map[string]string{
		"kind: new_terms\nquery: a\nnew_terms: {history: 1d}\n":                           "new_terms.fields: missing",
		"kind: new_terms\nquery: a\nnew_terms: {fields: [a]}\n":                           "new_terms.history: missing",
		"kind: new_terms\nnew_terms: {fields: [a], history: 1d}\n":                        "query: missing (kind new_terms needs a KQL query)",
		"kind: new_terms\nquery: a\nnew_terms: {fields: a, history: 1d}\n":                "new_terms.fields: line 8: want a list such as [a]",
		"kind: new_terms\nquery: a\nnew_terms: {fields: [a], history: 1d, learning: x}\n": "new_terms.learning: line 8: duration \"x\"",
	} {
		_, err := parseErr(body)
		require.ErrorContains(t, err, "test.yaml: test.rule: "+want, body)
	}
}
