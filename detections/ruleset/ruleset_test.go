package ruleset_test

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/native"
	"github.com/mamori-soc/mamori/detections/ruleset"
	"github.com/mamori-soc/mamori/detections/ruletest"
	"github.com/mamori-soc/mamori/detections/sigma"
)

const nativeRule = `id: local.failed_logon_at_night
name: Failed logon at night
version: 1
description: A failed logon between 22:00 and 05:00.
severity: low
kind: off_hours
query: 'event.code:4625'
off_hours: {night: "22:00-05:00"}
`

const sigmaRule = `title: Failed logon
id: 7c1d2a0e-3f5b-4b8e-9a61-0d6f4c2b9e12
status: test
description: A logon failed (event 4625).
level: low
tags: [attack.credential-access, attack.t1110]
logsource:
  product: windows
  service: security
detection:
  selection:
    EventID: 4625
  condition: selection
`

// A test file for the Sigma rule, next to it, as users write them.
const sigmaTest = `rule: 7c1d2a0e-3f5b-4b8e-9a61-0d6f4c2b9e12
cases:
  - name: a failed logon
    events:
      - {"@timestamp": "2026-09-24T10:00:00+09:00", event.code: "4625", event.provider: Microsoft-Windows-Security-Auditing,
         winlog.channel: Security, winlog.event_id: "4625", user.name: 田中}
    expect:
      - {count: 1, user: 田中}
`

const nativeTest = `rule: local.failed_logon_at_night
cases:
  - name: 23:00
    events:
      - {"@timestamp": "2026-09-24T23:00:00+09:00", event.code: "4625", user.name: 田中}
    expect:
      - {count: 1, user: 田中}
  - name: 12:00
    events:
      - {"@timestamp": "2026-09-24T12:00:00+09:00", event.code: "4625", user.name: 田中}
    expect: []
`

func ids(rules []*detections.Rule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.ID)
	}
	return out
}

func TestLoadBothFormats(t *testing.T) {
	fsys := fstest.MapFS{
		"local/night.yaml":                 {Data: []byte(nativeRule)},
		"local/night.test.yaml":            {Data: []byte(nativeTest)},
		"sigma/win_failed_logon.yml":       {Data: []byte(sigmaRule)},
		"sigma/win_failed_logon.test.yml":  {Data: []byte(sigmaTest)},
		"sigma/README.md":                  {Data: []byte("# not a rule")},
		".git/config.yaml":                 {Data: []byte("garbage: [")},
		"sigma/.editor-backup.yml":         {Data: []byte("garbage: [")},
		"empty/deeper/nothing-here.txt":    {Data: []byte("x")},
		"sigma/deprecated/other_rule.yaml": {Data: []byte(strings.ReplaceAll(sigmaRule, "9e12", "9e13"))},
	}
	rules, errs := ruleset.Load(fsys, ruleset.Options{})
	require.Empty(t, errs)
	require.Equal(t, []string{"local.failed_logon_at_night", "7c1d2a0e-3f5b-4b8e-9a61-0d6f4c2b9e13",
		"7c1d2a0e-3f5b-4b8e-9a61-0d6f4c2b9e12"}, ids(rules))

	// The test files of both formats run against the rules loaded.
	rep, err := ruletest.Run(context.Background(), fsys, rules, detections.Config{})
	require.NoError(t, err)
	for _, f := range rep.Files {
		require.NoError(t, f.Err, f.File)
		for _, c := range f.Cases {
			require.Truef(t, c.Passed, "%s: %s: %s", f.File, c.Name, c.Diff)
		}
	}
	require.Equal(t, []string{"7c1d2a0e-3f5b-4b8e-9a61-0d6f4c2b9e13"}, rep.Untested)
}

func TestDuplicateIDAcrossFormats(t *testing.T) {
	dup := strings.Replace(nativeRule, "local.failed_logon_at_night", "7c1d2a0e-3f5b-4b8e-9a61-0d6f4c2b9e12", 1)
	fsys := fstest.MapFS{
		"a/native.yaml": {Data: []byte(dup)},
		"b/sigma.yml":   {Data: []byte(sigmaRule)},
	}
	rules, errs := ruleset.Load(fsys, ruleset.Options{})
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], ruleset.ErrDuplicateID)
	require.ErrorIs(t, errs[0], detections.ErrInvalidRule)
	require.ErrorContains(t, errs[0], "Sigma rule in b/sigma.yml, native rule in a/native.yaml")
	require.Len(t, rules, 1)
	_, isSigma := rules[0].Detector.(*sigma.Rule)
	require.False(t, isSigma, "the native rule is kept")
}

func TestErrorsOfBothLoaders(t *testing.T) {
	badNative := strings.Replace(nativeRule, "severity: low\n", "", 1)
	badSigma := strings.Replace(sigmaRule, "EventID: 4625", "EventID|nosuchmodifier: 4625", 1)
	fsys := fstest.MapFS{
		"native.yaml":      {Data: []byte(badNative)},
		"sigma.yml":        {Data: []byte(badSigma)},
		"good/native.yaml": {Data: []byte(nativeRule)},
	}
	rules, errs := ruleset.Load(fsys, ruleset.Options{})
	require.Equal(t, []string{"local.failed_logon_at_night"}, ids(rules))
	require.Len(t, errs, 2)
	var ne *native.Error
	require.True(t, errors.As(errs[0], &ne), "%v", errs[0])
	require.Equal(t, "native.yaml", ne.File)
	var se *sigma.RuleError
	require.True(t, errors.As(errs[1], &se), "%v", errs[1])
	require.Equal(t, "sigma.yml", se.File)
}

func TestSubsetFS(t *testing.T) {
	// Sigma sees only its own files, through a view that hides the rest;
	// the view must behave as an fs.FS.
	fsys := fstest.MapFS{
		"a/one.yml":         {Data: []byte(sigmaRule)},
		"a/two.yaml":        {Data: []byte(nativeRule)},
		"a/b/three.yml":     {Data: []byte(strings.ReplaceAll(sigmaRule, "9e12", "9e14"))},
		"c/only-native.yml": {Data: []byte(strings.Replace(nativeRule, "at_night", "at_night_2", 1))},
	}
	rules, errs := ruleset.Load(fsys, ruleset.Options{})
	require.Empty(t, errs)
	got := ids(rules)
	slices.Sort(got)
	require.Equal(t, []string{"7c1d2a0e-3f5b-4b8e-9a61-0d6f4c2b9e12", "7c1d2a0e-3f5b-4b8e-9a61-0d6f4c2b9e14",
		"local.failed_logon_at_night", "local.failed_logon_at_night_2"}, got)
	require.NoError(t, fstest.TestFS(ruleset.Subset(fsys, []string{"a/one.yml", "a/b/three.yml"}), "a/one.yml", "a/b/three.yml"))
	_, err := fs.Stat(ruleset.Subset(fsys, []string{"a/one.yml"}), "a/two.yaml")
	require.ErrorIs(t, err, fs.ErrNotExist)
}
