package sla

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mamori-soc/mamori/calendar"
)

// ErrConfig marks every configuration error of this package; test for it
// with errors.Is.
var ErrConfig = errors.New("sla config")

// DefaultWarnAt is the share of the target after which a running clock is
// in the warning state, when ClockDef.WarnAt is 0.
const DefaultWarnAt = 0.75

// MinRepeat is the shortest interval of a repeating clock.
const MinRepeat = time.Minute

// ClockDef declares one SLA clock: when it starts, what stops it, while
// what it does not run, and how much time it has. It is data: casework
// reads the definitions from YAML (see Parse and Defaults) and evaluates
// them against each case's timeline with Evaluate.
//
// A clock either has a Target and stops at the first entry matching Stop,
// or repeats: with Repeat set, it is a series of clocks of Repeat each, the
// first started by Start; an entry matching MetBy meets the running one and
// starts the next, a repetition that runs out without one is breached and
// the next starts at its breach, and the series ends at Stop.
type ClockDef struct {
	// Name identifies the clock within its configuration, such as
	// "failure_recovery". Required.
	Name string `yaml:"name"`

	// Item is the number of the service level the clock measures in the
	// SLA table (seed/README.md), such as 8 for failure recovery time; 0
	// for none. The monthly ledger groups clocks by it.
	Item int `yaml:"item"`

	// Description says in a sentence what the clock measures.
	Description string `yaml:"description"`

	// AppliesTo lists the case types the clock runs on. A plain type such
	// as "incident" covers every subtype; "request/log_retrieval" names one
	// subtype. Required; see Covers.
	AppliesTo []string `yaml:"applies_to"`

	// Start is the timeline entry that starts the clock: the first entry
	// that matches it. Required.
	Start Condition `yaml:"start"`

	// Stop is the timeline entry that stops the clock (a repeating clock:
	// the whole series): the first entry matching it at or after the
	// start. Required.
	Stop Condition `yaml:"stop"`

	// Pause lists case states during which the clock does not run, such as
	// {status: waiting_vendor}: time that belongs to a third party (clock
	// rule 2 of the SLA). A pause condition may only constrain status and
	// fields; see Condition.
	Pause []Condition `yaml:"pause"`

	// Target is how long the clock has; see Target for its forms. Required
	// unless Repeat is set, and not allowed with it.
	Target Target `yaml:"target"`

	// BusinessHours makes the clock count only the business hours of the
	// business calendar (clock rule 1 of the SLA); false counts wall-clock
	// time.
	BusinessHours bool `yaml:"business_hours"`

	// Repeat makes the clock a repeating one with this interval (a Go
	// duration such as 4h, at least MinRepeat): each repetition has Repeat
	// of counted time. Requires MetBy.
	Repeat time.Duration `yaml:"repeat"`

	// MetBy is the entry that meets the running repetition of a repeating
	// clock and starts the next, such as a progress-report notification.
	// Required with Repeat, not allowed without it.
	MetBy *Condition `yaml:"met_by"`

	// WarnAt is the share of the target after which the clock warns, more
	// than 0 and at most 1; 0 (unset) means DefaultWarnAt.
	WarnAt float64 `yaml:"warn_at"`
}

// Condition matches timeline entries (see Entry): Kind must equal the
// entry's kind, and each other non-empty field must equal the entry's
// field of the same name; every key in Fields must be present in the
// entry's fields with the same value. The zero Condition matches nothing
// as an event.
//
// As a pause condition it describes a state of the case instead, and may
// only constrain Status and Fields: it holds while the case's current
// status (set by the latest entry with a status) and its current fields
// (each set by the latest entry carrying it) have those values.
type Condition struct {
	// Kind is the kind of entry, such as "created", "status",
	// "notification" or "field".
	Kind string `yaml:"kind"`
	// Status is the status the entry sets, such as "closed".
	Status string `yaml:"status"`
	// Channel is the entry's channel, such as "email" or "phone".
	Channel string `yaml:"channel"`
	// Notification is the kind of notification the entry records, such as
	// "acknowledgement".
	Notification string `yaml:"notification"`
	// Fields are other values the entry must carry.
	Fields map[string]string `yaml:"fields"`
}

