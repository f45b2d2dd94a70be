package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mamori-soc/mamori/app"
	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/sessions"
)

// cmdSessions lists Windows logon sessions (logon paired with logoff or
// reboot) whose logon event matches a KQL query.
func cmdSessions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("sessions", stderr)
	cfgPath := fs.String("c", "mamori.yaml", "configuration `file`")
	from := fs.String("from", "now-24h", "start `time`: now-15m, 2026-11-26, 2026-11-26 09:00 or RFC 3339")
	to := fs.String("to", "now", "end `time` (exclusive)")
	limit := fs.Int("limit", sessions.DefaultLimit, fmt.Sprintf("most sessions to show (1-%d), newest first", sessions.MaxLimit))
	types := fs.String("types", "", "logon `types`, e.g. interactive,remote_interactive,network or all (default: sessions.types of the configuration)")
	asJSON := fs.Bool("json", false, "write one JSON object per session (NDJSON)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: mamori sessions [flags] 'KQL query'

Lists Windows logon sessions: each logon (4624) whose event matches the query, with
its end (logoff 4634/4647, reboot of the host, or timeout), RDP disconnects and
reconnects, overlapping [--from, --to), newest first. The query applies to the
logon event; host.name is usually the full name (host.name:FS01* finds FS01.*).

Examples:
  mamori sessions 'user.name:tanaka' --from now-7d
  mamori sessions 'host.name:FS01*' --from '2026-11-26 09:00' --to '2026-11-26 18:00'

Flags:`)
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 1 {
		return fmt.Errorf("give the query as one argument in quotes: '%s'", strings.Join(rest, " "))
	}
	query := ""
	if len(rest) == 1 {
		query = rest[0]
	}
	if *limit < 1 || *limit > sessions.MaxLimit {
		return fmt.Errorf("--limit %d: want 1 to %d", *limit, sessions.MaxLimit)
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	loc := cfg.Location()
	req, err := sessions.Resolve(sessions.Params{Query: query, From: *from, To: *to, Types: *types, Limit: *limit},
		time.Now(), loc, cfg.Sessions.Defaults())
	if err != nil {
		return err
	}
	s, err := app.OpenStore(ctx, cfg, app.Logger(cfg, os.Stderr), false)
	if err != nil {
		return err
	}
	defer s.Close()
	res, err := sessions.Find(ctx, s, *req)
	if err != nil {
		return err
	}
	if *asJSON {
		w := bufio.NewWriter(stdout)
		for _, ss := range res.Sessions {
			line, err := json.Marshal(ss.In(loc))
			if err != nil {
				return err
			}
			w.Write(line)
			w.WriteByte('\n')
		}
		if res.Truncated {
			fmt.Fprintf(stderr, "mamori sessions: more sessions than --limit %d; the oldest were left out\n", req.Limit)
		}
		return w.Flush()
	}
	printSessions(stdout, res.Sessions, loc)
	fmt.Fprintf(stdout, "\n%d sessions between %s and %s (%s), logon types %s\n", len(res.Sessions),
		req.From.In(loc).Format("2006-01-02 15:04:05"), req.To.In(loc).Format("2006-01-02 15:04:05"), loc, req.Types)
	if res.Truncated {
		fmt.Fprintf(stdout, "more sessions than --limit %d: the oldest were left out; narrow the query or the range, or raise --limit\n", req.Limit)
	}
	return nil
}

func printSessions(w io.Writer, list []sessions.Session, loc *time.Location) {
	const layout = "2006-01-02 15:04:05"
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "START\tEND\tDURATION\tUSER\tHOST\tLOGON TYPE\tSOURCE\tEND REASON")
	for _, s := range list {
		end := "-"
		if !s.End.IsZero() {
			end = s.End.In(loc).Format(layout)
		}
		user := s.User.Name
		if s.User.Domain != "" {
			user = s.User.Domain + `\` + user
		}
		typ := s.LogonType.String()
		if s.Elevated {
			typ += " (elevated)"
		}
		reason := s.EndReason.String()
		for _, m := range s.Marks {
			reason += ", " + strings.TrimPrefix(m.Action, "session-") + " " + m.Time.In(loc).Format("15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Start.In(loc).Format(layout), end, humanDuration(s.Duration(), s.EndReason == sessions.Open),
			user, s.Host, typ, sourceText(s.Source), reason)
	}
	tw.Flush()
}

// humanDuration writes 8h30m, 12m5s, 0.020s; a "+" marks an open session.
func humanDuration(d time.Duration, open bool) string {
	var s string
	switch {
	case d < time.Second:
		s = fmt.Sprintf("%.3fs", d.Seconds())
	case d < time.Hour:
		s = d.Round(time.Second).String()
	default:
		d = d.Round(time.Minute)
		s = fmt.Sprintf("%dh", int(d.Hours()))
		if m := int(d.Minutes()) % 60; m != 0 {
			s += fmt.Sprintf("%dm", m)
		}
	}
	if open {
		s += "+"
	}
	return s
}

func sourceText(s sessions.Source) string {
	out := s.IP
	if s.Port != 0 {
		out = fmt.Sprintf("%s:%d", out, s.Port)
		if strings.Contains(s.IP, ":") {
			out = fmt.Sprintf("[%s]:%d", s.IP, s.Port)
		}
	}
	if s.Domain != "" {
		if out == "" {
			return s.Domain
		}
		out += " (" + s.Domain + ")"
	}
	if out == "" {
		return "-"
	}
	return out
}
