package syslog_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers/syslog"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

// Each benchmark reports msg/s (wall clock) and, where the platform tells,
// cpu-ns/op and msg/cpu-s: the process CPU time per message, GC included,
// which stays meaningful when other work shares the cores.

// Typical messages: the goal is 250,000 msg/s per core for parse + mapping.
const (
	bench3164 = "<38>Jan 15 10:00:00 web01 sshd[1234]: Failed password for invalid user admin from 203.0.113.7 port 40022 ssh2"
	bench5424 = `<38>1 2025-01-15T10:00:00.123456+09:00 web01.example.co.jp sshd 1234 - [origin ip="192.0.2.21" software="openssh"] Failed password for invalid user admin from 203.0.113.7 port 40022 ssh2`
	// The fallback messages take the lenient scanner: go-syslog cannot
	// read a fraction in an RFC 3164 stamp, nor seven fraction digits in
	// RFC 5424.
	benchFallback     = "<38>Jan 15 10:00:00.250 web01 sshd[1234]: Failed password for invalid user admin from 203.0.113.7 port 40022 ssh2"
	bench5424Fallback = `<38>1 2025-01-15T10:00:00.1234567+09:00 web01.example.co.jp sshd 1234 - [origin ip="192.0.2.21" software="openssh"] Failed password for invalid user admin from 203.0.113.7 port 40022 ssh2`
)

func benchParse(b *testing.B, raw string, marshal bool) {
	p, err := syslog.New(syslog.DefaultConfig())
	require.NoError(b, err)
	in := []byte(raw)
	var e event.Event
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		e = event.Event{}
		if err := p.Parse(in, testMeta, &e); err != nil {
			b.Fatal(err)
		}
		if marshal {
			if _, err := event.Marshal(&e); err != nil {
				b.Fatal(err)
			}
		}
	}
	report(b, cpuTime()-cpu0)
}

func report(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "msg/cpu-s")
	}
}

func BenchmarkParse3164(b *testing.B)         { benchParse(b, bench3164, false) }
func BenchmarkParse5424(b *testing.B)         { benchParse(b, bench5424, false) }
func BenchmarkParse3164Fallback(b *testing.B) { benchParse(b, benchFallback, false) }
func BenchmarkParse5424Fallback(b *testing.B) { benchParse(b, bench5424Fallback, false) }

func BenchmarkParseAndMarshal(b *testing.B) {
	b.Run("3164", func(b *testing.B) { benchParse(b, bench3164, true) })
	b.Run("5424", func(b *testing.B) { benchParse(b, bench5424, true) })
}

// BenchmarkMarshal measures event.Marshal alone on a parsed event, to tell
// its cost from the parser's.
func BenchmarkMarshal(b *testing.B) {
	p, err := syslog.New(syslog.DefaultConfig())
	require.NoError(b, err)
	var e event.Event
	require.NoError(b, p.Parse([]byte(bench5424), testMeta, &e))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := event.Marshal(&e); err != nil {
			b.Fatal(err)
		}
	}
	report(b, cpuTime()-cpu0)
}

// The same messages with the Windows body reader wired in, as the parse
// stage runs it: ordinary messages must not get slower.
func benchParseBodies(b *testing.B, raw string) {
	p, err := syslog.New(syslog.DefaultConfig(), syslog.WithBodyParsers(winevent.NewSyslogBody()))
	require.NoError(b, err)
	in := []byte(raw)
	var e event.Event
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		e = event.Event{}
		if err := p.Parse(in, testMeta, &e); err != nil {
			b.Fatal(err)
		}
	}
	report(b, cpuTime()-cpu0)
}

func BenchmarkParseWithBodies(b *testing.B) {
	b.Run("3164", func(b *testing.B) { benchParseBodies(b, bench3164) })
	b.Run("5424", func(b *testing.B) { benchParseBodies(b, bench5424) })
	b.Run("snare", func(b *testing.B) { benchParseBodies(b, benchSnare) })
}

// benchSnare is a Snare 4625 record over RFC 3164.
const benchSnare = "<13>Jan 15 09:12:35 DC01 MSWinEventLog\t1\tSecurity\t12501\tWed Jan 15 09:12:34 2025\t4625\tMicrosoft-Windows-Security-Auditing\tN/A\tN/A\tFailure Audit\tFS01.city.example.lg.jp\tLogon\t\tAn account failed to log on.    Subject:   Security ID:  S-1-0-0   Account Name:  -   Account Domain:  -   Logon ID:  0x0    Logon Type:   3    Account For Which Logon Failed:   Security ID:  S-1-0-0   Account Name:  tanaka   Account Domain:  CITY    Failure Information:   Failure Reason:  Unknown user name or bad password.   Status:   0xC000006D   Sub Status:  0xC000006A    Process Information:   Caller Process ID: 0x0   Caller Process Name: -    Network Information:   Workstation Name: PC-EIGYO-012   Source Network Address: 10.20.12.34   Source Port:  49812    Detailed Authentication Information:   Logon Process:  NtLmSsp    Authentication Package: NTLM   Transited Services: -   Package Name (NTLM only): -   Key Length:  0\t512301"
