package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/internal/smtptest"
)

// casesConfig writes a configuration with a fresh data directory.
func casesConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "mamori.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte("data_dir: "+filepath.Join(dir, "data")+"\ntimezone: Asia/Tokyo\n"), 0o600))
	return cfgPath
}

func showCase(t *testing.T, cfg, id string) casework.Case {
	t.Helper()
	code, stdout, stderr := runCLI("cases", "show", "-c", cfg, "--json", id)
	require.Equal(t, 0, code, stderr)
	var c casework.Case
	require.NoError(t, json.Unmarshal([]byte(stdout), &c))
	return c
}

func TestCasesOpenUpdateShow(t *testing.T) {
	cfg := casesConfig(t)
	code, stdout, stderr := runCLI("cases", "open", "-c", cfg, "--actor", "helpdesk-yamada",
		"--type", "failure", "--title", "本庁舎3階のスイッチ停止", "--priority", "p2", "--reporter", "田中",
		"--channel", "phone", "--field", "device=SW-3F-01", "--field", "impact=3階全体")
	require.Equal(t, 0, code, stderr)
	id := strings.TrimSpace(stdout)
	require.Regexp(t, `^FAIL-\d{8}-[0-9A-Z]{5}$`, id)

	// A checklist to tick, as a runbook would have given it.
	c := showCase(t, cfg, id)
	require.Equal(t, "本庁舎3階のスイッチ停止", c.Title)
	require.Equal(t, map[string]string{"device": "SW-3F-01", "impact": "3階全体"}, c.Fields)
	require.Equal(t, "helpdesk-yamada", c.Audit[0].Actor)

	code, stdout, stderr = runCLI("cases", "update", id, "-c", cfg, "--actor", "鈴木",
		"--status", "in_progress", "--assignee", "鈴木", "--field", "impact=", "--field", "cause=電源断",
		"--comment", "電源を確認中", "--notification", "first_report", "--link", "alert:a-123")
	require.Equal(t, 0, code, stderr)
	require.Equal(t, id+"  in_progress, priority p2, assignee 鈴木  本庁舎3階のスイッチ停止\n", stdout)

	code, _, stderr = runCLI("cases", "comment", "-c", cfg, "--actor", "鈴木", id, "電源を", "復旧しました")
	require.Equal(t, 0, code, stderr)

	c = showCase(t, cfg, id)
	require.Equal(t, casework.InProgress, c.Status)
	require.Equal(t, map[string]string{"device": "SW-3F-01", "cause": "電源断"}, c.Fields)
	require.Equal(t, []string{"電源を確認中", "電源を 復旧しました"}, []string{c.Comments[0].Text, c.Comments[1].Text})
	require.Equal(t, []casework.Link{{Kind: "alert", ID: "a-123"}}, c.Links)
	var audit []string
	for _, ch := range c.Audit[1:] {
		require.Equal(t, "鈴木", ch.Actor)
		audit = append(audit, ch.Field+":"+ch.Before+">"+ch.After)
	}
	require.Equal(t, []string{"status:new>in_progress", "assignee:>鈴木", "fields.cause:>電源断", "fields.impact:3階全体>",
		"links:>alert a-123", "comments:>電源を確認中", "notifications:>first_report", "comments:>電源を 復旧しました"}, audit)
	var kinds []string
	for _, e := range c.Timeline {
		kinds = append(kinds, e.Kind)
	}
	require.Equal(t, []string{"created", "notification", "status", "comment", "link", "comment"}, kinds)

	// --done counts from 1; this case has no checklist.
	code, _, stderr = runCLI("cases", "update", id, "-c", cfg, "--done", "1")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "--done 1: case "+id+" has 0 checklist steps")

	// Bad input names the flag and the problem.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--status", "closedd"}, "--status closedd: want one of new, acknowledged, in_progress,"},
		{[]string{"--priority", "p5"}, "--priority p5: want p1, p2, p3 or p4"},
		{[]string{"--done", "0"}, "--done 0: want a checklist step number, counting from 1"},
		{[]string{"--field", "cause"}, `--field "cause": want key=value`},
		{[]string{"--link", "ticket:1"}, "--link ticket:1: want alert:ID, event:ID or case:ID"},
		{[]string{"--status", "new"}, "cannot go from in_progress to new"},
		{nil, "nothing to change"},
	} {
		code, _, stderr = runCLI(append([]string{"cases", "update", "-c", cfg, id}, tc.args...)...)
		require.Equal(t, 1, code, tc.args)
		require.Contains(t, stderr, tc.want)
	}
	code, _, stderr = runCLI("cases", "open", "-c", cfg, "--type", "ticket", "--title", "x")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "--type ticket: want one of incident, failure,")
	code, _, stderr = runCLI("cases", "update", "-c", cfg, "FAIL-20990101-NOPE0", "--comment", "x")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "not found")

	// Nothing of the failed attempts was written.
	require.Len(t, showCase(t, cfg, id).Audit, len(c.Audit))
}

