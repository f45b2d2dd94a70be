package main

import (
	"context"
	"fmt"
	"io"
	stdlog "log"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/mamori-soc/mamori/app"
	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/ingest/fileimport"
)

func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("import", stderr)
	cfgPath := fs.String("c", "mamori.yaml", "configuration `file`")
	receiver := fs.String("receiver", fileimport.DefaultReceiver, "receiver `name` stamped on the imported records (agent.name)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: mamori import [-c FILE] [--receiver NAME] FILE...\n\n"+
			"Imports Windows event logs for backfill and forensics: .evtx files and Event XML\n"+
			"(wevtutil qe LOG /f:xml output, Event Viewer \"Save as XML\"), told apart by content.\n"+
			"Importing the same events again does not duplicate them.\n\nFlags:")
		fs.PrintDefaults()
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		fs.Usage()
		return errUsage
	}
	var total int64
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return err
		}
		if st.IsDir() {
			return fmt.Errorf("%s is a directory: name the files (for example %s)", f, filepath.Join(f, "*.evtx"))
		}
		total += st.Size()
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

	// The EVTX library logs every decoding problem, with a stack trace,
	// through the standard logger; the problems are reported below instead.
	prevOut := stdlog.Writer()
	stdlog.SetOutput(io.Discard)
	defer stdlog.SetOutput(prevOut)

	prog := newProgress(stderr, total, "import", true)
	var done int64
	im := fileimport.New(fileimport.Options{
		Publisher: b,
		Receiver:  *receiver,
		Progress: func(_ string, n int64, records int) {
			prog.update(done+n, records)
		},
	})
	var results []*fileimport.Result
	var failed []error
	records := 0
	for _, f := range files {
		res, err := im.File(ctx, f)
		if res != nil {
			results = append(results, res)
			records += res.Records
			done += res.Size
		}
		if err != nil {
			if ctx.Err() != nil {
				prog.finish()
				return ctx.Err()
			}
			failed = append(failed, fmt.Errorf("%s: %w", f, err))
		}
		prog.update(done, records)
	}
	prog.finish()
	summary(stdout, results, failed)
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d files could not be imported", len(failed), len(files))
	}
	return nil
}

func summary(w io.Writer, results []*fileimport.Result, failed []error) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tKIND\tRECORDS\tDEAD-LETTERED\tPROBLEMS")
	records, lost, problems := 0, 0, 0
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\n", r.File, r.Kind, r.Records, r.Lost, len(r.Problems))
		records, lost, problems = records+r.Records, lost+r.Lost, problems+len(r.Problems)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nimported %d events from %d files; %d records dead-lettered (mamori dlq list); %d problems\n",
		records, len(results), lost, problems)
	if problems > 0 {
		fmt.Fprintln(w, "\nproblems:")
		for _, r := range results {
			for _, p := range r.Problems {
				fmt.Fprintf(w, "  %s: %s\n", r.File, p.What) // What names the offset
			}
		}
	}
	for _, err := range failed {
		fmt.Fprintf(w, "failed: %v\n", err)
	}
}

// progress shows how far an import is: a bar when stderr is a terminal,
// a line every few seconds otherwise.
type progress struct {
	what    string // "import", "backtest"
	bytes   bool   // done and total are bytes (else events)
	bar     *progressbar.ProgressBar
	w       io.Writer
	total   int64
	start   time.Time
	last    time.Time
	every   time.Duration
	records int
	done    int64
}

func newProgress(w io.Writer, total int64, what string, bytes bool) *progress {
	p := &progress{what: what, bytes: bytes, w: w, total: total, start: time.Now(), every: 5 * time.Second}
	p.last = p.start
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowBytes(bytes),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

func (p *progress) update(done int64, records int) {
	p.done, p.records = done, records
	if p.bar != nil {
		_ = p.bar.Set64(done)
		return
	}
	if now := time.Now(); now.Sub(p.last) >= p.every {
		p.last = now
		p.line(now)
	}
}

func (p *progress) line(now time.Time) {
	elapsed := now.Sub(p.start).Seconds()
	rate := float64(p.done) / max(elapsed, 0.001)
	eta := "?"
	if rate > 0 && p.total >= p.done {
		eta = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	pct := 100.0
	if p.total > 0 {
		pct = 100 * float64(p.done) / float64(p.total)
	}
	if !p.bytes {
		fmt.Fprintf(p.w, "%s: %d of %d events (%.0f%%), %.0f events/s, ETA %s\n", p.what, p.done, p.total, pct, rate, eta)
		return
	}
	fmt.Fprintf(p.w, "%s: %s of %s (%.0f%%), %d records, %s/s, ETA %s\n",
		p.what, mib(p.done), mib(p.total), pct, p.records, mib(int64(rate)), eta)
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		return
	}
	if time.Since(p.start) >= p.every {
		p.line(time.Now())
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
