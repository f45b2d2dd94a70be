package ruletest

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/event"
)

// actual is what a test can say about an alert document.
type actual struct {
	rule               string
	count              int64
	user, host, source string
	first, last        time.Time
}

// summarize reads an alert document.
func summarize(a *event.Event) actual {
	var x actual
	x.rule, _ = a.Fields["rule.id"].(string)
	switch n := a.Fields[detections.FieldAlertCount].(type) {
	case int64:
		x.count = n
	case int:
		x.count = int64(n)
	}
	if a.User != nil {
		x.user = a.User.Name
	}
	if a.Host != nil {
		x.host = a.Host.Name
	}
	if a.Source != nil {
		x.source = a.Source.IP
		if x.source == "" {
			x.source = a.Source.Address
		}
	}
	x.first, _ = a.Fields["event.start"].(time.Time)
	x.last, _ = a.Fields["event.end"].(time.Time)
	return x
}

// mismatches lists how the alert differs from the expectation ("count:
// want 10, got 9"); none when it matches.
func (e *expected) mismatches(a actual, zone *time.Location) []string {
	var out []string
	str := func(name string, want *string, got string) {
		if want != nil && *want != got {
			out = append(out, fmt.Sprintf("%s: want %s, got %s", name, quote(*want), quote(got)))
		}
	}
	tm := func(name string, want *time.Time, got time.Time) {
		if want != nil && !want.Equal(got) {
			out = append(out, fmt.Sprintf("%s: want %s, got %s", name, fmtTime(*want, zone), fmtTime(got, zone)))
		}
	}
	if e.rule != a.rule {
		out = append(out, fmt.Sprintf("rule: want %s, got %s", e.rule, a.rule))
	}
	if e.count != nil && *e.count != a.count {
		out = append(out, fmt.Sprintf("count: want %d, got %d", *e.count, a.count))
	}
	str("user", e.user, a.user)
	str("host", e.host, a.host)
	str("source", e.source, a.source)
	tm("first", e.first, a.first)
	tm("last", e.last, a.last)
	return out
}

// format writes the expectation as a test file would.
func (e *expected) format(zone *time.Location) string {
	parts := []string{"rule=" + e.rule}
	if e.count != nil {
		parts = append(parts, fmt.Sprintf("count=%d", *e.count))
	}
	for _, p := range []struct {
		name string
		v    *string
	}{{"user", e.user}, {"host", e.host}, {"source", e.source}} {
		if p.v != nil {
			parts = append(parts, p.name+"="+quote(*p.v))
		}
	}
	if e.first != nil {
		parts = append(parts, "first="+fmtTime(*e.first, zone))
	}
	if e.last != nil {
		parts = append(parts, "last="+fmtTime(*e.last, zone))
	}
	return strings.Join(parts, " ")
}

// format writes every attribute of an alert.
func (a actual) format(zone *time.Location) string {
	return fmt.Sprintf("rule=%s count=%d user=%s host=%s source=%s first=%s last=%s",
		a.rule, a.count, quote(a.user), quote(a.host), quote(a.source), fmtTime(a.first, zone), fmtTime(a.last, zone))
}

func quote(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\"") {
		return fmt.Sprintf("%q", s)
	}
	return s
}

func fmtTime(t time.Time, zone *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(zone).Format(time.RFC3339Nano)
}

