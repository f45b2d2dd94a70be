// Package calendar is Mamori's business calendar: it says which days and
// hours are business time, and measures and adds business time, for
// off-hours detection rules and for the business-hours SLA clocks of
// casework.
//
// A Calendar works in one configured location (Asia/Tokyo by default) with
// business hours on working weekdays (08:30 to 17:15, Monday to Friday, by
// default), closed on the Japanese public holidays, which the package
// computes by the Act on National Holidays (国民の祝日に関する法律) for 1980
// to 2099, on yearly closures such as the New Year closure (12-29 to 01-03
// by default) and on listed dates, and open on listed dates whatever else
// applies. A business period is the half-open interval [start, end) of the
// business hours of one business day.
package calendar

import (
	"fmt"
	"sync"
	"time"
)

// Calendar answers business-time questions. It is safe for concurrent use;
// it caches each year's closed days on first use.
type Calendar struct {
	cfg   *compiled
	years sync.Map // int -> *yearInfo, immutable once stored
}

// yearInfo is one year's day table, indexed by day of the year minus one.
type yearInfo struct {
	business [366]bool
	holiday  [366]int16 // 1 + index into holidays, 0 for none
	holidays []Holiday  // shared and read-only
}

// maxClosedRun bounds the search for the next business day: a calendar with
// no business day in this many consecutive days is taken to have none.
const maxClosedRun = 3660

// Never is what the adding methods return when the calendar has no business
// day within ten years of the start: a time in the year 9999, after any real
// deadline.
func Never() time.Time { return time.Date(9999, time.December, 31, 23, 59, 59, 0, time.UTC) }

// New validates cfg (with its defaults applied) and returns its calendar.
func New(cfg Config) (*Calendar, error) {
	c, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	return &Calendar{cfg: c}, nil
}

// Location returns the calendar's location.
func (c *Calendar) Location() *time.Location { return c.cfg.loc }

// year returns the day table of y, computing and caching it on first use.
func (c *Calendar) year(y int) *yearInfo {
	if v, ok := c.years.Load(y); ok {
		return v.(*yearInfo)
	}
	yi := &yearInfo{}
	if c.cfg.holidays {
		yi.holidays = tableYear(y)
		for i, h := range yi.holidays {
			yi.holiday[yearDay(h.Date)-1] = int16(i + 1)
		}
	}
	for d := (Date{y, time.January, 1}); d.Year == y; d = nextDate(d) {
		i := yearDay(d) - 1
		yi.business[i] = c.cfg.open[d] || (yi.holiday[i] == 0 && c.closedReason(d) == "")
	}
	v, _ := c.years.LoadOrStore(y, yi)
	return v.(*yearInfo)
}

// closedReason explains why d is not a business day, ignoring Japanese
// holidays and open dates; "" means it is one.
func (c *Calendar) closedReason(d Date) string {
	if c.cfg.closed[d] {
		return "closed date " + d.String() + " (closed_dates)"
	}
	for _, cl := range c.cfg.closures {
		if cl.covers(d) {
			return cl.String()
		}
	}
	if wd := d.Weekday(); !c.cfg.workdays[wd] {
		return wd.String() + " is not a working weekday"
	}
	return ""
}

func (c *Calendar) isBusiness(d Date) bool { return c.year(d.Year).business[yearDay(d)-1] }

// date returns t's civil date in the calendar's location.
func (c *Calendar) date(t time.Time) Date { return DateOf(t.In(c.cfg.loc)) }

// window returns the business period of day d, which must be a business day.
func (c *Calendar) window(d Date) (start, end time.Time) {
	return c.cfg.start.on(d, c.cfg.loc), c.cfg.end.on(d, c.cfg.loc)
}

// Holiday returns the Japanese public holiday on t's date in the calendar's
// location, if there is one and japanese_holidays is on.
func (c *Calendar) Holiday(t time.Time) (Holiday, bool) {
	d := c.date(t)
	yi := c.year(d.Year)
	if i := yi.holiday[yearDay(d)-1]; i > 0 {
		return yi.holidays[i-1], true
	}
	return Holiday{}, false
}

// Holidays returns the Japanese public holidays of year, or nil when
// japanese_holidays is off. The caller owns the returned slice.
func (c *Calendar) Holidays(year int) []Holiday {
	if !c.cfg.holidays {
		return nil
	}
	return JapaneseHolidays(year)
}

// IsBusinessDay reports whether t's date, in the calendar's location, is a
// business day.
func (c *Calendar) IsBusinessDay(t time.Time) bool { return c.isBusiness(c.date(t)) }

// InBusinessHours reports whether t lies within a business period: on a
// business day, at or after the start of business and before its end.
func (c *Calendar) InBusinessHours(t time.Time) bool {
	d := c.date(t)
	if !c.isBusiness(d) {
		return false
	}
	s, e := c.window(d)
	return !t.Before(s) && t.Before(e)
}

