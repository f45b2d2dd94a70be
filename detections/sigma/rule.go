package sigma

import (
	"bytes"
	"errors"
	"io"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
)

// Rules and their parts keep the matcher contract of package kql.
var (
	_ kql.Matcher = (*Rule)(nil)
	_ Matcher     = (*Rule)(nil)
)

// Logsource is a Sigma rule's logsource.
type Logsource struct {
	Product    string `yaml:"product"`
	Service    string `yaml:"service"`
	Category   string `yaml:"category"`
	Definition string `yaml:"definition"`
}

// String renders the log source as product/service/category, "-" standing
// for an absent key.
func (l Logsource) String() string {
	part := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	return "product=" + part(l.Product) + " service=" + part(l.Service) + " category=" + part(l.Category)
}

// Constraint is a prefilter condition: every event a rule matches has Field
// with a value whose canonical text is exactly one of Values. An engine may
// index rules by it and skip rules whose constraints an event fails; Match
// checks them again, so skipping is only an optimisation.
type Constraint struct {
	Field  string
	Values []string
}

// Config tells Compile and Load how to translate rules.
type Config struct {
	// Mapping maps log sources and fields to ECS; nil means DefaultMapping.
	Mapping *Mapping
	// Placeholders are the values of the expand modifier's %name%
	// placeholders. A rule using a placeholder not listed is a load error.
	Placeholders map[string][]string
	// MaxGroups bounds the groups one state of a correlation tracks
	// (default DefaultMaxGroups); over it, the groups whose latest event is
	// the oldest are forgotten.
	MaxGroups int
	// MaxGroupEvents bounds the events one group of a correlation keeps
	// within its timespan (default DefaultMaxGroupEvents); a condition
	// value must be below it.
	MaxGroupEvents int
}

// Rule is a compiled Sigma detection rule or correlation rule. It is
// immutable after Load and safe for concurrent use.
//
// A correlation rule has Correlation set (and no Logsource): its Match is
// the correlation's selection (one of the referenced rules matches), its
// Prefilter the constraints common to every referenced rule, and the
// aggregation is the Correlation's state.
type Rule struct {
	ID             string
	Name           string // the optional v2 name, referred to by filters
	Title          string
	Status         string
	Description    string
	Author         string
	References     []string
	Date           string // as written: YYYY-MM-DD in v2
	Modified       string
	Related        []Related
	Level          Level
	Tags           []string
	Techniques     []string // ATT&CK technique ids from attack.tNNNN tags, upper case
	Logsource      Logsource
	FalsePositives []string
	Fields         []string
	File           string // path within the loaded file system, when loaded
	// Correlation is set for a correlation rule.
	Correlation *Correlation

	matcher   Matcher
	prefilter []Constraint
	// reads are the ECS fields Match reads (log source conditions,
	// detection and filters).
	reads []string
	res   *resolved // the mapping of the rule's log source
}

// Match reports whether the event matches the rule (log source conditions
// included).
func (r *Rule) Match(e *event.Event) bool { return r.matcher.Match(e) }

// Kind names the rule's format for listings.
func (r *Rule) Kind() string { return "sigma" }

// Reads returns the ECS fields Match reads (detections.FieldReader), so
// the detect stage decodes only those.
func (r *Rule) Reads() ([]string, bool) { return r.reads, true }

// Prefilter returns constraints every matching event satisfies (log source
// conditions, then exact values the detection requires, such as event ids).
// The slice must not be modified.
func (r *Rule) Prefilter() []Constraint { return r.prefilter }

