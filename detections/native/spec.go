package native

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// document is a native rule file as written. Pointers tell a missing key
// from a zero value.
type document struct {
	ID          string       `yaml:"id"`
	Name        string       `yaml:"name"`
	Version     *int         `yaml:"version"`
	Description string       `yaml:"description"`
	Severity    string       `yaml:"severity"`
	RiskScore   *int         `yaml:"risk_score"`
	Threat      *threatSpec  `yaml:"threat"`
	References  []string     `yaml:"references"`
	Author      string       `yaml:"author"`
	Kind        string       `yaml:"kind"`
	Query       *string      `yaml:"query"`
	OffHours    *offHoursDoc `yaml:"off_hours"`
	Entity      *entitySpec  `yaml:"entity"`
	DedupKey    []string     `yaml:"dedup_key"`
	Suppression *Duration    `yaml:"suppression"`
	Exceptions  []string     `yaml:"exceptions"`

	Threshold *thresholdSpec `yaml:"threshold"`
	Sequence  *sequenceSpec  `yaml:"sequence"`
	NewTerms  *newTermsSpec  `yaml:"new_terms"`
	Anomaly   *anomalySpec   `yaml:"anomaly"`
	Absence   *absenceSpec   `yaml:"absence"`
}

type threatSpec struct {
	Tactics    []attackRef `yaml:"tactics"`
	Techniques []attackRef `yaml:"techniques"`
}

type attackRef struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
}

type offHoursDoc struct {
	OutsideBusinessHours bool   `yaml:"outside_business_hours"`
	ClosedDays           bool   `yaml:"closed_days"`
	Night                string `yaml:"night"`
}

type entitySpec struct {
	User   string `yaml:"user"`
	Host   string `yaml:"host"`
	Source string `yaml:"source"`
}

type thresholdSpec struct {
	GroupBy  []string  `yaml:"group_by"`
	Window   *Duration `yaml:"window"`
	Count    *int      `yaml:"count"`
	Distinct string    `yaml:"distinct"`
}

type sequenceSpec struct {
	GroupBy []string   `yaml:"group_by"`
	Within  *Duration  `yaml:"within"`
	Steps   []stepSpec `yaml:"steps"`
}

type stepSpec struct {
	Query *string `yaml:"query"`
	Count *int    `yaml:"count"`
}

type newTermsSpec struct {
	GroupBy  []string  `yaml:"group_by"`
	Fields   []string  `yaml:"fields"`
	History  *Duration `yaml:"history"`
	Learning *Duration `yaml:"learning"`
}

type anomalySpec struct {
	GroupBy  []string  `yaml:"group_by"`
	Bucket   *Duration `yaml:"bucket"`
	Learning *Duration `yaml:"learning"`
	Spike    *float64  `yaml:"spike"`
	Silence  *float64  `yaml:"silence"`
	MinCount *int      `yaml:"min_count"`
}

type absenceSpec struct {
	GroupBy  []string  `yaml:"group_by"`
	After    *Duration `yaml:"after"`
	Expected []string  `yaml:"expected"`
}

// Duration is a span of time written as a Go duration ("90s", "1h30m") or
// in days ("30d", "1d12h").
type Duration time.Duration

// ParseDuration reads a Go duration, optionally preceded by a whole number
// of days ("7d", "1d12h").
func ParseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("duration %q: want a Go duration such as 90s or 1h30m, or days such as 30d", s)
	var days time.Duration
	rest := s
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseUint(s[:i], 10, 32)
		if err != nil || n > 106751 { // time.Duration holds about 292 years
			return 0, bad
		}
		days, rest = time.Duration(n)*24*time.Hour, s[i+1:]
		if rest == "" {
			return days, nil
		}
		if rest[0] < '0' || rest[0] > '9' {
			return 0, bad
		}
	}
	d, err := time.ParseDuration(rest)
	if err != nil || days+d < days {
		return 0, bad
	}
	return days + d, nil
}

// UnmarshalYAML reads a duration written as ParseDuration accepts.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("want a duration such as 5m or 30d")
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// decodeDocument decodes data strictly into a document.
func decodeDocument(data []byte) (*document, error) {
	root, err := parseYAML(data)
	if err != nil {
		return nil, err
	}
	var d document
	if err := decodeStruct(root, "", reflect.ValueOf(&d).Elem()); err != nil {
		return nil, err
	}
	return &d, nil
}

// parseYAML returns the top-level mapping of a one-document YAML file.
func parseYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not valid YAML: %s", cleanYAMLError(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, errors.New("more than one YAML document: a native rule file holds one rule")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("want a mapping of keys to values at the top level")
	}
	return doc.Content[0], nil
}

var yamlNoise = regexp.MustCompile(`^yaml: (unmarshal errors:\n\s*)?`)

// cleanYAMLError drops yaml.v3's prefixes.
func cleanYAMLError(err error) string {
	return strings.TrimSpace(yamlNoise.ReplaceAllString(err.Error(), ""))
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// decodeStruct decodes a mapping into the struct v field by field, by yaml
// tag, so that an unknown key or a bad value is reported at its dotted key.
func decodeStruct(n *yaml.Node, path string, v reflect.Value) error {
	if n.Kind != yaml.MappingNode {
		return errAt(strings.TrimSuffix(path, "."), "line %d: want a mapping of keys to values", n.Line)
	}
	t := v.Type()
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := path + k.Value
		f := -1
		for j := range t.NumField() {
			if strings.Split(t.Field(j).Tag.Get("yaml"), ",")[0] == k.Value {
				f = j
				break
			}
		}
		if f < 0 {
			return errAt(key, "line %d: unknown key", k.Line)
		}
		if err := decodeValue(val, key, v.Field(f)); err != nil {
			return err
		}
	}
	return nil
}

// decodeValue decodes one value into v, descending into the rule's own
// structs (and slices of them) and handing anything else to yaml.v3.
func decodeValue(n *yaml.Node, key string, v reflect.Value) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	t := v.Type()
	switch {
	case reflect.PointerTo(t).Implements(unmarshalerType):
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct && !t.Implements(unmarshalerType):
		p := reflect.New(t.Elem())
		if err := decodeStruct(n, key+".", p.Elem()); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		if n.Kind != yaml.SequenceNode {
			return errAt(key, "line %d: want a list", n.Line)
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, el := range n.Content {
			if err := decodeStruct(el, fmt.Sprintf("%s[%d].", key, i), s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case t.Kind() == reflect.Slice && n.Kind == yaml.ScalarNode:
		return errAt(key, "line %d: want a list such as [%s]", n.Line, n.Value)
	}
	scalar := t
	if scalar.Kind() == reflect.Pointer {
		scalar = scalar.Elem()
	}
	custom := reflect.PointerTo(scalar).Implements(unmarshalerType)
	switch scalar.Kind() {
	case reflect.Int, reflect.Int64:
		if custom {
			break
		}
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			return errAt(key, "line %d: %q: want an integer", n.Line, n.Value)
		}
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" && n.ShortTag() != "!!float" {
			return errAt(key, "line %d: %q: want a number", n.Line, n.Value)
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			return errAt(key, "line %d: %q: want true or false", n.Line, n.Value)
		}
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		return errAt(key, "line %d: %s", n.Line, strings.TrimPrefix(cleanYAMLError(err), fmt.Sprintf("line %d: ", n.Line)))
	}
	return nil
}