// Matches reports whether e matches c as an event.
func (c Condition) Matches(e Entry) bool {
	if c.Kind == "" || c.Kind != e.Kind {
		return false
	}
	if (c.Status != "" && c.Status != e.Status) ||
		(c.Channel != "" && c.Channel != e.Channel) ||
		(c.Notification != "" && c.Notification != e.Notification) {
		return false
	}
	return fieldsMatch(c.Fields, e.Fields)
}

// holds reports whether the case state (current status and fields) matches
// c as a pause condition.
func (c Condition) holds(status string, fields map[string]string) bool {
	if c.Status != "" && c.Status != status {
		return false
	}
	return fieldsMatch(c.Fields, fields)
}

func fieldsMatch(want, have map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// String formats the condition as its constraints, such as
// "kind=status status=closed", for messages.
func (c Condition) String() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("kind", c.Kind)
	add("status", c.Status)
	add("channel", c.Channel)
	add("notification", c.Notification)
	for _, k := range sortedKeys(c.Fields) {
		parts = append(parts, "fields."+k+"="+c.Fields[k])
	}
	return strings.Join(parts, " ")
}

// TargetKind tells which form a Target has.
type TargetKind int

// The forms of a target.
const (
	// TargetNone is the zero Target: no target set.
	TargetNone TargetKind = iota
	// TargetDuration is an amount of counted time, written as a Go
	// duration: "15m", "4h", "0s" (immediately).
	TargetDuration
	// TargetBusinessDays is the end of business on the n-th business day
	// after the start's date ("within n business days"), written
	// {business_days: n}.
	TargetBusinessDays
	// TargetNextBusinessDayAt is a time of day on the first business day
	// after the start's date ("by the next business morning"), written
	// {next_business_day_at: "12:00"}.
	TargetNextBusinessDayAt
	// TargetDayOfMonth is the end of the n-th day of the month after the
	// start's month ("by the 10th of the next month"), written
	// {day_of_month: 10}; a day past the end of a short month means its
	// last day.
	TargetDayOfMonth
	// TargetMonths is the same time n months after the start ("within a
	// month"), written {months: n}; a day past the end of a short month
	// means its last day.
	TargetMonths
)

var targetKindNames = [...]string{"none", "duration", "business_days", "next_business_day_at", "day_of_month", "months"}

// String returns the YAML name of the form.
func (k TargetKind) String() string {
	if k < 0 || int(k) >= len(targetKindNames) {
		return fmt.Sprintf("TargetKind(%d)", int(k))
	}
	return targetKindNames[k]
}

// Target is how much time a clock has. In YAML it is either a Go duration
// (target: 4h), an amount of counted time, or a mapping with exactly one
// of the keys business_days, next_business_day_at, day_of_month or months,
// a deadline computed from the start on the business calendar (see
// TargetKind). A deadline form is turned into an amount of counted time,
// the counted time from the start to the deadline, so that pauses move the
// deadline like any other clock's.
type Target struct {
	// Kind is the form of the target.
	Kind TargetKind
	// Duration is the counted time of a TargetDuration.
	Duration time.Duration
	// N is the number of business days, the day of the month or the
	// number of months.
	N int
	// At is the time of day of a TargetNextBusinessDayAt.
	At calendar.Clock
}

// Within returns a target of d counted time.
func Within(d time.Duration) Target { return Target{Kind: TargetDuration, Duration: d} }

// BusinessDays returns a target of the end of business on the n-th business
// day after the start's date.
func BusinessDays(n int) Target { return Target{Kind: TargetBusinessDays, N: n} }

// NextBusinessDayAt returns a target of the time of day at on the first
// business day after the start's date.
func NextBusinessDayAt(at calendar.Clock) Target {
	return Target{Kind: TargetNextBusinessDayAt, At: at}
}

