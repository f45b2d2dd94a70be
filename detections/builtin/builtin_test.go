package builtin_test

import (
	"context"
	"io/fs"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/builtin"
	"github.com/mamori-soc/mamori/detections/native"
	"github.com/mamori-soc/mamori/detections/ruleset"
	"github.com/mamori-soc/mamori/detections/ruletest"
)

// load loads the pack with the default calendar (Asia/Tokyo, Japanese
// holidays, 29 December to 3 January closed), as Mamori does.
func load(t testing.TB) []*detections.Rule {
	t.Helper()
	cal, err := calendar.New(calendar.DefaultConfig())
	require.NoError(t, err)
	rules, errs := ruleset.Load(builtin.FS(), ruleset.Options{Calendar: cal})
	for _, err := range errs {
		t.Errorf("load: %v", err)
	}
	return rules
}

// TestRules runs every test file of the pack; each case is a subtest.
func TestRules(t *testing.T) {
	rules := load(t)
	rep, err := ruletest.Run(context.Background(), builtin.FS(), rules, detections.Config{})
	require.NoError(t, err)
	for _, f := range rep.Files {
		t.Run(strings.TrimSuffix(path.Base(f.File), ".test.yaml"), func(t *testing.T) {
			if f.Err != nil {
				t.Fatalf("%s: %v", f.File, f.Err)
			}
			for _, c := range f.Cases {
				t.Run(c.Name, func(t *testing.T) {
					if !c.Passed {
						t.Errorf("%s: %s\n%s", f.File, f.Rule, c.Diff)
					}
				})
			}
		})
	}
}

// TestPack checks what every rule of the pack must have: a test file next to
// it with positive and negative cases, a description, ATT&CK tactics and
// techniques, an id under mamori., and a native rule file (the pack is
// ours, not Sigma).
func TestPack(t *testing.T) {
	rules := load(t)
	byID := map[string]*detections.Rule{}
	for _, r := range rules {
		byID[r.ID] = r
		require.Truef(t, strings.HasPrefix(r.ID, "mamori."), "%s: ids of the pack start with mamori.", r.ID)
		require.NotEmptyf(t, r.Description, "%s: description", r.ID)
		require.NotEmptyf(t, r.Techniques, "%s: ATT&CK technique", r.ID)
		require.NotEmptyf(t, r.Tactics, "%s: ATT&CK tactic", r.ID)
	}
	require.Len(t, rules, 12, "the pack's rules")

	fsys := builtin.FS()
	var ruleFiles, testFiles []string
	require.NoError(t, fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil || d.IsDir():
			return err
		case ruletest.IsTestFile(p):
			testFiles = append(testFiles, p)
		case native.IsRuleFile(p):
			ruleFiles = append(ruleFiles, p)
		default:
			t.Errorf("%s: neither a rule nor a test file", p)
		}
		return nil
	}))
	require.Len(t, ruleFiles, len(rules), "one rule per file")
	for _, f := range ruleFiles {
		data, err := fs.ReadFile(fsys, f)
		require.NoError(t, err)
		require.Truef(t, native.IsNative(data), "%s: a native rule", f)
		tf := strings.TrimSuffix(f, ".yaml") + ".test.yaml"
		require.Containsf(t, testFiles, tf, "%s: test file", f)
	}

	rep, err := ruletest.Run(context.Background(), fsys, rules, detections.Config{})
	require.NoError(t, err)
	require.Empty(t, rep.Untested, "rules without a test file")
	tested := map[string]bool{}
	for _, f := range rep.Files {
		require.NoErrorf(t, f.Err, "%s", f.File)
		require.Containsf(t, byID, f.Rule, "%s: names a rule of the pack", f.File)
		require.Falsef(t, tested[f.Rule], "%s: a second test file for %s", f.File, f.Rule)
		tested[f.Rule] = true
		// Test files sit next to their rule: the rule in NAME.yaml is
		// tested by NAME.test.yaml.
		rf := strings.TrimSuffix(f.File, ".test.yaml") + ".yaml"
		data, err := fs.ReadFile(fsys, rf)
		require.NoError(t, err)
		require.Containsf(t, string(data), "id: "+f.Rule+"\n", "%s tests the rule in %s", f.File, rf)
		var positive, negative bool
		for _, c := range f.Cases {
			if len(c.Alerts) > 0 && c.Passed {
				positive = true
			}
			if len(c.Alerts) == 0 && c.Passed {
				negative = true
			}
		}
		require.Truef(t, positive, "%s: a passing case with an alert", f.File)
		require.Truef(t, negative, "%s: a passing case without an alert", f.File)
	}
}
