package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	json "github.com/goccy/go-json"

	"github.com/mamori-soc/mamori/app"
	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/dlq"
)

func cmdDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "replay") {
		fmt.Fprintln(stderr, "usage: mamori dlq list [-c FILE] [--output table|ndjson]\n       mamori dlq replay [-c FILE] [--from-start]")
		return errUsage
	}
	sub := args[0]
	fs := flags("dlq "+sub, stderr)
	cfgPath := fs.String("c", "mamori.yaml", "configuration `file`")
	output := fs.String("output", "table", "list: table or ndjson")
	fromStart := fs.Bool("from-start", false, "replay: replay every retained dead letter again, not only the new ones")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	b, err := app.OpenBus(ctx, cfg, app.Logger(cfg, os.Stderr))
	if err != nil {
		return err
	}
	defer b.Close()
	if err := app.EnsureTopics(ctx, b, cfg); err != nil {
		return err
	}
	if sub == "replay" {
		if *fromStart {
			n, err := b.Partitions(ctx, bus.TopicDLQ)
			if err != nil {
				return err
			}
			for p := range n {
				if err := b.Seek(ctx, dlq.ReplayGroup, bus.TopicDLQ, p, bus.OffsetOldest); err != nil {
					return err
				}
			}
		}
		replayed, skipped, err := dlq.Replay(ctx, b, 2*time.Second)
		fmt.Fprintf(stdout, "replayed %d dead letters to their source topics (%d skipped: no source topic)\n", replayed, skipped)
		return err
	}

	loc := cfg.Location()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if *output == "table" {
		fmt.Fprintln(tw, "OFFSET\tFAILED AT\tSTAGE\tSOURCE\tERROR\tRECORD")
	}
	enc := json.NewEncoder(stdout)
	count := 0
	err = dlq.List(ctx, b, func(r bus.Record) error {
		count++
		l := dlq.Describe(r)
		if *output == "ndjson" {
			return enc.Encode(l)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s@%s\t%s\t%s\n", l.Offset, l.FailedAt.In(loc).Format("2006-01-02 15:04:05"), l.Stage, l.SourceTopic, l.Source, l.Error, preview(l.Value, 60))
		return nil
	})
	tw.Flush()
	if *output == "table" {
		fmt.Fprintf(stdout, "\n%d dead letters\n", count)
	}
	return err
}

// preview shows the start of a record: text as text, anything else quoted.
func preview(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	if utf8.Valid(b) {
		return strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return '.'
			}
			return r
		}, string(b))
	}
	return strconv.QuoteToASCII(string(b))
}
