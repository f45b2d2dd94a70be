// Package demo generates realistic syslog traffic from a dozen simulated
// hosts (Linux servers, a firewall, switches, a VPN gateway) and sends it to
// Mamori's own listeners over the network, the way real devices would: sshd
// logons and failures, sudo, cron, kernel messages, interface flaps, Japanese
// application messages and, now and then, a burst of failed logins; and
// Windows Security events from office desktops and servers as Winlogbeat
// ships them (logons, logoffs, mistyped passwords, RDP sessions, lockouts),
// posted to the HTTPS edge.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"time"
)

// Message is one generated syslog message.
type Message struct {
	Host string
	Line []byte // the complete syslog message, without framing
}

// Generator makes messages. It is deterministic for a given seed and clock.
type Generator struct {
	rng   *rand.Rand
	loc   *time.Location
	seq   int
	burst int // failed logins left in the current burst
	// attacker of the current burst
	attacker string
}

// NewGenerator returns a generator; loc is the zone the simulated devices
// stamp RFC 3164 times in.
func NewGenerator(seed uint64, loc *time.Location) *Generator {
	return &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), loc: loc}
}

type host struct {
	name    string
	ip      string
	kind    string // linux, fw, switch, vpn, nas
	rfc5424 bool
}

var hosts = []host{
	{"web01", "10.1.10.11", "linux", true},
	{"web02", "10.1.10.12", "linux", true},
	{"app01", "10.1.20.21", "linux", true},
	{"db01", "10.1.30.31", "linux", false},
	{"mail01", "10.1.40.41", "linux", false},
	{"file01", "10.1.50.51", "linux", false},
	{"proxy01", "10.1.60.61", "linux", true},
	{"bastion01", "10.1.70.71", "linux", true},
	{"fw-hq01", "10.0.0.1", "fw", false},
	{"sw-core01", "10.0.0.2", "switch", false},
	{"sw-osaka01", "10.20.0.2", "switch", false},
	{"vpn01", "10.0.0.5", "vpn", false},
	{"nas01", "10.1.80.81", "nas", false},
}

var (
	users     = []string{"tanaka", "suzuki", "sato", "takahashi", "watanabe", "ito", "yamamoto", "nakamura", "kobayashi", "kato"}
	srcNets   = []string{"10.2.%d.%d", "10.3.%d.%d", "172.16.%d.%d"}
	attackers = []string{"203.0.113.%d", "198.51.100.%d", "192.0.2.%d"}
	japanese  = []string{
		"バックアップが正常に完了しました (対象: /srv/share, 12.4 GB)",
		"ディスク使用率が警告しきい値 85%% を超えました: /var (%d%%)",
		"ユーザー %s のパスワード有効期限まで残り 7 日です",
		"夜間バッチ処理を開始しました: 月次集計",
		"ウイルス定義ファイルを更新しました (バージョン 2026.11.%d)",
		"証明書の有効期限が近づいています: www.example.lg.jp (残り 14 日)",
	}
)

