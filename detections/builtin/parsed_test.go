package builtin_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/event"
)

// TestParsedEvents checks the rules' selections against what the parsers
// really produce (their golden outputs), so that a field renamed in a parser
// cannot silently blind a rule whose tests write events by hand.
func TestParsedEvents(t *testing.T) {
	byID := map[string]*detections.Rule{}
	for _, r := range load(t) {
		byID[r.ID] = r
	}
	win := func(name string) string {
		return filepath.Join("..", "..", "parsers", "winevent", "testdata", "eventxml", name, "expected.json")
	}
	syslog := func(name string) string {
		return filepath.Join("..", "..", "parsers", "syslog", "testdata", name, "expected.json")
	}
	// Off-hours rules see the events at 23:00 on a business day in Tokyo.
	night := time.Date(2026, 9, 24, 23, 0, 0, 0, time.FixedZone("JST", 9*3600))
	for _, tc := range []struct {
		rule, file string
		match      bool
	}{
		{"mamori.win.logon_off_hours", win("4624_remote_interactive"), true},
		{"mamori.win.logon_off_hours", win("4624_interactive_ja_rendered"), true},
		{"mamori.win.logon_off_hours", win("4624_cached_ipv6_loopback"), true},
		{"mamori.win.logon_off_hours", win("4624_network_ntlm"), false},
		{"mamori.win.logon_off_hours", win("4624_service_no_address"), false},
		{"mamori.win.brute_force_account", win("4625_bad_password_ja"), true},
		{"mamori.win.brute_force_account", win("4771_preauth_failed"), true},
		{"mamori.win.brute_force_account", win("4624_network_ntlm"), false},
		{"mamori.win.password_spray", win("4625_bad_password_ja"), true},
		{"mamori.win.password_spray", win("4771_preauth_failed"), true},
		{"mamori.win.password_spray", win("4625_disabled_no_address"), false},
		{"mamori.win.success_after_failures", win("4625_bad_password_ja"), true},
		{"mamori.win.success_after_failures", win("4624_network_ntlm"), true},
		{"mamori.win.success_after_failures", win("4672_special_privileges"), false},
		{"mamori.win.inactive_account_logon", win("4625_disabled_no_address"), true},
		{"mamori.win.inactive_account_logon", win("4625_bad_password_ja"), false},
		{"mamori.win.inactive_account_logon", win("4768_tgt_requested"), false},
		{"mamori.win.privileged_logon_off_hours", win("4672_special_privileges"), true},
		{"mamori.win.privileged_logon_off_hours", win("4624_remote_interactive"), false},
		{"mamori.win.account_lockout_storm", win("4740_locked_out"), true},
		{"mamori.win.account_lockout_storm", win("4767_unlocked"), false},
		{"mamori.win.new_logon_source", win("4624_network_ntlm"), true},
		{"mamori.win.new_logon_source", win("4625_bad_password_ja"), false},
		{"mamori.win.account_created_deleted", win("4720_user_created"), true},
		{"mamori.win.account_created_deleted", win("4726_user_deleted"), true},
		{"mamori.win.account_created_deleted", win("4725_user_disabled"), false},
		{"mamori.linux.sshd_brute_force", syslog("sshd_failed_3164"), true},
		{"mamori.linux.sshd_brute_force", syslog("sshd_failed_5424"), true},
		{"mamori.linux.sshd_brute_force", syslog("sshd_accepted_3164"), false},
		{"mamori.host.event_volume_anomaly", win("4624_network_ntlm"), true},
		{"mamori.host.log_source_silent", syslog("sshd_accepted_3164"), true},
	} {
		t.Run(tc.rule+"/"+filepath.Base(filepath.Dir(tc.file)), func(t *testing.T) {
			r := byID[tc.rule]
			require.NotNil(t, r, "rule loaded")
			data, err := os.ReadFile(tc.file)
			require.NoError(t, err)
			var e event.Event
			require.NoError(t, event.Unmarshal(data, &e))
			e.Timestamp = night
			require.Equal(t, tc.match, r.Detector.Match(&e))
		})
	}
}
