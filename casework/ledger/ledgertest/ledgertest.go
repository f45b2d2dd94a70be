// Package ledgertest is a scripted month for SLA ledger tests: October
// 2026 told in a handful of cases, and the figures its ledger must show.
// The unit tests of package ledger and the end-to-end tests (which import
// the cases through `mamori cases import` and read the ledger back through
// the CLI and the API) share it.
package ledgertest

import (
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/ledger"
)

// Month is the scripted month.
const Month = "2026-10"

// Cases are the month's cases (and one of August, outside it, and a few
// opened in September that bear on October), in the calendar's zone.
func Cases(cal *calendar.Calendar) []casework.Case {
	jst := cal.Location()
	at := func(d, h, m int) time.Time { return time.Date(2026, 10, d, h, m, 0, 0, jst) }
	status := func(t time.Time, s casework.Status) casework.Entry {
		return casework.Entry{At: t, Kind: "status", Status: s}
	}
	note := func(t time.Time, n string) casework.Entry {
		return casework.Entry{At: t, Kind: "notification", Notification: n}
	}
	failure := func(id string, opened time.Time, firstReport, recovered time.Duration) casework.Case {
		return casework.Case{ID: id, Type: casework.Failure, Title: id, Status: casework.Resolved, Channel: "monitoring", Timestamp: opened,
			Timeline: []casework.Entry{
				{At: opened, Kind: "created", Status: casework.New},
				note(opened.Add(firstReport), "first_report"),
				status(opened.Add(firstReport), casework.InProgress),
				status(opened.Add(recovered), casework.Resolved),
			}}
	}
	duty := func(id, subtype string, closed time.Time) casework.Case {
		return casework.Case{ID: id, Type: casework.Duty, Subtype: subtype, Title: id, Status: casework.Closed, Timestamp: closed.Add(-time.Hour),
			Timeline: []casework.Entry{{At: closed.Add(-time.Hour), Kind: "created"}, status(closed, casework.Closed)}}
	}
	rated := func(id string, score int, when time.Time) casework.Case {
		return casework.Case{ID: id, Type: casework.Incident, Title: id, Status: casework.Closed, Channel: "phone", Timestamp: when.Add(-2 * time.Hour),
			Timeline: []casework.Entry{{At: when.Add(-2 * time.Hour), Kind: "created"}, note(when.Add(-2*time.Hour+time.Minute), "acknowledgement"), status(when.Add(-time.Hour), casework.Closed)},
			Survey:   &casework.Survey{Score: score, At: when}}
	}
	sep := func(d, h, m int) time.Time { return time.Date(2026, 9, d, h, m, 0, 0, jst) }
	outage := func(id, date string, opened, noticed, closed time.Time) casework.Case {
		return casework.Case{ID: id, Type: casework.Outage, Title: id, Status: casework.Closed, Timestamp: opened,
			Fields: map[string]string{ledger.OutageDateField: date},
			Timeline: []casework.Entry{
				{At: opened, Kind: "created", Status: casework.New},
				note(opened.AddDate(0, 0, 9), "outage_plan"),
				note(noticed, ledger.FacilityNotice),
				status(closed, casework.Closed),
			}}
	}
	return []casework.Case{
		failure("FAIL-1", at(5, 10, 0), 10*time.Minute, 3*time.Hour),               // both met
		failure("FAIL-2", at(6, 10, 0), 30*time.Minute, 2*time.Hour),               // first report late
		failure("FAIL-9", at(31, 23, 0).AddDate(0, -2, 0), time.Minute, time.Hour), // another month
		// Status notices (item 6). INC-4 was opened in September (its first
		// change is September's): its resolution went untold, its closing
		// was told. INC-1 and INC-2 were closed without a closing notice.
		// INC-4 comes before them, oldest first, as the store returns
		// cases, so that the ledger lists them in the same order either way.
		{ID: "INC-4", Type: casework.Incident, Title: "INC-4", Status: casework.Closed, Timestamp: sep(30, 16, 0),
			Timeline: []casework.Entry{
				{At: sep(30, 16, 0), Kind: "created", Status: casework.New},
				status(sep(30, 16, 30), casework.InProgress),
				status(at(2, 10, 0), casework.Resolved),
				status(at(5, 9, 0), casework.Closed),
				note(at(5, 9, 10), "completion"),
			}},
		rated("INC-1", 80, at(7, 15, 0)),
		rated("INC-2", 100, at(8, 15, 0)),
		duty("DUTY-1", "weekly_security_report", at(5, 11, 0)),
		duty("DUTY-2", "weekly_security_report", at(12, 11, 0)),
		duty("DUTY-3", "weekly_security_report", at(19, 11, 0)),
		duty("DUTY-4", "weekly_security_report", at(26, 11, 0)),
		duty("DUTY-5", "monthly_meeting", at(20, 15, 0)),
		{ID: "SEC-1", Type: casework.SecurityIncident, Title: "情報漏えい", Status: casework.New, Timestamp: at(15, 9, 0),
			Fields: map[string]string{ledger.SeriousField: "true"}, Timeline: []casework.Entry{{At: at(15, 9, 0), Kind: "created"}}},
		// INC-3, reported on paper (no acknowledgement clock), was told of
		// both its changes.
		{ID: "INC-3", Type: casework.Incident, Title: "INC-3", Status: casework.Closed, Channel: "paper", Timestamp: at(13, 10, 0),
			Timeline: []casework.Entry{
				{At: at(13, 10, 0), Kind: "created", Status: casework.New},
				status(at(13, 11, 0), casework.InProgress),
				note(at(13, 11, 5), "status_notice"),
				status(at(14, 16, 0), casework.Closed),
				note(at(14, 16, 10), "completion"),
			}},
		// Power-outage notices (item 17): both outages were announced in
		// September and planned then (item 16 is September's). OUT-1, on
		// October 31, was noticed on the 9th, ahead of the 10th; OUT-2, on
		// the 24th, on the 5th, after the 3rd it was due by.
		outage("OUT-1", "2026-10-31", sep(1, 10, 0), at(9, 10, 0), at(31, 18, 0)),
		outage("OUT-2", "2026-10-24", sep(1, 11, 0), at(5, 10, 0), at(24, 18, 0)),
	}
}