// DayOfMonth returns a target of the end of day n of the month after the
// start's month.
func DayOfMonth(n int) Target { return Target{Kind: TargetDayOfMonth, N: n} }

// Months returns a target of the same time n months after the start.
func Months(n int) Target { return Target{Kind: TargetMonths, N: n} }

// String formats the target as written in YAML.
func (t Target) String() string {
	switch t.Kind {
	case TargetDuration:
		return t.Duration.String()
	case TargetNextBusinessDayAt:
		return fmt.Sprintf("%s: %s", t.Kind, t.At)
	case TargetBusinessDays, TargetDayOfMonth, TargetMonths:
		return fmt.Sprintf("%s: %d", t.Kind, t.N)
	}
	return "none"
}

// deadline returns the instant a deadline form of target ends for a clock
// started at start; ok is false for a TargetDuration or TargetNone.
func (t Target) deadline(start time.Time, cal *calendar.Calendar) (time.Time, bool) {
	loc := cal.Location()
	s := start.In(loc)
	switch t.Kind {
	case TargetBusinessDays:
		return cal.AddBusinessDays(s, t.N), true
	case TargetNextBusinessDayAt:
		return cal.NextBusinessDayAt(s, t.At), true
	case TargetDayOfMonth:
		y, m, _ := s.Date()
		day := min(t.N, daysIn(y, m+1, loc))
		return time.Date(y, m+1, day+1, 0, 0, 0, 0, loc), true
	case TargetMonths:
		y, m, d := s.Date()
		day := min(d, daysIn(y, m+time.Month(t.N), loc))
		return time.Date(y, m+time.Month(t.N), day, s.Hour(), s.Minute(), s.Second(), s.Nanosecond(), loc), true
	}
	return time.Time{}, false
}

// daysIn returns the number of days of month m of year y (m may be past
// December).
func daysIn(y int, m time.Month, loc *time.Location) int {
	return time.Date(y, m+1, 0, 12, 0, 0, 0, loc).Day()
}

// Covers reports whether the clock runs on cases of caseType, written
// "type" or "type/subtype" (such as "request/log_retrieval"): an entry of
// AppliesTo matches its own type and, when it names no subtype, every
// subtype of it.
func (d ClockDef) Covers(caseType string) bool {
	for _, t := range d.AppliesTo {
		if t == caseType || (!strings.Contains(t, "/") && strings.HasPrefix(caseType, t+"/")) {
			return true
		}
	}
	return false
}

// ForType returns the definitions of defs that apply to caseType (see
// ClockDef.Covers), in order.
func ForType(defs []ClockDef, caseType string) []ClockDef {
	var out []ClockDef
	for _, d := range defs {
		if d.Covers(caseType) {
			out = append(out, d)
		}
	}
	return out
}

// warnShare returns the warning share with its default applied.
func (d ClockDef) warnShare() float64 {
	if d.WarnAt == 0 {
		return DefaultWarnAt
	}
	return d.WarnAt
}

