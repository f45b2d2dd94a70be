package native

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
)

// Options steer Parse and Load.
type Options struct {
	// Calendar decides business hours and closed days for off_hours and
	// the hour-of-week slots of anomaly rules (nil: calendar.New with the
	// defaults, Asia/Tokyo). Its location also resolves dates without a
	// zone in queries.
	Calendar *calendar.Calendar
	// Now anchors relative dates in queries ("now-1d"), resolved once at
	// load (nil: time.Now).
	Now func() time.Time
	// MaxGroups bounds the entities (groups, terms) one state of a
	// stateful rule tracks (0: DefaultMaxGroups).
	MaxGroups int
}

func (o Options) withDefaults() (Options, error) {
	if o.Calendar == nil {
		c, err := calendar.New(calendar.Config{})
		if err != nil {
			return o, err
		}
		o.Calendar = c
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxGroups <= 0 {
		o.MaxGroups = DefaultMaxGroups
	}
	return o, nil
}

// Kinds of native rules.
const (
	KindQuery     = "query"
	KindOffHours  = "off_hours"
	KindThreshold = "threshold"
	KindSequence  = "sequence"
	KindNewTerms  = "new_terms"
	KindAnomaly   = "anomaly"
	KindAbsence   = "absence"
)

var (
	idPattern        = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	techniquePattern = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)
	tacticPattern    = regexp.MustCompile(`^TA\d{4}$`)
)

// IsNative reports whether data is a native rule rather than Sigma: a YAML
// mapping with a top-level kind or query key and no detection, correlation
// or filter key.
func IsNative(data []byte) bool {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return false
	}
	native := false
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		switch m.Content[i].Value {
		case "kind", "query":
			native = true
		case "detection", "correlation", "filter":
			return false
		}
	}
	return native
}

// Parse compiles one native rule; file names it in errors. Errors are
// *Error, naming the file, the rule id (when it could be read) and the key
// at fault.
func Parse(data []byte, file string, opts Options) (*detections.Rule, error) {
	fail := func(id string, err error) error {
		e := &Error{File: file, ID: id, Err: err}
		if ke, ok := errors.AsType[*keyError](err); ok {
			e.Key, e.Err = ke.key, ke.err
		}
		return e
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fail("", err)
	}
	root, err := parseYAML(data)
	if err != nil {
		return nil, fail("", err)
	}
	id := peekID(root)
	d, err := decodeDocument(data)
	if err != nil {
		return nil, fail(id, err)
	}
	r, err := compile(d, opts)
	if err != nil {
		return nil, fail(id, err)
	}
	return r, nil
}

// peekID reads the id before the rest of the rule is decoded, for errors.
func peekID(m *yaml.Node) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k, v := m.Content[i], m.Content[i+1]; k.Value == "id" && v.Kind == yaml.ScalarNode && idPattern.MatchString(v.Value) {
			return v.Value
		}
	}
	return ""
}

