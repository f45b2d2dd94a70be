//go:build integration

package main_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/bus/journal"
	"github.com/mamori-soc/mamori/internal/testpki"
)

// TestIntegrationEndToEnd runs the real binary: syslog from util-linux logger
// (RFC 5424 and RFC 3164, UDP and TCP) and from Go over TLS must be
// searchable with the right ECS fields, survive a restart, and survive a
// kill -9 mid-stream without loss of journaled records or duplicates.
func TestIntegrationEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("logger"); err != nil {
		t.Fatal("util-linux logger is required (apt-get install bsdutils)")
	}
	bin := buildMamori(t)
	dir := t.TempDir()
	pki := testpki.New(t, "localhost", "e2e")
	certFile, keyFile, pool := pki.CertFile, pki.KeyFile, pki.Pool
	token := "e2e-test-token-" + fmt.Sprint(time.Now().UnixNano())
	cfgPath := filepath.Join(dir, "mamori.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf(`
data_dir: %s
log: {level: info, format: json}
ingest:
  syslog:
    batch: {max_records: 200, max_wait: 50ms}
    listeners:
      - {name: udp, protocol: udp, address: "127.0.0.1:0"}
      - {name: tcp, protocol: tcp, address: "127.0.0.1:0"}
      - {name: tls, protocol: tls, address: "127.0.0.1:0", tls: {cert_file: %s, key_file: %s}}
parse:
  # logger writes RFC 3164 stamps in this machine's zone.
  syslog: {location: Local}
api:
  listen: "127.0.0.1:0"
  tokens: [{name: e2e, role: viewer, sha256: %s}]
`, filepath.Join(dir, "data"), certFile, keyFile, sha(token))), 0o600))

	m := start(t, bin, cfgPath)
	hostname, _ := os.Hostname()
	udp, tcp, tlsAddr := m.addr(t, "udp"), m.addr(t, "tcp"), m.addr(t, "tls")
	loggerSend(t, "--rfc5424", "-n", host(udp), "-P", port(udp), "-d", "-t", "e2eapp", "-p", "auth.warning", "e2e-udp-5424 ログイン失敗 ユーザー 田中")
	loggerSend(t, "--rfc3164", "-n", host(udp), "-P", port(udp), "-d", "-t", "e2eapp", "-p", "daemon.info", "e2e-udp-3164 cron ran")
	loggerSend(t, "--rfc5424", "-n", host(tcp), "-P", port(tcp), "-T", "--octet-count", "-t", "e2eapp", "-p", "local3.err", "e2e-tcp-5424 octet counted")
	loggerSend(t, "--rfc3164", "-n", host(tcp), "-P", port(tcp), "-T", "-t", "e2eapp", "-p", "user.notice", "e2e-tcp-3164 newline framed")
	sendTLS(t, tlsAddr, pool, fmt.Sprintf("<86>1 %s %s e2eapp 4242 ID47 - e2e-tls-5424 over TLS", time.Now().UTC().Format(time.RFC3339Nano), hostname))

	type want struct{ marker, transport, severity string }
	wants := []want{
		{"e2e-udp-5424", "udp", "Warning"},
		{"e2e-udp-3164", "udp", "Informational"},
		{"e2e-tcp-5424", "tcp", "Error"},
		{"e2e-tcp-3164", "tcp", "Notice"},
		{"e2e-tls-5424", "tcp", "Informational"},
	}
	check := func() {
		for _, w := range wants {
			docs := waitFor(t, bin, cfgPath, fmt.Sprintf(`message:"%s"`, w.marker), 1)
			d := docs[0]
			require.Equal(t, "e2eapp", get(d, "log.syslog.appname"), w.marker)
			require.Equal(t, "e2eapp", get(d, "process.name"), w.marker)
			require.Equal(t, hostname, get(d, "host.hostname"), w.marker)
			require.Equal(t, w.transport, get(d, "network.transport"), w.marker)
			require.Equal(t, w.severity, get(d, "log.syslog.severity.name"), w.marker)
			require.NotEmpty(t, get(d, "event.original"), w.marker)
			require.NotEmpty(t, get(d, "event.id"), w.marker)
		}
		jp := waitFor(t, bin, cfgPath, `message:"ログイン失敗"`, 1)
		require.Contains(t, get(jp[0], "message"), "ログイン失敗 ユーザー 田中")
	}
	check()

	// The JSON API answers with a token and refuses without one.
	api := "http://" + m.addr(t, "api") + "/api/v1/events/search?q=" + "message:e2e&from=now-1h"
	resp, err := http.Get(api)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	req, _ := http.NewRequest("GET", api, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	var body struct{ Total int64 }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.GreaterOrEqual(t, body.Total, int64(5))

	// Binary, oversize and header-less junk land whole in the DLQ with a
	// readable error; replay works while mamori run holds the stage groups.
	u, err := net.Dial("udp", udp)
	require.NoError(t, err)
	_, err = u.Write([]byte("\xff\xfe\x00\x01\x02 binary junk"))
	require.NoError(t, err)
	u.Close()
	big := fmt.Sprintf("<13>1 2026-11-26T00:00:00Z host app - - - %s", strings.Repeat("x", 70000))
	c, err := net.Dial("tcp", tcp)
	require.NoError(t, err)
	_, err = fmt.Fprintf(c, "%d %s", len(big), big)
	require.NoError(t, err)
	c.Close()
	letters := waitDLQ(t, bin, cfgPath, 2)
	require.Contains(t, letters[0]["error"]+letters[1]["error"], "not UTF-8 or Shift_JIS text")
	require.Contains(t, letters[0]["error"]+letters[1]["error"], "exceeds the listener's max_message_size")
	out, err := exec.Command(bin, "dlq", "replay", "-c", cfgPath).CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "replayed 2 dead letters")
	waitDLQ(t, bin, cfgPath, 4) // they fail again, and say so again

	// A clean restart keeps everything.
	m.stop(t)
	m = start(t, bin, cfgPath)
	check()

	// kill -9 in the middle of a stream: nothing that reached the journal is
	// lost, nothing is duplicated.
	conn, err := net.Dial("tcp", m.addr(t, "tcp"))
	require.NoError(t, err)
	var sent int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w := bufio.NewWriter(conn)
		for i := range 50000 {
			msg := fmt.Sprintf("<13>1 %s %s e2eapp - - - e2e-kill seq=%d", time.Now().UTC().Format(time.RFC3339Nano), hostname, i)
			if _, err := fmt.Fprintf(w, "%d %s", len(msg), msg); err != nil {
				return
			}
			if i%100 == 99 {
				if w.Flush() != nil {
					return
				}
			}
			sent = i + 1
		}
		_ = w.Flush()
	}()
	waitFor(t, bin, cfgPath, `message:"e2e-kill"`, 1) // the stream is flowing through every stage
	require.NoError(t, m.cmd.Process.Signal(syscall.SIGKILL))
	_ = m.cmd.Wait()
	conn.Close()
	wg.Wait()

	journaled := journaledSeqs(t, filepath.Join(dir, "data", "journal.db"))
	require.NotEmpty(t, journaled)
	t.Logf("sent %d, journaled %d before kill -9", sent, len(journaled))

	m = start(t, bin, cfgPath)
	docs := waitFor(t, bin, cfgPath, `message:"e2e-kill"`, len(journaled))
	seen := map[int]int{}
	for _, d := range docs {
		var seq int
		_, err := fmt.Sscanf(get(d, "message"), "e2e-kill seq=%d", &seq)
		require.NoError(t, err)
		seen[seq]++
	}
	for seq := range journaled {
		require.Equal(t, 1, seen[seq], "seq %d reached the journal: it must be stored exactly once", seq)
	}
	require.Len(t, seen, len(journaled), "nothing beyond what was journaled")
	m.stop(t)
}

func buildMamori(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mamori")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

type instance struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	addrs map[string]string
	logs  strings.Builder
}

// start runs `mamori run` (with extra flags) and waits until it reports
// that it runs, every listener and the API having logged their addresses.
func start(t *testing.T, bin, cfg string, extra ...string) *instance {
	t.Helper()
	m := &instance{addrs: map[string]string{}}
	m.cmd = exec.Command(bin, append([]string{"run", "-c", cfg}, extra...)...)
	stderr, err := m.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, m.cmd.Start())
	ready, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			var rec map[string]any
			line := sc.Text()
			m.mu.Lock()
			m.logs.WriteString(line + "\n")
			if json.Unmarshal([]byte(line), &rec) == nil {
				if name, ok := rec["listener"].(string); ok && rec["msg"] == "listener ready" {
					m.addrs[name] = rec["address"].(string)
				}
				if rec["msg"] == "api ready" {
					m.addrs["api"] = rec["address"].(string)
				}
				if rec["msg"] == "mamori running" {
					once.Do(func() { close(ready) })
				}
			}
			m.mu.Unlock()
		}
	}()
	select {
	case <-ready:
	case <-exited:
		t.Fatalf("mamori run stopped before it ran; its log:\n%s", m.log())
	case <-time.After(60 * time.Second):
		_ = m.cmd.Process.Kill()
		t.Fatalf("mamori run did not start; its log:\n%s", m.log())
	}
	t.Cleanup(func() {
		if m.cmd.ProcessState == nil {
			_ = m.cmd.Process.Kill()
			_ = m.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("mamori log:\n%s", m.log())
		}
	})
	return m
}

func (m *instance) log() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.logs.String()
}

func (m *instance) addr(t *testing.T, name string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.addrs[name]
	require.True(t, ok, "no address logged for %s", name)
	return a
}

func (m *instance) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, m.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, m.cmd.Wait(), "a clean stop exits 0")
}

func loggerSend(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("logger", args...).CombinedOutput()
	require.NoError(t, err, string(out))
}

func sendTLS(t *testing.T, addr string, pool *x509.CertPool, msg string) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	_, err = fmt.Fprintf(conn, "%d %s", len(msg), msg)
	require.NoError(t, err)
	require.NoError(t, conn.Close())
}

// waitFor polls `mamori search` (or, for more than one page, `mamori
// export`) until at least n documents match, and returns them. It fails after
// a generous bound.
func waitFor(t *testing.T, bin, cfg, query string, n int) []map[string]any {
	t.Helper()
	return waitForIn(t, bin, cfg, query, n, "now-2d", "now+2d")
}

// waitForIn is waitFor over the given time range.
func waitForIn(t *testing.T, bin, cfg, query string, n int, from, to string) []map[string]any {
	t.Helper()
	var docs []map[string]any
	args := []string{"search", "-c", cfg, query, "--from", from, "--to", to, "--output", "ndjson", "--size", "100"}
	if n > 100 {
		args = []string{"export", "-q", "-c", cfg, query, "--from", from, "--to", to}
	}
	for range 240 {
		out, err := exec.Command(bin, args...).Output()
		if err == nil {
			docs = docs[:0]
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				if line == "" {
					continue
				}
				var d map[string]any
				require.NoError(t, json.Unmarshal([]byte(line), &d), line)
				docs = append(docs, d)
			}
			if len(docs) >= n {
				return docs
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("query %s: found %d documents, want %d", query, len(docs), n)
	return nil
}

// waitDLQ polls `mamori dlq list` until it shows at least n dead letters.
func waitDLQ(t *testing.T, bin, cfg string, n int) []map[string]string {
	t.Helper()
	var letters []map[string]string
	for range 240 {
		out, err := exec.Command(bin, "dlq", "list", "-c", cfg, "--output", "ndjson").Output()
		require.NoError(t, err)
		letters = letters[:0]
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if line == "" {
				continue
			}
			var l map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &l), line)
			letters = append(letters, map[string]string{"error": fmt.Sprint(l["error"]), "stage": fmt.Sprint(l["stage"])})
		}
		if len(letters) >= n {
			return letters
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("dlq shows %d dead letters, want %d", len(letters), n)
	return nil
}

// get reads a dotted field from a nested or dotted ECS document.
func get(d map[string]any, field string) string {
	if v, ok := d[field]; ok {
		return fmt.Sprint(v)
	}
	parts := strings.Split(field, ".")
	var cur any = d
	for _, p := range parts {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[p]
	}
	if cur == nil {
		return ""
	}
	return fmt.Sprint(cur)
}

var seqRe = regexp.MustCompile(`e2e-kill seq=(\d+)`)

// journaledSeqs reads the raw syslog topic of the journal directly.
func journaledSeqs(t *testing.T, path string) map[int]bool {
	t.Helper()
	ctx := context.Background()
	j, err := journal.Open(path, journal.Options{})
	require.NoError(t, err)
	defer j.Close()
	n, err := j.Partitions(ctx, bus.TopicRawSyslog)
	require.NoError(t, err)
	out := map[int]bool{}
	for p := range n {
		off := bus.OffsetOldest
		for {
			recs, err := j.Read(ctx, bus.TopicRawSyslog, p, off, 1000)
			require.NoError(t, err)
			if len(recs) == 0 {
				break
			}
			for _, r := range recs {
				if m := seqRe.FindSubmatch(r.Value); m != nil {
					var seq int
					fmt.Sscan(string(m[1]), &seq)
					require.False(t, out[seq], "seq %d journaled twice", seq)
					out[seq] = true
				}
			}
			off = recs[len(recs)-1].Offset + 1
		}
	}
	return out
}

func host(addr string) string { h, _, _ := net.SplitHostPort(addr); return h }
func port(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }

func sha(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
