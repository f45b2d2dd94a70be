package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/dashboards/api"
)

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestDispatch(t *testing.T) {
	code, _, stderr := runCLI()
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "Commands:")

	code, _, stderr = runCLI("frobnicate")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, `unknown command "frobnicate"`)

	code, stdout, _ := runCLI("config", "check", "-c", "../../config.example.yaml")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "configuration is valid")

	code, _, stderr = runCLI("search", "-c", "../../config.example.yaml", "user.name:(tanaka")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "kql:")
}

func TestTokenNewPrintsAMatchingHash(t *testing.T) {
	code, stdout, _ := runCLI("token", "new", "--name", "alice", "--role", "analyst")
	require.Equal(t, 0, code)
	tok := regexp.MustCompile(`mamori_[A-Za-z0-9_-]{43}`).FindString(stdout)
	require.NotEmpty(t, tok)
	require.Contains(t, stdout, "sha256: "+api.HashToken(tok), "the configuration line matches the token")
	require.Contains(t, stdout, "role: analyst")

	code, stdout, _ = runCLI("token", "new", "--name", "wec01", "--role", "ingest")
	require.Equal(t, 0, code)
	tok = regexp.MustCompile(`mamori_[A-Za-z0-9_-]{43}`).FindString(stdout)
	require.Contains(t, stdout, "ingest.http.tokens")
	require.Contains(t, stdout, "sha256: "+api.HashToken(tok))
	require.NotContains(t, stdout, "role:", "HTTP edge tokens have no role")

	code, _, stderr := runCLI("token", "new", "--name", "bob", "--role", "root")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, `--role "root"`)
}

func TestRulesValidate(t *testing.T) {
	code, stdout, stderr := runCLI("rules", "validate", "../../detections/sigma/testdata/rules")
	require.Equal(t, 1, code)
	require.Contains(t, stdout, "ok     7c1d2a0e-3f5b-4b8e-9a61-0d6f4c2b9e10  Remote interactive logon by a Japanese-named account (sigma, low)")
	require.Contains(t, stdout, "(sigma event_count, high)", "correlations load")
	require.Contains(t, stdout, `modifier "soundex"`, "each rule that does not load says why")
	require.Contains(t, stderr, "1 rule files or rules do not load")

	dir := t.TempDir()
	rule, err := os.ReadFile("../../detections/sigma/testdata/rules/linux/lnx_sshd_failed_password.yml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mine.yml"), rule, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "native.yaml"), []byte(nativeRule), 0o600))
	code, stdout, _ = runCLI("rules", "validate", dir)
	require.Equal(t, 0, code, stdout)
	require.Contains(t, stdout, "2 rules load, 0 do not")

	code, _, _ = runCLI("rules", "check", dir)
	require.Equal(t, 2, code)
}

const nativeRule = `id: org.vpn.night
name: VPN logon at night
version: 1
description: A VPN logon between 22:00 and 05:00.
severity: medium
kind: off_hours
query: 'event.dataset:vpn.log and event.outcome:success'
off_hours: {night: "22:00-05:00"}
`

func TestRulesTest(t *testing.T) {
	code, stdout, _ := runCLI("rules", "test")
	require.Equal(t, 0, code, stdout)
	require.Regexp(t, `12 test files, \d+ cases: \d+ passed, 0 failed`, stdout, "the built-in pack passes its own tests")

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "native.yaml"), []byte(nativeRule), 0o600))
	test := `rule: org.vpn.night
defaults: {event.dataset: vpn.log, event.outcome: success, user.name: 田中}
cases:
  - name: 23:00 in Tokyo
    events: [{"@timestamp": "2026-11-24T23:00:00+09:00"}]
    expect: [{count: 1, user: 田中}]
  - name: noon (wrongly expected to alert)
    events: [{"@timestamp": "2026-11-24T12:00:00+09:00"}]
    expect: [{count: 1}]
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "native.test.yaml"), []byte(test), 0o600))
	code, stdout, _ = runCLI("rules", "test", dir)
	require.Equal(t, 1, code, stdout)
	require.Contains(t, stdout, "noon (wrongly expected to alert)")
	require.Contains(t, stdout, "1 passed, 1 failed")
}
