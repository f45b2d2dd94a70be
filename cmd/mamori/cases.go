package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/mamori-soc/mamori/app"
	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/logexport"
	"github.com/mamori-soc/mamori/casework/notify"
	"github.com/mamori-soc/mamori/casework/retrieval"
	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/search"
	"github.com/mamori-soc/mamori/store"
)

const casesUsage = `usage: mamori cases COMMAND

  list ['KQL']    cases opened in --from..--to (default the last 30 days), newest first:
                  mamori cases list 'status:(new or acknowledged) and priority:p2'
  show ID         one case: its fields, checklist, timeline and audit trail (--json)
  open            open a case and print its id:
                  mamori cases open --type incident --title 'メールが送れない' --reporter 田中 --channel phone
                    [--subtype S] [--description D] [--priority p1..p4] [--assignee A] [--field k=v ...]
  update ID       change a case and print its new status:
                  mamori cases update INC-20261124-7K3QX --status acknowledged --assignee suzuki
                    [--priority P] [--title T] [--description D] [--field k=v ...] (k= removes k)
                    [--comment TEXT] [--done N ...] (checklist step, from 1) [--notification KIND]
                    [--link alert:ID|event:ID|case:ID ...]
  notify ID       send an acknowledgement, first report or progress report from its template,
                  by e-mail or webhook, and record it on the case (it stops the clock it answers):
                  mamori cases notify FAIL-20261124-7K3QX --kind first_report --to joho@example.lg.jp
                    [--to ...] [--webhook NAME] [--lang ja|en] [--message TEXT]
  comment ID TEXT...
                  add a comment to a case
  rate ID SCORE [COMMENT]
                  the reporter's satisfaction with a closed incident (SCORE 100, 80, 60, 40 or 0)
  import FILE|-   store cases exported from another tool or Mamori (NDJSON of case documents,
                  one a line: id, @timestamp, a timeline starting with "created"...), as given
  request-logs    file a log-retrieval request, which Mamori fulfils, and print its id:
                  mamori cases request-logs --query 'user.name:田中' --from '2026-11-20 09:00'
                    --to '2026-11-21 09:00' --format csv [--columns a,b,c] [--email ADDR] [--requester NAME]

The commands that change cases take -c FILE (default mamori.yaml) and --actor NAME, who acts
(default: the operating system's user name).`

// cmdCases reads and changes cases.
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
	case "open":
		return casesOpen(ctx, args[1:], stdout, stderr)
	case "update":
		return casesUpdate(ctx, args[1:], stdout, stderr)
	case "comment":
		return casesComment(ctx, args[1:], stdout, stderr)
	case "rate":
		return casesRate(ctx, args[1:], stdout, stderr)
	case "import":
		return casesImport(ctx, args[1:], os.Stdin, stdout, stderr)
	case "request-logs":
		return casesRequestLogs(ctx, args[1:], stdout, stderr)
	case "notify":
		return casesNotify(ctx, args[1:], stdout, stderr)
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
	if len(c.Fields) > 0 {
		fmt.Fprintln(stdout, "\nfields:")
		for _, k := range slices.Sorted(maps.Keys(c.Fields)) {
			fmt.Fprintf(stdout, "  %s: %s\n", k, c.Fields[k])
		}
	}
	fmt.Fprintln(stdout, "\ntimeline:")
	for _, e := range c.Timeline {
		fmt.Fprintln(stdout, strings.TrimRight(fmt.Sprintf("  %s  %-12s %s %s%s %s", at(e.At.In(loc)), e.Kind, e.Actor, e.Status, e.Notification, e.Detail), " "))
	}
	for _, x := range c.Exports {
		fmt.Fprintf(stdout, "\nexport for %s: %s, %d events, sha256 %s\n  fulfilled %s by %s; manifest sha256 %s\n", x.RequestedBy, x.File, x.Events, x.FileSHA256,
			at(x.FulfilledAt.In(loc)), x.FulfilledBy, x.ManifestSHA256)
		if dir, err := retrieval.Dir(app.ExportsDir(cfg), c.ID); err == nil {
			fmt.Fprintf(stdout, "  files in %s\n", dir)
		}
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

// joined lists values for an error message: "a, b, c".
func joined[T ~string | ~int](vals []T) string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = fmt.Sprint(v)
	}
	return strings.Join(out, ", ")
}

