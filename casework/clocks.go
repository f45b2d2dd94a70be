package casework

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework/sla"
)

// Kind names a case's type for SLA clocks: "type" or "type/subtype"
// (request/log_retrieval).
func (c *Case) Kind() string {
	if c.Subtype == "" {
		return string(c.Type)
	}
	return string(c.Type) + "/" + c.Subtype
}

// SLATimeline is the case's timeline as SLA clocks read it: each entry
// carries the case's channel (how it came in) and its fields, the created
// entry its opening status.
func (c *Case) SLATimeline() []sla.Entry {
	out := make([]sla.Entry, 0, len(c.Timeline))
	for _, e := range c.Timeline {
		out = append(out, sla.Entry{
			At: e.At, Kind: e.Kind, Status: string(e.Status), Channel: c.Channel,
			Notification: e.Notification, Fields: maps.Clone(c.Fields),
		})
	}
	return out
}

// Clocks evaluates the clock definitions that apply to the case at now on
// the calendar (nil: the default calendar).
func (c *Case) Clocks(defs []sla.ClockDef, now time.Time, cal *calendar.Calendar) []sla.Clock {
	var out []sla.Clock
	tl := c.SLATimeline()
	for _, d := range sla.ForType(defs, c.Kind()) {
		out = append(out, sla.Evaluate(d, tl, now, cal)...)
	}
	return out
}

// Clock returns the case's clock of that name evaluated at now (for a
// repeating clock, its latest repetition), and whether the case has it.
func (c *Case) Clock(defs []sla.ClockDef, name string, now time.Time, cal *calendar.Calendar) (sla.Clock, bool) {
	var out sla.Clock
	found := false
	for _, k := range c.Clocks(defs, now, cal) {
		if k.Name == name {
			out, found = k, true
		}
	}
	return out, found
}

// CheckClocks reports every clock definition whose applies_to names no case
// type or subtype that casework has: such a clock would never run.
func CheckClocks(defs []sla.ClockDef) error {
	var errs []error
	for _, d := range defs {
		for _, k := range d.AppliesTo {
			t, sub, _ := strings.Cut(k, "/")
			switch {
			case !slices.Contains(Types, Type(t)):
				errs = append(errs, fmt.Errorf("clock %s: applies_to %q: no case type %q (types: %v)", d.Name, k, t, Types))
			case sub != "" && len(Subtypes[Type(t)]) > 0 && !slices.Contains(Subtypes[Type(t)], sub):
				errs = append(errs, fmt.Errorf("clock %s: applies_to %q: %s has no subtype %q (subtypes: %v)", d.Name, k, t, sub, Subtypes[Type(t)]))
			}
		}
	}
	return errors.Join(errs...)
}
