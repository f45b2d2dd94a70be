//go:build integration

package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/ledger"
	"github.com/mamori-soc/mamori/casework/ledger/ledgertest"
	"github.com/mamori-soc/mamori/casework/logexport"
	"github.com/mamori-soc/mamori/casework/sla"
	"github.com/mamori-soc/mamori/internal/smtptest"
	"github.com/mamori-soc/mamori/internal/testpki"
)

// caseworkRig is a Mamori deployment under the casework acceptance test: a
// loopback SMTP server, API tokens for a requester (sato), another viewer
// (yamada), an analyst and an admin, and the detection story to tell.
type caseworkRig struct {
	bin, cfgPath string
	dir          string
	pki          testpki.PKI
	ingestToken  string
	tokens       map[string]string // by name
	mail         *smtptest.Server
	story        detectionStory
}

// bruteForceRunbook is the runbook of the brute-force rule the story
// triggers.
const bruteForceRunbook = `# 総当たり攻撃への対応

1. 対象アカウントの直近のログオン元を確認する
2. 利用者本人に連絡し、心当たりを確認する
3. 必要ならパスワードをリセットし、アカウントをロックする
`

// newCaseworkRig writes the configuration: backend is the bus and store
// part (empty: the embedded default).
func newCaseworkRig(t *testing.T, bin, backend string) *caseworkRig {
	t.Helper()
	dir := t.TempDir()
	r := &caseworkRig{
		bin: bin, dir: dir, pki: testpki.New(t, "mamori ingest", "wec01"),
		ingestToken: fmt.Sprint("wec-token-", time.Now().UnixNano()),
		tokens:      map[string]string{},
		mail:        smtptest.Start(t, true),
		story:       newDetectionStory(t),
	}
	var tokens []string
	for name, role := range map[string]string{"sato": "viewer", "yamada": "viewer", "analyst": "analyst", "kanri": "admin"} {
		r.tokens[name] = fmt.Sprintf("%s-token-%d", name, time.Now().UnixNano())
		tokens = append(tokens, fmt.Sprintf("{name: %s, role: %s, sha256: %s}", name, role, sha(r.tokens[name])))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "runbooks"), 0o750))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "runbooks", "mamori.win.brute_force_account.md"), []byte(bruteForceRunbook), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "smtp-password"), []byte(smtptest.Password+"\n"), 0o600))
	r.cfgPath = filepath.Join(dir, "mamori.yaml")
	require.NoError(t, os.WriteFile(r.cfgPath, []byte(fmt.Sprintf(`
data_dir: %s
log: {level: info, format: json}
%s
ingest:
  syslog:
    listeners: [{name: udp, protocol: udp, address: "127.0.0.1:0"}]
  http:
    address: "127.0.0.1:0"
    tls: {cert_file: %s, key_file: %s}
    tokens: [{name: wec01, sha256: %s}]
api:
  listen: "127.0.0.1:0"
  tokens: [%s]
casework:
  runbooks_dir: runbooks
  sweep_interval: 1s
  notify:
    smtp:
      host: 127.0.0.1
      port: %d
      from: "Mamori SOC <soc@example.lg.jp>"
      username: %s
      password_file: smtp-password
      start_tls: true
      ca_file: %s
      timeout: 10s
    signature: 情報政策課 セキュリティ運用チーム（内線 1234）
  sla_notices: {to: [soc-lead@example.lg.jp], lang: ja}
`, filepath.Join(dir, "data"), backend, r.pki.CertFile, r.pki.KeyFile, sha(r.ingestToken),
		strings.Join(tokens, ", "), r.mail.Port, smtptest.User, r.mail.CAFile)), 0o600))
	return r
}

// importScriptedMonth stores the scripted October through `mamori cases
// import`, as cases migrated from the previous ticketing tool.
func (r *caseworkRig) importScriptedMonth(t *testing.T) {
	t.Helper()
	cal, err := calendar.New(calendar.Config{})
	require.NoError(t, err)
	var buf bytes.Buffer
	cases := ledgertest.Cases(cal)
	for _, c := range cases {
		require.NoError(t, json.NewEncoder(&buf).Encode(c))
	}
	cmd := exec.Command(r.bin, "cases", "import", "-c", r.cfgPath, "--actor", "migration", "-")
	cmd.Stdin = &buf
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), fmt.Sprintf("imported %d cases", len(cases)))
}

