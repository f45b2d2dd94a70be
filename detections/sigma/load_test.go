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
	if len(rules) != 4 {
		t.Fatalf("%d rules loaded, want 4", len(rules))
	}
	want := []string{
		`sigma: windows/win_security_bad_modifier.yml: rule "Rule using a modifier Sigma does not define" (7c1d2a0e-3f5b-4b8e-9a61-0d6f4c2b9e13): detection.selection: field "TargetUserName": unsupported construct: modifier "soundex"`,
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
	bf := byFile["windows/win_security_bruteforce_correlation.yml"]
	if bf == nil || bf.Correlation == nil || bf.Correlation.Type != sigma.EventCount || bf.Level != sigma.LevelHigh {
		t.Fatalf("correlation not loaded: %+v", bf)
	}
	if refs := bf.Correlation.References(); len(refs) != 1 || refs[0].File != "windows/win_security_failed_logon.yml" {
		t.Errorf("correlation references %v", refs)
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
