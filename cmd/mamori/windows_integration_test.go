//go:build integration

package main_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/unicode"

	"github.com/mamori-soc/mamori/demo"
	"github.com/mamori-soc/mamori/internal/testpki"
)

// windowsStory is one small incident told in two shipping formats:
// Winlogbeat JSON (as output.kafka writes it) from a desktop where tanaka
// fails once, logs on at the console and logs off 20 minutes later; and
// Event XML (as wevtutil writes it, UTF-16 with a byte order mark) from a
// file server where 田中 logs on over RDP and is still there.
type windowsStory struct {
	t0         time.Time
	winlogbeat [][]byte // one JSON document each
	eventXML   []byte   // the body of one POST
}

func newWindowsStory(t *testing.T) windowsStory {
	t.Helper()
	t0 := time.Now().UTC().Add(-40 * time.Minute).Truncate(time.Second)
	s := windowsStory{t0: t0}
	const pc = "PC-SOUMU-01.city.example.lg.jp"
	s.winlogbeat = [][]byte{
		demo.WinlogbeatEvent(t0.Add(-time.Minute), pc, 4625, 9101, "Logon", "failure", map[string]string{
			"SubjectUserSid": "S-1-5-18", "SubjectUserName": "PC-SOUMU-01$", "SubjectDomainName": "CITY", "SubjectLogonId": "0x3e7",
			"TargetUserSid": "S-1-0-0", "TargetUserName": "tanaka", "TargetDomainName": "CITY",
			"Status": "0xc000006d", "FailureReason": "%%2313", "SubStatus": "0xc000006a", "LogonType": "2",
			"LogonProcessName": "User32 ", "AuthenticationPackageName": "Negotiate", "WorkstationName": "PC-SOUMU-01",
			"IpAddress": "127.0.0.1", "IpPort": "0",
		}),
		demo.WinlogbeatEvent(t0, pc, 4624, 9102, "Logon", "success", map[string]string{
			"SubjectUserSid": "S-1-5-18", "SubjectUserName": "PC-SOUMU-01$", "SubjectDomainName": "CITY", "SubjectLogonId": "0x3e7",
			"TargetUserSid": "S-1-5-21-3623811015-3361044348-30300820-1101", "TargetUserName": "tanaka", "TargetDomainName": "CITY",
			"TargetLogonId": "0x5a1f01", "LogonType": "2", "LogonProcessName": "User32 ", "AuthenticationPackageName": "Negotiate",
			"WorkstationName": "PC-SOUMU-01", "IpAddress": "127.0.0.1", "IpPort": "0", "TargetLinkedLogonId": "0x0",
			"ElevatedToken": "%%1843",
		}),
		demo.WinlogbeatEvent(t0.Add(20*time.Minute), pc, 4634, 9150, "Logoff", "success", map[string]string{
			"TargetUserSid": "S-1-5-21-3623811015-3361044348-30300820-1101", "TargetUserName": "tanaka", "TargetDomainName": "CITY",
			"TargetLogonId": "0x5a1f01", "LogonType": "2",
		}),
	}
	var doc strings.Builder
	doc.WriteString(eventXML(t0.Add(5*time.Minute), "FS01.city.example.lg.jp", 4624, 771201, map[string]string{
		"SubjectUserSid": "S-1-5-18", "SubjectUserName": "FS01$", "SubjectDomainName": "CITY", "SubjectLogonId": "0x3e7",
		"TargetUserSid": "S-1-5-21-3623811015-3361044348-30300820-1202", "TargetUserName": "田中", "TargetDomainName": "CITY",
		"TargetLogonId": "0x77aa01", "LogonType": "10", "LogonProcessName": "User32 ", "AuthenticationPackageName": "Negotiate",
		"WorkstationName": "PC-JINJI-07", "IpAddress": "10.20.31.48", "IpPort": "0", "TargetLinkedLogonId": "0x0",
	}))
	doc.WriteString("\r\n")
	body, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(doc.String()))
	require.NoError(t, err)
	s.eventXML = body
	return s
}

