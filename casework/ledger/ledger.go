// Package ledger renders the monthly SLA table of the seed (the 25 service
// levels) from real cases: for each item its target, the measured value,
// whether it was met, and the cases behind the figure. Clock items come
// from the cases' SLA clocks (package casework/sla) that started in the
// month; the satisfaction survey from the ratings given in the month;
// periodic duties from the duty cases closed in the month; serious
// incidents and failures from the cases flagged serious; status notices
// from the incidents' status changes and the notifications that followed
// them; power-outage notices from the planned outages' dates and their
// facility notices. Items whose data comes from later capabilities
// (availability from SNMP monitoring) are read through an interface and
// say "no data" until it exists.
package ledger

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/notify"
	"github.com/mamori-soc/mamori/casework/sla"
)

// Item is one row of the table.
type Item struct {
	No       int    `json:"no"`
	Name     string `json:"name"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	// Met is nil when the month gives no figure (no data, no cases).
	Met *bool `json:"met"`
	// Cases are the cases behind the figure: for clock items, the ones
	// that breached first, then the others; likewise for status notices
	// (item 6) and outage notices (item 17), the ones that missed first.
	Cases []string `json:"cases,omitempty"`
}

// Ledger is the table of one month.
type Ledger struct {
	Month string `json:"month"` // 2026-10
	Items []Item `json:"items"`
}

// Availability reports the network's availability over a period (SLA item
// 1), excluding agreed outages; ok is false when there is no data.
type Availability interface {
	Availability(ctx context.Context, from, to time.Time) (share float64, ok bool, err error)
}

// items are the seed's service levels: number, name, target.
var items = []struct {
	no             int
	name, target   string
	duty           string // a periodic duty's case subtype
	dutyPerMonth   int    // how many the month needs (0: see weeks)
	seriousCaseTyp casework.Type
}{
	{no: 1, name: "network service availability", target: ">= 95 %"},
	{no: 2, name: "SLA reporting", target: "monthly", duty: "monthly_report", dutyPerMonth: 1},
	{no: 3, name: "SLA review", target: "every 6 months", duty: "sla_review"},
	{no: 4, name: "satisfaction survey", target: ">= 65 points"},
	{no: 5, name: "incident first acknowledgement", target: "phone / in person: immediately; e-mail: 2 hours"},
	{no: 6, name: "incident status notices", target: "at every change of state"},
	{no: 7, name: "failure first report", target: "15 minutes"},
	{no: 8, name: "failure recovery time", target: "4 hours"},
	{no: 9, name: "failure progress reports", target: "every 4 hours"},
	{no: 10, name: "failure written report", target: "24 hours"},
	{no: 11, name: "log provision", target: "4 hours"},
	{no: 12, name: "log analysis", target: "monthly", duty: "monthly_log_analysis", dutyPerMonth: 1},
	{no: 13, name: "security report", target: "weekly", duty: "weekly_security_report"},
	{no: 14, name: "request acknowledgement", target: "2 hours"},
	{no: 15, name: "request fulfilment", target: "1 day"},
	{no: 16, name: "statutory power-outage plan", target: "1 month"},
	{no: 17, name: "statutory power-outage notice", target: "3 weeks before"},
	{no: 18, name: "daily report", target: "next business morning"},
	{no: 19, name: "monthly report", target: "by the 10th"},
	{no: 20, name: "regular meeting", target: "monthly", duty: "monthly_meeting", dutyPerMonth: 1},
	{no: 21, name: "documents up to date", target: "1 day"},
	{no: 22, name: "improvement report", target: "monthly", duty: "improvement_report", dutyPerMonth: 1},
	{no: 23, name: "maintenance information", target: "3 business days"},
	{no: 24, name: "serious security incidents", target: "0 per month", seriousCaseTyp: casework.SecurityIncident},
	{no: 25, name: "serious operational failures", target: "0 per month", seriousCaseTyp: casework.Failure},
}

// SeriousField marks a case as serious (value "true"): a leak (item 24) or
// a long outage or data loss (item 25).
const SeriousField = "serious"

// OutageDateField holds a planned outage's date (YYYY-MM-DD, in the
// calendar's zone), which its facility notice must precede by 3 weeks
// (item 17).
const OutageDateField = "outage_date"

// FacilityNotice is the notification kind of the notice of a planned
// outage to the affected facilities (item 17).
const FacilityNotice = "facility_notice"

// noticeLeadDays is how many days before the outage date the facility
// notice is due: 3 weeks, so for an outage on the 31st a notice any time on
// the 10th (in the calendar's zone) is in time.
const noticeLeadDays = 21

// Build computes the ledger of the month starting at month (its first day,
// in the calendar's zone) from the cases that may bear on it (cases opened
// in or before the month), evaluating clocks at now (for a past month, any
// time after it ended). defs are the clock definitions; avail may be nil.
func Build(ctx context.Context, cases []casework.Case, month, now time.Time, defs []sla.ClockDef, cal *calendar.Calendar, avail Availability) (Ledger, error) {
	loc := cal.Location()
	from := time.Date(month.In(loc).Year(), month.In(loc).Month(), 1, 0, 0, 0, 0, loc)
	to := from.AddDate(0, 1, 0)
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	l := Ledger{Month: from.Format("2006-01")}

	// Clocks by item, of clocks started in the month.
	type tally struct {
		total, met, breached  int
		breachedIDs, otherIDs []string
	}
	clocks := map[int]*tally{}
	for i := range cases {
		c := &cases[i]
		for _, k := range c.Clocks(defs, now, cal) {
			if k.Item == 0 || !in(k.StartedAt) {
				continue
			}
			t := clocks[k.Item]
			if t == nil {
				t = &tally{}
				clocks[k.Item] = t
			}
			t.total++
			switch k.State {
			case sla.Met:
				t.met++
			case sla.Breached:
				t.breached++
			}
			if k.State == sla.Breached {
				if !slices.Contains(t.breachedIDs, c.ID) {
					t.breachedIDs = append(t.breachedIDs, c.ID)
				}
			} else if !slices.Contains(t.otherIDs, c.ID) {
				t.otherIDs = append(t.otherIDs, c.ID)
			}
		}
	}
	yes, no := true, false
	verdict := func(ok bool) *bool {
		if ok {
			return &yes
		}
		return &no
	}
	for _, it := range items {
		row := Item{No: it.no, Name: it.name, Target: it.target, Measured: "no data"}
		switch {
		case it.no == 1:
			if avail != nil {
				share, ok, err := avail.Availability(ctx, from, to)
				if err != nil {
					return Ledger{}, fmt.Errorf("ledger: availability: %w", err)
				}
				if ok {
					row.Measured = fmt.Sprintf("%.2f %%", share*100)
					row.Met = verdict(share >= 0.95)
				}
			}
		case it.no == 4:
			var sum, n int
			for _, c := range cases {
				if c.Survey != nil && in(c.Survey.At) {
					sum += c.Survey.Score
					n++
					row.Cases = append(row.Cases, c.ID)
				}
			}
			if n > 0 {
				avg := float64(sum) / float64(n)
				row.Measured = fmt.Sprintf("%.1f points (%d ratings)", avg, n)
				row.Met = verdict(avg >= 65)
			} else {
				row.Measured = "no ratings"
			}
		case it.no == 6:
			row.Measured, row.Met, row.Cases = statusNotices(cases, in)
		case it.no == 17:
			row.Measured, row.Met, row.Cases = outageNotices(cases, loc, in)
		case it.duty != "":
			need, since := it.dutyPerMonth, from
			switch it.no {
			case 3: // every six months: one review within the six months ending with this one
				need, since = 1, to.AddDate(0, -6, 0)
			case 13: // weekly: one per week that starts (Monday) in the month
				need = mondays(from, to)
			}
			n := 0
			for _, c := range cases {
				if c.Type == casework.Duty && c.Subtype == it.duty && c.Status == casework.Closed && closedIn(c, since, to) {
					n++
					row.Cases = append(row.Cases, c.ID)
				}
			}
			row.Measured = fmt.Sprintf("%d done, %d due", n, need)
			row.Met = verdict(n >= need)
		case it.seriousCaseTyp != "":
			n := 0
			for _, c := range cases {
				if c.Type == it.seriousCaseTyp && in(c.Timestamp) && c.Fields[SeriousField] == "true" {
					n++
					row.Cases = append(row.Cases, c.ID)
				}
			}
			row.Measured = fmt.Sprintf("%d", n)
			row.Met = verdict(n == 0)
		default:
			if t := clocks[it.no]; t != nil {
				row.Measured = fmt.Sprintf("%d of %d within target (%d breached, %d still running)", t.met, t.total, t.breached, t.total-t.met-t.breached)
				row.Met = verdict(t.breached == 0)
				row.Cases = append(t.breachedIDs, t.otherIDs...)
			} else if slices.ContainsFunc(defs, func(d sla.ClockDef) bool { return d.Item == it.no }) {
				row.Measured = "no cases"
			} else {
				row.Measured = "not measured yet"
			}
		}
		l.Items = append(l.Items, row)
	}
	return l, nil
}

// statusNotices measures item 6: every status change of an incident or a
// security incident in the month (a "status" entry; the created entry is no
// change), closing included, must be followed by a notification to the
// reporter before the next change (for the last change: at any time after
// it). A notification at the same instant as the change counts, whichever
// of the two was recorded first. The SLA watcher's warnings and breach
// notices go to the team, not the reporter, and do not count. The cases are
// those with an un-notified change first, then the others.
func statusNotices(cases []casework.Case, in func(time.Time) bool) (string, *bool, []string) {
	var total, notified int
	var missed, others []string
	for _, c := range cases {
		if c.Type != casework.Incident && c.Type != casework.SecurityIncident {
			continue
		}
		tl := slices.Clone(c.Timeline)
		slices.SortStableFunc(tl, func(a, b casework.Entry) int { return a.At.Compare(b.At) })
		counted, ok := false, true
		for i, e := range tl {
			if e.Kind != "status" || !in(e.At) {
				continue
			}
			counted = true
			total++
			if statusNotified(tl, i) {
				notified++
			} else {
				ok = false
			}
		}
		switch {
		case !counted:
		case ok:
			others = append(others, c.ID)
		default:
			missed = append(missed, c.ID)
		}
	}
	if total == 0 {
		return "no status changes", nil, nil
	}
	met := notified == total
	return fmt.Sprintf("%d of %d status changes notified", notified, total), &met, append(missed, others...)
}

// statusNotified reports whether the status change tl[i] of a timeline
// sorted by time was notified to the reporter: a notification after it and
// before the next status entry, or one at the same instant just before it.
func statusNotified(tl []casework.Entry, i int) bool {
	for j := i - 1; j >= 0 && tl[j].At.Equal(tl[i].At) && tl[j].Kind != "status"; j-- {
		if toReporter(tl[j]) {
			return true
		}
	}
	for _, e := range tl[i+1:] {
		if e.Kind == "status" {
			return false
		}
		if toReporter(e) {
			return true
		}
	}
	return false
}

// toReporter reports whether a timeline entry is a notification to the
// reporter: any notification but the SLA watcher's, which goes to the team.
func toReporter(e casework.Entry) bool {
	return e.Kind == "notification" && e.Notification != "" &&
		e.Notification != string(notify.SLAWarning) && e.Notification != string(notify.SLABreach)
}

// outageNotices measures item 17: each planned outage whose date (field
// OutageDateField) falls in the month needs a FacilityNotice notification
// at or before the start of the day 3 weeks before that date. A planned
// outage opened in the month without a readable date cannot be measured;
// the measured text says how many. The cases are the outages noticed late
// or not at all first, then those without a date, then the others.
func outageNotices(cases []casework.Case, loc *time.Location, in func(time.Time) bool) (string, *bool, []string) {
	var total, noticed int
	var late, undated, others []string
	for _, c := range cases {
		if c.Type != casework.Outage {
			continue
		}
		day, err := time.ParseInLocation(time.DateOnly, c.Fields[OutageDateField], loc)
		if err != nil {
			if in(c.Timestamp) {
				undated = append(undated, c.ID)
			}
			continue
		}
		if !in(day) {
			continue
		}
		total++
		tooLate := day.AddDate(0, 0, -noticeLeadDays+1) // the start of the day after the due day
		if slices.ContainsFunc(c.Timeline, func(e casework.Entry) bool {
			return e.Kind == "notification" && e.Notification == FacilityNotice && e.At.Before(tooLate)
		}) {
			noticed++
			others = append(others, c.ID)
		} else {
			late = append(late, c.ID)
		}
	}
	ids := append(append(late, undated...), others...)
	var parts []string
	var met *bool
	if total > 0 {
		ok := noticed == total
		met = &ok
		parts = append(parts, fmt.Sprintf("%d of %d outages noticed 3 weeks ahead", noticed, total))
	}
	switch n := len(undated); {
	case n == 1:
		parts = append(parts, "1 outage without "+OutageDateField)
	case n > 1:
		parts = append(parts, fmt.Sprintf("%d outages without %s", n, OutageDateField))
	}
	if len(parts) == 0 {
		return "no outages", nil, nil
	}
	return strings.Join(parts, "; "), met, ids
}

// closedIn reports whether the case's last move to closed falls in
// [from, to).
func closedIn(c casework.Case, from, to time.Time) bool {
	for i := len(c.Timeline) - 1; i >= 0; i-- {
		e := c.Timeline[i]
		if e.Kind == "status" && e.Status == casework.Closed {
			return !e.At.Before(from) && e.At.Before(to)
		}
	}
	return false
}

// mondays counts the Mondays in [from, to).
func mondays(from, to time.Time) int {
	n := 0
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Monday {
			n++
		}
	}
	return n
}

// ParseMonth reads a month written YYYY-MM in loc; "" is the month before
// the one now is in (the ledger one usually wants).
func ParseMonth(text string, now time.Time, loc *time.Location) (time.Time, error) {
	if text == "" {
		n := now.In(loc)
		return time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc).AddDate(0, -1, 0), nil
	}
	m, err := time.ParseInLocation("2006-01", text, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("month %q: want YYYY-MM", text)
	}
	return m, nil
}

// Month loads the cases that may bear on the month starting at month (those
// opened up to a year before its end) and builds its ledger.
func Month(ctx context.Context, cases *casework.Cases, month, now time.Time, defs []sla.ClockDef, cal *calendar.Calendar, avail Availability) (Ledger, int, error) {
	list, err := cases.Opened(ctx, month.AddDate(-1, 0, 0), month.AddDate(0, 1, 0))
	if err != nil {
		return Ledger{}, 0, err
	}
	l, err := Build(ctx, list, month, now, defs, cal, avail)
	return l, len(list), err
}