// repeated is a flag that may be given more than once.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, " ") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// defaultActor is who acts on cases from this command line: the operating
// system's user, else $USER, else "cli".
func defaultActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "cli"
}

// caseWriter holds the flags every command that changes cases takes.
type caseWriter struct {
	cfgPath, actor *string
	cfg            *config.Config
	store          store.Store
}

func addCaseWriterFlags(fs *flag.FlagSet) *caseWriter {
	return &caseWriter{
		cfgPath: fs.String("c", "mamori.yaml", "configuration `file`"),
		actor:   fs.String("actor", defaultActor(), "who acts (recorded in the audit trail)"),
	}
}

// open reads the configuration and opens the store for writing; the
// caller closes w.store.
func (w *caseWriter) open(ctx context.Context) (*casework.Cases, error) {
	if strings.TrimSpace(*w.actor) == "" {
		return nil, errors.New("--actor: name who acts")
	}
	cfg, err := config.Load(*w.cfgPath)
	if err != nil {
		return nil, err
	}
	s, err := app.OpenStore(ctx, cfg, app.Logger(cfg, os.Stderr), true)
	if err != nil {
		return nil, err
	}
	w.cfg, w.store = cfg, s
	return casework.NewCases(s, nil), nil
}

// parseFields reads --field key=value flags; an empty value is allowed
// only where it means "remove".
func parseFields(vals []string, allowEmpty bool) (map[string]string, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range vals {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		switch {
		case !ok || k == "":
			return nil, fmt.Errorf("--field %q: want key=value", kv)
		case v == "" && !allowEmpty:
			return nil, fmt.Errorf("--field %q: give %s a value", kv, k)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("--field %s: given twice", k)
		}
		out[k] = v
	}
	return out, nil
}

func parsePriority(p string) (casework.Priority, error) {
	switch pr := casework.Priority(strings.ToLower(p)); pr {
	case casework.P1, casework.P2, casework.P3, casework.P4:
		return pr, nil
	}
	return "", fmt.Errorf("--priority %s: want p1, p2, p3 or p4", p)
}

// statusLine is one line that says where a case is.
func statusLine(c casework.Case) string {
	return fmt.Sprintf("%s  %s, priority %s, assignee %s  %s", c.ID, c.Status, orDash(string(c.Priority)), orDash(c.Assignee), c.Title)
}

func casesOpen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("cases open", stderr)
	w := addCaseWriterFlags(fs)
	typ := fs.String("type", "", "case `type`: "+joined(casework.Types))
	subtype := fs.String("subtype", "", "`subtype` (requests, duties and problems list theirs)")
	title := fs.String("title", "", "the case's `title`")
	description := fs.String("description", "", "what happened or is asked")
	priority := fs.String("priority", "", "`p1` (most urgent) to p4")
	assignee := fs.String("assignee", "", "who handles it")
	reporter := fs.String("reporter", "", "who reported or requested it")
	channel := fs.String("channel", "", "how it came in: "+strings.Join(casework.Channels, ", "))
	var fields repeated
	fs.Var(&fields, "field", "a type-specific `key=value` (repeatable)")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		fmt.Fprintln(stderr, "usage: mamori cases open [-c FILE] [--actor NAME] --type T --title X [flags]")
		return errUsage
	}
	c := casework.Case{
		Type: casework.Type(*typ), Subtype: *subtype, Title: strings.TrimSpace(*title), Description: *description,
		Assignee: *assignee, Reporter: *reporter, Channel: *channel,
	}
	switch {
	case *typ == "":
		return fmt.Errorf("--type is required: one of %s", joined(casework.Types))
	case !slices.Contains(casework.Types, c.Type):
		return fmt.Errorf("--type %s: want one of %s", *typ, joined(casework.Types))
	case c.Subtype != "" && len(casework.Subtypes[c.Type]) > 0 && !slices.Contains(casework.Subtypes[c.Type], c.Subtype):
		return fmt.Errorf("--subtype %s: a %s's is one of %s", c.Subtype, c.Type, joined(casework.Subtypes[c.Type]))
	case c.Title == "":
		return errors.New("--title is required")
	case c.Channel != "" && !slices.Contains(casework.Channels, c.Channel):
		return fmt.Errorf("--channel %s: want one of %s", c.Channel, joined(casework.Channels))
	}
	if *priority != "" {
		if c.Priority, err = parsePriority(*priority); err != nil {
			return err
		}
	}
	if c.Fields, err = parseFields(fields, false); err != nil {
		return err
	}
	return w.openCase(ctx, c, stdout)
}

