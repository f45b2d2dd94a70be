package demo

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Desk is one simulated Windows desktop of the office domain CITY.
type desk struct {
	name string // NetBIOS name; the FQDN adds .city.example.lg.jp
	ip   string
}

var desks = []desk{
	{"PC-SOUMU-01", "10.2.1.11"}, {"PC-SOUMU-02", "10.2.1.12"}, {"PC-JINJI-01", "10.2.2.21"},
	{"PC-ZAIMU-01", "10.2.3.31"}, {"PC-KIKAKU-01", "10.2.4.41"}, {"PC-SEISAKU-01", "10.2.5.51"},
}

// Servers users reach over RDP.
var rdpServers = []string{"FS01", "APP-SV01"}

// WindowsGenerator simulates an office day in Windows Security events, as
// Winlogbeat ships them: people log on at their desks, lock and unlock,
// mistype passwords, work on servers over RDP and log off; now and then an
// account is locked out. Events are Winlogbeat JSON documents. It is
// deterministic for a given seed and clock.
type WindowsGenerator struct {
	rng    *mrand.Rand
	record int
	open   []winSession
	nextID uint32
}

type winSession struct {
	user, host, fqdn, src string
	id                    string
	logonType             int
	until                 time.Time
}

// NewWindowsGenerator returns a generator.
func NewWindowsGenerator(seed uint64) *WindowsGenerator {
	return &WindowsGenerator{rng: mrand.New(mrand.NewPCG(seed, seed^0x5bd1e995)), record: 100000, nextID: 0x3a0000}
}

// Next returns the events of one step at t: a new logon, a failure or a
// lockout, and the logoffs of sessions that ended by t.
func (g *WindowsGenerator) Next(t time.Time) [][]byte {
	var out [][]byte
	keep := g.open[:0]
	for _, s := range g.open {
		if t.Before(s.until) {
			keep = append(keep, s)
			continue
		}
		code, task := 4634, "Logoff"
		if s.logonType == 2 && g.rng.IntN(2) == 0 {
			code = 4647 // the user chose Sign out
		}
		data := map[string]string{"TargetUserSid": sid(s.user), "TargetUserName": s.user, "TargetDomainName": "CITY", "TargetLogonId": s.id}
		if code == 4634 {
			data["LogonType"] = fmt.Sprint(s.logonType)
		}
		out = append(out, g.event(t, s.fqdn, code, task, "success", data))
	}
	g.open = keep

	u := users[g.rng.IntN(len(users))]
	d := desks[g.rng.IntN(len(desks))]
	switch r := g.rng.IntN(20); {
	case r < 3: // a mistyped password at the desk
		out = append(out, g.event(t, fqdn(d.name), 4625, "Logon", "failure", map[string]string{
			"SubjectUserSid": "S-1-5-18", "SubjectUserName": d.name + "$", "SubjectDomainName": "CITY", "SubjectLogonId": "0x3e7",
			"TargetUserSid": "S-1-0-0", "TargetUserName": u, "TargetDomainName": "CITY",
			"Status": "0xc000006d", "FailureReason": "%%2313", "SubStatus": "0xc000006a", "LogonType": "2",
			"LogonProcessName": "User32 ", "AuthenticationPackageName": "Negotiate", "WorkstationName": d.name,
			"IpAddress": "127.0.0.1", "IpPort": "0",
		}))
	case r == 3: // too many: the account is locked out (on the domain controller)
		out = append(out, g.event(t, fqdn("DC01"), 4740, "User Account Management", "success", map[string]string{
			"TargetUserName": u, "TargetDomainName": d.name, "TargetSid": sid(u),
			"SubjectUserSid": "S-1-5-18", "SubjectUserName": "DC01$", "SubjectDomainName": "CITY", "SubjectLogonId": "0x3e7",
		}))
	case r < 8: // a remote desktop session on a server
		srv := rdpServers[g.rng.IntN(len(rdpServers))]
		out = append(out, g.logon(t, u, srv, fqdn(srv), 10, d.name, d.ip, time.Duration(2+g.rng.IntN(20))*time.Minute))
	default: // a logon at the desk
		out = append(out, g.logon(t, u, d.name, fqdn(d.name), 2, d.name, "127.0.0.1", time.Duration(1+g.rng.IntN(10))*time.Minute))
	}
	return out
}

func (g *WindowsGenerator) logon(t time.Time, user, host, fq string, logonType int, ws, ip string, stay time.Duration) []byte {
	g.nextID += uint32(1 + g.rng.IntN(4096))
	id := fmt.Sprintf("0x%x", g.nextID)
	g.open = append(g.open, winSession{user: user, host: host, fqdn: fq, src: ip, id: id, logonType: logonType, until: t.Add(stay)})
	return g.event(t, fq, 4624, "Logon", "success", map[string]string{
		"SubjectUserSid": "S-1-5-18", "SubjectUserName": host + "$", "SubjectDomainName": "CITY", "SubjectLogonId": "0x3e7",
		"TargetUserSid": sid(user), "TargetUserName": user, "TargetDomainName": "CITY", "TargetLogonId": id,
		"LogonType": fmt.Sprint(logonType), "LogonProcessName": "User32 ", "AuthenticationPackageName": "Negotiate",
		"WorkstationName": ws, "IpAddress": ip, "IpPort": "0", "TargetLinkedLogonId": "0x0", "ElevatedToken": "%%1843",
	})
}