// Validate checks the definition and names the key and the fix in its
// error, which wraps ErrConfig.
func (d ClockDef) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	if strings.TrimSpace(d.Name) == "" {
		bad("name is missing: give the clock a name such as failure_recovery")
	}
	if d.Item < 0 || d.Item > 99 {
		bad("item %d is not an SLA item number: use the number from the SLA table, or leave it out", d.Item)
	}
	if len(d.AppliesTo) == 0 {
		bad("applies_to is missing: list the case types the clock runs on, such as [incident]")
	}
	for i, t := range d.AppliesTo {
		if typ, sub, _ := strings.Cut(t, "/"); typ == "" || strings.Contains(sub, "/") || (strings.Contains(t, "/") && sub == "") {
			bad("applies_to[%d] %q is not a case type: write type or type/subtype, such as request/log_retrieval", i, t)
		}
	}
	if d.Start.Kind == "" {
		bad("start.kind is missing: say which entry starts the clock, such as {kind: created}")
	}
	if d.Stop.Kind == "" {
		bad("stop.kind is missing: say which entry stops the clock, such as {kind: status, status: closed}")
	}
	for i, p := range d.Pause {
		switch {
		case p.Kind != "" || p.Channel != "" || p.Notification != "":
			bad("pause[%d] constrains kind, channel or notification: a pause condition is a state of the case and may only name status and fields", i)
		case p.Status == "" && len(p.Fields) == 0:
			bad("pause[%d] is empty: name a status such as waiting_vendor, or fields", i)
		}
	}
	switch {
	case d.Repeat != 0:
		if d.Repeat < MinRepeat {
			bad("repeat %s is too short: use at least %s", d.Repeat, MinRepeat)
		}
		if d.Target.Kind != TargetNone {
			bad("target is set on a repeating clock: its interval, repeat, is the target of each repetition; remove target")
		}
		if d.MetBy == nil || d.MetBy.Kind == "" {
			bad("met_by.kind is missing: a repeating clock needs the entry that meets each repetition, such as {kind: notification, notification: progress_report}")
		}
	default:
		if d.MetBy != nil {
			bad("met_by is set on a clock that does not repeat: set repeat, or remove met_by")
		}
		if err := d.Target.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if d.WarnAt < 0 || d.WarnAt > 1 {
		bad("warn_at %g is not a share of the target: use a number more than 0 and at most 1, such as 0.75", d.WarnAt)
	}
	if len(errs) == 0 {
		return nil
	}
	name := d.Name
	if name == "" {
		name = "(unnamed)"
	}
	for i, err := range errs {
		errs[i] = fmt.Errorf("%w: clock %s: %w", ErrConfig, name, err)
	}
	return errors.Join(errs...)
}

func (t Target) validate() error {
	switch t.Kind {
	case TargetNone:
		return errors.New("target is missing: write a duration such as 4h, or a mapping such as {business_days: 1}")
	case TargetDuration:
		if t.Duration < 0 {
			return fmt.Errorf("target %s is negative: use 0s for immediately, or a positive duration", t.Duration)
		}
	case TargetBusinessDays:
		if t.N < 1 || t.N > 3650 {
			return fmt.Errorf("target.business_days %d: use a whole number of business days from 1", t.N)
		}
	case TargetNextBusinessDayAt:
		if t.At < 0 || t.At > 24*3600 {
			return fmt.Errorf("target.next_business_day_at %d is not a time of day", t.At)
		}
	case TargetDayOfMonth:
		if t.N < 1 || t.N > 31 {
			return fmt.Errorf("target.day_of_month %d: use a day from 1 to 31", t.N)
		}
	case TargetMonths:
		if t.N < 1 || t.N > 120 {
			return fmt.Errorf("target.months %d: use a whole number of months from 1", t.N)
		}
	default:
		return fmt.Errorf("target has an unknown form %d", int(t.Kind))
	}
	return nil
}

// File is the layout of a clock configuration file: a list of clock
// definitions under the key "clocks".
type File struct {
	// Clocks are the clock definitions, with unique names.
	Clocks []ClockDef `yaml:"clocks"`
}

// Parse decodes a clock configuration file (see File) strictly: an
// unknown key is an error naming it, every definition is validated, and
// names must be unique. Errors wrap ErrConfig.
func Parse(data []byte) ([]ClockDef, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrConfig, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if root.Kind == 0 || (root.Kind == yaml.DocumentNode && len(root.Content) == 0) {
		return nil, nil // an empty file declares no clocks
	}
	var f File
	if err := root.Decode(&f); err != nil {
		if errors.Is(err, ErrConfig) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s", ErrConfig, yamlMessage(err))
	}
	seen := map[string]bool{}
	for i, d := range f.Clocks {
		if seen[d.Name] {
			return nil, fmt.Errorf("%w: clocks[%d]: name %q is used twice: give each clock its own name", ErrConfig, i, d.Name)
		}
		seen[d.Name] = true
	}
	return f.Clocks, nil
}

