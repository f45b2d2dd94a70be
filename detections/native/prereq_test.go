package native_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/detections"
)

func TestPrerequisites(t *testing.T) {
	type pre = detections.Prerequisite
	p := func(field string, values ...string) pre { return pre{Field: field, Values: values} }
	tests := []struct {
		query string
		want  []pre
	}{
		{`event.code:4625`, []pre{p("event.code", "4625")}},
		{`event.code:(4624 or 4625)`, []pre{p("event.code", "4624", "4625")}},
		{`event.code:4624 or event.code:4625`, []pre{p("event.code", "4624", "4625")}},
		{`event.code:4625 and user.name:taro`, []pre{p("event.code", "4625"), p("user.name", "taro")}},
		{`event.code:4625 and (user.name:taro or user.name:hanako)`, []pre{p("event.code", "4625"), p("user.name", "hanako", "taro")}},
		// A branch of an OR that does not name the field: nothing implied.
		{`event.code:4625 or user.name:taro`, nil},
		{`(event.code:4625 and user.name:taro) or event.code:4624`, []pre{p("event.code", "4624", "4625")}},
		// Negations, wildcards, ranges, existence, phrases, addresses: none.
		{`not event.code:4625`, nil},
		{`event.code:4625 and not user.name:taro`, []pre{p("event.code", "4625")}},
		{`event.code:46*`, nil},
		{`user.name:*`, nil},
		{`event.code >= 4624`, nil},
		{`message:"failed logon"`, nil},
		{`message:failed`, nil},
		{`failed`, nil},
		{`source.ip:10.0.0.1`, nil},
		{`source.ip:10.0.0.0/8 and event.code:4625`, []pre{p("event.code", "4625")}},
		{`@timestamp:2026-01-01`, nil},
		{`*`, nil},
		// Typed long and boolean fields; a number in a keyword field.
		{`event.severity:3`, []pre{p("event.severity", "3")}},
		{`winlog.event_id:4625`, []pre{p("winlog.event_id", "4625")}},
		{`labels.flag:true`, []pre{p("labels.flag", "true")}},
		// A keyword value that is a float in 'g' form also matches the float,
		// which the engine writes in 'f' form.
		{`labels.v:1e+21`, []pre{p("labels.v", "1000000000000000000000", "1e+21")}},
		// A keyword value that is a time also matches a time value, which has
		// no canonical text for the engine.
		{`labels.at:"2026-01-01T00:00:00Z"`, nil},
		// The same field twice in an AND: the narrower set.
		{`event.code:(4624 or 4625) and event.code:4625`, []pre{p("event.code", "4625")}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := parse(t, "query: '"+tt.query+"'\n")
			require.Equal(t, tt.want, r.Prerequisites)
		})
	}
}

// TestPrerequisitesAreImplied runs rules through the engine, which checks
// prerequisites before Match, and directly: the results must agree on every
// event, so no prerequisite narrows a rule.
func TestPrerequisitesAreImplied(t *testing.T) {
	queries := []string{
		`event.code:4625`,
		`event.code:(4624 or 4625) and user.name:taro`,
		`(event.code:4625 and user.name:taro) or event.code:4624`,
		`winlog.event_id:4625`,
		`labels.v:1e+21`,
		`labels.v:4625`,
		`event.severity:3`,
		`labels.flag:true`,
		`labels.d:2.5`,
	}
	values := []any{"4625", int64(4625), float64(4625), "4624", "taro", int64(3), float64(3), true, "true", 1e21, "1e+21",
		[]any{"x", int64(4625)}, []string{"a", "4625"}, 2.5, "2.5"}
	var rules []*detections.Rule
	for i, q := range queries {
		r := parse(t, "query: '"+q+"'\n")
		r.ID = r.ID + string(rune('a'+i))
		rules = append(rules, r)
	}
	en, err := detections.New(rules, detections.Config{})
	require.NoError(t, err)
	fields := []string{"winlog.event_id", "labels.v", "labels.flag", "labels.d"}
	n := 0
	for _, v := range values {
		for _, f := range fields {
			for _, code := range []string{"4624", "4625"} {
				e := logon("e", code, "taro", "10.0.0.1", fixedNow)
				sev := int64(3)
				e.Event.Severity = &sev
				e.Fields[f] = v
				got := map[string]bool{}
				en.Evaluate(e, func(r *detections.Rule, _ detections.Hit) { got[r.ID] = true })
				for _, r := range en.Rules() {
					want := r.Detector.Match(e)
					require.Equal(t, want, got[r.ID], "rule %s event %s=%#v code %s", r.ID, f, v, code)
					if want {
						n++
					}
				}
			}
		}
	}
	require.Greater(t, n, 20) // the events do exercise the rules
}
