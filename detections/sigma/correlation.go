package sigma

import (
	"fmt"
	"math/bits"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/event"
)

// Correlations are the engine's stateful detectors.
var _ detections.Stateful = (*Correlation)(nil)

// CorrelationType is the kind of a Sigma correlation rule.
type CorrelationType uint8

// The correlation types this package evaluates.
const (
	// EventCount counts the events of the referenced rules per group.
	EventCount CorrelationType = iota + 1
	// ValueCount counts the distinct values of Field per group.
	ValueCount
	// Temporal counts the referenced rules that matched per group.
	Temporal
	// TemporalOrdered requires every referenced rule to match, in the
	// order they are listed.
	TemporalOrdered
)

var correlationTypeNames = [...]string{"", "event_count", "value_count", "temporal", "temporal_ordered"}

// String returns the Sigma name of the type ("event_count").
func (t CorrelationType) String() string {
	if int(t) < len(correlationTypeNames) && t != 0 {
		return correlationTypeNames[t]
	}
	return fmt.Sprintf("CorrelationType(%d)", int(t))
}

// CompareOp is the operator of one criterion of a correlation condition.
type CompareOp uint8

// Condition operators, as Sigma names them.
const (
	OpGT CompareOp = iota + 1
	OpGTE
	OpLT
	OpLTE
	OpEQ
	OpNEQ
)

var compareOpNames = [...]string{"", "gt", "gte", "lt", "lte", "eq", "neq"}

// String returns the Sigma name of the operator ("gte").
func (o CompareOp) String() string {
	if int(o) < len(compareOpNames) && o != 0 {
		return compareOpNames[o]
	}
	return fmt.Sprintf("CompareOp(%d)", int(o))
}

// Comparison is one criterion of a correlation condition: the count Op
// Value.
type Comparison struct {
	Op    CompareOp
	Value int64
}

// Condition is a correlation condition: every comparison must hold (Sigma
// writes a range as two criteria, gt: 100 and lte: 200).
type Condition []Comparison

// Holds reports whether the count n satisfies every comparison.
func (c Condition) Holds(n int64) bool {
	for _, cmp := range c {
		var ok bool
		switch cmp.Op {
		case OpGT:
			ok = n > cmp.Value
		case OpGTE:
			ok = n >= cmp.Value
		case OpLT:
			ok = n < cmp.Value
		case OpLTE:
			ok = n <= cmp.Value
		case OpEQ:
			ok = n == cmp.Value
		case OpNEQ:
			ok = n != cmp.Value
		}
		if !ok {
			return false
		}
	}
	return true
}

// upperBounded reports whether the condition has lt or lte: "fewer than N
// within the timespan" can only be known once the timespan is over.
func (c Condition) upperBounded() bool {
	return slices.ContainsFunc(c, func(x Comparison) bool { return x.Op == OpLT || x.Op == OpLTE })
}

// Correlation is a compiled Sigma correlation rule: the detector of a Rule
// whose Correlation is set. It implements detections.Stateful and is safe
// for concurrent use; its states are not.
//
// Match is the selection: one of the referenced rules (or, for a chain, one
// of the rules of the referenced correlation) matches. GroupKey is the
// group-by values read from the event through the referenced rule that
// matched first, in the order of Rules: an alias names the field per rule,
// a Sigma field is mapped to ECS with the referenced rule's log source. See
// the package documentation for the semantics of the states.
type Correlation struct {
	Type      CorrelationType
	Rules     []string // references to rules or correlations, by id or name, as written
	GroupBy   []string // group-by fields or aliases, as written
	Timespan  time.Duration
	Condition Condition
	Field     []string // value_count: the fields whose distinct values are counted
	// Aliases maps an alias to the field it stands for in the events of
	// each referenced rule (by the rule's name or id).
	Aliases map[string]map[string]string
	// Generate is whether the referenced rules also alert on their own
	// (Sigma's default: false).
	Generate bool

	refs     []*Rule    // resolved references, in the order of Rules
	groupSrc [][]source // [reference][group-by position]
	valueSrc [][]source // [reference][Field position], value_count only
	limits   limits
}

// limits bound one state of a correlation.
type limits struct {
	groups, events int
}