// Closed reports whether t's date is not a business day, and why: a date
// listed in closed_dates, a Japanese holiday (by name), a yearly closure or
// a weekday that is not worked, in that order of precedence. A date listed
// in open_dates is never closed.
func (c *Calendar) Closed(t time.Time) (reason string, closed bool) {
	d := c.date(t)
	if c.cfg.open[d] {
		return "", false
	}
	if c.cfg.closed[d] {
		return c.closedReason(d), true
	}
	if h, ok := c.Holiday(t); ok {
		return fmt.Sprintf("holiday %s (%s)", h.Name, h.NameEN), true
	}
	r := c.closedReason(d)
	return r, r != ""
}

// BusinessDuration returns the business time between from and to: the
// total length of the business periods' overlap with [from, to). It is 0 if
// to is not after from.
func (c *Calendar) BusinessDuration(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	last := c.date(to)
	var total time.Duration
	for d := c.date(from); d.Compare(last) <= 0; d = nextDate(d) {
		if !c.isBusiness(d) {
			continue
		}
		s, e := c.window(d)
		if from.After(s) {
			s = from
		}
		if to.Before(e) {
			e = to
		}
		if e.After(s) {
			total += e.Sub(s)
		}
	}
	return total
}

// AddBusiness returns the instant at which d of business time has passed
// after t: a deadline such as "2 business hours". When t is outside business
// hours the count starts with the next business period. The result is the
// latest instant r with BusinessDuration(t, r) <= d, so when d runs out
// exactly at the end of a business period the result is the start of the
// next one, and a clock compared with it ("breached when now is after the
// deadline") agrees with BusinessDuration. A negative d counts as 0, which
// gives t itself in business hours, else the start of the next business
// period. The result is in the calendar's location; Never() if there is no
// business day within ten years.
func (c *Calendar) AddBusiness(t time.Time, d time.Duration) time.Time {
	d = max(d, 0)
	closedRun := 0
	for day := c.date(t); closedRun < maxClosedRun; day = nextDate(day) {
		if !c.isBusiness(day) {
			closedRun++
			continue
		}
		closedRun = 0
		s, e := c.window(day)
		if t.After(s) {
			s = t
		}
		if !s.Before(e) {
			continue
		}
		if avail := e.Sub(s); d < avail {
			return s.Add(d).In(c.cfg.loc)
		} else {
			d -= avail
		}
	}
	return Never()
}

// AddBusinessDays returns the end of business on the n-th business day after
// t's date: the deadline of "within n business days". For n <= 0 it is the
// end of business of t's date if that is a business day, else of the next
// business day. The result is in the calendar's location (with business
// hours ending at 24:00 it is midnight at the start of the next day); Never()
// if there is no business day within ten years.
func (c *Calendar) AddBusinessDays(t time.Time, n int) time.Time {
	d, ok := c.nthBusinessDay(c.date(t), n)
	if !ok {
		return Never()
	}
	_, e := c.window(d)
	return e
}

// BusinessDayAt returns the time of day at on the n-th business day after t's
// date, such as "by 10:00 on the second business day"; n <= 0 means t's
// date if it is a business day, else the next business day. Never() if there
// is no business day within ten years.
func (c *Calendar) BusinessDayAt(t time.Time, n int, at Clock) time.Time {
	d, ok := c.nthBusinessDay(c.date(t), n)
	if !ok {
		return Never()
	}
	return at.on(d, c.cfg.loc)
}

// NextBusinessDayAt returns the time of day at on the next business day
// after t's date, for targets such as "by 10:00 on the next business day"
// (with at from ParseClock("10:00")).
func (c *Calendar) NextBusinessDayAt(t time.Time, at Clock) time.Time {
	return c.BusinessDayAt(t, 1, at)
}

// nthBusinessDay returns the n-th business day after d (for n <= 0, the
// first business day from d on).
func (c *Calendar) nthBusinessDay(d Date, n int) (Date, bool) {
	if n <= 0 {
		n = 1
		d = prevDate(d)
	}
	closedRun := 0
	for closedRun < maxClosedRun {
		d = nextDate(d)
		if !c.isBusiness(d) {
			closedRun++
			continue
		}
		closedRun = 0
		if n--; n == 0 {
			return d, true
		}
	}
	return Date{}, false
}

var cumDays = [13]int{0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y int, m time.Month) int {
	if m == time.February && isLeap(y) {
		return 29
	}
	return cumDays[m] - cumDays[m-1]
}

// yearDay returns the day of the year of d, from 1.
func yearDay(d Date) int {
	n := cumDays[d.Month-1] + d.Day
	if d.Month > time.February && isLeap(d.Year) {
		n++
	}
	return n
}

func nextDate(d Date) Date {
	switch {
	case d.Day < daysIn(d.Year, d.Month):
		d.Day++
	case d.Month < time.December:
		d.Month, d.Day = d.Month+1, 1
	default:
		d.Year, d.Month, d.Day = d.Year+1, time.January, 1
	}
	return d
}

func prevDate(d Date) Date {
	switch {
	case d.Day > 1:
		d.Day--
	case d.Month > time.January:
		d.Month--
		d.Day = daysIn(d.Year, d.Month)
	default:
		d.Year, d.Month, d.Day = d.Year-1, time.December, 31
	}
	return d
}
