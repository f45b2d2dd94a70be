package sla

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/mamori-soc/mamori/calendar"
)

// The kinds of timeline entry that casework writes and the default clocks
// match. Conditions may name any other kind.
const (
	// KindCreated is the case's creation: for a failure from monitoring,
	// at detection time. It carries the channel the case came in by and
	// the case's initial status and fields.
	KindCreated = "created"
	// KindStatus is a change of the case's status; Status is the new one.
	KindStatus = "status"
	// KindNotification is a notification that went out; Notification
	// says which, Channel how.
	KindNotification = "notification"
	// KindField is a change of other case fields, given in Fields.
	KindField = "field"
)

// Entry is one event of a case's timeline, as casework derives it from the
// case's audit trail.
type Entry struct {
	// At is when the event happened.
	At time.Time
	// Kind says what happened, such as KindStatus.
	Kind string
	// Status is the case's status after the event, if the event sets it.
	Status string
	// Channel is the channel of the event: how the case came in, or how a
	// notification went out ("phone", "email", "in_person"...).
	Channel string
	// Notification is the kind of notification sent, such as
	// "acknowledgement" or "progress_report".
	Notification string
	// Fields are other values the event sets or carries.
	Fields map[string]string
}

// State is the state of one clock.
type State int

// The states of a clock.
const (
	// Running is a clock that runs and has used less than its warning
	// share of the target.
	Running State = iota
	// Paused is a clock that does not run now, because a pause condition
	// holds, and is not breached.
	Paused
	// Warning is a running clock that has used its warning share of the
	// target (ClockDef.WarnAt) but not more than the target.
	Warning
	// Met is a clock that stopped within its target.
	Met
	// Breached is a clock that has counted more than its target: stopped
	// late, still running past its due time, or a repetition that ran out.
	Breached
)

var stateNames = [...]string{"running", "paused", "warning", "met", "breached"}

// String returns the state's name: running, paused, warning, met or
// breached.
func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return fmt.Sprintf("State(%d)", int(s))
	}
	return stateNames[s]
}

// MarshalText returns the state's name, for JSON and YAML.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Stopped reports whether the state is final: met or breached and no
// longer running. A running clock past its due time is Breached but not
// stopped; see Clock.StoppedAt.
func (s State) Stopped() bool { return s == Met || s == Breached }

// Clock is one clock instance evaluated at an instant: a clock, or one
// repetition of a repeating clock. All times are in the calendar's
// location.
type Clock struct {
	// Name is the definition's name.
	Name string
	// Item is the definition's SLA item number.
	Item int
	// Repetition numbers the repetitions of a repeating clock from 0; it
	// is 0 for other clocks.
	Repetition int
	// StartedAt is when the clock started.
	StartedAt time.Time
	// Target is the counted time the clock has: the definition's duration,
	// the interval of a repeating clock, or for a deadline target the
	// counted time from the start to the deadline.
	Target time.Duration
	// Due is the earliest instant at which the clock has counted its
	// target: the deadline. Pauses move it; while the clock is paused it
	// is where the target would run out were the clock to resume now.
	Due time.Time
	// WarnAt is the earliest instant at which the clock has counted its
	// warning share of the target.
	WarnAt time.Time
	// StoppedAt is when the clock stopped: the entry that stopped it, or
	// for a repetition that ran out, its breach. Zero while it runs.
	StoppedAt time.Time
	// Elapsed is the time counted from the start to the stop, or to now:
	// business time or wall-clock time as the definition says, without
	// pauses.
	Elapsed time.Duration
	// Paused reports whether the clock is paused now.
	Paused bool
	// State is the clock's state now.
	State State
	// BreachedAt is when the clock breached: the instant after which it
	// had counted more than its target. For a business-hours clock whose
	// target runs out at the end of business that is the start of the
	// next business period, since the hours between are not counted. Zero
	// if not breached.
	BreachedAt time.Time
}

// MaxRepetitions bounds the repetitions Evaluate returns for one repeating
// clock; later ones are left out.
const MaxRepetitions = 10000

var defaultCalendar = sync.OnceValue(func() *calendar.Calendar {
	c, err := calendar.New(calendar.Config{})
	if err != nil {
		panic(err) // the zero Config is valid
	}
	return c
})