// eventXML renders one Security event as wevtutil qe /f:xml prints it.
func eventXML(at time.Time, computer string, id int, record int, data map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-Auditing' Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/><EventID>%d</EventID><Version>2</Version><Level>0</Level><Task>12544</Task><Opcode>0</Opcode><Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime='%s'/><EventRecordID>%d</EventRecordID><Correlation/><Execution ProcessID='684' ThreadID='2212'/><Channel>Security</Channel><Computer>%s</Computer><Security/></System><EventData>`,
		id, at.Format("2006-01-02T15:04:05.0000000Z"), record, computer)
	for _, k := range sortedKeys(data) {
		fmt.Fprintf(&b, `<Data Name='%s'>%s</Data>`, k, data[k])
	}
	b.WriteString(`</EventData></Event>`)
	return b.String()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

// postIngest posts a body to the HTTP edge and requires it accepted whole.
func postIngest(t *testing.T, addr string, pki testpki.PKI, token, format string, body []byte, want int) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.Pool}}}
	req, err := http.NewRequest(http.MethodPost, "https://"+addr+"/ingest/v1/"+format, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	require.Equal(t, float64(want), out["accepted"])
}

// checkWindowsStory requires the story searchable as ECS events and
// answerable as sessions, from the CLI and the API.
func checkWindowsStory(t *testing.T, bin, cfgPath, apiAddr, apiToken string, s windowsStory) {
	t.Helper()
	// The Kafka path: Mamori did the Security module's work itself.
	logon := waitFor(t, bin, cfgPath, `event.code:4624 and user.name:tanaka`, 1)[0]
	require.Equal(t, "Interactive", get(logon, "winlog.logon.type"))
	require.Equal(t, "logged-in", get(logon, "event.action"))
	require.Equal(t, "success", get(logon, "event.outcome"))
	require.Contains(t, get(logon, "event.category"), "authentication")
	require.Equal(t, "CITY", get(logon, "user.domain"))
	require.Equal(t, "pc-soumu-01", get(logon, "host.name"), "Winlogbeat's own host.name stays")
	require.Equal(t, "PC-SOUMU-01.city.example.lg.jp", get(logon, "winlog.computer_name"))
	failed := waitFor(t, bin, cfgPath, `event.code:4625 and user.name:tanaka`, 1)[0]
	require.Equal(t, "failure", get(failed, "event.outcome"))
	require.NotEmpty(t, get(failed, "winlog.logon.failure.reason"))
	require.Equal(t, "Interactive", get(failed, "winlog.logon.type"))

	// Event XML over HTTPS, UTF-16, Japanese account name.
	rdp := waitFor(t, bin, cfgPath, `event.code:4624 and user.name:"田中"`, 1)[0]
	require.Equal(t, "RemoteInteractive", get(rdp, "winlog.logon.type"))
	require.Equal(t, "10.20.31.48", get(rdp, "source.ip"))
	require.Equal(t, "eventxml", get(rdp, "input.type"))
	require.Contains(t, get(rdp, "event.original"), "<Data Name='TargetUserName'>田中</Data>")

	// Sessions: tanaka's closed console session, and who is on FS01.
	waitFor(t, bin, cfgPath, `event.code:4634`, 1)
	sessions := func(query string) []map[string]any {
		out, err := exec.Command(bin, "sessions", "-c", cfgPath, query, "--from", "now-3h", "--to", "now+1h", "--json").Output()
		require.NoError(t, err, "mamori sessions %s", query)
		var list []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if line == "" {
				continue
			}
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &m), line)
			list = append(list, m)
		}
		return list
	}
	got := sessions("user.name:tanaka")
	require.Len(t, got, 1, "one console session for tanaka")
	require.Equal(t, "logoff", get(got[0], "end_reason"))
	require.Equal(t, "1200", get(got[0], "duration_seconds"))
	require.Equal(t, "Interactive", get(got[0], "logon.type"))
	require.Equal(t, "0x5a1f01", get(got[0], "logon.id"))
	got = sessions("host.name:FS01*")
	require.Len(t, got, 1, "one person on FS01")
	require.Equal(t, "田中", get(got[0], "user.name"))
	require.Equal(t, "open", get(got[0], "end_reason"))
	require.Equal(t, "10.20.31.48", get(got[0], "source.ip"))

	if apiAddr == "" {
		return
	}
	req, err := http.NewRequest(http.MethodGet, "http://"+apiAddr+"/api/v1/sessions?q=user.name:tanaka&from=now-3h&to=now%2B1h", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		Sessions []map[string]any `json:"sessions"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, body.Sessions, 1)
	require.Equal(t, "logoff", get(body.Sessions[0], "end_reason"))
}

// sendWindowsOverSyslog sends a Snare record (RFC 3164, tab-separated, the
// rendered message only) and an NXLog JSON record (RFC 5424) to the syslog
// listener, and requires both searchable as Windows events with the
// EventData recovered.
func sendWindowsOverSyslog(t *testing.T, bin, cfgPath, udp string) {
	t.Helper()
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	now := time.Now().In(tokyo)
	snare := fmt.Sprintf("<13>%s DC01 MSWinEventLog\t1\tSecurity\t12501\t%s\t4625\tMicrosoft-Windows-Security-Auditing\tN/A\tN/A\tFailure Audit\tFS01.city.example.lg.jp\tLogon\t\t"+
		"An account failed to log on.    Subject:   Security ID:  S-1-0-0   Account Name:  -   Account Domain:  -   Logon ID:  0x0    Logon Type:   3    "+
		"Account For Which Logon Failed:   Security ID:  S-1-0-0   Account Name:  鈴木   Account Domain:  CITY    "+
		"Failure Information:   Failure Reason:  Unknown user name or bad password.   Status:   0xC000006D   Sub Status:  0xC000006A    "+
		"Network Information:   Workstation Name: PC-ZAIMU-01   Source Network Address: 10.9.9.9   Source Port:  0  \t12501",
		now.Format(time.Stamp), now.Format("Mon Jan _2 15:04:05 2006"))
	nxlog := fmt.Sprintf(`<14>1 %s FS02.city.example.lg.jp Microsoft-Windows-Security-Auditing 684 - - {"EventTime":"%s","Hostname":"FS02.city.example.lg.jp","Keywords":-9214364837600034816,"EventType":"AUDIT_SUCCESS","EventID":4624,"SourceName":"Microsoft-Windows-Security-Auditing","Channel":"Security","RecordNumber":777,"TargetUserSid":"S-1-5-21-1-2-3-1500","TargetUserName":"佐藤","TargetDomainName":"CITY","TargetLogonId":"0x99aa","LogonType":"3","IpAddress":"10.9.9.8","IpPort":"50123"}`,
		now.Format(time.RFC3339), now.Format("2006-01-02 15:04:05"))
	c, err := net.Dial("udp", udp)
	require.NoError(t, err)
	for _, line := range []string{snare, nxlog} {
		_, err = c.Write([]byte(line))
		require.NoError(t, err)
	}
	require.NoError(t, c.Close())

	d := waitFor(t, bin, cfgPath, `event.code:4625 and user.name:"鈴木"`, 1)[0]
	require.Equal(t, "Network", get(d, "winlog.logon.type"))
	require.Equal(t, "10.9.9.9", get(d, "source.ip"))
	require.Equal(t, "failure", get(d, "event.outcome"))
	require.NotEmpty(t, get(d, "log.syslog.priority"), "the syslog header facts stay")
	d = waitFor(t, bin, cfgPath, `event.code:4624 and user.name:"佐藤"`, 1)[0]
	require.Equal(t, "Network", get(d, "winlog.logon.type"))
	require.Equal(t, "10.9.9.8", get(d, "source.ip"))
	require.Equal(t, "FS02.city.example.lg.jp", get(d, "winlog.computer_name"))
}

// TestIntegrationWindows runs the story through the embedded default: both
// formats posted to the HTTPS edge.
func TestIntegrationWindows(t *testing.T) {
	bin := buildMamori(t)
	dir := t.TempDir()
	pki := testpki.New(t, "mamori ingest", "wec01")
	ingestToken, apiToken := "wec-token-"+fmt.Sprint(time.Now().UnixNano()), "api-token-"+fmt.Sprint(time.Now().UnixNano())
	cfgPath := filepath.Join(dir, "mamori.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf(`
data_dir: %s
log: {level: info, format: json}
ingest:
  syslog:
    listeners: [{name: udp, protocol: udp, address: "127.0.0.1:0"}]
  http:
    address: "127.0.0.1:0"
    tls: {cert_file: %s, key_file: %s}
    tokens: [{name: wec01, sha256: %s}]
api:
  listen: "127.0.0.1:0"
  tokens: [{name: e2e, role: viewer, sha256: %s}]
`, filepath.Join(dir, "data"), pki.CertFile, pki.KeyFile, sha(ingestToken), sha(apiToken))), 0o600))
	m := start(t, bin, cfgPath)
	s := newWindowsStory(t)
	postIngest(t, m.addr(t, "http"), pki, ingestToken, "winlogbeat", bytes.Join(s.winlogbeat, []byte("\n")), len(s.winlogbeat))
	postIngest(t, m.addr(t, "http"), pki, ingestToken, "eventxml", s.eventXML, 1)
	// A sender that retries (it never saw the answer) posts the batch again:
	// the events carry their own identity, so they are stored once.
	postIngest(t, m.addr(t, "http"), pki, ingestToken, "eventxml", s.eventXML, 1)
	checkWindowsStory(t, bin, cfgPath, m.addr(t, "api"), apiToken, s)
	sendWindowsOverSyslog(t, bin, cfgPath, m.addr(t, "udp"))
	waitFor(t, bin, cfgPath, `event.code:4634`, 1)
	require.Len(t, waitFor(t, bin, cfgPath, `event.code:4624 and user.name:"田中"`, 1), 1, "the re-posted logon is one event")
	m.stop(t)
}

// TestKafkaElasticsearchWindows runs the story on Kafka and the search
// node: Winlogbeat's JSON goes straight to a Kafka topic of its own, as
// output.kafka writes it (no Mamori headers), and the Event XML to the HTTPS
// edge; the edge and parse stage, and the index stage, run in two processes.
func TestKafkaElasticsearchWindows(t *testing.T) {
	bootstrap := kafkaBootstrap(t)
	esURL := searchURL(t)
	bin := buildMamori(t)
	run := fmt.Sprint(time.Now().UnixNano())
	topic := "winlogbeat-e2e-" + run
	dir := t.TempDir()
	pki := testpki.New(t, "mamori ingest", "wec01")
	ingestToken, apiToken := "wec-token-"+run, "api-token-"+run
	cfgPath := filepath.Join(dir, "mamori.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf(`
data_dir: %s
log: {level: info, format: json}
bus:
  kafka: {brokers: [%q], partitions: 3, namespace: w%s}
store:
  elasticsearch: {addresses: [%q], compat: opensearch, namespace: win%s, replicas: 0}
ingest:
  syslog:
    listeners: [{name: udp, protocol: udp, address: "127.0.0.1:0"}]
  http:
    address: "127.0.0.1:0"
    tls: {cert_file: %s, key_file: %s}
    tokens: [{name: wec01, sha256: %s}]
parse:
  topics: [{topic: %s, format: winlogbeat}]
api:
  listen: "127.0.0.1:0"
  tokens: [{name: e2e, role: viewer, sha256: %s}]
`, filepath.Join(dir, "data"), bootstrap, run, esURL, run, pki.CertFile, pki.KeyFile, sha(ingestToken), topic, sha(apiToken))), 0o600))

	edge := start(t, bin, cfgPath, "--stages", "ingest,parse")
	indexer := start(t, bin, cfgPath, "--stages", "index,api")
	s := newWindowsStory(t)

	w := &kafka.Writer{Addr: kafka.TCP(bootstrap), Topic: topic, Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll}
	var msgs []kafka.Message
	for _, doc := range s.winlogbeat {
		msgs = append(msgs, kafka.Message{Value: doc})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, w.WriteMessages(ctx, msgs...))
	// Winlogbeat resends after a lost acknowledgement: the same event twice
	// is stored once.
	require.NoError(t, w.WriteMessages(ctx, msgs[1]))
	require.NoError(t, w.Close())
	postIngest(t, edge.addr(t, "http"), pki, ingestToken, "eventxml", s.eventXML, 1)

	checkWindowsStory(t, bin, cfgPath, indexer.addr(t, "api"), apiToken, s)
	require.Len(t, waitFor(t, bin, cfgPath, `event.code:4624`, 2), 2, "the resent logon is one event")
	edge.stop(t)
	indexer.stop(t)
}