func (g *WindowsGenerator) event(t time.Time, computer string, code int, task, outcome string, data map[string]string) []byte {
	g.record++
	return WinlogbeatEvent(t, computer, code, g.record, task, outcome, data)
}

func fqdn(name string) string { return name + ".city.example.lg.jp" }

// sid makes a stable domain SID for a user name.
func sid(user string) string {
	rid := 1100
	for _, c := range user {
		rid = (rid*31 + int(c)) % 90000
	}
	return fmt.Sprintf("S-1-5-21-3623811015-3361044348-30300820-%d", 1100+rid)
}

// WinlogbeatEvent is what Winlogbeat 8 writes (to Kafka, or to Mamori's
// HTTPS edge) for one Security event: its own fields and the raw
// EventData, without the Security module's enrichment. outcome is
// "success" or "failure" (the audit keyword).
func WinlogbeatEvent(at time.Time, computer string, code, record int, task, outcome string, data map[string]string) []byte {
	short := strings.ToLower(strings.SplitN(computer, ".", 2)[0])
	keyword := map[string]string{"success": "Audit Success", "failure": "Audit Failure"}[outcome]
	doc := map[string]any{
		"@timestamp": at.UTC().Format("2006-01-02T15:04:05.000Z"),
		"@metadata":  map[string]any{"beat": "winlogbeat", "type": "_doc", "version": "8.15.3"},
		"agent":      map[string]any{"type": "winlogbeat", "version": "8.15.3", "name": short},
		"ecs":        map[string]any{"version": "8.0.0"},
		"host":       map[string]any{"name": short, "hostname": short},
		"event": map[string]any{"code": fmt.Sprint(code), "provider": "Microsoft-Windows-Security-Auditing", "kind": "event",
			"created": at.UTC().Add(time.Second).Format(time.RFC3339Nano), "action": task, "outcome": outcome},
		"log":     map[string]any{"level": "information"},
		"message": rendered(code, data),
		"winlog": map[string]any{
			"channel": "Security", "computer_name": computer, "event_id": fmt.Sprint(code), "record_id": fmt.Sprint(record),
			"provider_name": "Microsoft-Windows-Security-Auditing", "provider_guid": "{54849625-5478-4994-a5ba-3e3b0328c30d}",
			"task": task, "opcode": "Info", "keywords": []string{keyword}, "api": "wineventlog",
			"process":    map[string]any{"pid": 684, "thread": map[string]any{"id": 2212}},
			"event_data": data,
		},
	}
	b, _ := json.Marshal(doc) // maps of strings always encode
	return b
}

// rendered is the first lines of the message Windows renders (en-US).
func rendered(code int, data map[string]string) string {
	head := map[int]string{
		4624: "An account was successfully logged on.",
		4625: "An account failed to log on.",
		4634: "An account was logged off.",
		4647: "User initiated logoff:",
		4740: "A user account was locked out.",
	}[code]
	return fmt.Sprintf("%s\n\nAccount Name:\t\t%s\nAccount Domain:\t\t%s", head, data["TargetUserName"], data["TargetDomainName"])
}

// SendWindows posts the generator's events to the HTTPS edge at url
// (https://host:port) as Winlogbeat NDJSON, one batch a second, until ctx
// ends. It returns how many events the edge accepted.
func SendWindows(ctx context.Context, g *WindowsGenerator, url, token string, roots *x509.CertPool) (int, error) {
	client := winClient(roots)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	sent := 0
	for {
		select {
		case <-ctx.Done():
			return sent, nil
		case now := <-tick.C:
			docs := g.Next(now)
			if len(docs) == 0 {
				continue
			}
			if err := postWinlogbeat(ctx, client, url, token, docs); err != nil {
				if ctx.Err() != nil {
					return sent, nil
				}
				return sent, err
			}
			sent += len(docs)
		}
	}
}

// SendStory posts DetectionStory, told on day, to the HTTPS edge at url.
func SendStory(ctx context.Context, day time.Time, url, token string, roots *x509.CertPool) (int, error) {
	docs := DetectionStory(day)
	client := winClient(roots)
	for i := 0; i < len(docs); i += 100 {
		if err := postWinlogbeat(ctx, client, url, token, docs[i:min(i+100, len(docs))]); err != nil {
			return i, err
		}
	}
	return len(docs), nil
}

func winClient(roots *x509.CertPool) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
}

// postWinlogbeat posts Winlogbeat JSON documents as one NDJSON batch.
func postWinlogbeat(ctx context.Context, client *http.Client, url, token string, docs [][]byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/ingest/v1/winlogbeat", bytes.NewReader(bytes.Join(docs, []byte("\n"))))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("demo: windows events: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("demo: windows events: the edge answered %s", resp.Status)
	}
	return nil
}

// SelfSigned writes a self-signed certificate for 127.0.0.1 and its key to
// dir (demo.crt, demo.key) and returns their paths and a pool that trusts
// it: enough TLS for a demo on one machine, never for production.
func SelfSigned(dir string) (certFile, keyFile string, roots *x509.CertPool, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "mamori demo"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(30 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", nil, err
	}
	certFile, keyFile = filepath.Join(dir, "demo.crt"), filepath.Join(dir, "demo.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return "", "", nil, err
	}
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots, nil
}