// Default bounds of a correlation state (Config.MaxGroups and
// Config.MaxGroupEvents).
const (
	DefaultMaxGroups      = 100_000
	DefaultMaxGroupEvents = 10_000
)

// maxReferences is the number of rules a correlation may reference (one bit
// each in a state's entries).
const maxReferences = 64

// References returns the rules and correlations the correlation refers to,
// in the order of Rules. The slice must not be modified.
func (c *Correlation) References() []*Rule { return c.refs }

// Kind names the correlation for listings ("sigma event_count").
func (c *Correlation) Kind() string { return "sigma " + c.Type.String() }

// Match reports whether the event matches one of the referenced rules.
func (c *Correlation) Match(e *event.Event) bool {
	for _, r := range c.refs {
		if r.Match(e) {
			return true
		}
	}
	return false
}

// GroupKey returns the group-by values of the event (canonical text, ""
// for an absent field), read through the first referenced rule that
// matches it. A correlation without group-by puts every event in one group.
func (c *Correlation) GroupKey(e *event.Event) []string {
	for i, r := range c.refs {
		if r.Match(e) {
			return c.keyFor(i, e)
		}
	}
	return make([]string, len(c.GroupBy))
}

// NewState returns an empty state for the groups of one partition.
func (c *Correlation) NewState() detections.State {
	return &corrState{c: c, groups: map[string]*group{}}
}

// keyFor reads the group-by values of an event of reference i.
func (c *Correlation) keyFor(i int, e *event.Event) []string {
	k := make([]string, len(c.GroupBy))
	for j, s := range c.groupSrc[i] {
		k[j] = s.read(e)
	}
	return k
}

// valueFor reads the value_count value of an event of reference i: the
// fields' texts joined, "" when one is absent.
func (c *Correlation) valueFor(i int, e *event.Event) string {
	if len(c.valueSrc) == 0 {
		return ""
	}
	var b strings.Builder
	for j, s := range c.valueSrc[i] {
		v := s.read(e)
		if v == "" {
			return ""
		}
		if j > 0 {
			b.WriteByte(0)
		}
		b.WriteString(v)
	}
	return b.String()
}

// source reads one group-by or value field from the events of one
// reference: the first of the ECS fields with a value, or, for a chained
// correlation, one of its group-by values.
type source struct {
	ecs   []string
	inner *Correlation
	pos   int
}

func (s source) read(e *event.Event) string {
	if s.inner != nil {
		return s.inner.GroupKey(e)[s.pos]
	}
	for _, f := range s.ecs {
		if v := detections.KeyOf(e, []string{f})[0]; v != "" {
			return v
		}
	}
	return ""
}

// correlationSection is the YAML of a correlation section.
type correlationSection struct {
	Type      string                       `yaml:"type"`
	Rules     StringList                   `yaml:"rules"`
	GroupBy   StringList                   `yaml:"group-by"`
	Timespan  string                       `yaml:"timespan"`
	Condition yaml.Node                    `yaml:"condition"`
	Aliases   map[string]map[string]string `yaml:"aliases"`
	Generate  *bool                        `yaml:"generate"`
}

var correlationKeys = []string{"type", "rules", "group-by", "timespan", "condition", "aliases", "generate"}

var timespanRE = regexp.MustCompile(`^([0-9]+)([smhd])$`)

