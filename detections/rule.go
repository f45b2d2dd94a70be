package detections

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/event"
)

// ErrInvalidRule reports a rule that cannot be loaded. Errors wrapping it name
// the rule.
var ErrInvalidRule = errors.New("detections: invalid rule")

// Severity is how serious an alert of a rule is.
type Severity uint8

// Severities, from least to most serious. The zero value is invalid.
const (
	Low Severity = iota + 1
	Medium
	High
	Critical
)

var severityNames = [...]string{"", "low", "medium", "high", "critical"}

// String returns the lower-case name ("high").
func (s Severity) String() string {
	if int(s) < len(severityNames) && s != 0 {
		return severityNames[s]
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// ParseSeverity reads a severity name, case-insensitively.
func ParseSeverity(name string) (Severity, error) {
	for i := Low; i <= Critical; i++ {
		if strings.EqualFold(name, severityNames[i]) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want low, medium, high or critical)", name)
}

// UnmarshalText lets rule formats decode a severity from YAML or JSON.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err == nil {
		*s = v
	}
	return err
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// RiskScore returns the default risk score of the severity, as in Elastic
// Security: 21, 47, 73 and 99.
func (s Severity) RiskScore() int {
	switch s {
	case Low:
		return 21
	case Medium:
		return 47
	case High:
		return 73
	case Critical:
		return 99
	}
	return 0
}

// Tactic is a MITRE ATT&CK tactic, for example {TA0006, Credential Access}.
type Tactic struct {
	ID   string
	Name string
}

// Technique is a MITRE ATT&CK technique or sub-technique, for example
// {T1110.003, Password Spraying}.
type Technique struct {
	ID   string
	Name string
}

// Entity names the event fields that say who and what an alert is about.
// Empty fields take the defaults user.name, host.name and source.ip; "-"
// leaves that part out (a password spray's alert is about its source, not
// about the last account it tried).
type Entity struct {
	// User is the field naming the user (for Windows 4625:
	// winlog.event_data.TargetUserName when user.name is not mapped).
	User string
	// Host is the field naming the host.
	Host string
	// Source is the field naming the source address.
	Source string
}

// Prerequisite is a condition every event a rule can match satisfies: Field
// has a value whose canonical text is one of Values. Canonical text is the
// string itself, integers in decimal, booleans as true or false; for an
// array field any element counts. The engine indexes rules by their
// prerequisites and checks all of them before calling the detector, so a
// prerequisite is part of the rule's meaning, not only a hint.
type Prerequisite struct {
	Field  string
	Values []string
}

// Detector is a rule's logic. Match reports whether the event is one the rule
// is about; it must be safe for concurrent use and should not allocate.
//
// A detector that alerts on every match is complete with Match alone. A
// stateful detector also implements Observer.
type Detector interface {
	Match(e *event.Event) bool
}

// FieldReader is an optional capability of a Detector: Reads names every
// event field its Match (and, for a Stateful detector, GroupKey) reads, or
// says it cannot (ok false). The select step then decodes only the fields
// some rule reads (see Engine.Reads); one rule whose detector is not a
// FieldReader, or cannot say, makes it decode whole events.
type FieldReader interface {
	Reads() (fields []string, ok bool)
}

// Hit is one reason to alert: a match of a stateless detector, or what a
// stateful detector found.
type Hit struct {
	// Event is the event the alert's entity and dedup key are read from (the
	// last event of a threshold, for example). Required.
	Event *event.Event
	// First and Last bound the event times the hit covers; zero means the
	// Event's @timestamp.
	First, Last time.Time
	// Count is the number of events the hit stands for; zero means one.
	Count int
	// EventIDs are the ids of the events behind the hit; nil means the
	// Event's own id.
	EventIDs []string
}

// Rule is a detection rule: its metadata and its Detector. Rule formats fill
// it; New validates it and applies the defaults. A Rule must not be changed
// after it was given to New.
type Rule struct {
	ID          string // stable id (a UUID for Sigma rules); required
	Name        string // human-readable name, used in alert messages; required
	Version     int    // incremented when the logic changes
	Description string

	Severity Severity
	// RiskScore, 0 to 100; zero takes the severity's default.
	RiskScore int

	Tactics    []Tactic
	Techniques []Technique

	// Category and Type become the alert's event.category and event.type
	// (default ["alert"] and ["info"]).
	Category, Type []string

	Entity Entity
	// DedupKey lists the fields whose values, with the rule, identify one
	// alert; default the entity fields. A stateful rule's alerts are
	// identified by its group key followed by the DedupKey, which is empty
	// by default: one alert per group and suppression window.
	DedupKey []string
	// Suppression is the window within which hits with the same dedup key
	// update one alert (default DefaultSuppression).
	Suppression time.Duration

	// Exceptions are KQL queries: an event matching any of them never
	// alerts for this rule.
	Exceptions []string
	// Prerequisites let the engine skip the rule for events that cannot
	// match (log source, event codes). A rule without them sees every event.
	Prerequisites []Prerequisite

	Detector Detector
}

// DefaultSuppression is the suppression window of a rule that names none.
const DefaultSuppression = time.Hour

var (
	techniqueID = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)
	tacticID    = regexp.MustCompile(`^TA\d{4}$`)
)

