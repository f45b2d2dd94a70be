package calendar_test

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/calendar"
)

// jst is Asia/Tokyo, the calendar's default location; results compare
// equal, location and all, with times built in it.
var jst = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	return loc
}()

func at(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, jst) }

func newCal(t testing.TB, cfg calendar.Config) *calendar.Calendar {
	t.Helper()
	c, err := calendar.New(cfg)
	require.NoError(t, err)
	return c
}

func mustClock(t testing.TB, s string) calendar.Clock {
	t.Helper()
	c, err := calendar.ParseClock(s)
	require.NoError(t, err)
	return c
}

func TestClosedAndHours(t *testing.T) {
	c := newCal(t, calendar.Config{
		ClosedDates: []string{"2025-06-02"},
		OpenDates:   []string{"2025-06-07", "2025-01-03"},
	})
	closed := []struct {
		t      time.Time
		reason string
	}{
		{at(2025, 1, 1, 12, 0), "holiday 元日 (New Year's Day)"},
		{at(2025, 1, 2, 12, 0), "closure 年末年始 (12-29 to 01-03)"},
		{at(2024, 12, 30, 12, 0), "closure 年末年始 (12-29 to 01-03)"},
		{at(2025, 1, 4, 12, 0), "Saturday is not a working weekday"},
		{at(2025, 5, 6, 12, 0), "holiday 振替休日 (Substitute Holiday)"},
		{at(2025, 6, 2, 12, 0), "closed date 2025-06-02 (closed_dates)"},
		{time.Date(2025, 1, 5, 14, 59, 0, 0, time.UTC), "Sunday is not a working weekday"}, // 23:59 JST
	}
	for _, tc := range closed {
		reason, ok := c.Closed(tc.t)
		require.True(t, ok, tc.t.String())
		require.Equal(t, tc.reason, reason, tc.t.String())
		require.False(t, c.IsBusinessDay(tc.t), tc.t.String())
		require.False(t, c.InBusinessHours(tc.t), tc.t.String())
	}
	for _, open := range []time.Time{
		at(2025, 1, 6, 12, 0),
		at(2025, 6, 7, 12, 0),                        // Saturday in open_dates
		at(2025, 1, 3, 12, 0),                        // inside the New Year closure, in open_dates
		time.Date(2025, 1, 5, 15, 0, 0, 0, time.UTC), // 00:00 JST on Monday
	} {
		reason, ok := c.Closed(open)
		require.False(t, ok, "%s: %s", open, reason)
		require.True(t, c.IsBusinessDay(open), open.String())
	}

	require.False(t, c.InBusinessHours(at(2025, 1, 6, 8, 29)))
	require.True(t, c.InBusinessHours(at(2025, 1, 6, 8, 30)))
	require.True(t, c.InBusinessHours(time.Date(2025, 1, 6, 17, 14, 59, 999999999, jst)))
	require.False(t, c.InBusinessHours(at(2025, 1, 6, 17, 15)))
	require.True(t, c.InBusinessHours(time.Date(2025, 1, 5, 23, 30, 0, 0, time.UTC)), "08:30 JST on Monday")

	h, ok := c.Holiday(at(2019, 5, 1, 0, 0))
	require.True(t, ok)
	require.Equal(t, "即位の日", h.Name)
	require.Equal(t, calendar.Special, h.Kind)
	_, ok = c.Holiday(at(2025, 5, 7, 0, 0))
	require.False(t, ok)
	require.Equal(t, calendar.JapaneseHolidays(2025), c.Holidays(2025))

	off := false
	nh := newCal(t, calendar.Config{JapaneseHolidays: &off, Closures: []calendar.Closure{}})
	require.True(t, nh.IsBusinessDay(at(2025, 5, 5, 12, 0)))
	require.True(t, nh.IsBusinessDay(at(2025, 12, 30, 12, 0)))
	_, ok = nh.Holiday(at(2025, 5, 5, 12, 0))
	require.False(t, ok)
	require.Nil(t, nh.Holidays(2025))
}

