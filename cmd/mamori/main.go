// Command mamori is Mamori's one binary: it runs the pipeline (run, demo)
// and answers analysts and operators (search, dlq, config check, token new).
// This file only dispatches; each command lives in its own file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // zones work on hosts without a zoneinfo database
)

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "run the pipeline: edges, parse, detect and index stages, API", cmdRun},
		{"demo", "run the pipeline on a fresh data directory with generated traffic", cmdDemo},
		{"search", "search events with KQL", cmdSearch},
		{"export", "stream every matching event as NDJSON", cmdExport},
		{"sessions", "list Windows logon sessions (logon to logoff) with KQL", cmdSessions},
		{"accounts", "directory account reports (accounts stale --days 90)", cmdAccounts},
		{"dlq", "list or replay dead-lettered records (dlq list | dlq replay)", cmdDLQ},
		{"import", "import .evtx and Event XML files (backfill, forensics)", cmdImport},
		{"alerts", "search detection alerts with KQL", cmdAlerts},
		{"cases", "cases: list, show, open, update, comment, rate, import, request-logs", cmdCases},
		{"report", "reports: the monthly SLA ledger (report sla --month 2026-10)", cmdReport},
		{"rules", "detection rules: rules validate|test|list|backtest", cmdRules},
		{"config", "check a configuration file (config check -c FILE)", cmdConfig},
		{"token", "create an API token (token new --name NAME --role ROLE)", cmdToken},
	}
}

// errUsage asks main to print usage and exit 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		}
		fmt.Fprintf(stderr, "mamori %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(stderr, "mamori: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Mamori: security monitoring, log search and SLA casework.\n\nUsage: mamori <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'mamori <command> -h' for a command's flags.")
}

// flags returns a flag set that reports errors to stderr and returns them.
func flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("mamori "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags, mapping a flag error to errUsage (already printed).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}