// Evaluate evaluates the clock def against a case's timeline at the
// instant now and returns its instances: none if the clock has not
// started, one, or one per repetition of a repeating clock. It does not
// check def.AppliesTo (see ForType), and returns nil for a definition that
// does not validate. Entries after now are ignored, as are the clock's
// entries at or after its stop; the timeline need not be sorted (entries
// at one instant keep their order). A nil cal means the default business
// calendar (calendar.Config{}). The result depends only on the arguments.
//
// The clock starts at the first entry matching def.Start and stops at the
// first entry matching def.Stop from there on (the start entry included).
// The case's state is folded from every entry: its status is that of the
// latest entry with a status, each field that of the latest entry carrying
// it; the clock does not run while a pause condition holds.
func Evaluate(def ClockDef, timeline []Entry, now time.Time, cal *calendar.Calendar) []Clock {
	if def.Validate() != nil {
		return nil
	}
	if cal == nil {
		cal = defaultCalendar()
	}
	entries := make([]Entry, 0, len(timeline))
	for _, e := range timeline {
		if !e.At.After(now) {
			entries = append(entries, e)
		}
	}
	slices.SortStableFunc(entries, func(a, b Entry) int { return a.At.Compare(b.At) })

	first := slices.IndexFunc(entries, def.Start.Matches)
	if first < 0 {
		return nil
	}
	stopIdx := -1
	for i := first; i < len(entries); i++ {
		if def.Stop.Matches(entries[i]) {
			stopIdx = i
			break
		}
	}
	if stopIdx >= 0 {
		entries = entries[:stopIdx+1]
	}
	ev := newEvaluation(def, entries, first, stopIdx >= 0, now, cal)

	if def.Repeat == 0 {
		c, _ := ev.instance(entries[first].At, def.targetBudget(entries[first].At, cal), stopIdx)
		return []Clock{c}
	}

	// A repeating clock: each repetition ends at the first entry matching
	// MetBy or Stop, whichever comes first, or at its breach.
	var out []Clock
	start, next := entries[first].At, first
	for len(out) < MaxRepetitions {
		end := -1
		for i := next; i < len(entries); i++ {
			if i == stopIdx || def.MetBy.Matches(entries[i]) {
				end = i
				break
			}
		}
		c, ended := ev.instance(start, def.Repeat, end)
		c.Repetition = len(out)
		out = append(out, c)
		switch {
		case ended && end == stopIdx, c.StoppedAt.IsZero():
			return out // the series stopped, or this repetition runs
		case ended:
			start, next = entries[end].At, end+1
		default: // ran out: the next repetition starts at the breach
			start = c.BreachedAt
		}
	}
	return out
}

// targetBudget returns the counted time the clock has when started at
// start.
func (d ClockDef) targetBudget(start time.Time, cal *calendar.Calendar) time.Duration {
	if d.Target.Kind == TargetDuration {
		return d.Target.Duration
	}
	deadline, _ := d.Target.deadline(start, cal)
	if deadline.Equal(calendar.Never()) {
		return math.MaxInt64
	}
	if d.BusinessHours {
		return cal.BusinessDuration(start, deadline)
	}
	return max(deadline.Sub(start), 0)
}

// span is a stretch of time in which the clock runs: [from, to), or from
// on if open.
type span struct {
	from, to time.Time
	open     bool
}

// evaluation holds what the instances of one clock share: when it runs.
type evaluation struct {
	def     ClockDef
	cal     *calendar.Calendar
	entries []Entry
	now     time.Time
	// spans are the running stretches from the first start on, projected:
	// the last one is open, starting at the stop, at the end of the last
	// pause, or at now while paused (as if the clock resumed now).
	spans     []span
	pausedNow bool
}

func newEvaluation(def ClockDef, entries []Entry, first int, stopped bool, now time.Time, cal *calendar.Calendar) *evaluation {
	ev := &evaluation{def: def, cal: cal, entries: entries, now: now}
	start := entries[first].At
	cursor := start
	addPause := func(from, to time.Time) {
		from = maxTime(from, start)
		if to.After(from) {
			if from.After(cursor) {
				ev.spans = append(ev.spans, span{from: cursor, to: from})
			}
			cursor = maxTime(cursor, to)
		}
	}
	if len(def.Pause) > 0 {
		status, fields := "", map[string]string{}
		paused, since := false, time.Time{}
		for _, e := range entries {
			if e.Status != "" {
				status = e.Status
			}
			for k, v := range e.Fields {
				fields[k] = v
			}
			holds := slices.ContainsFunc(def.Pause, func(c Condition) bool { return c.holds(status, fields) })
			switch {
			case holds && !paused:
				paused, since = true, e.At
			case !holds && paused:
				paused = false
				addPause(since, e.At)
			}
		}
		if paused {
			end := now
			if stopped {
				end = entries[len(entries)-1].At
			} else {
				ev.pausedNow = true
			}
			addPause(since, end)
		}
	}
	ev.spans = append(ev.spans, span{from: cursor, open: true})
	return ev
}