// openCase opens c as the actor and prints its id.
func (w *caseWriter) openCase(ctx context.Context, c casework.Case, stdout io.Writer) error {
	cases, err := w.open(ctx)
	if err != nil {
		return err
	}
	defer w.store.Close()
	if c, _, err = cases.Open(ctx, *w.actor, c); err != nil {
		return err
	}
	fmt.Fprintln(stdout, c.ID)
	return nil
}

func casesUpdate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("cases update", stderr)
	w := addCaseWriterFlags(fs)
	status := fs.String("status", "", "new `status`: "+joined(casework.Statuses))
	priority := fs.String("priority", "", "new `priority`: p1 to p4")
	assignee := fs.String("assignee", "", "new `assignee` (\"\" unassigns)")
	title := fs.String("title", "", "new `title`")
	description := fs.String("description", "", "new `description`")
	comment := fs.String("comment", "", "add a comment")
	notification := fs.String("notification", "", "record a notification that went out by other means (`kind`: acknowledgement, first_report...)")
	var fields, done, links repeated
	fs.Var(&fields, "field", "set a type-specific `key=value`; key= removes it (repeatable)")
	fs.Var(&done, "done", "mark checklist step `N` done, counting from 1 (repeatable)")
	fs.Var(&links, "link", "link an alert, event or case: `kind:id` (repeatable)")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		fmt.Fprintln(stderr, "usage: mamori cases update [-c FILE] [--actor NAME] ID [--status S] [--comment TEXT] [flags]")
		return errUsage
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var p casework.Patch
	if given["status"] {
		st := casework.Status(*status)
		if !slices.Contains(casework.Statuses, st) {
			return fmt.Errorf("--status %s: want one of %s", *status, joined(casework.Statuses))
		}
		p.Status = &st
	}
	if given["priority"] {
		pr, err := parsePriority(*priority)
		if err != nil {
			return err
		}
		p.Priority = &pr
	}
	if given["assignee"] {
		p.Assignee = assignee
	}
	if given["title"] {
		if strings.TrimSpace(*title) == "" {
			return errors.New("--title: a case needs a title")
		}
		p.Title = title
	}
	if given["description"] {
		p.Description = description
	}
	if p.Fields, err = parseFields(fields, true); err != nil {
		return err
	}
	p.Comment = strings.TrimSpace(*comment)
	if given["comment"] && p.Comment == "" {
		return errors.New("--comment: the comment is empty")
	}
	p.Notification = strings.TrimSpace(*notification)
	if given["notification"] && p.Notification == "" {
		return errors.New("--notification: name the notification's kind (acknowledgement, first_report...)")
	}
	for _, d := range done {
		n, err := strconv.Atoi(strings.TrimSpace(d))
		if err != nil || n < 1 {
			return fmt.Errorf("--done %s: want a checklist step number, counting from 1", d)
		}
		p.Done = append(p.Done, n-1)
	}
	for _, l := range links {
		kind, id, ok := strings.Cut(l, ":")
		if !ok || id == "" || !slices.Contains(casework.LinkKinds, kind) {
			return fmt.Errorf("--link %s: want alert:ID, event:ID or case:ID", l)
		}
		p.Links = append(p.Links, casework.Link{Kind: kind, ID: id})
	}
	delete(given, "c")
	delete(given, "actor")
	if len(given) == 0 {
		return errors.New("nothing to change: give --status, --priority, --assignee, --title, --description, --field, --comment, --done, --notification or --link")
	}
	return modifyCase(ctx, w, rest[0], p, stdout)
}

