package sigma

import (
	"bytes"
	_ "embed"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mamori-soc/mamori/event"
)

//go:embed mappings/ecs.yaml
var defaultMappingYAML []byte

// Mapping translates Sigma log sources and field names to ECS. It is data:
// see mappings/ecs.yaml for the format and the default mapping.
type Mapping struct {
	// KeywordFields are the fields Sigma keyword searches look into.
	KeywordFields []string `yaml:"keyword_fields"`
	// Logsources are the per-log-source entries, merged by specificity.
	Logsources []LogsourceMapping `yaml:"logsources"`
}

// LogsourceMapping is one entry of a Mapping.
type LogsourceMapping struct {
	// Match selects the rules the entry applies to; an empty key matches
	// anything.
	Match Logsource `yaml:"match"`
	// Conditions are field equalities (any of the listed values) every event
	// of the log source satisfies.
	Conditions map[string]StringList `yaml:"conditions"`
	// Fields maps Sigma field names to one or more ECS fields.
	Fields map[string]StringList `yaml:"fields"`
	// UnknownFieldPrefix, when set, maps an unlisted field F to prefix+F.
	UnknownFieldPrefix string `yaml:"unknown_field_prefix"`
}

// StringList is a YAML string or list of strings.
type StringList []string

// UnmarshalYAML accepts a scalar or a sequence of scalars.
func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = StringList{n.Value}
		return nil
	case yaml.SequenceNode:
		var s []string
		if err := n.Decode(&s); err != nil {
			return err
		}
		if len(s) == 0 {
			return fmt.Errorf("line %d: empty list", n.Line)
		}
		*l = s
		return nil
	}
	return fmt.Errorf("line %d: want a string or a list of strings", n.Line)
}

// DefaultMapping returns the embedded ECS mapping (mappings/ecs.yaml).
func DefaultMapping() *Mapping {
	m, err := ParseMapping(defaultMappingYAML)
	if err != nil {
		panic("sigma: embedded mapping: " + err.Error())
	}
	return m
}

// ParseMapping decodes a mapping strictly (unknown keys are errors).
func ParseMapping(data []byte) (*Mapping, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var m Mapping
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("sigma mapping: %w", err)
	}
	for i, ls := range m.Logsources {
		if ls.Match == (Logsource{}) {
			return nil, fmt.Errorf("sigma mapping: logsources[%d]: match names no key", i)
		}
	}
	return &m, nil
}

// resolved is the mapping that applies to one rule's log source.
type resolved struct {
	conditions []Constraint
	fields     map[string][]string
	prefix     string
	keywords   []string
}

func specificity(l Logsource) int {
	n := 0
	for _, s := range []string{l.Product, l.Service, l.Category} {
		if s != "" {
			n++
		}
	}
	return n
}

func keyMatches(want, have string) bool { return want == "" || strings.EqualFold(want, have) }

// resolve merges the entries applicable to ls.
func (m *Mapping) resolve(ls Logsource) (*resolved, error) {
	var entries []*LogsourceMapping
	var product, service, category bool
	for i := range m.Logsources {
		e := &m.Logsources[i]
		if keyMatches(e.Match.Product, ls.Product) && keyMatches(e.Match.Service, ls.Service) && keyMatches(e.Match.Category, ls.Category) {
			entries = append(entries, e)
			product = product || e.Match.Product != ""
			service = service || e.Match.Service != ""
			category = category || e.Match.Category != ""
		}
	}
	switch {
	case ls.Product == "" && ls.Service == "" && ls.Category == "":
		return nil, mappingf("logsource names no product, service or category")
	case ls.Product != "" && !product, ls.Service != "" && !service, ls.Category != "" && !category:
		return nil, mappingf("logsource %s is not mapped", ls)
	}
	sort.SliceStable(entries, func(i, j int) bool { return specificity(entries[i].Match) < specificity(entries[j].Match) })
	r := &resolved{fields: map[string][]string{}, keywords: m.KeywordFields}
	conds := map[string][]string{}
	for _, e := range entries {
		for k, v := range e.Conditions {
			conds[k] = v
		}
		for k, v := range e.Fields {
			r.fields[k] = v
		}
		if e.UnknownFieldPrefix != "" {
			r.prefix = e.UnknownFieldPrefix
		}
	}
	for k, v := range conds {
		r.conditions = append(r.conditions, Constraint{Field: k, Values: v})
	}
	sort.Slice(r.conditions, func(i, j int) bool { return r.conditions[i].Field < r.conditions[j].Field })
	return r, nil
}

// field maps a Sigma field name to its ECS fields.
func (r *resolved) field(name string) ([]string, error) {
	if f, ok := r.fields[name]; ok {
		return f, nil
	}
	if strings.Contains(name, ".") || event.Lookup(name) != nil {
		return []string{name}, nil
	}
	if r.prefix != "" {
		return []string{r.prefix + name}, nil
	}
	return nil, mappingf("field %q has no ECS mapping for this logsource", name)
}