// UnmarshalYAML decodes the file strictly.
func (f *File) UnmarshalYAML(node *yaml.Node) error {
	var out File
	err := decodeMapping(node, map[string]func(*yaml.Node) error{
		"clocks": func(n *yaml.Node) error {
			if n.Kind != yaml.SequenceNode {
				return errors.New("want a list of clock definitions")
			}
			for i, item := range n.Content {
				var d ClockDef
				if item.Kind == yaml.AliasNode && item.Alias != nil {
					item = item.Alias
				}
				// Called directly: yaml.v3 skips UnmarshalYAML for a null.
				if err := d.UnmarshalYAML(item); err != nil {
					if errors.Is(err, ErrConfig) {
						return err // names the clock, or the line
					}
					return at(err, fmt.Sprintf("[%d]", i), item.Line)
				}
				out.Clocks = append(out.Clocks, d)
			}
			return nil
		},
	})
	if err != nil {
		return configError(err)
	}
	*f = out
	return nil
}

// UnmarshalYAML decodes one definition strictly, naming the key of any
// error, and validates it.
func (d *ClockDef) UnmarshalYAML(node *yaml.Node) error {
	var p ClockDef
	err := decodeMapping(node, map[string]func(*yaml.Node) error{
		"name":           decodeInto(&p.Name),
		"item":           decodeInto(&p.Item),
		"description":    decodeInto(&p.Description),
		"applies_to":     decodeInto(&p.AppliesTo),
		"start":          decodeInto(&p.Start),
		"stop":           decodeInto(&p.Stop),
		"pause":          decodeInto(&p.Pause),
		"target":         decodeInto(&p.Target),
		"business_hours": decodeInto(&p.BusinessHours),
		"repeat": func(n *yaml.Node) error {
			var err error
			p.Repeat, err = decodeDuration(n)
			return err
		},
		"met_by": decodeInto(&p.MetBy),
		"warn_at": func(n *yaml.Node) error {
			if err := n.Decode(&p.WarnAt); err != nil {
				return err
			}
			if p.WarnAt <= 0 || p.WarnAt > 1 {
				return fmt.Errorf("%g is not a share of the target: use a number more than 0 and at most 1, such as 0.75", p.WarnAt)
			}
			return nil
		},
	})
	if err != nil {
		if p.Name != "" {
			return fmt.Errorf("%w: clock %s: %w", ErrConfig, p.Name, err)
		}
		return configError(err)
	}
	if err := p.Validate(); err != nil {
		return err
	}
	*d = p
	return nil
}

// UnmarshalYAML decodes a condition strictly.
func (c *Condition) UnmarshalYAML(node *yaml.Node) error {
	var p Condition
	err := decodeMapping(node, map[string]func(*yaml.Node) error{
		"kind":         decodeInto(&p.Kind),
		"status":       decodeInto(&p.Status),
		"channel":      decodeInto(&p.Channel),
		"notification": decodeInto(&p.Notification),
		"fields":       decodeInto(&p.Fields),
	})
	if err != nil {
		return err
	}
	*c = p
	return nil
}

// UnmarshalYAML decodes a target: a duration, or a mapping with one of
// business_days, next_business_day_at, day_of_month or months.
func (t *Target) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind == yaml.ScalarNode {
		d, err := decodeDuration(node)
		if err != nil {
			return err
		}
		*t = Within(d)
		return nil
	}
	var p Target
	set := func(k TargetKind, f func(*yaml.Node) error) func(*yaml.Node) error {
		return func(n *yaml.Node) error {
			if p.Kind != TargetNone {
				return fmt.Errorf("a target has one form, and %s is already given: keep one key", p.Kind)
			}
			p.Kind = k
			return f(n)
		}
	}
	err := decodeMapping(node, map[string]func(*yaml.Node) error{
		"business_days":        set(TargetBusinessDays, decodeInto(&p.N)),
		"day_of_month":         set(TargetDayOfMonth, decodeInto(&p.N)),
		"months":               set(TargetMonths, decodeInto(&p.N)),
		"next_business_day_at": set(TargetNextBusinessDayAt, func(n *yaml.Node) error { return decodeClock(n, &p.At) }),
	})
	if err != nil {
		return err
	}
	if p.Kind == TargetNone {
		return &keyError{line: node.Line, msg: "empty mapping: write one of business_days, next_business_day_at, day_of_month or months, or a duration such as 4h"}
	}
	*t = p
	return nil
}