func TestBusinessArithmetic(t *testing.T) {
	c := newCal(t, calendar.Config{})
	require.Equal(t, calendar.DefaultLocation, c.Location().String())

	// Golden Week 2025: Saturday 5/3 to Tuesday 5/6 are closed.
	require.Equal(t, 2*time.Hour+45*time.Minute, c.BusinessDuration(at(2025, 5, 2, 16, 0), at(2025, 5, 7, 10, 0)))
	require.Equal(t, at(2025, 5, 7, 9, 15), c.AddBusiness(at(2025, 5, 2, 16, 0), 2*time.Hour))
	require.Equal(t, time.Duration(0), c.BusinessDuration(at(2025, 5, 7, 10, 0), at(2025, 5, 2, 16, 0)))
	require.Equal(t, 8*time.Hour+45*time.Minute, c.BusinessDuration(at(2025, 1, 6, 0, 0), at(2025, 1, 7, 0, 0)))

	// Outside business hours the count starts at the next business period.
	require.Equal(t, at(2025, 1, 6, 8, 30), c.AddBusiness(at(2025, 1, 4, 11, 0), 0))
	require.Equal(t, at(2025, 1, 6, 12, 30), c.AddBusiness(at(2025, 1, 3, 18, 0), 4*time.Hour))
	require.Equal(t, at(2025, 1, 6, 10, 0), c.AddBusiness(at(2025, 1, 6, 10, 0), -time.Hour))
	// A duration that runs out exactly at the close ends at the next opening.
	require.Equal(t, at(2025, 6, 3, 8, 30), c.AddBusiness(at(2025, 6, 2, 8, 30), 8*time.Hour+45*time.Minute))
	// The result is in the calendar's location whatever t's is.
	require.Equal(t, "Asia/Tokyo", c.AddBusiness(time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC), time.Hour).Location().String())

	// Business days: the New Year closure and a weekend lie between.
	require.Equal(t, at(2026, 1, 5, 17, 15), c.AddBusinessDays(at(2025, 12, 26, 18, 0), 1))
	require.Equal(t, at(2026, 1, 7, 17, 15), c.AddBusinessDays(at(2025, 12, 26, 18, 0), 3))
	require.Equal(t, at(2025, 12, 26, 17, 15), c.AddBusinessDays(at(2025, 12, 26, 9, 0), 0))
	require.Equal(t, at(2025, 1, 6, 17, 15), c.AddBusinessDays(at(2025, 1, 4, 9, 0), 0))
	ten := mustClock(t, "10:00")
	require.Equal(t, "10:00", ten.String())
	require.Equal(t, at(2025, 4, 30, 10, 0), c.NextBusinessDayAt(at(2025, 4, 28, 12, 0), ten), "over 昭和の日")
	require.Equal(t, at(2025, 5, 7, 10, 0), c.BusinessDayAt(at(2025, 5, 2, 12, 0), 1, ten), "over Golden Week")
	require.Equal(t, at(2025, 5, 2, 10, 0), c.BusinessDayAt(at(2025, 5, 2, 12, 0), 0, ten))

	// A calendar with no business day at all gives Never, not a loop.
	never := newCal(t, calendar.Config{Closures: []calendar.Closure{{From: "01-01", To: "12-31"}}})
	require.Equal(t, calendar.Never(), never.AddBusiness(at(2025, 1, 1, 0, 0), time.Hour))
	require.Equal(t, calendar.Never(), never.AddBusinessDays(at(2025, 1, 1, 0, 0), 1))
	require.Equal(t, calendar.Never(), never.NextBusinessDayAt(at(2025, 1, 1, 0, 0), ten))
}

