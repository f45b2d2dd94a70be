package casework

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/mamori-soc/mamori/calendar"
)

// DutyActor is who the duty scheduler names in timelines and audit trails.
const DutyActor = "mamori-duties"

// DutyPeriod says whether a periodic duty falls due in the period that
// holds at, and if so the period's start (the duty case's opening time, so
// its SLA clock runs from there) and the case's title. The periods:
//
//   - daily_report: each business day (the report on that day is due by
//     noon of the next business day);
//   - weekly_security_report: each week, from Monday;
//   - monthly_report, monthly_log_analysis, monthly_meeting,
//     improvement_report: each month, from its 1st;
//   - sla_review: each half of the fiscal year, from 1 April and 1 October.
func DutyPeriod(subtype string, at time.Time, cal *calendar.Calendar) (start time.Time, title string, ok bool) {
	loc := cal.Location()
	t := at.In(loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	month := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	switch subtype {
	case "daily_report":
		if !cal.IsBusinessDay(t) {
			return time.Time{}, "", false
		}
		return day, "日報 " + day.Format("2006-01-02"), true
	case "weekly_security_report":
		monday := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
		return monday, "週次セキュリティ報告 " + monday.Format("2006-01-02") + " の週", true
	case "monthly_report":
		return month, "月次報告 " + month.Format("2006-01"), true
	case "monthly_log_analysis":
		return month, "月次ログ分析 " + month.Format("2006-01"), true
	case "monthly_meeting":
		return month, "定例会 " + month.Format("2006-01"), true
	case "improvement_report":
		return month, "改善報告 " + month.Format("2006-01"), true
	case "sla_review":
		half := time.Date(t.Year(), time.April, 1, 0, 0, 0, 0, loc)
		switch {
		case t.Month() >= time.October:
			half = time.Date(t.Year(), time.October, 1, 0, 0, 0, 0, loc)
		case t.Month() < time.April:
			half = time.Date(t.Year()-1, time.October, 1, 0, 0, 0, 0, loc)
		}
		return half, "SLA 見直し " + half.Format("2006-01") + " からの半期", true
	}
	return time.Time{}, "", false
}

// DutyCaseID is the id of the duty case of a subtype for the period that
// starts at start: the same in every process, so a duty is opened once.
func DutyCaseID(subtype string, start time.Time) string {
	return caseID(idPrefix[Duty], subtype, nil, start)
}

// Scheduler opens the periodic duty cases as their periods begin, so that
// their SLA clocks (daily report by the next business day's noon, monthly
// report by the 10th) run and the ledger counts them.
type Scheduler struct {
	cases  *Cases
	cal    *calendar.Calendar
	duties []string

	mu     sync.Mutex
	opened map[string]time.Time // the period last seen opened, by subtype
}

// NewScheduler returns a scheduler of the given duty subtypes (nil: every
// one; see Subtypes[Duty]).
func NewScheduler(cases *Cases, cal *calendar.Calendar, duties []string) (*Scheduler, error) {
	if duties == nil {
		duties = Subtypes[Duty]
	}
	for _, d := range duties {
		if !slices.Contains(Subtypes[Duty], d) {
			return nil, fmt.Errorf("%w: duty %q: want one of %v", ErrInvalid, d, Subtypes[Duty])
		}
	}
	return &Scheduler{cases: cases, cal: cal, duties: duties, opened: map[string]time.Time{}}, nil
}

// Sweep opens the duty cases of the periods that hold at now and are not
// open yet. It returns how many it opened.
func (s *Scheduler) Sweep(ctx context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	var errs []error
	for _, d := range s.duties {
		start, title, ok := DutyPeriod(d, now, s.cal)
		if !ok || s.opened[d].Equal(start) {
			continue
		}
		_, _, err := s.cases.Open(ctx, DutyActor, Case{
			ID: DutyCaseID(d, start), Timestamp: start.UTC(), Type: Duty, Subtype: d, Title: title,
		})
		switch {
		case err == nil:
			n++
		case errors.Is(err, ErrConflict): // opened before, here or elsewhere
		default:
			errs = append(errs, fmt.Errorf("duty %s: %w", d, err))
			continue
		}
		s.opened[d] = start
	}
	return n, errors.Join(errs...)
}
