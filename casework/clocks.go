package casework

import (
	"maps"
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