// compile checks a decoded rule and builds it.
func compile(d *document, opts Options) (*detections.Rule, error) {
	r := &detections.Rule{ID: d.ID, Name: d.Name, Description: d.Description}
	switch {
	case d.ID == "":
		return nil, errAt("id", "missing")
	case !idPattern.MatchString(d.ID):
		return nil, errAt("id", "%q: want lower-case letters, digits, dots, dashes and underscores, starting with a letter or digit", d.ID)
	case d.Name == "":
		return nil, errAt("name", "missing")
	case d.Version == nil:
		return nil, errAt("version", "missing")
	case *d.Version < 1:
		return nil, errAt("version", "%d: want an integer >= 1", *d.Version)
	case d.Description == "":
		return nil, errAt("description", "missing")
	case d.Severity == "":
		return nil, errAt("severity", "missing")
	}
	r.Version = *d.Version
	sev, err := detections.ParseSeverity(d.Severity)
	if err != nil {
		return nil, errAt("severity", "%v", err)
	}
	r.Severity, r.RiskScore = sev, sev.RiskScore()
	if d.RiskScore != nil {
		if *d.RiskScore < 0 || *d.RiskScore > 100 {
			return nil, errAt("risk_score", "%d: want 0 to 100", *d.RiskScore)
		}
		if *d.RiskScore > 0 {
			r.RiskScore = *d.RiskScore
		}
	}
	if d.Threat != nil {
		for i, t := range d.Threat.Tactics {
			if !tacticPattern.MatchString(t.ID) {
				return nil, errAt(fmt.Sprintf("threat.tactics[%d].id", i), "%q: want TA####", t.ID)
			}
			r.Tactics = append(r.Tactics, detections.Tactic{ID: t.ID, Name: t.Name})
		}
		for i, t := range d.Threat.Techniques {
			if !techniquePattern.MatchString(t.ID) {
				return nil, errAt(fmt.Sprintf("threat.techniques[%d].id", i), "%q: want T#### or T####.###", t.ID)
			}
			r.Techniques = append(r.Techniques, detections.Technique{ID: t.ID, Name: t.Name})
		}
	}
	if d.Entity != nil {
		r.Entity = detections.Entity{User: d.Entity.User, Host: d.Entity.Host, Source: d.Entity.Source}
	}
	if err := checkFields("dedup_key", d.DedupKey); err != nil {
		return nil, err
	}
	r.DedupKey = d.DedupKey
	if d.Suppression != nil {
		if *d.Suppression <= 0 {
			return nil, errAt("suppression", "want a positive duration")
		}
		r.Suppression = time.Duration(*d.Suppression)
	}
	kopts := kql.Options{Location: opts.Calendar.Location(), Now: opts.Now()}
	for i, q := range d.Exceptions {
		if _, err := compileQuery(q, fmt.Sprintf("exceptions[%d]", i), kopts); err != nil {
			return nil, err
		}
	}
	r.Exceptions = d.Exceptions

	kind := d.Kind
	if kind == "" {
		kind = KindQuery
	}
	sections := []struct {
		kind    string
		present bool
	}{
		{KindThreshold, d.Threshold != nil},
		{KindSequence, d.Sequence != nil},
		{KindNewTerms, d.NewTerms != nil},
		{KindAnomaly, d.Anomaly != nil},
		{KindAbsence, d.Absence != nil},
	}
	known := kind == KindQuery || kind == KindOffHours
	for _, s := range sections {
		switch {
		case s.kind == kind && !s.present:
			return nil, errAt(s.kind, "missing (kind is %s)", kind)
		case s.kind != kind && s.present:
			return nil, errAt(s.kind, "only allowed with kind %s (kind is %s)", s.kind, kind)
		}
		known = known || s.kind == kind
	}
	if !known {
		return nil, errAt("kind", "%q: want query, off_hours, threshold, sequence, new_terms, anomaly or absence", kind)
	}
	if kind == KindOffHours && d.OffHours == nil {
		return nil, errAt("off_hours", "missing (kind is off_hours)")
	}

	sel := selector{kind: kind, query: kql.ConstMatch(true)}
	var cond kql.Cond = &kql.Everything{}
	switch {
	case d.Query != nil && *d.Query != "":
		if cond, err = compileQuery(*d.Query, "query", kopts); err != nil {
			return nil, err
		}
		sel.query = kql.Compile(cond)
	case kind == KindQuery || kind == KindOffHours || kind == KindThreshold || kind == KindNewTerms:
		return nil, errAt("query", "missing (kind %s needs a KQL query)", kind)
	}
	if d.OffHours != nil {
		if sel.off, err = newOffHours(d.OffHours, opts.Calendar); err != nil {
			return nil, err
		}
	}

	b := base{selector: sel, rule: d.ID, max: opts.MaxGroups}
	switch kind {
	case KindQuery, KindOffHours:
		r.Detector = &b.selector
	case KindThreshold:
		r.Detector, err = newThreshold(d.Threshold, b)
	case KindSequence:
		r.Detector, cond, err = newSequence(d.Sequence, b, cond, kopts)
	case KindNewTerms:
		r.Detector, err = newNewTerms(d.NewTerms, b)
	case KindAnomaly:
		r.Detector, err = newAnomaly(d.Anomaly, b, opts.Calendar)
	case KindAbsence:
		r.Detector, err = newAbsence(d.Absence, b)
	}
	if err == nil {
		// What the select step must decode for this rule: the selection
		// (all steps of a sequence) and the group-by fields.
		fields, known := kql.Fields(cond)
		if g, ok := r.Detector.(interface{ GroupFields() []string }); ok {
			fields = append(fields, g.GroupFields()...)
		}
		r.Detector.(interface{ setReads([]string, bool) }).setReads(fields, known)
	}
	if err != nil {
		return nil, err
	}
	r.Prerequisites = prerequisites(cond)
	return r, nil
}

// base is what every stateful detector shares: the selection, the rule id,
// the group-by fields and the bound on tracked entities.
type base struct {
	selector
	rule    string
	groupBy []string
	max     int
}

// GroupKey returns the canonical text of the group-by fields (nil when the
// rule has none: one group).
func (b *base) GroupKey(e *event.Event) []string {
	if len(b.groupBy) == 0 {
		return nil
	}
	return detections.KeyOf(e, b.groupBy)
}

// GroupFields names the group-by fields, for detections.Summarizer.
func (b *base) GroupFields() []string { return b.groupBy }

// summaryEvent rebuilds a summary event from a group key: the group-by
// fields and @timestamp.
func (b *base) summaryEvent(key []string, at time.Time) *event.Event {
	e := &event.Event{Timestamp: at}
	for i, f := range b.groupBy {
		if i < len(key) && key[i] != "" {
			if err := e.Set(f, key[i]); err != nil {
				// A typed field that is not a string (a long): keep the
				// text under the name in Fields for the alert.
				if e.Fields == nil {
					e.Fields = map[string]any{}
				}
				e.Fields[f] = key[i]
			}
		}
	}
	return e
}

// positive reads a required positive duration.
func positive(key string, d *Duration) (time.Duration, error) {
	if d == nil {
		return 0, errAt(key, "missing")
	}
	if *d <= 0 {
		return 0, errAt(key, "want a positive duration")
	}
	return time.Duration(*d), nil
}
