package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/mamori-soc/mamori/search"
	"github.com/mamori-soc/mamori/store"
)

// cmdExport streams every matching event as NDJSON, page by page, so memory
// stays flat however many match.
func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("export", stderr)
	qf := addQueryFlags(fs, "@timestamp:asc")
	quiet := fs.Bool("q", false, "do not report progress on stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mamori export [flags] 'KQL query' > events.ndjson\n\nFlags:")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	q, err := qf.open(rest, search.Request{Size: 1000})
	if err != nil {
		return err
	}
	defer q.store.Close()
	s, resolved := q.store, q.resolved
	total, err := s.Count(ctx, resolved.Query)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(stdout, 256<<10)
	var n int64
	last := time.Now()
	err = s.Export(ctx, resolved.SearchRequest, func(h store.Hit) error {
		n++
		if !*quiet && time.Since(last) > time.Second {
			fmt.Fprintf(stderr, "\rexported %d of %d events (%.0f%%)", n, total, 100*float64(n)/float64(max(total, 1)))
			last = time.Now()
		}
		if _, err := w.Write(h.Source); err != nil {
			return err
		}
		return w.WriteByte('\n')
	})
	if err == nil {
		err = w.Flush()
	}
	if !*quiet {
		fmt.Fprintf(stderr, "\rexported %d events%s\n", n, spaces(30))
	}
	return err
}

func spaces(n int) string { return fmt.Sprintf("%*s", n, "") }