// Next returns the next message, stamped at t.
func (g *Generator) Next(t time.Time) Message {
	g.seq++
	if g.burst == 0 && g.rng.IntN(400) == 0 {
		g.burst = 20 + g.rng.IntN(30)
		g.attacker = fmt.Sprintf(attackers[g.rng.IntN(len(attackers))], 1+g.rng.IntN(250))
	}
	if g.burst > 0 && g.rng.IntN(3) > 0 {
		g.burst--
		h := hosts[7] // the bastion is what attackers find
		user := []string{"admin", "root", "oracle", "test", "tanaka"}[g.rng.IntN(5)]
		return g.format(h, t, 4, 6, "sshd", g.pid(), fmt.Sprintf("Failed password for %s from %s port %d ssh2", invalid(user)+user, g.attacker, 30000+g.rng.IntN(30000)))
	}
	h := hosts[g.rng.IntN(len(hosts))]
	switch h.kind {
	case "fw":
		return g.firewall(h, t)
	case "switch":
		return g.switchMsg(h, t)
	case "vpn":
		u := g.user()
		return g.format(h, t, 4, 6, "vpnd", g.pid(), fmt.Sprintf("SSL VPN tunnel up: user=%s src=%s assigned=10.99.0.%d", u, g.src(), 2+g.rng.IntN(200)))
	}
	switch n := g.rng.IntN(100); {
	case n < 30:
		u := g.user()
		return g.format(h, t, 10, 6, "sshd", g.pid(), fmt.Sprintf("Accepted publickey for %s from %s port %d ssh2: RSA SHA256:%s", u, g.src(), 40000+g.rng.IntN(20000), fingerprint(g.rng)))
	case n < 40:
		u := g.user()
		return g.format(h, t, 10, 5, "sshd", g.pid(), fmt.Sprintf("Failed password for %s from %s port %d ssh2", u, g.src(), 40000+g.rng.IntN(20000)))
	case n < 52:
		u := g.user()
		return g.format(h, t, 10, 5, "sudo", 0, fmt.Sprintf("%s : TTY=pts/%d ; PWD=/home/%s ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx", u, g.rng.IntN(4), u))
	case n < 70:
		return g.format(h, t, 9, 6, "CRON", g.pid(), fmt.Sprintf("(root) CMD (/usr/local/bin/backup.sh --incremental >/dev/null 2>&1) [%d]", g.seq))
	case n < 80:
		return g.format(h, t, 0, 4, "kernel", 0, fmt.Sprintf("[%d.%06d] TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.", g.rng.IntN(900000), g.rng.IntN(1000000)))
	case n < 92:
		msg := japanese[g.rng.IntN(len(japanese))]
		if strings.Contains(msg, "%s") {
			msg = fmt.Sprintf(msg, g.user())
		} else if strings.Contains(msg, "%d") {
			msg = fmt.Sprintf(msg, 86+g.rng.IntN(13))
		} else {
			msg = strings.ReplaceAll(msg, "%%", "%")
		}
		return g.format(h, t, 3, 4, "opsagent", g.pid(), msg)
	default:
		return g.format(h, t, 3, 6, "systemd", 1, "Started Daily apt upgrade and clean activities.")
	}
}

func (g *Generator) firewall(h host, t time.Time) Message {
	action := "accept"
	if g.rng.IntN(5) == 0 {
		action = "deny"
	}
	return g.format(h, t, 16, 6, "", 0, fmt.Sprintf(`date=%s time=%s devname="%s" logid="0000000013" type="traffic" subtype="forward" srcip=%s srcport=%d dstip=%s dstport=443 proto=6 action="%s" policyid=%d`,
		t.In(g.loc).Format("2006-01-02"), t.In(g.loc).Format("15:04:05"), h.name, g.src(), 1024+g.rng.IntN(60000), fmt.Sprintf("93.184.%d.%d", g.rng.IntN(255), 1+g.rng.IntN(254)), action, 1+g.rng.IntN(40)))
}

func (g *Generator) switchMsg(h host, t time.Time) Message {
	port := fmt.Sprintf("GigabitEthernet1/0/%d", 1+g.rng.IntN(48))
	if g.rng.IntN(2) == 0 {
		return g.format(h, t, 23, 3, "", 0, fmt.Sprintf("%%LINK-3-UPDOWN: Interface %s, changed state to down", port))
	}
	return g.format(h, t, 23, 5, "", 0, fmt.Sprintf("%%LINEPROTO-5-UPDOWN: Line protocol on Interface %s, changed state to up", port))
}