func decodeClock(n *yaml.Node, dst *calendar.Clock) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	c, err := calendar.ParseClock(s)
	if err != nil {
		return err
	}
	*dst = c
	return nil
}

func decodeDuration(n *yaml.Node) (time.Duration, error) {
	var s string
	if n.Kind != yaml.ScalarNode || n.Decode(&s) != nil {
		return 0, errors.New("want a duration such as 15m or 4h")
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: write it like 15m, 4h or 1h30m", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%s is negative: use a positive duration", s)
	}
	return d, nil
}

// keyError is a decoding error at a key path, such as "start.status".
type keyError struct {
	line int
	path string
	msg  string
}

func (e *keyError) Error() string {
	if e.path == "" {
		return fmt.Sprintf("line %d: %s", e.line, e.msg)
	}
	return fmt.Sprintf("line %d: %s: %s", e.line, e.path, e.msg)
}

// at prefixes the path of err with key, turning a plain error into a
// keyError at line.
func at(err error, key string, line int) error {
	if errors.Is(err, ErrConfig) {
		return err // complete already: it names its clock or line
	}
	var ke *keyError
	if errors.As(err, &ke) {
		path := key
		if ke.path != "" {
			if strings.HasPrefix(ke.path, "[") {
				path += ke.path
			} else {
				path += "." + ke.path
			}
		}
		return &keyError{line: ke.line, path: path, msg: ke.msg}
	}
	return &keyError{line: line, path: key, msg: yamlMessage(err)}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func configError(err error) error {
	if errors.Is(err, ErrConfig) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrConfig, err)
}

// decodeMapping decodes a mapping node key by key with the given
// decoders, rejecting unknown and repeated keys; errors name the key path.
func decodeMapping(node *yaml.Node, fields map[string]func(*yaml.Node) error) error {
	if node.Kind != yaml.MappingNode {
		return &keyError{line: node.Line, msg: "want a mapping of keys to values"}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, v := node.Content[i], node.Content[i+1]
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		f, ok := fields[k.Value]
		if !ok {
			return &keyError{line: k.Line, path: k.Value, msg: "unknown key (known: " + strings.Join(sortedKeys(fields), ", ") + ")"}
		}
		if seen[k.Value] {
			return &keyError{line: k.Line, path: k.Value, msg: "key given twice"}
		}
		seen[k.Value] = true
		if err := f(v); err != nil {
			return at(err, k.Value, v.Line)
		}
	}
	return nil
}

// decodeInto returns a decoder of a node into dst. A sequence of mappings
// is decoded item by item so that errors name the index.
func decodeInto[T any](dst *T) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		if p, ok := any(dst).(*[]Condition); ok && n.Kind == yaml.SequenceNode {
			out := make([]Condition, len(n.Content))
			for i, item := range n.Content {
				if err := item.Decode(&out[i]); err != nil {
					return at(err, fmt.Sprintf("[%d]", i), item.Line)
				}
			}
			*p = out
			return nil
		}
		return n.Decode(dst)
	}
}

var yamlLine = regexp.MustCompile(`^(yaml: )?line \d+: `)

// yamlMessage returns the message of a decoding error without yaml.v3's
// "yaml: line N:" prefix, which the caller replaces with its own.
func yamlMessage(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			msgs[i] = yamlLine.ReplaceAllString(m, "")
		}
		return strings.Join(msgs, "; ")
	}
	var ke *keyError
	if errors.As(err, &ke) {
		return ke.Error()
	}
	return err.Error()
}
