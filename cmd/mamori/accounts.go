package main

import (
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
	"github.com/mamori-soc/mamori/directory"
)

func cmdAccounts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "stale" {
		fmt.Fprintln(stderr, "usage: mamori accounts stale [--days 90] [-c mamori.yaml] [--json] [--computers]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errUsage
	}
	fs := flags("accounts stale", stderr)
	cfgPath := fs.String("c", "mamori.yaml", "configuration `file`")
	days := fs.Int("days", 90, "days without a logon that make an enabled account inactive")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	computers := fs.Bool("computers", false, "include computer accounts")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mamori accounts stale [flags]\n\nLists enabled accounts with no logon for --days days, accounts expired but still\nenabled, and accounts seen logging on after being disabled or deleted, from the\ndirectory records of the directory sync and the logon events in the store.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *days < 1 || *days > 3650 {
		return fmt.Errorf("--days %d: want 1 to 3650", *days)
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	st, err := app.OpenStore(ctx, cfg, app.Logger(cfg, os.Stderr), false)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := directory.StaleAccounts(ctx, st, directory.StaleOptions{
		Days: *days, Now: time.Now(), Location: cfg.Location(), Computers: *computers,
	})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printStale(stdout, rep, cfg.Location())
	return nil
}

func printStale(w io.Writer, rep *directory.StaleReport, loc *time.Location) {
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.In(loc).Format("2006-01-02 15:04")
	}
	who := func(a directory.StaleAccount) string {
		s := a.Name
		if a.DisplayName != "" {
			s += " (" + a.DisplayName + ")"
		}
		return s
	}
	section := func(title string, n int) *tabwriter.Writer {
		fmt.Fprintf(w, "\n%s: %d\n", title, n)
		return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	}
	fmt.Fprintf(w, "Stale accounts at %s (%s), no logon since %s (%d days)\n",
		rep.GeneratedAt.In(loc).Format("2006-01-02 15:04"), loc, rep.Cutoff.In(loc).Format("2006-01-02"), rep.Days)

	tw := section("Enabled, no logon", len(rep.Inactive))
	if len(rep.Inactive) > 0 {
		fmt.Fprintln(tw, "ACCOUNT\tDEPARTMENT\tCREATED\tLAST LOGON (AD)\tLAST LOGON (MAMORI)\tEVENT")
		for _, a := range rep.Inactive {
			mt, id := "-", "-"
			if l := a.LastLogonMamori; l != nil {
				mt, id = at(l.Time), l.EventID
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", who(a), dash(a.Department), at(a.WhenCreated), at(a.LastLogonTimestamp), mt, id)
		}
	}
	tw.Flush()

	tw = section("Expired but enabled", len(rep.ExpiredEnabled))
	if len(rep.ExpiredEnabled) > 0 {
		fmt.Fprintln(tw, "ACCOUNT\tDEPARTMENT\tEXPIRED\tLAST LOGON (AD)")
		for _, a := range rep.ExpiredEnabled {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", who(a), dash(a.Department), at(a.AccountExpires), at(a.LastLogonTimestamp))
		}
	}
	tw.Flush()

	tw = section("Logged on after being disabled or deleted", len(rep.LogonAfterDisable))
	if len(rep.LogonAfterDisable) > 0 {
		fmt.Fprintln(tw, "ACCOUNT\tSTATE\tSINCE\tLOGONS\tLATEST\tEVENTS")
		for _, a := range rep.LogonAfterDisable {
			state, since := "disabled", a.DisabledAt
			if a.Deleted && (!a.Disabled || a.DisabledAt.IsZero()) {
				state, since = "deleted", a.DeletedAt
			}
			n := fmt.Sprint(a.LogonCount)
			if a.LogonsCapped {
				n += "+"
			}
			ids := make([]string, len(a.Logons))
			for i, l := range a.Logons {
				ids[i] = l.EventID + " (" + l.Code + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", who(a), state, at(since), n, at(a.Logons[0].Time), strings.Join(ids, ", "))
		}
	}
	tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