// format writes RFC 5424 for hosts that speak it, RFC 3164 for the rest.
func (g *Generator) format(h host, t time.Time, facility, severity int, app string, pid int, msg string) Message {
	pri := facility*8 + severity
	var line string
	switch {
	case h.rfc5424:
		procid := "-"
		if pid > 0 {
			procid = fmt.Sprint(pid)
		}
		if app == "" {
			app = "-"
		}
		line = fmt.Sprintf("<%d>1 %s %s %s %s - [origin ip=\"%s\"] %s", pri, t.UTC().Format("2006-01-02T15:04:05.000000Z"), h.name, app, procid, h.ip, msg)
	case app == "":
		line = fmt.Sprintf("<%d>%s %s %s", pri, t.In(g.loc).Format(time.Stamp), h.name, msg)
	case pid > 0:
		line = fmt.Sprintf("<%d>%s %s %s[%d]: %s", pri, t.In(g.loc).Format(time.Stamp), h.name, app, pid, msg)
	default:
		line = fmt.Sprintf("<%d>%s %s %s: %s", pri, t.In(g.loc).Format(time.Stamp), h.name, app, msg)
	}
	return Message{Host: h.name, Line: []byte(line)}
}

func (g *Generator) user() string { return users[g.rng.IntN(len(users))] }
func (g *Generator) pid() int     { return 1000 + g.rng.IntN(60000) }
func (g *Generator) src() string {
	return fmt.Sprintf(srcNets[g.rng.IntN(len(srcNets))], g.rng.IntN(255), 1+g.rng.IntN(254))
}

func invalid(user string) string {
	if user == "tanaka" {
		return ""
	}
	return "invalid user "
}

func fingerprint(r *rand.Rand) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, 43)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// Target is where Send delivers messages.
type Target struct {
	TCP string // host:port of a TCP syslog listener (octet counting), or ""
	UDP string // host:port of a UDP syslog listener, or ""
}

// Send generates rate messages per second until ctx ends or count messages
// were sent (count 0: no limit), alternating between the TCP and UDP targets
// host by host as real devices are configured. It returns how many it sent.
func Send(ctx context.Context, g *Generator, to Target, rate, count int) (int, error) {
	var tcp, udp net.Conn
	var err error
	if to.TCP != "" {
		if tcp, err = (&net.Dialer{}).DialContext(ctx, "tcp", to.TCP); err != nil {
			return 0, fmt.Errorf("demo: %w", err)
		}
		defer tcp.Close()
	}
	if to.UDP != "" {
		if udp, err = (&net.Dialer{}).DialContext(ctx, "udp", to.UDP); err != nil {
			return 0, fmt.Errorf("demo: %w", err)
		}
		defer udp.Close()
	}
	if tcp == nil && udp == nil {
		return 0, fmt.Errorf("demo: no target")
	}
	if rate <= 0 {
		rate = 50
	}
	tick := time.NewTicker(time.Second / 20)
	defer tick.Stop()
	sent := 0
	perTick := max(1, rate/20)
	var buf []byte
	for {
		select {
		case <-ctx.Done():
			return sent, nil
		case now := <-tick.C:
			buf = buf[:0]
			for range perTick {
				m := g.Next(now)
				// Network devices and older servers (RFC 3164) send over UDP,
				// RFC 5424 senders over TCP with octet counting.
				if udp != nil && (tcp == nil || !isRFC5424(m.Line)) {
					if _, err := udp.Write(m.Line); err != nil {
						return sent, fmt.Errorf("demo: udp: %w", err)
					}
				} else {
					buf = fmt.Appendf(buf, "%d %s", len(m.Line), m.Line)
				}
				sent++
				if count > 0 && sent >= count {
					break
				}
			}
			if len(buf) > 0 {
				if _, err := tcp.Write(buf); err != nil {
					return sent, fmt.Errorf("demo: tcp: %w", err)
				}
			}
			if count > 0 && sent >= count {
				return sent, nil
			}
		}
	}
}

func isRFC5424(line []byte) bool {
	i := strings.IndexByte(string(line), '>')
	return i > 0 && i+2 < len(line) && line[i+1] == '1' && line[i+2] == ' '
}
