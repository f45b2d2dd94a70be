package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/app"
	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/dashboards/api"
	"github.com/mamori-soc/mamori/demo"
	"github.com/mamori-soc/mamori/store"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("demo", stderr)
	dir := fs.String("dir", "", "data `directory` (default: a new one under the system temp directory)")
	rate := fs.Int("rate", 200, "generated syslog messages per second")
	duration := fs.Duration("duration", 0, "stop after this long (0: run until Ctrl-C)")
	apiAddr := fs.String("api", "127.0.0.1:0", "`address` of the HTTP API")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "mamori-demo-")
		if err != nil {
			return err
		}
		*dir = d
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	token, ingestToken := newToken(), newToken()
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return err
	}
	certFile, keyFile, roots, err := demo.SelfSigned(abs)
	if err != nil {
		return fmt.Errorf("demo certificate: %w", err)
	}
	cfgPath := filepath.Join(abs, "mamori.yaml")
	cfgText := fmt.Sprintf(`# Written by mamori demo.
data_dir: %s
log: {level: warn}
ingest:
  syslog:
    listeners:
      - {name: syslog-udp, protocol: udp, address: "127.0.0.1:0"}
      - {name: syslog-tcp, protocol: tcp, address: "127.0.0.1:0"}
  http:
    address: "127.0.0.1:0"
    tls: {cert_file: %s, key_file: %s}
    tokens: [{name: demo-winlogbeat, sha256: %s}]
api:
  listen: %q
  tokens: [{name: demo, role: admin, sha256: %s}]
casework:
  sweep_interval: 5s
`, filepath.Join(abs, "data"), certFile, keyFile, api.HashToken(ingestToken), *apiAddr, api.HashToken(token))
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		return err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	a, err := app.New(ctx, cfg, app.Logger(cfg, os.Stderr), app.Everything())
	if err != nil {
		return err
	}
	defer a.Close()
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(ctx) }()
	select {
	case <-a.Ready():
	case err := <-runErr:
		return err
	}

	self := "go run ./cmd/mamori"
	cal, err := cfg.BusinessCalendar()
	if err != nil {
		return err
	}
	storyDay := demo.StoryDay(cal, time.Now())
	fmt.Fprintf(stdout, `Mamori demo is running (Ctrl-C stops it).

  data and config  %s
  syslog           udp %s, tcp %s
                   send your own: logger -n 127.0.0.1 -P %s -d 'こんにちは from logger'
  Windows events   https://%s/ingest/v1/winlogbeat (Winlogbeat JSON from simulated desktops)
  JSON API         http://%s/api/v1/events/search?q=process.name:sshd
                   header: Authorization: Bearer %s
  metrics          http://%s/metrics

Search from another terminal:
  %s search -c %s 'process.name:sshd and message:"failed password"' --from now-15m
  %s search -c %s 'message:"バックアップ"'
  %s search -c %s 'source.ip:203.0.113.0/24 or log.syslog.severity.code <= 3'
  %s search -c %s 'event.code:4625 and winlog.logon.type:Interactive'
  %s sessions -c %s 'user.name:tanaka' --from now-1h --to now
  %s sessions -c %s 'host.name:fs01' --from now-1h --to now

Detection alerts (built-in rules; a scripted night on %s is replayed at start):
  %s alerts -c %s --from now-30d
  %s alerts -c %s 'mamori.alert.severity:high and user.name:suzuki' --from now-30d
  %s rules list -c %s

Casework (alerts become cases with SLA clocks; log requests are fulfilled within seconds):
  %s cases list -c %s --from now-30d
  %s cases request-logs -c %s --query 'user.name:suzuki' --from %s --to %s --format csv
  %s cases show -c %s REQ-...      (the export, its checksums and custody; files in %s)
  %s report sla -c %s --month %s

`, abs, a.Addrs["syslog-udp"], a.Addrs["syslog-tcp"], port(a.Addrs["syslog-udp"]), a.Addrs["http"], a.Addrs["api"], token, a.Addrs["api"],
		self, cfgPath, self, cfgPath, self, cfgPath, self, cfgPath, self, cfgPath, self, cfgPath,
		storyDay.Format("2006-01-02"), self, cfgPath, self, cfgPath, self, cfgPath,
		self, cfgPath, self, cfgPath, storyDay.Format("2006-01-02"), storyDay.AddDate(0, 0, 1).Format("2006-01-02"),
		self, cfgPath, app.ExportsDir(cfg), self, cfgPath, storyDay.Format("2006-01"))
	go func() {
		if _, err := demo.SendStory(ctx, storyDay, "https://"+a.Addrs["http"], ingestToken, roots); err != nil && ctx.Err() == nil {
			fmt.Fprintf(stderr, "demo detection story not sent: %v\n", err)
		}
	}()

	gen := demo.NewGenerator(uint64(time.Now().UnixNano()), cfg.Location())
	sent := make(chan int, 1)
	go func() {
		n, err := demo.Send(ctx, gen, demo.Target{TCP: a.Addrs["syslog-tcp"], UDP: a.Addrs["syslog-udp"]}, *rate, 0)
		if err != nil && ctx.Err() == nil {
			fmt.Fprintf(stderr, "demo traffic stopped: %v\n", err)
		}
		sent <- n
	}()
	winSent := make(chan int, 1)
	go func() {
		n, err := demo.SendWindows(ctx, demo.NewWindowsGenerator(uint64(time.Now().UnixNano())), "https://"+a.Addrs["http"], ingestToken, roots)
		if err != nil && ctx.Err() == nil {
			fmt.Fprintf(stderr, "demo Windows events stopped: %v\n", err)
		}
		winSent <- n
	}()
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-runErr:
			n, w := <-sent, <-winSent
			fmt.Fprintf(stdout, "\nStopped after sending %d syslog messages and %d Windows events. The data stays in %s.\n", n, w, abs)
			return err
		case <-tick.C:
			n, err := a.Store().Count(ctx, store.Query{Collection: store.Events})
			alerts, aerr := a.Store().Count(ctx, store.Query{Collection: store.Alerts})
			if err == nil && aerr == nil {
				fmt.Fprintf(stdout, "%s  %d events searchable, %d alerts\n", time.Now().In(cfg.Location()).Format("15:04:05"), n, alerts)
			}
		}
	}
}

func port(addr string) string {
	i := strings.LastIndexByte(addr, ':')
	return addr[i+1:]
}
