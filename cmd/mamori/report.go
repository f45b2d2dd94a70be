package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/mamori-soc/mamori/app"
	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/ledger"
	"github.com/mamori-soc/mamori/config"
)

// cmdReport renders reports. Today: the monthly SLA ledger.
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "sla" {
		fmt.Fprintln(stderr, "usage: mamori report sla --month 2026-10 [-c FILE] [--json]")
		return errUsage
	}
	fs := flags("report sla", stderr)
	cfgPath := fs.String("c", "mamori.yaml", "configuration `file`")
	monthFlag := fs.String("month", "", "the `month` (YYYY-MM); default the previous month")
	asJSON := fs.Bool("json", false, "print the ledger as JSON")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	cal, err := cfg.BusinessCalendar()
	if err != nil {
		return err
	}
	loc := cal.Location()
	now := time.Now()
	month, err := ledger.ParseMonth(*monthFlag, now, loc)
	if err != nil {
		return fmt.Errorf("--%w", err)
	}
	clocks, err := cfg.SLAClocks()
	if err != nil {
		return err
	}
	s, err := app.OpenStore(ctx, cfg, app.Logger(cfg, os.Stderr), false)
	if err != nil {
		return err
	}
	defer s.Close()
	l, n, err := ledger.Month(ctx, casework.NewCases(s, nil), month, now, clocks, cal, nil)
	if err != nil {
		return err
	}
	if *asJSON {
		return encodeJSON(stdout, l)
	}
	fmt.Fprintf(stdout, "SLA ledger %s (%d cases considered)\n\n", l.Month, n)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tITEM\tTARGET\tMEASURED\tMET\tCASES")
	for _, it := range l.Items {
		met := "-"
		if it.Met != nil {
			met = map[bool]string{true: "yes", false: "NO"}[*it.Met]
		}
		ids := ""
		for i, id := range it.Cases {
			if i == 3 {
				ids += fmt.Sprintf(" (+%d)", len(it.Cases)-3)
				break
			}
			if i > 0 {
				ids += " "
			}
			ids += id
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", it.No, it.Name, it.Target, it.Measured, met, ids)
	}
	return tw.Flush()
}