// instance evaluates one clock instance started at start with budget of
// counted time, which stops at entries[end] unless end is -1 or it is a
// repetition that runs out first; ended reports whether entries[end]
// stopped it.
func (ev *evaluation) instance(start time.Time, budget time.Duration, end int) (c Clock, ended bool) {
	loc := ev.cal.Location()
	c = Clock{
		Name:      ev.def.Name,
		Item:      ev.def.Item,
		StartedAt: start.In(loc),
		Target:    budget,
		Due:       ev.reach(start, budget).In(loc),
		WarnAt:    ev.reach(start, time.Duration(float64(budget)*ev.def.warnShare())).In(loc),
	}
	breach := ev.exceed(start, budget)
	repeating := ev.def.Repeat != 0
	switch {
	case end >= 0 && (!repeating || !ev.entries[end].At.After(breach)):
		stop := ev.entries[end].At
		ended = true
		c.StoppedAt = stop.In(loc)
		c.Elapsed = ev.counted(start, stop)
		c.State = Met
		if stop.After(breach) {
			c.State, c.BreachedAt = Breached, breach.In(loc)
		}
	case repeating && ev.now.After(breach):
		c.StoppedAt, c.BreachedAt = breach.In(loc), breach.In(loc)
		c.Elapsed = ev.counted(start, breach)
		c.State = Breached
	default:
		c.Elapsed = ev.counted(start, ev.now)
		c.Paused = ev.pausedNow
		switch {
		case ev.now.After(breach):
			c.State, c.BreachedAt = Breached, breach.In(loc)
		case c.Paused:
			c.State = Paused
		case float64(c.Elapsed) >= float64(budget)*ev.def.warnShare():
			c.State = Warning
		default:
			c.State = Running
		}
	}
	return c, ended
}

// measure returns the time the clock counts in [from, to) if it runs all
// along.
func (ev *evaluation) measure(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	if ev.def.BusinessHours {
		return ev.cal.BusinessDuration(from, to)
	}
	return to.Sub(from)
}

// counted returns the time the clock counts in [from, to).
func (ev *evaluation) counted(from, to time.Time) time.Duration {
	var total time.Duration
	for _, s := range ev.spans {
		a, b := maxTime(s.from, from), to
		if !s.open && s.to.Before(b) {
			b = s.to
		}
		total += ev.measure(a, b)
	}
	return total
}

// reach returns the earliest instant r at which the clock, started at
// start, has counted d: counted(start, r) == d.
func (ev *evaluation) reach(start time.Time, d time.Duration) time.Time {
	for _, s := range ev.spans {
		from := maxTime(s.from, start)
		if !s.open {
			if !s.to.After(from) {
				continue
			}
			if m := ev.measure(from, s.to); d > m {
				d -= m
				continue
			}
		}
		if d <= 0 {
			return from
		}
		if !ev.def.BusinessHours {
			return from.Add(d)
		}
		r := ev.cal.AddBusiness(from, d-1)
		if r.Equal(calendar.Never()) {
			return r
		}
		return r.Add(1)
	}
	return calendar.Never() // not reached: the last span is open
}

// exceed returns the latest instant r at which the clock, started at
// start, has counted no more than d: after r it has counted more.
func (ev *evaluation) exceed(start time.Time, d time.Duration) time.Time {
	for _, s := range ev.spans {
		from := maxTime(s.from, start)
		if !s.open {
			if !s.to.After(from) {
				continue
			}
			if m := ev.measure(from, s.to); d >= m {
				d -= m
				continue
			}
		}
		if !ev.def.BusinessHours {
			return from.Add(d)
		}
		return ev.cal.AddBusiness(from, d)
	}
	return calendar.Never() // not reached: the last span is open
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
