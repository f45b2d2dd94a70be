package native_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/native"
)

func TestParseFullRule(t *testing.T) {
	src := `id: mamori.win.logon_off_hours
name: Interactive logon at night or on a closed day
version: 3
description: An interactive logon outside business hours.
severity: high
risk_score: 60
threat:
  tactics:    [{id: TA0001, name: Initial Access}]
  techniques: [{id: T1078, name: Valid Accounts}, {id: T1078.002, name: Domain Accounts}]
references: [https://example.com/x]
author: Mamori
kind: off_hours
query: 'event.code:4624 and winlog.logon.type:(Interactive or RemoteInteractive)'
off_hours:
  outside_business_hours: true
  closed_days: true
  night: "22:00-05:00"
entity: {user: winlog.event_data.TargetUserName, host: host.name, source: source.ip}
dedup_key: [user.name, host.name]
suppression: 2d
exceptions: ['user.name:svc_*']
`
	r, err := native.Parse([]byte(src), "rules/x.yaml", native.Options{})
	require.NoError(t, err)
	require.Equal(t, "mamori.win.logon_off_hours", r.ID)
	require.Equal(t, "Interactive logon at night or on a closed day", r.Name)
	require.Equal(t, 3, r.Version)
	require.Equal(t, detections.High, r.Severity)
	require.Equal(t, 60, r.RiskScore)
	require.Equal(t, []detections.Tactic{{ID: "TA0001", Name: "Initial Access"}}, r.Tactics)
	require.Equal(t, []detections.Technique{{ID: "T1078", Name: "Valid Accounts"}, {ID: "T1078.002", Name: "Domain Accounts"}}, r.Techniques)
	require.Equal(t, detections.Entity{User: "winlog.event_data.TargetUserName", Host: "host.name", Source: "source.ip"}, r.Entity)
	require.Equal(t, []string{"user.name", "host.name"}, r.DedupKey)
	require.Equal(t, 48*time.Hour, r.Suppression)
	require.Equal(t, []string{"user.name:svc_*"}, r.Exceptions)
	require.Equal(t, []detections.Prerequisite{
		{Field: "event.code", Values: []string{"4624"}},
		{Field: "winlog.logon.type", Values: []string{"Interactive", "RemoteInteractive"}},
	}, r.Prerequisites)

	// The engine accepts it.
	_, err = detections.New([]*detections.Rule{r}, detections.Config{})
	require.NoError(t, err)
}