func TestCasesChecklistAndRate(t *testing.T) {
	cfg := casesConfig(t)
	// An incident with a checklist, brought in from the old tool.
	line := `{"@timestamp":"2026-10-01T00:00:00Z","id":"INC-20261001-AAAAA","type":"incident","title":"メールが送れない","status":"new",` +
		`"checklist":[{"text":"受付"},{"text":"切り分け"}],"timeline":[{"at":"2026-10-01T00:00:00Z","kind":"created","actor":"old","status":"new"}]}`
	file := filepath.Join(t.TempDir(), "cases.ndjson")
	require.NoError(t, os.WriteFile(file, []byte(line+"\n"), 0o600))
	code, stdout, stderr := runCLI("cases", "import", "-c", cfg, "--actor", "migration", file)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "imported 1 cases\n", stdout)

	id := "INC-20261001-AAAAA"
	code, _, stderr = runCLI("cases", "update", "-c", cfg, "--actor", "sato", id, "--done", "2")
	require.Equal(t, 0, code, stderr)
	c := showCase(t, cfg, id)
	require.False(t, c.Checklist[0].Done)
	require.True(t, c.Checklist[1].Done)
	require.Equal(t, "sato", c.Checklist[1].DoneBy)
	code, _, stderr = runCLI("cases", "update", "-c", cfg, id, "--done", "3")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "--done 3: case "+id+" has 2 checklist steps")

	// Only a closed incident is rated.
	code, _, stderr = runCLI("cases", "rate", "-c", cfg, id, "80", "対応が早かった")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "an incident is rated once it is closed (it is new)")
	code, _, stderr = runCLI("cases", "rate", "-c", cfg, id, "90")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "SCORE 90: want one of 100, 80, 60, 40, 0")

	code, _, stderr = runCLI("cases", "update", "-c", cfg, id, "--status", "closed")
	require.Equal(t, 0, code, stderr)
	code, _, stderr = runCLI("cases", "rate", "-c", cfg, "--actor", "田中", id, "80", "対応が早かった")
	require.Equal(t, 0, code, stderr)
	c = showCase(t, cfg, id)
	require.Equal(t, &casework.Survey{Score: 80, Comment: "対応が早かった", By: "田中", At: c.Survey.At}, c.Survey)
}

func TestCasesImport(t *testing.T) {
	cfg := casesConfig(t)
	good := `{"@timestamp":"2026-09-03T00:30:00Z","id":"INC-20260903-OLD01","type":"incident","title":"共有フォルダに入れない",` +
		`"status":"closed","priority":"p3","reporter":"田中","channel":"phone",` +
		`"timeline":[{"at":"2026-09-03T00:30:00Z","kind":"created","actor":"helpdesk","status":"new"},` +
		`{"at":"2026-09-03T02:30:00Z","kind":"status","actor":"helpdesk","status":"closed"}],` +
		`"comments":[{"at":"2026-09-03T01:30:00Z","author":"helpdesk","text":"権限を付与"}],` +
		`"audit":[{"at":"2026-09-03T00:30:00Z","actor":"helpdesk","field":"case","after":"opened"}]}`
	bad := `{"@timestamp":"2026-09-04T00:30:00Z","id":"INC-20260904-OLD02","type":"incident","title":"t","status":"new"}`
	file := filepath.Join(t.TempDir(), "cases.ndjson")
	require.NoError(t, os.WriteFile(file, []byte(good+"\n"+bad+"\n"), 0o600))
	code, stdout, stderr := runCLI("cases", "import", "-c", cfg, "--actor", "migration", file)
	require.Equal(t, 1, code)
	require.Equal(t, "imported 1 cases\n", stdout)
	require.Contains(t, stderr, `line 2: casework: invalid case: imported case INC-20260904-OLD02 needs a timeline that starts with its "created" entry`)
	require.NotContains(t, stderr, "line 1")

	c := showCase(t, cfg, "INC-20260903-OLD01")
	require.Equal(t, "共有フォルダに入れない", c.Title)
	require.Equal(t, "権限を付与", c.Comments[0].Text)
	require.Len(t, c.Timeline, 2)
	require.Equal(t, casework.Change{At: c.Audit[1].At, Actor: "migration", Field: "case", After: "imported"}, c.Audit[1])

	// Again: the case exists; a line that is not a case names its problem.
	require.NoError(t, os.WriteFile(file, []byte(good+"\n\n{\"id\": \"x\", \"titel\": \"t\"}\n"), 0o600))
	code, stdout, stderr = runCLI("cases", "import", "-c", cfg, file)
	require.Equal(t, 1, code)
	require.Equal(t, "imported 0 cases\n", stdout)
	require.Contains(t, stderr, "line 1: casework: case INC-20260903-OLD01 exists already")
	require.Contains(t, stderr, `line 3: not a case document: json: unknown field "titel"`)
	require.Contains(t, stderr, "2 cases not imported")
}

