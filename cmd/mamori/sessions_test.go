package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/app"
	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/store/sqlitestore"
)

// sessionsFixture writes a configuration whose embedded store holds the
// winevent goldens of 田中's interactive logon and user-initiated logoff on
// PC-EIGYO-012 and yamada.t's RDP logon on RDS01 (no logoff), plus a
// network logon on FS01.
func sessionsFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "mamori.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte("data_dir: "+dir+"\ntimezone: Asia/Tokyo\n"), 0o600))
	cfg, err := config.Load(cfgPath)
	require.NoError(t, err)
	s, err := sqlitestore.Open(app.StorePath(cfg), sqlitestore.Options{})
	require.NoError(t, err)
	defer s.Close()
	var docs []store.Doc
	for _, name := range []string{"4624_interactive_ja_rendered", "4647_user_initiated_logoff", "4624_remote_interactive"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "parsers", "winevent", "testdata", "eventxml", name, "expected.json"))
		require.NoError(t, err)
		docs = append(docs, store.Doc{ID: name, Source: b})
	}
	for i, code := range []string{"4624", "4634"} {
		docs = append(docs, store.Doc{ID: fmt.Sprintf("net%d", i), Source: []byte(fmt.Sprintf(
			`{"@timestamp":"2025-01-15T01:00:00.00%dZ","event":{"code":"%s","outcome":"success"},"host":{"name":"FS01.city.example.lg.jp"},`+
				`"user":{"name":"sato.k","domain":"CITY"},"source":{"ip":"10.20.40.18","port":50123},`+
				`"winlog.event_data.TargetLogonId":"0x9c1d77e","winlog.event_data.LogonType":"3","winlog.logon.type":"Network"}`, i*5, code))})
	}
	res, err := s.Index(context.Background(), store.Events, docs)
	require.NoError(t, err)
	for _, r := range res {
		require.NoError(t, r.Err)
	}
	return cfgPath
}

func TestSessionsTable(t *testing.T) {
	cfg := sessionsFixture(t)
	code, stdout, stderr := runCLI("sessions", "-c", cfg, "user.name:田中", "--from", "2025-01-15", "--to", "2025-01-16")
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(stdout, "\n")
	require.Regexp(t, `^START\s+END\s+DURATION\s+USER\s+HOST\s+LOGON TYPE\s+SOURCE\s+END REASON`, lines[0])
	// Times in the configured zone: 00:12:34Z is 09:12:34 in Tokyo.
	require.Regexp(t, `^2025-01-15 09:12:34\s+2025-01-15 18:05:41\s+8h53m\s+営業部\\田中\s+PC-EIGYO-012.city.example.lg.jp\s+Interactive\s+127.0.0.1 \(PC-EIGYO-012\)\s+user_logoff`, lines[1])
	require.Contains(t, stdout, "1 sessions between 2025-01-15 00:00:00 and 2025-01-16 00:00:00 (Asia/Tokyo)")

	// Who was on RDS01: the RDP logon (an elevated token) has no logoff and
	// is older than the default week: it ended by timeout.
	code, stdout, stderr = runCLI("sessions", "-c", cfg, "host.name:RDS01*", "--from", "2025-01-15", "--to", "2025-01-16")
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `2025-01-15 09:12:34\s+2025-01-22 09:12:34\s+168h\s+CITY\\yamada.t\s+RDS01.city.example.lg.jp\s+RemoteInteractive \(elevated\)\s+10.20.40.18:61022 \(RDS01\)\s+timeout`, stdout)

	// Network logons only when asked for.
	code, stdout, _ = runCLI("sessions", "-c", cfg, "host.name:FS01*", "--from", "2025-01-15", "--to", "2025-01-16")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "0 sessions")
	code, stdout, _ = runCLI("sessions", "-c", cfg, "host.name:FS01*", "--from", "2025-01-15", "--to", "2025-01-16", "--types", "network")
	require.Equal(t, 0, code)
	require.Regexp(t, `2025-01-15 10:00:00\s+2025-01-15 10:00:00\s+0.005s\s+CITY\\sato.k\s+FS01.city.example.lg.jp\s+Network\s+10.20.40.18:50123\s+logoff`, stdout)

	code, stdout, _ = runCLI("sessions", "-c", cfg, "--from", "2025-01-15", "--to", "2025-01-16", "--limit", "1")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "more sessions than --limit 1")
	require.Contains(t, stdout, "PC-EIGYO-012", "both logons share an instant: the host name breaks the tie")
	require.NotContains(t, stdout, "RDS01")
}

func TestSessionsJSON(t *testing.T) {
	cfg := sessionsFixture(t)
	code, stdout, stderr := runCLI("sessions", "-c", cfg, "--from", "2025-01-15", "--to", "2025-01-16", "--json")
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 2)
	var got []map[string]any
	for _, l := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		got = append(got, m)
	}
	require.Equal(t, "2025-01-15T09:12:34.5678901+09:00", got[0]["start"])
	require.Equal(t, "2025-01-15T18:05:41.7311026+09:00", got[0]["end"])
	require.Equal(t, "user_logoff", got[0]["end_reason"])
	require.Equal(t, "田中", got[0]["user"].(map[string]any)["name"])
	require.Equal(t, "0x8a3f21c", got[0]["logon"].(map[string]any)["id"])
	require.Equal(t, "Interactive", got[0]["logon"].(map[string]any)["type"])
	require.InDelta(t, 8*3600+53*60+7.16, got[0]["duration_seconds"], 0.01)
	require.Equal(t, "4647_user_initiated_logoff", got[0]["events"].(map[string]any)["end"])
	require.Equal(t, "RDS01.city.example.lg.jp", got[1]["host"].(map[string]any)["name"])
	require.Equal(t, true, got[1]["logon"].(map[string]any)["elevated"])
}

func TestSessionsBadArguments(t *testing.T) {
	cfg := sessionsFixture(t)
	code, _, stderr := runCLI("sessions", "-c", cfg, "--types", "console")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, `logon type "console"`)
	code, _, stderr = runCLI("sessions", "-c", cfg, "user.name:(tanaka")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "kql:")
	code, _, stderr = runCLI("sessions", "-c", cfg, "user.name:tanaka", "host.name:x")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "one argument in quotes")
	code, _, stderr = runCLI("sessions", "-c", cfg, "--limit", "0")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "--limit 0")
}