// parseTimespan reads a Sigma timespan: a positive number and s, m, h or d.
func parseTimespan(s string) (time.Duration, error) {
	m := timespanRE.FindStringSubmatch(s)
	if m == nil {
		return 0, invalidf("correlation.timespan %q is not a number followed by s, m, h or d", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
	if err != nil || n <= 0 || n > int64(100*365*24*time.Hour/unit) {
		return 0, invalidf("correlation.timespan %q must be positive and at most 100 years", s)
	}
	return time.Duration(n) * unit, nil
}

// parseCorrelation reads a correlation rule's section (references are
// resolved later, by link). cfg gives the state bounds.
func parseCorrelation(d *document, cfg *Config) (*Correlation, error) {
	n := &d.Correlation
	if n.Kind != yaml.MappingNode {
		return nil, invalidf("correlation section is missing or not a map")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; !slices.Contains(correlationKeys, k) {
			return nil, invalidf("correlation.%s is not a correlation attribute", k)
		}
	}
	var s correlationSection
	if err := n.Decode(&s); err != nil {
		return nil, invalidf("correlation: %v", err)
	}
	c := &Correlation{Rules: s.Rules, GroupBy: s.GroupBy, Aliases: s.Aliases}
	switch s.Type {
	case "event_count":
		c.Type = EventCount
	case "value_count":
		c.Type = ValueCount
	case "temporal":
		c.Type = Temporal
	case "temporal_ordered":
		c.Type = TemporalOrdered
	case "value_sum", "value_avg", "value_percentile":
		return nil, unsupportedf("correlation type %s is not supported", s.Type)
	case "":
		return nil, invalidf("correlation.type is missing")
	default:
		return nil, invalidf("unknown correlation type %q (want event_count, value_count, temporal or temporal_ordered)", s.Type)
	}
	if len(c.Rules) == 0 {
		return nil, invalidf("correlation.rules names no rule")
	}
	if len(c.Rules) > maxReferences {
		return nil, unsupportedf("correlation.rules names %d rules, more than %d", len(c.Rules), maxReferences)
	}
	for i, r := range c.Rules {
		if c.Type != TemporalOrdered && slices.Contains(c.Rules[:i], r) {
			return nil, invalidf("correlation.rules names %q twice", r)
		}
	}
	for i, g := range c.GroupBy {
		if g == "" || slices.Contains(c.GroupBy[:i], g) {
			return nil, invalidf("correlation.group-by: field %q is empty or repeated", g)
		}
	}
	if s.Timespan == "" {
		return nil, invalidf("correlation.timespan is missing")
	}
	var err error
	if c.Timespan, err = parseTimespan(s.Timespan); err != nil {
		return nil, err
	}
	if err := c.parseCondition(&s.Condition); err != nil {
		return nil, err
	}
	for alias, m := range c.Aliases {
		if len(m) == 0 {
			return nil, invalidf("correlation.aliases.%s maps no rule", alias)
		}
		for ref, f := range m {
			if !slices.Contains(c.Rules, ref) {
				return nil, invalidf("correlation.aliases.%s names rule %q, which is not in correlation.rules", alias, ref)
			}
			if f == "" {
				return nil, invalidf("correlation.aliases.%s.%s is empty", alias, ref)
			}
		}
	}
	switch {
	case s.Generate != nil && d.Generate != nil && *s.Generate != *d.Generate:
		return nil, invalidf("generate is given twice with different values")
	case s.Generate != nil:
		c.Generate = *s.Generate
	case d.Generate != nil:
		c.Generate = *d.Generate
	}
	c.limits = limits{groups: DefaultMaxGroups, events: DefaultMaxGroupEvents}
	if cfg != nil && cfg.MaxGroups > 0 {
		c.limits.groups = cfg.MaxGroups
	}
	if cfg != nil && cfg.MaxGroupEvents > 0 {
		c.limits.events = cfg.MaxGroupEvents
	}
	for _, cmp := range c.Condition {
		if cmp.Value >= int64(c.limits.events) {
			return nil, unsupportedf("correlation.condition: %s %d is not below the %d events a group keeps (Config.MaxGroupEvents)", cmp.Op, cmp.Value, c.limits.events)
		}
	}
	return c, nil
}

// parseCondition reads the condition map: gt, gte, lt, lte, eq, neq and,
// for value_count, field.
func (c *Correlation) parseCondition(n *yaml.Node) error {
	temporal := c.Type == Temporal || c.Type == TemporalOrdered
	switch n.Kind {
	case 0:
		if !temporal {
			return invalidf("correlation.condition is missing (%s needs one)", c.Type)
		}
		c.Condition = Condition{{Op: OpGTE, Value: int64(len(c.Rules))}}
		return nil
	case yaml.ScalarNode:
		if n.Tag == "!!null" && temporal {
			c.Condition = Condition{{Op: OpGTE, Value: int64(len(c.Rules))}}
			return nil
		}
		return unsupportedf("correlation.condition %q: only a map of gt, gte, lt, lte, eq and neq is supported", n.Value)
	case yaml.MappingNode:
	default:
		return invalidf("correlation.condition must be a map")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		if k == "field" {
			if c.Type != ValueCount {
				return invalidf("correlation.condition.field is only for value_count")
			}
			var f StringList
			if err := v.Decode(&f); err != nil || slices.Contains(f, "") {
				return invalidf("correlation.condition.field must name one or more fields")
			}
			c.Field = f
			continue
		}
		op := CompareOp(slices.Index(compareOpNames[:], k))
		if op == 0 || k == "" {
			return invalidf("correlation.condition.%s is not gt, gte, lt, lte, eq, neq or field", k)
		}
		num, err := strconv.ParseInt(v.Value, 10, 64)
		if v.Kind != yaml.ScalarNode || err != nil || num < 0 {
			return invalidf("correlation.condition.%s needs a whole number of at least 0, not %q", k, v.Value)
		}
		c.Condition = append(c.Condition, Comparison{Op: op, Value: num})
	}
	if len(c.Condition) == 0 {
		return invalidf("correlation.condition has no gt, gte, lt, lte, eq or neq")
	}
	if c.Type == ValueCount && len(c.Field) == 0 {
		return invalidf("correlation.condition.field is missing (value_count counts the values of a field)")
	}
	if c.Type == TemporalOrdered {
		all := Condition{{Op: OpGTE, Value: int64(len(c.Rules))}}
		if !slices.Equal(c.Condition, all) {
			return unsupportedf("temporal_ordered supports only the default condition (gte: %d, every rule in order)", len(c.Rules))
		}
	}
	return nil
}

// link resolves the references of correlation rule r: the rules and
// correlations named, the group-by and value fields through aliases and
// each referenced rule's ECS mapping. lookup returns the loaded rule or
// correlation of a name, linking it first.
func (c *Correlation) link(lookup func(ref string) (*Rule, error)) error {
	c.refs = make([]*Rule, len(c.Rules))
	for i, name := range c.Rules {
		ref, err := lookup(name)
		if err != nil {
			return err
		}
		c.refs[i] = ref
	}
	c.groupSrc = make([][]source, len(c.refs))
	for i, ref := range c.refs {
		for _, g := range c.GroupBy {
			s, err := c.resolveField(i, ref, g, "group-by")
			if err != nil {
				return err
			}
			c.groupSrc[i] = append(c.groupSrc[i], s)
		}
	}
	if c.Type == ValueCount {
		c.valueSrc = make([][]source, len(c.refs))
		for i, ref := range c.refs {
			for _, f := range c.Field {
				s, err := c.resolveField(i, ref, f, "condition.field")
				if err != nil {
					return err
				}
				c.valueSrc[i] = append(c.valueSrc[i], s)
			}
		}
	}
	return nil
}

// resolveField finds where the field or alias name is read in the events
// of reference i.
func (c *Correlation) resolveField(i int, ref *Rule, name, what string) (source, error) {
	refName := c.Rules[i]
	field := name
	if m, ok := c.Aliases[name]; ok {
		f, ok := m[refName]
		if !ok {
			// The alias may name the rule by its other identifier.
			for k, v := range m {
				if k == ref.ID || (ref.Name != "" && k == ref.Name) {
					f, ok = v, true
				}
			}
		}
		if !ok {
			return source{}, invalidf("correlation.%s: alias %q gives no field for rule %q", what, name, refName)
		}
		field = f
	}
	if inner := ref.Correlation; inner != nil {
		pos := slices.Index(inner.GroupBy, field)
		if pos < 0 {
			return source{}, unsupportedf("correlation.%s: %q is not a group-by field of the chained correlation %q (group-by %v): a chain is supported only when the outer correlation groups by a subset of the inner one's fields", what, field, refName, inner.GroupBy)
		}
		return source{inner: inner, pos: pos}, nil
	}
	ecs, err := ref.res.field(field)
	if err != nil {
		return source{}, fmt.Errorf("correlation.%s %q for rule %q: %w", what, field, refName, err)
	}
	return source{ecs: ecs}, nil
}

// prefilter returns the constraints common to every referenced rule.
func (c *Correlation) prefilter() []Constraint {
	out := slices.Clone(c.refs[0].Prefilter())
	for _, r := range c.refs[1:] {
		out = mergeOr(out, r.Prefilter())
	}
	return out
}

// popcount is the number of references set in a mask.
func popcount(m uint64) int64 { return int64(bits.OnesCount64(m)) }