// document is the YAML of a rule, correlation or filter.
type document struct {
	Title          string     `yaml:"title"`
	ID             string     `yaml:"id"`
	Name           string     `yaml:"name"`
	Status         string     `yaml:"status"`
	Description    string     `yaml:"description"`
	Author         string     `yaml:"author"`
	References     StringList `yaml:"references"`
	Date           string     `yaml:"date"`
	Modified       string     `yaml:"modified"`
	Related        []Related  `yaml:"related"`
	Tags           []string   `yaml:"tags"`
	Level          string     `yaml:"level"`
	Logsource      Logsource  `yaml:"logsource"`
	Detection      yaml.Node  `yaml:"detection"`
	FalsePositives StringList `yaml:"falsepositives"`
	Fields         []string   `yaml:"fields"`
	Type           string     `yaml:"type"`
	Generate       *bool      `yaml:"generate"`
	Action         string     `yaml:"action"`
	Correlation    yaml.Node  `yaml:"correlation"`
	Filter         yaml.Node  `yaml:"filter"`
}

// Related is an entry of a rule's related list.
type Related struct {
	ID   string `yaml:"id"`
	Type string `yaml:"type"` // derived, obsolete, merged, renamed, similar
}

// parseDocument decodes exactly one YAML document.
func parseDocument(data []byte) (*document, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var d document
	if err := dec.Decode(&d); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, invalidf("empty document")
		}
		return nil, invalidf("YAML: %v", err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); err == nil {
		return &d, unsupportedf("multi-document YAML (rule collections, action: global) is not supported")
	} else if !errors.Is(err, io.EOF) {
		return &d, invalidf("YAML: %v", err)
	}
	return &d, nil
}

// Compile compiles one rule document. A nil cfg uses the default mapping and
// no placeholders. Filters and correlations need the other rules: Compile
// reports them (Load applies filters and resolves correlations), after
// checking a correlation's own section.
func Compile(doc []byte, cfg *Config) (*Rule, error) {
	d, err := parseDocument(doc)
	if err != nil {
		return nil, ruleErr(d, err)
	}
	if d.Filter.Kind != 0 {
		return nil, ruleErr(d, unsupportedf("a filter is applied to rules by Load, it is not a rule"))
	}
	if isCorrelation(d) {
		if _, err := compileCorrelation(d, cfg); err != nil {
			return nil, ruleErr(d, err)
		}
		return nil, ruleErr(d, unsupportedf("a correlation rule refers to other rules: load it with Load"))
	}
	r, err := compileDocument(d, cfg)
	if err != nil {
		return nil, ruleErr(d, err)
	}
	return r, nil
}

func ruleErr(d *document, err error) error {
	re := &RuleError{Err: err}
	if d != nil {
		re.ID, re.Title = d.ID, d.Title
	}
	return re
}

func compileDocument(d *document, cfg *Config) (*Rule, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	m := cfg.Mapping
	if m == nil {
		m = defaultMapping
	}
	if isCorrelation(d) {
		return nil, invalidf("a correlation rule is not a detection rule")
	}
	if d.Generate != nil {
		return nil, invalidf("generate is an attribute of correlation rules")
	}
	if d.Action != "" {
		return nil, unsupportedf("action: %s (rule collections) is not supported", d.Action)
	}
	if d.Title == "" {
		return nil, invalidf("no title")
	}
	level, ok := parseLevel(d.Level)
	if !ok {
		return nil, invalidf("unknown level %q", d.Level)
	}
	if d.Detection.Kind != yaml.MappingNode {
		return nil, invalidf("detection is missing or not a map")
	}
	res, err := m.resolve(d.Logsource)
	if err != nil {
		return nil, err
	}
	c := &compiler{res: res, placeholders: cfg.Placeholders}
	det, err := c.detection(&d.Detection)
	if err != nil {
		return nil, err
	}
	r := &Rule{
		ID: d.ID, Name: d.Name, Title: d.Title, Status: d.Status, Description: d.Description,
		Author: d.Author, References: d.References, Date: d.Date, Modified: d.Modified,
		Related: d.Related, Level: level, Tags: d.Tags,
		Logsource: d.Logsource, FalsePositives: d.FalsePositives, Fields: d.Fields,
	}
	r.Techniques = techniques(d.Tags)
	all := make(allOf, 0, len(res.conditions)+1)
	for _, cond := range res.conditions {
		all = append(all, &condMatch{field: newGetter(cond.Field), values: cond.Values, c: cond})
	}
	all = append(all, det)
	r.matcher = all
	r.prefilter = required(all)
	r.reads = c.reads
	for _, cond := range res.conditions {
		r.reads = append(r.reads, cond.Field)
	}
	r.res = res
	return r, nil
}