// modifyCase applies p to case id (reading it again if it changes in
// between: a one-shot command has no earlier read to protect) and prints
// the case's new status.
func modifyCase(ctx context.Context, w *caseWriter, id string, p casework.Patch, stdout io.Writer) error {
	cases, err := w.open(ctx)
	if err != nil {
		return err
	}
	defer w.store.Close()
	now := time.Now().UTC()
	c, _, err := cases.Modify(ctx, id, *w.actor, func(c *casework.Case) error {
		for _, i := range p.Done {
			if i >= len(c.Checklist) {
				return fmt.Errorf("%w: --done %d: case %s has %d checklist steps", casework.ErrInvalid, i+1, c.ID, len(c.Checklist))
			}
		}
		return p.Apply(c, *w.actor, now)
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, statusLine(c))
	return nil
}

func casesComment(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("cases comment", stderr)
	w := addCaseWriterFlags(fs)
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	text := ""
	if len(rest) > 1 {
		text = strings.TrimSpace(strings.Join(rest[1:], " "))
	}
	if text == "" {
		fmt.Fprintln(stderr, "usage: mamori cases comment [-c FILE] [--actor NAME] ID TEXT...")
		return errUsage
	}
	return modifyCase(ctx, w, rest[0], casework.Patch{Comment: text}, stdout)
}

func casesRate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("cases rate", stderr)
	w := addCaseWriterFlags(fs)
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) < 2 {
		fmt.Fprintln(stderr, "usage: mamori cases rate [-c FILE] [--actor NAME] ID SCORE [COMMENT]\n\n  SCORE: 100 satisfied, 80 mostly satisfied, 60 neutral, 40 somewhat dissatisfied, 0 dissatisfied")
		return errUsage
	}
	score, err := strconv.Atoi(rest[1])
	if err != nil || !slices.Contains(casework.SurveyScores, score) {
		return fmt.Errorf("SCORE %s: want one of %s", rest[1], joined(casework.SurveyScores))
	}
	sv := &casework.PatchSurvey{Score: score, Comment: strings.TrimSpace(strings.Join(rest[2:], " "))}
	return modifyCase(ctx, w, rest[0], casework.Patch{Survey: sv}, stdout)
}

// maxImportLine bounds one case document of an import.
const maxImportLine = 16 << 20

func casesImport(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flags("cases import", stderr)
	w := addCaseWriterFlags(fs)
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		fmt.Fprintln(stderr, "usage: mamori cases import [-c FILE] [--actor NAME] FILE|-   (NDJSON: one case document a line)")
		return errUsage
	}
	in := stdin
	if rest[0] != "-" {
		f, err := os.Open(rest[0])
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	cases, err := w.open(ctx)
	if err != nil {
		return err
	}
	defer w.store.Close()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), maxImportLine)
	imported, failed := 0, 0
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a UTF-8 byte-order mark
		}
		if len(line) == 0 {
			continue
		}
		if err := importCase(ctx, cases, *w.actor, line); err != nil {
			fmt.Fprintf(stderr, "line %d: %v\n", n, err)
			failed++
			continue
		}
		imported++
	}
	fmt.Fprintf(stdout, "imported %d cases\n", imported)
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s after %d cases: %w", rest[0], imported+failed, err)
	}
	if failed > 0 {
		return fmt.Errorf("%d cases not imported (the lines above say why)", failed)
	}
	return nil
}

