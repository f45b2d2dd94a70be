package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/search"
	"github.com/mamori-soc/mamori/store"
)

// cmdAlerts searches the alerts the detect stage raised, with KQL over the
// alert documents (rule.id, user.name, mamori.alert.severity...).
func cmdAlerts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("alerts", stderr)
	qf := addQueryFlags(fs, "@timestamp:desc")
	*qf.from = "now-7d"
	fs.Lookup("from").DefValue = "now-7d"
	size := fs.Int("size", 100, "most alerts to show (1-10000)")
	output := fs.String("output", "table", "table or ndjson")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mamori alerts [flags] ['KQL query']\n\nTimes are when an alert was first seen.\nExample: mamori alerts 'mamori.alert.severity:(high or critical) and user.name:tanaka'\n\nFlags:")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *output != "table" && *output != "ndjson" {
		return fmt.Errorf("--output %q: want table or ndjson", *output)
	}
	q, err := qf.open(rest, search.Request{Size: *size})
	if err != nil {
		return err
	}
	defer q.store.Close()
	q.resolved.Collection = store.Alerts
	res, _, err := search.Run(ctx, q.store, q.resolved)
	if err != nil {
		return err
	}
	if *output == "ndjson" {
		for _, h := range res.Hits {
			fmt.Fprintf(stdout, "%s\n", h.Source)
		}
		return nil
	}
	alerts := make([]*event.Event, 0, len(res.Hits))
	for _, h := range res.Hits {
		var a event.Event
		if err := event.Unmarshal(h.Source, &a); err != nil {
			fmt.Fprintf(stderr, "unreadable alert %s: %v\n", h.ID, err)
			continue
		}
		alerts = append(alerts, &a)
	}
	printAlerts(stdout, alerts, q.cfg.Location())
	fmt.Fprintf(stdout, "\n%d of %d alerts\n", len(res.Hits), res.Total)
	return nil
}

// printAlerts writes alerts as a table, times in loc.
func printAlerts(w io.Writer, alerts []*event.Event, loc *time.Location) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIRST SEEN\tLAST SEEN\tSEVERITY\tRULE\tCOUNT\tALERT")
	for _, a := range alerts {
		last := ""
		if t, ok := a.Fields["event.end"].(time.Time); ok {
			last = t.In(loc).Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%v\t%v\t%s\n", a.Timestamp.In(loc).Format("2006-01-02 15:04:05"), last,
			a.Fields[detections.FieldAlertSeverity], a.Fields["rule.id"], a.Fields[detections.FieldAlertCount], a.Message)
	}
	tw.Flush()
}