// send sends a request to the API with the token and returns the status
// and body.
func send(t *testing.T, api, token, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+api+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// call is send, decoding a successful JSON answer into out (when not nil).
func call(t *testing.T, api, token, method, path string, body any, out any) int {
	t.Helper()
	status, b := send(t, api, token, method, path, body)
	if out != nil && status < 300 {
		require.NoError(t, json.Unmarshal(b, out), string(b))
	}
	return status
}

// waitMail waits for a message to rcpt whose subject contains every part.
func (r *caseworkRig) waitMail(t *testing.T, rcpt string, parts ...string) smtptest.Message {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		for _, m := range r.mail.Messages() {
			subject, err := m.Subject()
			require.NoError(t, err)
			if slices.Contains(m.To, rcpt) && !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(subject, p) }) {
				return m
			}
		}
		if time.Now().After(deadline) {
			var got []string
			for _, m := range r.mail.Messages() {
				s, _ := m.Subject()
				got = append(got, fmt.Sprint(m.To, " ", s))
			}
			t.Fatalf("no message to %s about %q; the server has:\n%s", rcpt, parts, strings.Join(got, "\n"))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// getCase reads a case through the API.
func (r *caseworkRig) getCase(t *testing.T, api, id string) casework.Case {
	t.Helper()
	var resp struct{ Case casework.Case }
	require.Equal(t, http.StatusOK, call(t, api, r.tokens["analyst"], "GET", "/api/v1/cases/"+id, nil, &resp))
	return resp.Case
}

// check runs the acceptance on a running deployment whose API is at api
// and whose HTTPS edge is at edge.
func (r *caseworkRig) check(t *testing.T, api, edge string) {
	s := r.story
	s.post(t, edge, r.pki, r.ingestToken)
	s.stored(t, r.bin, r.cfgPath)
	s.waitAlerts(t, r.bin, r.cfgPath)
	s.waitCases(t, r.bin, r.cfgPath)

	// 1. The brute-force alert's case carries its runbook as a checklist.
	var list struct {
		Hits []struct {
			ID     string
			Source casework.Case
		}
	}
	q := url.Values{"query": {"type:security_incident"}, "from": {s.from}, "to": {s.to}, "size": {"100"}}
	require.Equal(t, http.StatusOK, call(t, api, r.tokens["analyst"], "GET", "/api/v1/cases?"+q.Encode(), nil, &list))
	var bruteForce casework.Case
	for _, h := range list.Hits {
		if strings.Contains(h.Source.Title, "Repeated failed logons for one account: user suzuki") {
			bruteForce = r.getCase(t, api, h.ID)
		}
	}
	require.NotEmpty(t, bruteForce.ID, "the brute-force case")
	require.Equal(t, "mamori.win.brute_force_account", bruteForce.Runbook)
	require.Equal(t, []string{"対象アカウントの直近のログオン元を確認する", "利用者本人に連絡し、心当たりを確認する", "必要ならパスワードをリセットし、アカウントをロックする"},
		stepTexts(bruteForce.Checklist))

	// 2. The clocks run: an incident phoned in 30 minutes ago that nobody
	// acknowledged breaches its 10-minute clock, and the breach notice
	// reaches the SOC lead by e-mail, over STARTTLS, and is on the case.
	var opened struct{ Case casework.Case }
	require.Equal(t, http.StatusCreated, call(t, api, r.tokens["analyst"], "POST", "/api/v1/cases", map[string]any{
		"type": "incident", "title": "窓口PCからメールが送れない", "reporter": "田中", "channel": "phone",
		"@timestamp": time.Now().Add(-30 * time.Minute).UTC().Format(time.RFC3339),
	}, &opened))
	inc := opened.Case.ID
	m := r.waitMail(t, "soc-lead@example.lg.jp", "SLA違反", inc)
	require.True(t, m.TLS, "sent over STARTTLS")
	require.Equal(t, smtptest.User, m.AuthUser)
	body, err := m.Text()
	require.NoError(t, err)
	for _, want := range []string{"incident_acknowledgement_phone", "案件番号: " + inc, "窓口PCからメールが送れない", "情報政策課 セキュリティ運用チーム（内線 1234）"} {
		require.Contains(t, body, want)
	}
	require.Eventually(t, func() bool {
		c := r.getCase(t, api, inc)
		return slices.ContainsFunc(c.Timeline, func(e casework.Entry) bool {
			return e.Kind == "notification" && e.Notification == "sla_breach" && strings.Contains(e.Detail, "soc-lead@example.lg.jp")
		}) && slices.ContainsFunc(c.Timeline, func(e casework.Entry) bool {
			return e.Kind == "sla" && strings.HasPrefix(e.Detail, "breach incident_acknowledgement_phone")
		})
	}, 30*time.Second, 500*time.Millisecond, "the breach and its notice are on the case")

	// The analyst then acknowledges the incident from the case: the notice
	// reaches the reporter and stops the clock.
	var rec struct{ Channel, Subject string }
	require.Equal(t, http.StatusCreated, call(t, api, r.tokens["analyst"], "POST", "/api/v1/cases/"+inc+"/notifications", map[string]any{
		"kind": "acknowledgement", "to": []string{"tanaka@example.lg.jp"}, "message": "担当の鈴木が折り返しご連絡します。",
	}, &rec))
	ack := r.waitMail(t, "tanaka@example.lg.jp", inc)
	ackText, err := ack.Text()
	require.NoError(t, err)
	require.Contains(t, ackText, "担当の鈴木が折り返しご連絡します。")
	require.True(t, slices.ContainsFunc(r.getCase(t, api, inc).Timeline, func(e casework.Entry) bool {
		return e.Kind == "notification" && e.Notification == "acknowledgement"
	}))

	// 3. A log-retrieval request, filed by sato with a viewer token, is
	// fulfilled within a few sweeps; only sato and the admin may download
	// it, and the downloaded files verify against their checksums and the
	// custody record on the case.
	query := `event.code:4625 and user.name:suzuki`
	want := len(waitForIn(t, r.bin, r.cfgPath, query, 1, s.from, s.to))
	var filed struct{ Case casework.Case }
	require.Equal(t, http.StatusCreated, call(t, api, r.tokens["sato"], "POST", "/api/v1/log-requests", map[string]any{
		"query": query, "from": s.from, "to": s.to, "format": "csv", "email": "sato@example.lg.jp",
	}, &filed))
	req := filed.Case.ID
	require.Equal(t, "sato", filed.Case.Reporter)
	var export struct {
		Files    []string
		Manifest logexport.Manifest
	}
	require.Eventually(t, func() bool {
		return call(t, api, r.tokens["sato"], "GET", "/api/v1/cases/"+req+"/export", nil, &export) == http.StatusOK
	}, 60*time.Second, 500*time.Millisecond, "the request is fulfilled")
	require.Equal(t, int64(want), export.Manifest.Events)
	got := t.TempDir()
	for _, f := range export.Files {
		b := download(t, api, r.tokens["sato"], req, f, http.StatusOK)
		require.NoError(t, os.WriteFile(filepath.Join(got, f), b, 0o600))
	}
	require.NoError(t, logexport.Verify(got), "the delivered files match their checksums")
	download(t, api, r.tokens["yamada"], req, logexport.ManifestFile, http.StatusForbidden)
	download(t, api, r.tokens["analyst"], req, logexport.ManifestFile, http.StatusForbidden)
	download(t, api, r.tokens["kanri"], req, logexport.ManifestFile, http.StatusOK)

	delivered := r.getCase(t, api, req)
	require.Equal(t, casework.Resolved, delivered.Status)
	require.Len(t, delivered.Exports, 1)
	require.NoError(t, delivered.Exports[0].Check(got), "the files are those the custody record names")
	cal, err := calendar.New(calendar.Config{})
	require.NoError(t, err)
	provision, _ := delivered.Clock(sla.Defaults(), "log_provision", time.Now(), cal)
	require.Equal(t, sla.Met, provision.State, "the delivery stopped the 4-hour clock")
	i := slices.IndexFunc(delivered.Timeline, func(e casework.Entry) bool { return e.Kind == "notification" && e.Notification == "log_delivery" })
	require.GreaterOrEqual(t, i, 0)
	require.Less(t, delivered.Timeline[i].At.Sub(delivered.Timestamp), 2*time.Minute, "delivered in minutes, not hours")
	notice := r.waitMail(t, "sato@example.lg.jp", "ログ提供のお知らせ", req)
	text, err := notice.Text()
	require.NoError(t, err)
	require.Contains(t, text, export.Manifest.File.SHA256)
	require.Contains(t, text, fmt.Sprintf("件数: %d 件", want))

	// 4. The periods' duties are open, once, with their clocks.
	start, title, _ := casework.DutyPeriod("monthly_report", time.Now(), cal)
	require.Eventually(t, func() bool {
		var d struct{ Case casework.Case }
		return call(t, api, r.tokens["analyst"], "GET", "/api/v1/cases/"+casework.DutyCaseID("monthly_report", start), nil, &d) == http.StatusOK &&
			d.Case.Title == title
	}, 30*time.Second, 500*time.Millisecond, "this month's report is a duty case")

	// 5. The scripted month's ledger, through the API and the CLI.
	var l ledger.Ledger
	require.Equal(t, http.StatusOK, call(t, api, r.tokens["yamada"], "GET", "/api/v1/reports/sla?month="+ledgertest.Month, nil, &l))
	ledgertest.Check(t, l, true)
	out, err := exec.Command(r.bin, "report", "sla", "-c", r.cfgPath, "--month", ledgertest.Month, "--json").Output()
	require.NoError(t, err)
	var cli ledger.Ledger
	require.NoError(t, json.Unmarshal(out, &cli))
	ledgertest.Check(t, cli, true)
}

func stepTexts(steps []casework.Step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.Text)
	}
	return out
}