func importCase(ctx context.Context, cases *casework.Cases, actor string, line []byte) error {
	if !utf8.Valid(line) {
		return errors.New("not UTF-8 text (convert the file, from Shift_JIS for example, to UTF-8)")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var c casework.Case
	if err := dec.Decode(&c); err != nil {
		return fmt.Errorf("not a case document: %w", err)
	}
	if dec.More() {
		return errors.New("more than one JSON value on the line")
	}
	_, _, err := cases.Import(ctx, actor, c)
	return err
}

// parseCaseTime reads an RFC 3339 time or YYYY-MM-DD HH:MM (or a date:
// its midnight) in loc.
func parseCaseTime(flagName, s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("--%s is required: an RFC 3339 time or YYYY-MM-DD HH:MM (%s)", flagName, loc)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--%s %q: want an RFC 3339 time (2026-11-20T09:00:00+09:00) or YYYY-MM-DD HH:MM (%s)", flagName, s, loc)
}

func casesRequestLogs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("cases request-logs", stderr)
	w := addCaseWriterFlags(fs)
	query := fs.String("query", "", "the events asked for, in `KQL` (empty: every event of the range)")
	from := fs.String("from", "", "start `time` (inclusive): RFC 3339 or YYYY-MM-DD HH:MM in the configured zone")
	to := fs.String("to", "", "end `time` (exclusive)")
	format := fs.String("format", "", "file `format`: ndjson or csv")
	columns := fs.String("columns", "", "CSV `columns`, comma-separated (default: the standard set)")
	email := fs.String("email", "", "where to send the delivery notice (the files are downloaded, never mailed)")
	requester := fs.String("requester", "", "who asks (default: --actor)")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		fmt.Fprintln(stderr, "usage: mamori cases request-logs [-c FILE] [--actor NAME] --query KQL --from TIME --to TIME --format ndjson|csv [flags]")
		return errUsage
	}
	f := logexport.Format(strings.ToLower(strings.TrimSpace(*format)))
	switch f {
	case logexport.NDJSON, logexport.CSV:
	case "":
		return errors.New("--format is required: ndjson or csv")
	default:
		return fmt.Errorf("--format %s: want ndjson or csv", *format)
	}
	cfg, err := config.Load(*w.cfgPath)
	if err != nil {
		return err
	}
	loc := cfg.Location()
	r := casework.LogRequest{Query: strings.TrimSpace(*query), Format: f, Email: strings.TrimSpace(*email), Location: loc}
	if r.From, err = parseCaseTime("from", *from, loc); err != nil {
		return err
	}
	if r.To, err = parseCaseTime("to", *to, loc); err != nil {
		return err
	}
	if *columns != "" {
		for _, col := range strings.Split(*columns, ",") {
			r.Columns = append(r.Columns, strings.TrimSpace(col))
		}
	}
	c, err := casework.NewLogRequest(cmp.Or(strings.TrimSpace(*requester), *w.actor), r)
	if err != nil {
		return err
	}
	return w.openCase(ctx, c, stdout)
}

// casesNotify sends an acknowledgement, first report or progress report of
// a case from its template and records it on the case.
func casesNotify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("cases notify", stderr)
	w := addCaseWriterFlags(fs)
	kind := fs.String("kind", "", "what the notice is: acknowledgement, first_report or progress_report")
	var to repeated
	fs.Var(&to, "to", "an e-mail `address` (repeatable)")
	webhook := fs.String("webhook", "", "a configured webhook's `name`, instead of e-mail")
	lang := fs.String("lang", "ja", "language of the text: ja or en")
	message := fs.String("message", "", "what the notice says beyond the case's facts")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		fmt.Fprintln(stderr, "usage: mamori cases notify [-c FILE] --kind KIND (--to ADDRESS... | --webhook NAME) [--lang ja|en] [--message TEXT] ID")
		return errUsage
	}
	if !slices.Contains(notify.ByPeople, notify.Kind(*kind)) {
		return fmt.Errorf("--kind %q: want one of %s", *kind, joined(notify.ByPeople))
	}
	if !slices.Contains(notify.Langs, notify.Lang(*lang)) {
		return fmt.Errorf("--lang %q: want ja or en", *lang)
	}
	cases, err := w.open(ctx)
	if err != nil {
		return err
	}
	defer w.store.Close()
	sender, err := app.Sender(w.cfg)
	if err != nil {
		return err
	}
	if sender == nil {
		return errors.New("no notification channel is configured: set casework.notify.smtp or webhooks")
	}
	c, _, err := cases.Get(ctx, rest[0])
	if err != nil {
		return err
	}
	rec, err := notify.SendAndRecord(ctx, sender, cases, notify.Notification{
		Kind: notify.Kind(*kind), Lang: notify.Lang(*lang), CaseID: c.ID, To: to, Webhook: *webhook,
		Data: notify.Data{Case: c, Message: *message},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s sent: %s (%s)\n", rec.Kind, notify.Detail(rec), rec.Subject)
	return nil
}
