package ruletest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDecodeEvents(t *testing.T) {
	tf, err := decodeFile([]byte(`
rule: r
defaults:
  event.code: 4625
  winlog.event_data.SubStatus: 0xC0000072
  host.name: FS01
cases:
  - name: c
    defaults: {host.name: FS02, source.port: 445}
    events:
      - {"@timestamp": "2026-09-24T10:00:00+09:00", host.name: null, event.category: authentication,
         related.user: [a, b], winlog.event_data.LogonType: 3}
      - repeat: {count: 3, every: 90s}
        event: {"@timestamp": "2026-09-24T10:00:00+09:00", user.name: "u{{n}}-{{ n % 2 }}", event.id: "id{{n}}"}
    until: "+1d2h"
    expect: []
`))
	require.NoError(t, err)
	c := tf.cases[0]
	require.Len(t, c.events, 4)
	require.Equal(t, time.FixedZone("", 9*3600).String(), c.zone.String())
	require.Equal(t, untilSpec{after: 26 * time.Hour}, c.until)

	e, err := c.events[0].build("x")
	require.NoError(t, err)
	require.Equal(t, "4625", e.Event.Code)
	require.Equal(t, "x", e.Event.ID)
	require.Equal(t, "event", e.Event.Kind)
	require.Nil(t, e.Host, "null removes a default")
	require.Equal(t, int64(445), e.Source.Port)
	require.Equal(t, []string{"authentication"}, e.Event.Category)
	require.Equal(t, []string{"a", "b"}, e.Related.User)
	require.Equal(t, "0xC0000072", e.Fields["winlog.event_data.SubStatus"], "kept as written")
	require.Equal(t, "3", e.Fields["winlog.event_data.LogonType"])

	for k, want := range []struct{ user, id, at string }{
		{"u1-1", "id1", "2026-09-24T01:00:00Z"},
		{"u2-0", "id2", "2026-09-24T01:01:30Z"},
		{"u3-1", "id3", "2026-09-24T01:03:00Z"},
	} {
		e, err := c.events[k+1].build("ignored")
		require.NoError(t, err)
		require.Equal(t, want.user, e.User.Name)
		require.Equal(t, want.id, e.Event.ID)
		require.Equal(t, want.at, e.Timestamp.UTC().Format(time.RFC3339))
		require.Equal(t, "FS02", e.Host.Name)
	}
}

func TestDecodeErrors(t *testing.T) {
	const head = "rule: r\ncases:\n  - name: c\n    expect: []\n    events:\n"
	for name, tc := range map[string]struct{ doc, want string }{
		"no rule":          {"cases: []\n", "rule: missing"},
		"no cases":         {"rule: r\n", "cases: missing"},
		"unknown key":      {"rule: r\nrules: [x]\ncases: []\n", "field rules not found"},
		"unknown case key": {"rule: r\ncases: [{name: c, expect: [], expected: []}]\n", "field expected not found"},
		"no expect":        {"rule: r\ncases: [{name: c, events: []}]\n", "cases[0].expect: missing (write [] to expect no alert)"},
		"duplicate case":   {"rule: r\ncases: [{name: c, expect: []}, {name: c, expect: []}]\n", `cases[1].name: "c" is used by another case`},
		"no name":          {"rule: r\ncases: [{expect: []}]\n", "cases[0].name: missing"},
		"unknown expect":   {"rule: r\ncases: [{name: c, expect: [{users: x}]}]\n", "field users not found"},
		"bad first":        {"rule: r\ncases: [{name: c, expect: [{first: yesterday}]}]\n", `cases[0].expect[0].first: "yesterday": want an RFC 3339 time`},
		"zero count":       {"rule: r\ncases: [{name: c, expect: [{count: 0}]}]\n", "count: 0: want at least 1"},
		"bad until":        {"rule: r\ncases: [{name: c, until: soon, expect: []}]\n", `cases[0].until: "soon"`},
		"no timestamp":     {head + "      - {user.name: x}\n", "cases[0].events[0]: @timestamp: missing"},
		"no zone":          {head + "      - {\"@timestamp\": \"2026-09-24T10:00:00\"}\n", "want an RFC 3339 time with a zone"},
		"placeholder":      {head + "      - {\"@timestamp\": \"2026-09-24T10:00:00Z\", user.name: \"u{{n}}\"}\n", "{{n}} is only allowed in a repeated event"},
		"list for single":  {head + "      - {\"@timestamp\": \"2026-09-24T10:00:00Z\", user.name: [a, b]}\n", "user.name is a single keyword, not a list"},
		"bad long":         {head + "      - {\"@timestamp\": \"2026-09-24T10:00:00Z\", source.port: http}\n", `source.port: line 6: "http": want a whole number`},
		"nested list":      {head + "      - {\"@timestamp\": \"2026-09-24T10:00:00Z\", tags: [[a]]}\n", "a list holds scalar values only"},
		"twice":            {head + "      - {\"@timestamp\": \"2026-09-24T10:00:00Z\", user: {name: a}, user.name: b}\n", "user.name: line 6: field given twice"},
		"scalar event":     {head + "      - 42\n", "want a mapping of fields, or repeat and event"},
		"repeat extra key": {head + "      - {repeat: {count: 2, every: 1s}, event: {}, user.name: x}\n", "a repeat has exactly two keys"},
		"repeat no every":  {head + "      - {repeat: {count: 2}, event: {\"@timestamp\": \"2026-09-24T10:00:00Z\"}}\n", "repeat.every: missing"},
		"repeat bad every": {head + "      - {repeat: {count: 2, every: often}, event: {}}\n", `repeat.every: "often"`},
		"repeat zero":      {head + "      - {repeat: {count: 0, every: 1s}, event: {}}\n", "repeat.count: want at least 1"},
		"repeat key":       {head + "      - {repeat: {count: 2, every: 1s, jitter: 1s}, event: {}}\n", "field jitter not found"},
		"two documents":    {"rule: r\ncases: [{name: c, expect: []}]\n---\nrule: s\n", "more than one YAML document"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decodeFile([]byte(tc.doc))
			require.ErrorIs(t, err, ErrTestFile)
			require.True(t, strings.Contains(err.Error(), tc.want), "got %v", err)
		})
	}
}

func TestParseUntil(t *testing.T) {
	u, err := parseUntil("2026-09-24T10:45:00+09:00")
	require.NoError(t, err)
	require.True(t, u.at.Equal(time.Date(2026, 9, 24, 1, 45, 0, 0, time.UTC)))
	u, err = parseUntil("+45m")
	require.NoError(t, err)
	require.Equal(t, 45*time.Minute, u.after)
	u, err = parseUntil("+2d")
	require.NoError(t, err)
	require.Equal(t, 48*time.Hour, u.after)
	_, err = parseUntil("+-5m")
	require.Error(t, err)
}