// normalise checks the rule and applies its defaults.
func (r *Rule) normalise() error {
	var problems []string
	if r.ID == "" {
		problems = append(problems, "no id")
	}
	if r.Name == "" {
		problems = append(problems, "no name")
	}
	if r.Detector == nil {
		problems = append(problems, "no detector")
	}
	if r.Severity < Low || r.Severity > Critical {
		problems = append(problems, fmt.Sprintf("severity %d is not low, medium, high or critical", r.Severity))
	}
	if r.RiskScore < 0 || r.RiskScore > 100 {
		problems = append(problems, fmt.Sprintf("risk score %d is not between 0 and 100", r.RiskScore))
	}
	if r.Suppression < 0 {
		problems = append(problems, "negative suppression window")
	}
	for _, t := range r.Techniques {
		if !techniqueID.MatchString(t.ID) {
			problems = append(problems, fmt.Sprintf("technique id %q is not T#### or T####.###", t.ID))
		}
	}
	for _, t := range r.Tactics {
		if !tacticID.MatchString(t.ID) {
			problems = append(problems, fmt.Sprintf("tactic id %q is not TA####", t.ID))
		}
	}
	for _, p := range r.Prerequisites {
		if p.Field == "" || len(p.Values) == 0 {
			problems = append(problems, fmt.Sprintf("prerequisite on %q needs a field and at least one value", p.Field))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w %s: %s", ErrInvalidRule, r.label(), strings.Join(problems, "; "))
	}
	if r.RiskScore == 0 {
		r.RiskScore = r.Severity.RiskScore()
	}
	if r.Suppression == 0 {
		r.Suppression = DefaultSuppression
	}
	if r.Entity.User == "" {
		r.Entity.User = "user.name"
	}
	if r.Entity.Host == "" {
		r.Entity.Host = "host.name"
	}
	if r.Entity.Source == "" {
		r.Entity.Source = "source.ip"
	}
	if _, stateful := r.Detector.(Stateful); len(r.DedupKey) == 0 && !stateful {
		r.DedupKey = []string{r.Entity.User, r.Entity.Host, r.Entity.Source}
	}
	if len(r.Category) == 0 {
		r.Category = []string{"alert"}
	}
	if len(r.Type) == 0 {
		r.Type = []string{"info"}
	}
	return nil
}

// label names the rule in errors.
func (r *Rule) label() string {
	switch {
	case r.ID != "" && r.Name != "":
		return fmt.Sprintf("%s (%q)", r.ID, r.Name)
	case r.ID != "":
		return r.ID
	case r.Name != "":
		return fmt.Sprintf("%q", r.Name)
	}
	return "without id or name"
}