// isCorrelation reports whether the document is a correlation rule.
func isCorrelation(d *document) bool { return d.Correlation.Kind != 0 || d.Type == "correlation" }

// compileCorrelation reads a correlation rule; its references are resolved
// by Load.
func compileCorrelation(d *document, cfg *Config) (*Rule, error) {
	if d.Title == "" {
		return nil, invalidf("no title")
	}
	level, ok := parseLevel(d.Level)
	if !ok {
		return nil, invalidf("unknown level %q", d.Level)
	}
	if d.Detection.Kind != 0 || d.Logsource != (Logsource{}) {
		return nil, invalidf("a correlation rule has no detection or logsource")
	}
	if d.Action != "" {
		return nil, unsupportedf("action: %s (rule collections) is not supported", d.Action)
	}
	c, err := parseCorrelation(d, cfg)
	if err != nil {
		return nil, err
	}
	r := &Rule{
		ID: d.ID, Name: d.Name, Title: d.Title, Status: d.Status, Description: d.Description,
		Author: d.Author, References: d.References, Date: d.Date, Modified: d.Modified,
		Related: d.Related, Level: level, Tags: d.Tags, FalsePositives: d.FalsePositives,
		Fields: d.Fields, Correlation: c,
	}
	r.Techniques = techniques(d.Tags)
	return r, nil
}

// techniques returns the ATT&CK technique ids of attack.tNNNN tags.
func techniques(tags []string) []string {
	var out []string
	for _, t := range tags {
		if rest, ok := strings.CutPrefix(strings.ToLower(t), "attack.t"); ok && rest != "" && rest[0] >= '0' && rest[0] <= '9' {
			out = append(out, "T"+strings.ToUpper(rest))
		}
	}
	return out
}

var defaultMapping = DefaultMapping()

// required derives the prefilter constraints of a matcher tree.
func required(m Matcher) []Constraint {
	switch m := m.(type) {
	case *condMatch:
		return []Constraint{m.c}
	case *fieldMatch:
		if m.constraint != nil {
			return []Constraint{*m.constraint}
		}
	case allOf:
		var out []Constraint
		for _, sub := range m {
			out = mergeAnd(out, required(sub))
		}
		return out
	case anyOf:
		if len(m) == 0 {
			return nil
		}
		out := required(m[0])
		for _, sub := range m[1:] {
			out = mergeOr(out, required(sub))
		}
		return out
	}
	return nil
}

// mergeAnd adds b to a. Of two constraints on the same field the one with
// fewer values is kept: both are necessary, and intersecting them would be
// wrong for multi-valued fields.
func mergeAnd(a, b []Constraint) []Constraint {
	for _, c := range b {
		found := false
		for i := range a {
			if a[i].Field == c.Field {
				found = true
				if len(c.Values) < len(a[i].Values) {
					a[i] = c
				}
			}
		}
		if !found {
			a = append(a, c)
		}
	}
	return a
}

// mergeOr keeps the fields constrained on both sides, with either's values.
func mergeOr(a, b []Constraint) []Constraint {
	var out []Constraint
	for _, x := range a {
		for _, y := range b {
			if x.Field == y.Field {
				vals := append([]string(nil), x.Values...)
				for _, v := range y.Values {
					if !exactAny(vals).str(v) {
						vals = append(vals, v)
					}
				}
				sort.Strings(vals)
				out = append(out, Constraint{Field: x.Field, Values: vals})
			}
		}
	}
	return out
}
