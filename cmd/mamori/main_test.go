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
	require.Contains(t, stdout, "ok     windows/win_security_rdp_logon_ja_user.yml")
	require.Contains(t, stdout, `modifier "soundex"`, "each rule that does not load says why")
	require.Contains(t, stdout, "correlation rules are not supported yet")
	require.Contains(t, stderr, "2 of 4 rule files do not load")

	dir := t.TempDir()
	rule, err := os.ReadFile("../../detections/sigma/testdata/rules/linux/lnx_sshd_failed_password.yml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mine.yml"), rule, 0o600))
	code, stdout, _ = runCLI("rules", "validate", dir)
	require.Equal(t, 0, code, stdout)
	require.Contains(t, stdout, "1 rules load, 0 do not")

	code, _, _ = runCLI("rules", "check", dir)
	require.Equal(t, 2, code)
}
