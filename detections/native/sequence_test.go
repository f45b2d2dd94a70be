package native_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/detections"
)

const failuresThenSuccess = `kind: sequence
sequence:
  group_by: [user.name]
  within: 10m
  steps:
    - query: 'event.code:4625'
      count: 5
    - query: 'event.code:4624'
`

func TestSequence(t *testing.T) {
	r := parse(t, failuresThenSuccess)
	m := func(d int) time.Time { return at(time.Duration(d) * time.Minute) }
	steps := []step{
		ev(logon("a", "4625", "taro", "10.0.0.1", m(0))),
		ev(logon("b", "4625", "taro", "10.0.0.1", m(1))),
		ev(logon("o", "4625", "hanako", "10.0.0.1", m(1))), // another group
		ev(logon("c", "4625", "taro", "10.0.0.1", m(2))),
		ev(logon("d", "4625", "taro", "10.0.0.1", m(3))),
		ev(logon("x", "4624", "taro", "10.0.0.1", m(4))), // only four failures so far
		ev(logon("e", "4625", "taro", "10.0.0.1", m(5))), // the fifth
		ev(logon("f", "4625", "taro", "10.0.0.1", m(6))), // more failures belong to the sequence
		ev(logon("q", "4634", "taro", "10.0.0.1", m(6))), // no step: ignored
		ev(logon("y", "4624", "taro", "10.0.0.1", m(7))), // completes
		ev(logon("z", "4624", "taro", "10.0.0.1", m(8))), // the sequence started again
		// Failures too long before the success.
		ev(logon("g", "4625", "jiro", "10.0.0.1", m(20))),
		ev(logon("h", "4625", "jiro", "10.0.0.1", m(21))),
		ev(logon("i", "4625", "jiro", "10.0.0.1", m(22))),
		ev(logon("j", "4625", "jiro", "10.0.0.1", m(23))),
		ev(logon("k", "4625", "jiro", "10.0.0.1", m(24))),
		ev(logon("l", "4624", "jiro", "10.0.0.1", m(34).Add(1))),
		advance(m(60)),
	}
	want := []hitSummary{{Event: "y", First: m(0), Last: m(7), Count: 7, IDs: []string{"a", "b", "c", "d", "e", "f", "y"}}}
	require.Equal(t, want, play(t, r, steps, -1))
	requireRestartable(t, r, steps)
}

func TestSequenceOrderMatters(t *testing.T) {
	r := parse(t, "kind: sequence\nsequence:\n  within: 10m\n  steps: [{query: 'event.code:1'}, {query: 'event.code:2'}, {query: 'event.code:3'}]\n")
	play1 := func(codes ...string) int {
		var steps []step
		for i, c := range codes {
			steps = append(steps, ev(logon(c+"-"+string(rune('a'+i)), c, "u", "10.0.0.1", at(time.Duration(i)*time.Second))))
		}
		return len(play(t, r, steps, -1))
	}
	require.Equal(t, 1, play1("1", "2", "3"))
	require.Equal(t, 0, play1("3", "2", "1"))
	require.Equal(t, 0, play1("1", "3", "2"))
	require.Equal(t, 1, play1("2", "1", "3", "2", "3"))
	require.Equal(t, 2, play1("1", "2", "3", "1", "2", "3"))
}

func TestSequenceTopLevelQuery(t *testing.T) {
	r := parse(t, "kind: sequence\nquery: 'host.name:ws01'\nsequence:\n  within: 10m\n  steps: [{query: 'event.code:4625'}, {query: 'event.code:4624'}]\n")
	e := logon("a", "4625", "u", "10.0.0.1", t0)
	require.True(t, r.Detector.Match(e))
	e.Host.Name = "ws02"
	require.False(t, r.Detector.Match(e))
	require.Equal(t, []detections.Prerequisite{
		{Field: "event.code", Values: []string{"4624", "4625"}},
		{Field: "host.name", Values: []string{"ws01"}},
	}, r.Prerequisites)

	// A step without the field: no prerequisite on it.
	r = parse(t, "kind: sequence\nsequence:\n  within: 10m\n  steps: [{query: 'event.code:4625'}, {query: 'user.name:admin'}]\n")
	require.Empty(t, r.Prerequisites)
}

func TestSequenceErrors(t *testing.T) {
	for body, want := range map[string]string{
		"kind: sequence\nsequence: {within: 5m}\n":                                  "sequence.steps: missing",
		"kind: sequence\nsequence: {steps: [{query: a}]}\n":                         "sequence.within: missing",
		"kind: sequence\nsequence: {within: 5m, steps: [{query: a}, {count: 2}]}\n": "sequence.steps[1].query: missing",
		"kind: sequence\nsequence: {within: 5m, steps: [{query: a, count: 0}]}\n":   "sequence.steps[0].count: 0: want an integer >= 1",
		"kind: sequence\nsequence: {within: 5m, steps: [{query: 'a:('}]}\n":         "sequence.steps[0].query: ",
		"kind: sequence\nsequence: {within: 5m, steps: [{query: a, when: b}]}\n":    "sequence.steps[0].when: line 7: unknown key",
	} {
		_, err := parseErr(body)
		require.ErrorContains(t, err, "test.yaml: test.rule: "+want, body)
	}
}