func TestCasesRequestLogs(t *testing.T) {
	cfg := casesConfig(t)
	code, _, stderr := runCLI("cases", "request-logs", "-c", cfg, "--query", "user.name:田中",
		"--from", "2026-11-20 09:00", "--to", "2026-11-21 09:00", "--format", "xlsx")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "--format xlsx: want ndjson or csv")

	code, _, stderr = runCLI("cases", "request-logs", "-c", cfg, "--from", "20 Nov", "--to", "2026-11-21 09:00", "--format", "csv")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, `--from "20 Nov": want an RFC 3339 time`)

	code, stdout, stderr := runCLI("cases", "request-logs", "-c", cfg, "--actor", "soc-ito", "--requester", "総務課 田中",
		"--query", "user.name:田中", "--from", "2026-11-20 09:00", "--to", "2026-11-21T09:00:00+09:00",
		"--format", "csv", "--columns", "@timestamp, user.name,host.name", "--email", "tanaka@city.example.lg.jp")
	require.Equal(t, 0, code, stderr)
	id := strings.TrimSpace(stdout)
	require.True(t, regexp.MustCompile(`^REQ-\d{8}-[0-9A-Z]{5}$`).MatchString(id), id)
	c := showCase(t, cfg, id)
	require.Equal(t, casework.LogRetrieval, c.Subtype)
	require.Equal(t, "総務課 田中", c.Reporter)
	require.Equal(t, "soc-ito", c.Audit[0].Actor)
	require.Equal(t, map[string]string{
		"query": "user.name:田中", "format": "csv", "from": "2026-11-20T09:00:00+09:00", "to": "2026-11-21T09:00:00+09:00",
		"columns": "@timestamp,user.name,host.name", "email": "tanaka@city.example.lg.jp",
	}, c.Fields)
}

// TestCasesNotify sends a first report from the command line through a real
// SMTP server on loopback, and finds it on the case.
func TestCasesNotify(t *testing.T) {
	relay := smtptest.Start(t, false)
	dir := t.TempDir()
	pw := filepath.Join(dir, "smtp-password")
	require.NoError(t, os.WriteFile(pw, []byte(smtptest.Password), 0o600))
	cfg := filepath.Join(dir, "mamori.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`data_dir: %s
casework:
  notify:
    smtp: {host: 127.0.0.1, port: %d, from: soc@example.lg.jp, username: %s, password_file: smtp-password, insecure: true}
`, filepath.Join(dir, "data"), relay.Port, smtptest.User)), 0o600))
	code, stdout, stderr := runCLI("cases", "open", "-c", cfg, "--type", "failure", "--title", "WAN 回線断", "--channel", "monitoring")
	require.Equal(t, 0, code, stderr)
	id := strings.TrimSpace(stdout)

	code, _, stderr = runCLI("cases", "notify", "-c", cfg, id, "--kind", "sla_breach", "--to", "ops@example.lg.jp")
	require.NotEqual(t, 0, code)
	require.Contains(t, stderr, `--kind "sla_breach": want one of acknowledgement, first_report, progress_report`)

	code, stdout, stderr = runCLI("cases", "notify", "-c", cfg, id, "--kind", "first_report", "--to", "ops@example.lg.jp", "--message", "回線事業者に確認中")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "first_report sent: email to ops@example.lg.jp")
	require.Len(t, relay.Messages(), 1)
	text, err := relay.Messages()[0].Text()
	require.NoError(t, err)
	require.Contains(t, text, "回線事業者に確認中")
	c := showCase(t, cfg, id)
	require.True(t, slices.ContainsFunc(c.Timeline, func(e casework.Entry) bool {
		return e.Kind == "notification" && e.Notification == "first_report"
	}), "on the case")
}