func TestDaylightSavingTime(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	off := false
	allDays := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	c := newCal(t, calendar.Config{
		Location:         "America/New_York",
		BusinessHours:    calendar.Hours{Start: "00:00", End: "24:00"},
		WorkingWeekdays:  allDays,
		JapaneseHolidays: &off,
		Closures:         []calendar.Closure{},
	})
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, ny) }
	require.Equal(t, 23*time.Hour, c.BusinessDuration(day(2025, 3, 9), day(2025, 3, 10)), "spring forward")
	require.Equal(t, 25*time.Hour, c.BusinessDuration(day(2025, 11, 2), day(2025, 11, 3)), "fall back")
	require.Equal(t, time.Date(2025, 3, 9, 13, 0, 0, 0, ny), c.AddBusiness(time.Date(2025, 3, 8, 12, 0, 0, 0, ny), 24*time.Hour))

	office := newCal(t, calendar.Config{Location: "America/New_York", BusinessHours: calendar.Hours{Start: "09:00", End: "17:00"}, JapaneseHolidays: &off})
	require.Equal(t, 16*time.Hour, office.BusinessDuration(time.Date(2025, 3, 7, 9, 0, 0, 0, ny), time.Date(2025, 3, 10, 17, 0, 0, 0, ny)))
	require.Equal(t, time.Date(2025, 3, 10, 9, 0, 0, 0, ny), office.AddBusiness(time.Date(2025, 3, 7, 16, 0, 0, 0, ny), time.Hour))
	require.Equal(t, time.Date(2025, 3, 10, 17, 0, 0, 0, ny), office.AddBusinessDays(time.Date(2025, 3, 7, 16, 0, 0, 0, ny), 1))
}

// randomInstant returns an instant from 2018 to 2027, often on the minute
// and sometimes exactly at an opening or closing time.
func randomInstant(r *rand.Rand, loc *time.Location) time.Time {
	d := time.Date(2018, 12, 1, 0, 0, 0, 0, loc).AddDate(0, 0, r.IntN(9*365))
	switch r.IntN(5) {
	case 0:
		return time.Date(d.Year(), d.Month(), d.Day(), 8, 30, 0, 0, loc)
	case 1:
		return time.Date(d.Year(), d.Month(), d.Day(), 17, 15, 0, 0, loc)
	case 2:
		return d.Add(time.Duration(r.Int64N(int64(24 * time.Hour))))
	}
	return time.Date(d.Year(), d.Month(), d.Day(), r.IntN(24), r.IntN(60), 0, 0, loc)
}

