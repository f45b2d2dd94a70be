package sigma_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/mamori-soc/mamori/detections/sigma"
)

func TestLoadDirectory(t *testing.T) {
	rules, errs := sigma.Load(os.DirFS("testdata/rules"), nil)
	if len(rules) != 2 {
		t.Fatalf("%d rules loaded, want 2", len(rules))
	}
	want := []string{
		`sigma: windows/win_security_bad_modifier.yml: rule "Rule using a modifier Sigma does not define" (7c1d2a0e-3f5b-4b8e-9a61-0d6f4c2b9e13): detection.selection: field "TargetUserName": unsupported construct: modifier "soundex"`,
		`sigma: windows/win_security_bruteforce_correlation.yml: rule "Many failed logons for one account" (7c1d2a0e-3f5b-4b8e-9a61-0d6f4c2b9e11): unsupported construct: correlation rules are not supported yet`,
	}
	if len(errs) != len(want) {
		t.Fatalf("errors %v", errs)
	}
	for i, err := range errs {
		if err.Error() != want[i] {
			t.Errorf("error %d:\n got %s\nwant %s", i, err, want[i])
		}
		var re *sigma.RuleError
		if !errors.As(err, &re) || !errors.Is(err, sigma.ErrUnsupported) || re.File == "" {
			t.Errorf("error %d is not a RuleError wrapping ErrUnsupported", i)
		}
	}
	byFile := map[string]*sigma.Rule{}
	for _, r := range rules {
		byFile[r.File] = r
	}
	rdp := byFile["windows/win_security_rdp_logon_ja_user.yml"]
	if rdp == nil || !strings.HasPrefix(rdp.Title, "Remote interactive") {
		t.Fatalf("rules %v", byFile)
	}
	ev := map[string]any{"winlog.channel": "Security", "winlog.event_id": "4624", "winlog.event_data.LogonType": "10",
		"winlog.event_data.TargetUserName": "田中一郎", "winlog.event_data.IpAddress": "10.2.2.2"}
	if !rdp.Match(buildEvent(t, ev)) {
		t.Error("RDP logon not matched")
	}
	ev["winlog.event_data.IpAddress"] = "10.1.1.10"
	if rdp.Match(buildEvent(t, ev)) {
		t.Error("filter not applied")
	}
}
