package ledger_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/ledger"
	"github.com/mamori-soc/mamori/casework/ledger/ledgertest"
	"github.com/mamori-soc/mamori/casework/sla"
)

type availability float64

func (a availability) Availability(context.Context, time.Time, time.Time) (float64, bool, error) {
	return float64(a), true, nil
}

// TestScriptedMonth builds October 2026 from a handful of cases and checks
// the figures of the items they bear on.
func TestScriptedMonth(t *testing.T) {
	cal, err := calendar.New(calendar.Config{})
	require.NoError(t, err)
	at := func(d, h, m int) time.Time { return time.Date(2026, 10, d, h, m, 0, 0, cal.Location()) }
	l, err := ledger.Build(context.Background(), ledgertest.Cases(cal), at(1, 0, 0), at(31, 23, 59).AddDate(0, 1, 0), sla.Defaults(), cal, availability(0.991))
	require.NoError(t, err)
	ledgertest.Check(t, l, false)

	l, err = ledger.Build(context.Background(), nil, at(1, 0, 0), at(31, 0, 0), sla.Defaults(), cal, nil)
	require.NoError(t, err)
	require.Equal(t, "no data", l.Items[0].Measured, "availability needs SNMP monitoring")
	require.Nil(t, l.Items[0].Met)
}

// build builds October 2026 from cases, evaluated after the month.
func build(t *testing.T, cal *calendar.Calendar, cases ...casework.Case) ledger.Ledger {
	t.Helper()
	month := time.Date(2026, 10, 1, 0, 0, 0, 0, cal.Location())
	l, err := ledger.Build(context.Background(), cases, month, month.AddDate(0, 2, 0), sla.Defaults(), cal, nil)
	require.NoError(t, err)
	return l
}

// TestStatusNotices covers item 6: which notifications answer which status
// change.
func TestStatusNotices(t *testing.T) {
	cal, err := calendar.New(calendar.Config{})
	require.NoError(t, err)
	at := func(d, h, m int) time.Time { return time.Date(2026, 10, d, h, m, 0, 0, cal.Location()) }
	status := func(t time.Time, s casework.Status) casework.Entry {
		return casework.Entry{At: t, Kind: "status", Status: s}
	}
	note := func(t time.Time, n string) casework.Entry {
		return casework.Entry{At: t, Kind: "notification", Notification: n}
	}
	incident := func(id string, typ casework.Type, entries ...casework.Entry) casework.Case {
		created := casework.Entry{At: at(1, 9, 0), Kind: "created", Status: casework.New}
		return casework.Case{ID: id, Type: typ, Title: id, Status: casework.InProgress, Timestamp: created.At,
			Timeline: append([]casework.Entry{created}, entries...)}
	}
	row := func(l ledger.Ledger) ledger.Item { return l.Items[5] }

	l := build(t, cal)
	require.Equal(t, "no status changes", row(l).Measured)
	require.Nil(t, row(l).Met)

	// The notice of the first change came after the second: the first
	// went untold, the notice answers the second.
	l = build(t, cal, incident("A", casework.Incident,
		status(at(2, 10, 0), casework.InProgress),
		status(at(2, 11, 0), casework.WaitingVendor),
		note(at(2, 11, 30), "status_notice")))
	require.Equal(t, "1 of 2 status changes notified", row(l).Measured)
	require.Equal(t, false, *row(l).Met)
	require.Equal(t, []string{"A"}, row(l).Cases)

	// The SLA watcher's warning and breach notices go to the team: they
	// answer no change, and neither does a comment.
	l = build(t, cal, incident("B", casework.SecurityIncident,
		status(at(2, 10, 0), casework.InProgress),
		note(at(2, 10, 5), "sla_warning"),
		note(at(2, 10, 6), "sla_breach"),
		casework.Entry{At: at(2, 10, 7), Kind: "comment"},
		status(at(3, 10, 0), casework.Closed),
		note(at(3, 10, 5), "sla_breach")))
	require.Equal(t, "0 of 2 status changes notified", row(l).Measured)
	require.Equal(t, false, *row(l).Met)

	// Any notification to the reporter answers a change, at its instant
	// (recorded before or after it) or later; the closing needs its
	// notice too; entries are taken in time order, however they were
	// appended; changes of other months and other case types do not
	// count; a case with an untold change comes first.
	l = build(t, cal,
		incident("C", casework.Incident,
			note(at(2, 10, 0), "progress_report"), // recorded just before its change
			status(at(2, 10, 0), casework.InProgress),
			status(at(3, 9, 0), casework.Resolved),
			status(at(4, 9, 0), casework.Closed),
			note(at(4, 9, 0), "completion"),      // at the closing's instant
			note(at(3, 12, 0), "status_notice")), // appended late, sent before the closing
		incident("D", casework.Incident,
			status(at(30, 10, 0), casework.InProgress),
			note(at(30, 10, 5), "status_notice"),
			status(at(31, 10, 0), casework.Closed),
			note(at(31, 10, 0).AddDate(0, 1, 0), "completion"),           // closing told in November: still told
			status(at(31, 10, 0).AddDate(0, 1, 0), casework.InProgress)), // a November change
		incident("E", casework.Incident,
			status(at(5, 10, 0), casework.Closed)),
		casework.Case{ID: "F", Type: casework.Failure, Title: "F", Status: casework.Closed, Timestamp: at(1, 9, 0),
			Timeline: []casework.Entry{{At: at(1, 9, 0), Kind: "created"}, status(at(1, 10, 0), casework.Closed)}},
	)
	require.Equal(t, "5 of 6 status changes notified", row(l).Measured)
	require.Equal(t, false, *row(l).Met)
	require.Equal(t, []string{"E", "C", "D"}, row(l).Cases, "the untold first")

	l = build(t, cal, incident("C", casework.Incident,
		status(at(2, 10, 0), casework.InProgress),
		note(at(2, 10, 1), "status_notice")))
	require.Equal(t, "1 of 1 status changes notified", row(l).Measured)
	require.Equal(t, true, *row(l).Met)
}