// download fetches one file of a case's export as token and requires the
// status.
func download(t *testing.T, api, token, id, file string, status int) []byte {
	t.Helper()
	got, b := send(t, api, token, "GET", "/api/v1/cases/"+id+"/export/"+file, nil)
	require.Equal(t, status, got, string(b))
	return b
}

// TestIntegrationCasework is the casework acceptance on the embedded
// default: one `mamori run`.
func TestIntegrationCasework(t *testing.T) {
	bin := buildMamori(t)
	r := newCaseworkRig(t, bin, "")
	r.importScriptedMonth(t)
	m := start(t, bin, r.cfgPath)
	r.check(t, m.addr(t, "api"), m.addr(t, "http"))
	m.stop(t)
}

// TestKafkaElasticsearchCasework is the same acceptance on Kafka and the
// search node, the roles spread over three processes as in production: the
// edge, the detect stage, and the indexer with casework and the API.
func TestKafkaElasticsearchCasework(t *testing.T) {
	bootstrap := kafkaBootstrap(t)
	esURL := searchURL(t)
	bin := buildMamori(t)
	run := fmt.Sprint("cw", time.Now().UnixNano())
	r := newCaseworkRig(t, bin, fmt.Sprintf(`bus:
  kafka: {brokers: [%q], partitions: 3, namespace: %s}
store:
  elasticsearch: {addresses: [%q], compat: opensearch, namespace: %s, replicas: 0}`, bootstrap, run, esURL, run))
	r.importScriptedMonth(t)
	edge := start(t, bin, r.cfgPath, "--stages", "ingest,parse")
	core := start(t, bin, r.cfgPath, "--stages", "index,casework,api")
	detect := start(t, bin, r.cfgPath, "--stages", "detect")
	r.check(t, core.addr(t, "api"), edge.addr(t, "http"))
	for _, m := range []*instance{detect, edge, core} {
		m.stop(t)
	}
}
