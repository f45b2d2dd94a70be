package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/search"
	"github.com/mamori-soc/mamori/store"
)

func cmdSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("search", stderr)
	qf := addQueryFlags(fs, "@timestamp:desc")
	size := fs.Int("size", 100, "most events to show (1-10000)")
	after := fs.String("after", "", "`cursor` of the next page, printed after a full page")
	output := fs.String("output", "table", "table, json or ndjson")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mamori search [flags] 'KQL query'\n\nExample: mamori search 'process.name:sshd and message:\"failed password\"' --from now-1h\n\nFlags:")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *output != "table" && *output != "json" && *output != "ndjson" {
		return fmt.Errorf("--output %q: want table, json or ndjson", *output)
	}
	q, err := qf.open(rest, search.Request{Size: *size, After: *after})
	if err != nil {
		return err
	}
	defer q.store.Close()
	cfg, resolved := q.cfg, q.resolved
	res, next, err := search.Run(ctx, q.store, resolved)
	if err != nil {
		return err
	}
	switch *output {
	case "ndjson":
		for _, h := range res.Hits {
			fmt.Fprintf(stdout, "%s\n", h.Source)
		}
	case "json":
		hits := make([]json.RawMessage, len(res.Hits))
		for i, h := range res.Hits {
			hits[i] = json.RawMessage(h.Source)
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"total": res.Total, "hits": hits, "next": next})
	default:
		printTable(stdout, res.Hits, cfg.Location())
		fmt.Fprintf(stdout, "\n%d of %d events between %s and %s (%s)\n", len(res.Hits), res.Total,
			resolved.From.In(cfg.Location()).Format("2006-01-02 15:04:05"), resolved.To.In(cfg.Location()).Format("2006-01-02 15:04:05"), cfg.Location())
		if next != "" {
			fmt.Fprintf(stdout, "next page: --after %s\n", next)
		}
	}
	return nil
}

func printTable(w io.Writer, hits []store.Hit, loc *time.Location) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tHOST\tPROCESS\tLEVEL\tMESSAGE")
	for _, h := range hits {
		var e event.Event
		if err := event.Unmarshal(h.Source, &e); err != nil {
			fmt.Fprintf(tw, "?\t?\t?\t?\t(unreadable document %s: %v)\n", h.ID, err)
			continue
		}
		hostName, proc, level := "", "", ""
		if e.Host != nil {
			hostName = first(e.Host.Name, e.Host.Hostname)
		}
		if e.Process != nil {
			proc = e.Process.Name
		}
		if e.Log != nil {
			level = e.Log.Level
		}
		msg := strings.ReplaceAll(e.Message, "\n", " ")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Timestamp.In(loc).Format("2006-01-02 15:04:05.000"), hostName, proc, level, msg)
	}
	tw.Flush()
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// parseInterspersed parses flags that may come before or after positional
// arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}