// TestOutageNotices covers item 17: the facility notice 3 weeks before the
// outage date.
func TestOutageNotices(t *testing.T) {
	cal, err := calendar.New(calendar.Config{})
	require.NoError(t, err)
	jst := cal.Location()
	outage := func(id, date string, notices ...time.Time) casework.Case {
		opened := time.Date(2026, 9, 1, 10, 0, 0, 0, jst)
		c := casework.Case{ID: id, Type: casework.Outage, Title: id, Status: casework.InProgress, Timestamp: opened,
			Timeline: []casework.Entry{{At: opened, Kind: "created", Status: casework.New}}}
		if date != "" {
			c.Fields = map[string]string{ledger.OutageDateField: date}
		}
		for _, n := range notices {
			c.Timeline = append(c.Timeline, casework.Entry{At: n, Kind: "notification", Notification: ledger.FacilityNotice})
		}
		return c
	}
	row := func(l ledger.Ledger) ledger.Item { return l.Items[16] }

	l := build(t, cal)
	require.Equal(t, "no outages", row(l).Measured)
	require.Nil(t, row(l).Met)

	// An outage on October 31: the notice is due on October 10 (21 days
	// before); its last minute is in time.
	due := time.Date(2026, 10, 10, 23, 59, 0, 0, jst)
	l = build(t, cal, outage("ON-TIME", "2026-10-31", due))
	require.Equal(t, "1 of 1 outages noticed 3 weeks ahead", row(l).Measured)
	require.Equal(t, true, *row(l).Met)
	require.Equal(t, []string{"ON-TIME"}, row(l).Cases)

	// A minute later is late; no notice, or another kind of notification,
	// is no notice; an outage of another month does not count.
	other := outage("OTHER-KIND", "2026-10-20")
	other.Timeline = append(other.Timeline, casework.Entry{At: time.Date(2026, 9, 1, 11, 0, 0, 0, jst), Kind: "notification", Notification: "outage_plan"})
	l = build(t, cal,
		outage("ON-TIME", "2026-10-31", time.Date(2026, 10, 1, 9, 0, 0, 0, jst)),
		outage("LATE", "2026-10-31", due.Add(time.Minute)),
		outage("NONE", "2026-10-15"),
		other,
		outage("NOVEMBER", "2026-11-02", due.Add(time.Hour)),
		outage("SEPTEMBER", "2026-09-30"),
	)
	require.Equal(t, "1 of 4 outages noticed 3 weeks ahead", row(l).Measured)
	require.Equal(t, false, *row(l).Met)
	require.Equal(t, []string{"LATE", "NONE", "OTHER-KIND", "ON-TIME"}, row(l).Cases, "the late first")

	// An outage opened in the month without a readable date cannot be
	// measured: the ledger says so and lists it.
	undated := outage("UNDATED", "")
	undated.Timestamp = time.Date(2026, 10, 2, 9, 0, 0, 0, jst)
	garbled := outage("GARBLED", "31/10/2026")
	garbled.Timestamp = time.Date(2026, 10, 3, 9, 0, 0, 0, jst)
	l = build(t, cal, undated)
	require.Equal(t, "1 outage without outage_date", row(l).Measured)
	require.Nil(t, row(l).Met)
	require.Equal(t, []string{"UNDATED"}, row(l).Cases)
	l = build(t, cal, outage("ON-TIME", "2026-10-31", due), undated, garbled, outage("SEPTEMBER-UNDATED", ""))
	require.Equal(t, "1 of 1 outages noticed 3 weeks ahead; 2 outages without outage_date", row(l).Measured)
	require.Equal(t, true, *row(l).Met)
	require.Equal(t, []string{"UNDATED", "GARBLED", "ON-TIME"}, row(l).Cases)
}