// compare matches alerts to expectations, each expectation to a different
// alert, in any order, and says how they differ.
func compare(exp []expected, alerts []*event.Event, zone *time.Location) (bool, string) {
	acts := make([]actual, len(alerts))
	for i, a := range alerts {
		acts[i] = summarize(a)
	}
	// Bipartite matching by augmenting paths: the sets are small.
	ok := make([][]bool, len(exp))
	for i := range exp {
		ok[i] = make([]bool, len(acts))
		for j := range acts {
			ok[i][j] = len(exp[i].mismatches(acts[j], zone)) == 0
		}
	}
	owner := make([]int, len(acts)) // expectation matched to each alert, -1 for none
	for j := range owner {
		owner[j] = -1
	}
	var try func(i int, seen []bool) bool
	try = func(i int, seen []bool) bool {
		for j := range acts {
			if ok[i][j] && !seen[j] {
				seen[j] = true
				if owner[j] < 0 || try(owner[j], seen) {
					owner[j] = i
					return true
				}
			}
		}
		return false
	}
	matched := make([]int, len(exp))
	for i := range exp {
		matched[i] = -1
		try(i, make([]bool, len(acts)))
	}
	for j, i := range owner {
		if i >= 0 {
			matched[i] = j
		}
	}
	pass := true
	for _, j := range matched {
		if j < 0 {
			pass = false
		}
	}
	extra := 0
	for _, i := range owner {
		if i < 0 {
			extra++
		}
	}
	if pass && extra == 0 {
		return true, ""
	}

	var b strings.Builder
	switch {
	case len(exp) == 0:
		fmt.Fprintf(&b, "expected no alert, got %d\n", len(acts))
	default:
		fmt.Fprintf(&b, "expected %s, got %d\n", plural(len(exp), "alert"), len(acts))
	}
	for i := range exp {
		if j := matched[i]; j >= 0 {
			fmt.Fprintf(&b, "ok       %s\n", exp[i].format(zone))
			continue
		}
		fmt.Fprintf(&b, "missing  %s\n", exp[i].format(zone))
		// The nearest unmatched alert, to say what differs.
		best, bestN := -1, 0
		for j := range acts {
			if owner[j] >= 0 {
				continue
			}
			if n := len(exp[i].mismatches(acts[j], zone)); best < 0 || n < bestN {
				best, bestN = j, n
			}
		}
		if best >= 0 {
			fmt.Fprintf(&b, "         nearest alert #%d differs: %s\n", best+1, strings.Join(exp[i].mismatches(acts[best], zone), "; "))
		}
	}
	for j := range acts {
		if owner[j] < 0 {
			fmt.Fprintf(&b, "extra    #%d %s\n", j+1, acts[j].format(zone))
		}
	}
	return false, strings.TrimSuffix(b.String(), "\n")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Write prints the report for people: one line per test file, the diff of
// every failed case, the untested rules and a summary. With verbose, every
// case is listed.
func (r *Report) Write(w io.Writer, verbose bool) error {
	var b strings.Builder
	for i := range r.Files {
		f := &r.Files[i]
		label := f.File
		if f.Rule != "" {
			label += " (" + f.Rule + ")"
		}
		if f.Err != nil {
			fmt.Fprintf(&b, "FAIL  %s\n      %v\n", label, f.Err)
			continue
		}
		failed := 0
		for _, c := range f.Cases {
			if !c.Passed {
				failed++
			}
		}
		if failed == 0 {
			fmt.Fprintf(&b, "ok    %s: %s\n", label, plural(len(f.Cases), "case"))
		} else {
			fmt.Fprintf(&b, "FAIL  %s: %d of %s failed\n", label, failed, plural(len(f.Cases), "case"))
		}
		for _, c := range f.Cases {
			switch {
			case !c.Passed:
				fmt.Fprintf(&b, "      --- FAIL: %s\n", c.Name)
				for line := range strings.SplitSeq(c.Diff, "\n") {
					fmt.Fprintf(&b, "          %s\n", line)
				}
			case verbose:
				fmt.Fprintf(&b, "      --- ok: %s (%s)\n", c.Name, plural(len(c.Alerts), "alert"))
			}
		}
	}
	if len(r.Untested) > 0 {
		fmt.Fprintf(&b, "rules without a test file: %s\n", strings.Join(r.Untested, ", "))
	}
	p, f := r.Counts()
	fmt.Fprintf(&b, "%s, %s: %d passed, %d failed\n", plural(len(r.Files), "test file"), plural(p+f, "case"), p, f)
	_, err := io.WriteString(w, b.String())
	return err
}
