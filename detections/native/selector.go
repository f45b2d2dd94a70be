package native

import (
	"fmt"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
)

// selector is the stateless selection of every kind: the KQL query and the
// optional off-hours filter. As a Detector by itself it is the query and
// off_hours kinds: every event it matches is a hit.
type selector struct {
	kind string // the rule's kind, for listings
	// reads are the fields Match and GroupKey read (readsKnown: the list
	// is complete), for detections.FieldReader.
	reads      []string
	readsKnown bool
	query      kql.Matcher
	off        *offHours // nil: no time filter
}

// Kind returns the rule's kind ("threshold").
func (s *selector) Kind() string { return s.kind }

// Reads returns the fields the rule's selection and grouping read.
func (s *selector) Reads() ([]string, bool) { return s.reads, s.readsKnown }

// setReads records the fields Fields returns.
func (s *selector) setReads(fields []string, known bool) { s.reads, s.readsKnown = fields, known }

var _ detections.Detector = (*selector)(nil)

// Match reports whether the event matches the query and, if the rule has an
// off_hours section, falls into one of its periods.
func (s *selector) Match(e *event.Event) bool {
	return s.query.Match(e) && (s.off == nil || s.off.in(e.Timestamp))
}

// offHours is the off_hours section: an instant passes when it lies in at
// least one of the periods set.
type offHours struct {
	cal     *calendar.Calendar
	outside bool // not within business hours (closed days included)
	closed  bool // not a business day
	night   bool
	// from and to bound the nightly window in seconds since local
	// midnight, from inclusive, to exclusive; to < from wraps midnight.
	from, to int
}

// in reports whether t falls into one of the periods.
func (o *offHours) in(t time.Time) bool {
	if o.outside && !o.cal.InBusinessHours(t) {
		return true
	}
	if o.closed && !o.cal.IsBusinessDay(t) {
		return true
	}
	if o.night {
		h, m, s := t.In(o.cal.Location()).Clock()
		sec := h*3600 + m*60 + s
		if o.from < o.to {
			return o.from <= sec && sec < o.to
		}
		return sec >= o.from || sec < o.to
	}
	return false
}

// newOffHours checks the off_hours section.
func newOffHours(d *offHoursDoc, cal *calendar.Calendar) (*offHours, error) {
	o := &offHours{cal: cal, outside: d.OutsideBusinessHours, closed: d.ClosedDays}
	if d.Night != "" {
		from, to, ok := strings.Cut(d.Night, "-")
		f, err1 := calendar.ParseClock(strings.TrimSpace(from))
		t, err2 := calendar.ParseClock(strings.TrimSpace(to))
		if !ok || err1 != nil || err2 != nil {
			return nil, errAt("off_hours.night", "%q: want a daily window HH:MM-HH:MM such as 22:00-05:00", d.Night)
		}
		if f == t {
			return nil, errAt("off_hours.night", "%q: the window is empty (start equals end)", d.Night)
		}
		o.night, o.from, o.to = true, int(f), int(t)
	}
	if !o.outside && !o.closed && !o.night {
		return nil, errAt("off_hours", "set at least one of outside_business_hours: true, closed_days: true or night: \"22:00-05:00\"")
	}
	return o, nil
}

// compileQuery parses and plans a KQL query.
func compileQuery(q, key string, opts kql.Options) (kql.Cond, error) {
	n, err := kql.Parse(q)
	if err != nil {
		return nil, &keyError{key: key, err: err}
	}
	c, err := kql.Plan(n, opts)
	if err != nil {
		return nil, &keyError{key: key, err: err}
	}
	return c, nil
}

// checkFields rejects an empty field list entry.
func checkFields(key string, fields []string) error {
	for i, f := range fields {
		if strings.TrimSpace(f) == "" || strings.ContainsAny(f, " \t\n:") {
			return errAt(fmt.Sprintf("%s[%d]", key, i), "%q is not a field name", f)
		}
	}
	return nil
}
