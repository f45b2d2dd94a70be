package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/mamori-soc/mamori/app"
	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/search"
	"github.com/mamori-soc/mamori/store"
)

const casesUsage = `usage: mamori cases COMMAND

  list ['KQL']    cases opened in --from..--to (default the last 30 days), newest first:
                  mamori cases list 'status:(new or acknowledged) and priority:p2'
  show ID         one case: its fields, checklist, timeline and audit trail (--json)`

// cmdCases reads cases.
func cmdCases(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, casesUsage)
		return errUsage
	}
	switch args[0] {
	case "list":
		return casesList(ctx, args[1:], stdout, stderr)
	case "show":
		return casesShow(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintln(stderr, casesUsage)
	return errUsage
}

func casesList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("cases list", stderr)
	qf := addQueryFlags(fs, "@timestamp:desc")
	*qf.from = "now-30d"
	fs.Lookup("from").DefValue = "now-30d"
	size := fs.Int("size", 100, "most cases to show (1-10000)")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	q, err := qf.open(rest, search.Request{Size: *size})
	if err != nil {
		return err
	}
	defer q.store.Close()
	q.resolved.Collection = store.Cases
	res, _, err := search.Run(ctx, q.store, q.resolved)
	if err != nil {
		return err
	}
	loc := q.cfg.Location()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tOPENED\tTYPE\tSTATUS\tPRIORITY\tASSIGNEE\tTITLE")
	for _, h := range res.Hits {
		var c casework.Case
		if err := json.Unmarshal(h.Source, &c); err != nil {
			fmt.Fprintf(tw, "%s\t?\t?\t?\t?\t?\t(unreadable: %v)\n", h.ID, err)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Timestamp.In(loc).Format("2006-01-02 15:04"), c.Type, c.Status, c.Priority, c.Assignee, c.Title)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\n%d of %d cases\n", len(res.Hits), res.Total)
	return nil
}

func casesShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("cases show", stderr)
	cfgPath := fs.String("c", "mamori.yaml", "configuration `file`")
	asJSON := fs.Bool("json", false, "print the case document as JSON")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		fmt.Fprintln(stderr, "usage: mamori cases show [-c FILE] [--json] ID")
		return errUsage
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	s, err := app.OpenStore(ctx, cfg, app.Logger(cfg, os.Stderr), false)
	if err != nil {
		return err
	}
	defer s.Close()
	c, _, err := casework.NewCases(s, nil).Get(ctx, rest[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return encodeJSON(stdout, c)
	}
	loc := cfg.Location()
	at := func(t interface{ Format(string) string }) string { return t.Format("2006-01-02 15:04:05") }
	fmt.Fprintf(stdout, "%s  %s\n%s, %s, priority %s, assignee %s\nopened %s", c.ID, c.Title, c.Type, c.Status,
		orDash(string(c.Priority)), orDash(c.Assignee), at(c.Timestamp.In(loc)))
	if c.Reporter != "" || c.Channel != "" {
		fmt.Fprintf(stdout, " by %s via %s", orDash(c.Reporter), orDash(c.Channel))
	}
	fmt.Fprintln(stdout)
	if c.Description != "" {
		fmt.Fprintf(stdout, "\n%s\n", c.Description)
	}
	if len(c.Checklist) > 0 {
		fmt.Fprintf(stdout, "\nchecklist (runbook %s):\n", c.Runbook)
		for _, st := range c.Checklist {
			mark := " "
			if st.Done {
				mark = "x"
			}
			fmt.Fprintf(stdout, "  [%s] %s\n", mark, st.Text)
		}
	}
	if len(c.Links) > 0 {
		var links []string
		for _, l := range c.Links {
			links = append(links, l.Kind+" "+l.ID)
		}
		fmt.Fprintf(stdout, "\nlinks: %s\n", strings.Join(links, ", "))
	}
	fmt.Fprintln(stdout, "\ntimeline:")
	for _, e := range c.Timeline {
		fmt.Fprintf(stdout, "  %s  %-12s %s %s%s\n", at(e.At.In(loc)), e.Kind, e.Actor, e.Status, e.Notification)
	}
	fmt.Fprintln(stdout, "\naudit:")
	for _, ch := range c.Audit {
		fmt.Fprintf(stdout, "  %s  %s  %s: %q -> %q\n", at(ch.At.In(loc)), ch.Actor, ch.Field, ch.Before, ch.After)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