func TestProperties(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	configs := map[string]calendar.Config{
		"default": {},
		"new york with summer closure": {
			Location:      "America/New_York",
			BusinessHours: calendar.Hours{Start: "08:30", End: "17:15"},
			Closures:      []calendar.Closure{{From: "07-01", To: "07-04"}, {From: "12-24", To: "12-26"}},
			ClosedDates:   []string{"2021-03-15"},
			OpenDates:     []string{"2021-03-13"},
		},
	}
	for name, cfg := range configs {
		t.Run(name, func(t *testing.T) {
			c := newCal(t, cfg)
			loc := c.Location()
			if name != "default" {
				require.Equal(t, ny.String(), loc.String())
			}
			r := rand.New(rand.NewPCG(1, uint64(len(name))))
			for i := 0; i < 3000; i++ {
				a, b := randomInstant(r, loc), randomInstant(r, loc)
				if r.IntN(3) == 0 { // keep many pairs close together
					b = a.Add(time.Duration(r.Int64N(int64(96 * time.Hour))))
				}
				if b.Before(a) {
					a, b = b, a
				}

				// AddBusiness inverts BusinessDuration.
				d := c.BusinessDuration(a, b)
				got := c.AddBusiness(a, d)
				if c.InBusinessHours(b) {
					require.True(t, got.Equal(b), "AddBusiness(%s, %s) = %s, want %s", a, d, got, b)
				} else {
					next := c.AddBusiness(b, 0)
					require.True(t, got.Equal(next), "AddBusiness(%s, %s) = %s, want the next opening after %s, %s", a, d, got, b, next)
					require.True(t, c.InBusinessHours(next), "%s", next)
					require.Equal(t, time.Duration(0), c.BusinessDuration(b, next))
				}

				// BusinessDuration is additive over a split point.
				m := a.Add(time.Duration(r.Int64N(int64(b.Sub(a)) + 1)))
				require.Equal(t, d, c.BusinessDuration(a, m)+c.BusinessDuration(m, b), "split %s | %s | %s", a, m, b)

				// Adding business time lands in business hours, on a
				// business day, and measures back to what was added.
				add := time.Duration(r.Int64N(int64(60 * time.Hour)))
				end := c.AddBusiness(a, add)
				require.True(t, c.InBusinessHours(end), "AddBusiness(%s, %s) = %s", a, add, end)
				require.True(t, c.IsBusinessDay(end), "%s", end)
				require.Equal(t, add, c.BusinessDuration(a, end), "AddBusiness(%s, %s) = %s", a, add, end)

				// Business-day deadlines fall on business days, after a's date.
				n := r.IntN(6)
				due := c.AddBusinessDays(a, n)
				require.True(t, c.IsBusinessDay(due), "AddBusinessDays(%s, %d) = %s", a, n, due)
				morning := c.NextBusinessDayAt(a, mustClock(t, "10:00"))
				require.True(t, c.IsBusinessDay(morning), "%s", morning)
				require.True(t, morning.After(a) && morning.Sub(a) < 20*24*time.Hour, "NextBusinessDayAt(%s) = %s", a, morning)
				if n > 0 {
					require.Equal(t, n, countBusinessDays(c, a, due), "AddBusinessDays(%s, %d) = %s", a, n, due)
				}

				// Closed agrees with IsBusinessDay and explains itself.
				reason, closed := c.Closed(b)
				require.Equal(t, !c.IsBusinessDay(b), closed, "%s", b)
				require.Equal(t, closed, reason != "", "%s: %q", b, reason)
			}
		})
	}
}

// countBusinessDays counts the business days after a's date up to and
// including due's date.
func countBusinessDays(c *calendar.Calendar, a, due time.Time) int {
	loc := c.Location()
	a, due = a.In(loc), due.In(loc)
	n := 0
	for d := time.Date(a.Year(), a.Month(), a.Day()+1, 12, 0, 0, 0, loc); !d.After(due); d = time.Date(d.Year(), d.Month(), d.Day()+1, 12, 0, 0, 0, loc) {
		if c.IsBusinessDay(d) {
			n++
		}
	}
	return n
}

// TestConcurrentUse fills the year cache from many goroutines at once; run
// it with -race.
func TestConcurrentUse(t *testing.T) {
	c := newCal(t, calendar.Config{})
	var wg sync.WaitGroup
	results := make([]time.Duration, 16)
	for i := range results {
		wg.Go(func() {
			from := at(2020+i%4, 1, 1, 0, 0)
			results[i] = c.BusinessDuration(from, from.AddDate(3, 0, 0))
			c.AddBusiness(from, 100*time.Hour)
			c.Closed(from)
		})
	}
	wg.Wait()
	for i := range results {
		require.Equal(t, results[i%4], results[i])
		require.Positive(t, results[i])
	}
}

func BenchmarkBusinessDurationMonth(b *testing.B) {
	c := newCal(b, calendar.Config{})
	from, to := at(2025, 4, 15, 10, 0), at(2025, 5, 15, 16, 0) // over Golden Week
	want := c.BusinessDuration(from, to)
	b.ReportAllocs()
	for b.Loop() {
		if c.BusinessDuration(from, to) != want {
			b.Fatal("unstable")
		}
	}
}

func BenchmarkAddBusiness4h(b *testing.B) {
	c := newCal(b, calendar.Config{})
	from := at(2025, 5, 2, 15, 0) // Friday before a four-day closure
	b.ReportAllocs()
	for b.Loop() {
		c.AddBusiness(from, 4*time.Hour)
	}
}