// Check requires the figures the scripted month gives, availability 99.1 %
// or, with noAvailability, "no data".
func Check(t require.TestingT, l ledger.Ledger, noAvailability bool) {
	row := func(no int) ledger.Item { return l.Items[no-1] }
	met := func(no int) *bool { return row(no).Met }
	tru, fls := true, false

	require.Equal(t, Month, l.Month)
	require.Len(t, l.Items, 25)
	if noAvailability {
		require.Equal(t, "no data", row(1).Measured)
		require.Nil(t, met(1))
	} else {
		require.Equal(t, "99.10 %", row(1).Measured)
		require.Equal(t, &tru, met(1))
	}

	require.Equal(t, "90.0 points (2 ratings)", row(4).Measured)
	require.Equal(t, &tru, met(4))
	require.Equal(t, "1 of 2 within target (1 breached, 0 still running)", row(7).Measured)
	require.Equal(t, &fls, met(7))
	require.Equal(t, []string{"FAIL-2", "FAIL-1"}, row(7).Cases, "the breach first")
	require.Equal(t, "2 of 2 within target (0 breached, 0 still running)", row(8).Measured)
	require.Equal(t, &tru, met(8))
	require.Equal(t, "4 done, 4 due", row(13).Measured, "four Mondays in October 2026")
	require.Equal(t, &tru, met(13))
	require.Equal(t, "0 done, 1 due", row(12).Measured)
	require.Equal(t, &fls, met(12))
	require.Equal(t, &tru, met(20))
	require.Equal(t, "1", row(24).Measured)
	require.Equal(t, &fls, met(24))
	require.Equal(t, []string{"SEC-1"}, row(24).Cases)
	require.Equal(t, &tru, met(25))
	require.Equal(t, "no cases", row(11).Measured)
	require.Nil(t, met(11))
	require.Equal(t, "3 of 6 status changes notified", row(6).Measured)
	require.Equal(t, &fls, met(6))
	require.Equal(t, []string{"INC-4", "INC-1", "INC-2", "INC-3"}, row(6).Cases, "the un-notified first")
	require.Equal(t, "1 of 2 outages noticed 3 weeks ahead", row(17).Measured)
	require.Equal(t, &fls, met(17))
	require.Equal(t, []string{"OUT-2", "OUT-1"}, row(17).Cases, "the late notice first")
	require.Equal(t, "no cases", row(16).Measured, "the outages were planned in September")
	require.Equal(t, "not measured yet", row(21).Measured)
	require.Nil(t, met(21))
}