func TestParseDefaults(t *testing.T) {
	r := parse(t, "query: 'event.code:4625'\n")
	require.Equal(t, detections.Medium.RiskScore(), r.RiskScore)
	require.Zero(t, r.Suppression) // detections.New applies its default
	_, stateful := r.Detector.(detections.Stateful)
	require.False(t, stateful)
	require.True(t, r.Detector.Match(logon("e", "4625", "u", "10.0.0.1", fixedNow)))
	require.False(t, r.Detector.Match(logon("e", "4624", "u", "10.0.0.1", fixedNow)))
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string // without header when it starts with "!"
		want string
	}{
		{"not yaml", "!id: [", "rules/x.yaml: not valid YAML: line 1: did not find expected node content"},
		{"not a mapping", "!- a\n- b\n", "rules/x.yaml: want a mapping of keys to values at the top level"},
		{"two documents", "query: a\n---\nquery: b\n", "rules/x.yaml: more than one YAML document: a native rule file holds one rule"},
		{"missing id", "!name: x\nquery: a\n", "rules/x.yaml: id: missing"},
		{"bad id", "!id: Mamori.X\nname: x\nquery: a\n", "rules/x.yaml: id: \"Mamori.X\": want lower-case letters, digits, dots, dashes and underscores, starting with a letter or digit"},
		{"missing name", "!id: a.b\nversion: 1\nquery: a\n", "rules/x.yaml: a.b: name: missing"},
		{"missing version", "!id: a.b\nname: n\nquery: a\n", "rules/x.yaml: a.b: version: missing"},
		{"zero version", "!id: a.b\nname: n\nversion: 0\nquery: a\n", "rules/x.yaml: a.b: version: 0: want an integer >= 1"},
		{"version not an integer", "!id: a.b\nname: n\nversion: 1.5\nquery: a\n", "rules/x.yaml: a.b: version: line 3: \"1.5\": want an integer"},
		{"missing description", "!id: a.b\nname: n\nversion: 1\nseverity: low\nquery: a\n", "rules/x.yaml: a.b: description: missing"},
		{"missing severity", "!id: a.b\nname: n\nversion: 1\ndescription: d\nquery: a\n", "rules/x.yaml: a.b: severity: missing"},
		{"bad severity", "!id: a.b\nname: n\nversion: 1\ndescription: d\nseverity: urgent\nquery: a\n", "rules/x.yaml: a.b: severity: unknown severity \"urgent\" (want low, medium, high or critical)"},
		{"unknown key", "query: a\ntags: [x]\n", "rules/x.yaml: test.rule: tags: line 7: unknown key"},
		{"unknown nested key", "kind: threshold\nquery: a\nthreshold: {window: 5m, count: 3, by: [user.name]}\n", "rules/x.yaml: test.rule: threshold.by: line 8: unknown key"},
		{"unknown key in list", "threat:\n  tactics: [{id: TA0001, nom: x}]\nquery: a\n", "rules/x.yaml: test.rule: threat.tactics[0].nom: line 7: unknown key"},
		{"bad tactic", "threat: {tactics: [{id: T0001}]}\nquery: a\n", "rules/x.yaml: test.rule: threat.tactics[0].id: \"T0001\": want TA####"},
		{"bad technique", "threat: {techniques: [{id: T1}]}\nquery: a\n", "rules/x.yaml: test.rule: threat.techniques[0].id: \"T1\": want T#### or T####.###"},
		{"risk score", "risk_score: 101\nquery: a\n", "rules/x.yaml: test.rule: risk_score: 101: want 0 to 100"},
		{"unknown kind", "kind: magic\nquery: a\n", "rules/x.yaml: test.rule: kind: \"magic\": want query, off_hours, threshold, sequence, new_terms, anomaly or absence"},
		{"missing query", "kind: query\n", "rules/x.yaml: test.rule: query: missing (kind query needs a KQL query)"},
		{"bad query", "query: 'event.code:'\n", "rules/x.yaml: test.rule: query: "},
		{"bad exception", "query: a\nexceptions: ['user.name:(']\n", "rules/x.yaml: test.rule: exceptions[0]: "},
		{"exceptions not a list", "query: a\nexceptions: 'user.name:x'\n", "rules/x.yaml: test.rule: exceptions: line 7: want a list such as [user.name:x]"},
		{"bad suppression", "query: a\nsuppression: soon\n", "rules/x.yaml: test.rule: suppression: line 7: duration \"soon\": want a Go duration such as 90s or 1h30m, or days such as 30d"},
		{"negative suppression", "query: a\nsuppression: -1h\n", "rules/x.yaml: test.rule: suppression: line 7: duration \"-1h\": want a Go duration such as 90s or 1h30m, or days such as 30d"},
		{"zero suppression", "query: a\nsuppression: 0s\n", "rules/x.yaml: test.rule: suppression: want a positive duration"},
		{"count not an integer", "kind: threshold\nquery: a\nthreshold: {window: 5m, count: 2.5}\n", "rules/x.yaml: test.rule: threshold.count: line 8: \"2.5\": want an integer"},
		{"bool not a bool", "kind: off_hours\nquery: a\noff_hours: {closed_days: yes}\n", "rules/x.yaml: test.rule: off_hours.closed_days: line 8: \"yes\": want true or false"},
		{"off_hours missing", "kind: off_hours\nquery: a\n", "rules/x.yaml: test.rule: off_hours: missing (kind is off_hours)"},
		{"off_hours empty", "kind: off_hours\nquery: a\noff_hours: {closed_days: false}\n", "rules/x.yaml: test.rule: off_hours: set at least one of outside_business_hours: true, closed_days: true or night: \"22:00-05:00\""},
		{"bad night", "kind: off_hours\nquery: a\noff_hours: {night: 22-05}\n", "rules/x.yaml: test.rule: off_hours.night: \"22-05\": want a daily window HH:MM-HH:MM such as 22:00-05:00"},
		{"empty night", "kind: off_hours\nquery: a\noff_hours: {night: \"05:00-05:00\"}\n", "rules/x.yaml: test.rule: off_hours.night: \"05:00-05:00\": the window is empty (start equals end)"},
		{"section of another kind", "query: a\nthreshold: {window: 5m, count: 3}\n", "rules/x.yaml: test.rule: threshold: only allowed with kind threshold (kind is query)"},
		{"threshold missing", "kind: threshold\nquery: a\n", "rules/x.yaml: test.rule: threshold: missing (kind is threshold)"},
		{"threshold window missing", "kind: threshold\nquery: a\nthreshold: {count: 3}\n", "rules/x.yaml: test.rule: threshold.window: missing"},
		{"threshold count missing", "kind: threshold\nquery: a\nthreshold: {window: 5m}\n", "rules/x.yaml: test.rule: threshold.count: missing"},
		{"threshold count zero", "kind: threshold\nquery: a\nthreshold: {window: 5m, count: 0}\n", "rules/x.yaml: test.rule: threshold.count: 0: want an integer >= 1"},
		{"threshold window zero", "kind: threshold\nquery: a\nthreshold: {window: 0s, count: 1}\n", "rules/x.yaml: test.rule: threshold.window: want a positive duration"},
		{"threshold bad group_by", "kind: threshold\nquery: a\nthreshold: {window: 5m, count: 1, group_by: ['']}\n", "rules/x.yaml: test.rule: threshold.group_by[0]: \"\" is not a field name"},
		{"threshold needs query", "kind: threshold\nthreshold: {window: 5m, count: 1}\n", "rules/x.yaml: test.rule: query: missing (kind threshold needs a KQL query)"},
		{"dedup key bad", "query: a\ndedup_key: ['a b']\n", "rules/x.yaml: test.rule: dedup_key[0]: \"a b\" is not a field name"},
		{"section not a map", "query: a\nentity: user.name\n", "rules/x.yaml: test.rule: entity: line 7: want a mapping of keys to values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := header + tt.src
			if tt.src[0] == '!' {
				src = tt.src[1:]
			}
			_, err := native.Parse([]byte(src), "rules/x.yaml", native.Options{})
			require.Error(t, err)
			require.True(t, errors.Is(err, detections.ErrInvalidRule), "%v", err)
			var ne *native.Error
			require.ErrorAs(t, err, &ne)
			require.Equal(t, "rules/x.yaml", ne.File)
			require.Contains(t, err.Error(), tt.want)
			require.Equal(t, tt.want, err.Error()[:len(tt.want)])
		})
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90s": 90 * time.Second, "1h30m": 90 * time.Minute, "30d": 30 * 24 * time.Hour,
		"1d12h": 36 * time.Hour, "0s": 0, "0d": 0,
	} {
		got, err := native.ParseDuration(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "d", "5", "1d-1h", "-1d", "1.5d", "1dd", "1h1d", "999999d", "5 m"} {
		_, err := native.ParseDuration(in)
		require.Error(t, err, in)
	}
}

func TestIsNative(t *testing.T) {
	for src, want := range map[string]bool{
		"query: a\n":        true,
		"kind: threshold\n": true,
		"title: x\ndetection: {a: b}\nquery: x\n":      false,
		"title: x\ndetection: {a: b}\n":                false,
		"title: x\ncorrelation: {type: event_count}\n": false,
		"title: x\nfilter: {rules: [a]}\nkind: x\n":    false,
		"id: a\nname: b\n":                             false,
		"- query: a\n":                                 false,
		"query: [\n":                                   false,
		"":                                             false,
		"a:\n  query: nested\n":                        false,
	} {
		require.Equal(t, want, native.IsNative([]byte(src)), "%q", src)
	}
}
