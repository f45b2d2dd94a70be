package ruletest

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrTestFile reports a test file that cannot be decoded. Errors wrapping it
// name the key at fault.
var ErrTestFile = errors.New("invalid test file")

// fileSpec is a test file as written.
type fileSpec struct {
	Rule     string     `yaml:"rule"`
	Defaults yaml.Node  `yaml:"defaults"`
	Cases    []caseSpec `yaml:"cases"`
}

// caseSpec is one case as written.
type caseSpec struct {
	Name     string        `yaml:"name"`
	Defaults yaml.Node     `yaml:"defaults"`
	Events   []yaml.Node   `yaml:"events"`
	Until    string        `yaml:"until"`
	Expect   *[]expectSpec `yaml:"expect"`
}

// expectSpec is one expected alert as written. Nil pointers are not
// compared.
type expectSpec struct {
	Rule   string  `yaml:"rule"`
	Count  *int64  `yaml:"count"`
	User   *string `yaml:"user"`
	Host   *string `yaml:"host"`
	Source *string `yaml:"source"`
	First  *string `yaml:"first"`
	Last   *string `yaml:"last"`
}

// repeatSpec is the repeat of a repeated event.
type repeatSpec struct {
	Count int    `yaml:"count"`
	Every string `yaml:"every"`
}

// testFile is a decoded test file.
type testFile struct {
	rule  string
	cases []*testCase
}

// testCase is a decoded case.
type testCase struct {
	name   string
	events []*eventSpec // expanded, in written order
	until  untilSpec    // zero: the last event
	expect []expected   // empty: no alert
	zone   *time.Location
}

// untilSpec is where a case's watermark ends: an instant, or a span after
// the last event.
type untilSpec struct {
	at    time.Time
	after time.Duration
}

// expected is one decoded expected alert.
type expected struct {
	rule               string
	count              *int64
	user, host, source *string
	first, last        *time.Time
}

// decodeFile decodes and checks a test file.
func decodeFile(data []byte) (*testFile, error) {
	var spec fileSpec
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrTestFile, cleanYAML(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%w: more than one YAML document", ErrTestFile)
	}
	if spec.Rule == "" {
		return nil, fmt.Errorf("%w: rule: missing (the id of the rule under test)", ErrTestFile)
	}
	if len(spec.Cases) == 0 {
		return nil, fmt.Errorf("%w: cases: missing (at least one case)", ErrTestFile)
	}
	fileDefaults, err := decodeFields(&spec.Defaults, "defaults")
	if err != nil {
		return nil, err
	}
	tf := &testFile{rule: spec.Rule}
	names := map[string]bool{}
	for i, cs := range spec.Cases {
		key := fmt.Sprintf("cases[%d]", i)
		if cs.Name == "" {
			return nil, fmt.Errorf("%w: %s.name: missing", ErrTestFile, key)
		}
		if names[cs.Name] {
			return nil, fmt.Errorf("%w: %s.name: %q is used by another case", ErrTestFile, key, cs.Name)
		}
		names[cs.Name] = true
		c, err := decodeCase(&cs, key, fileDefaults, spec.Rule)
		if err != nil {
			return nil, err
		}
		tf.cases = append(tf.cases, c)
	}
	return tf, nil
}

// decodeCase decodes one case: its events expanded over the defaults, its
// watermark and its expected alerts.
func decodeCase(cs *caseSpec, key string, fileDefaults fields, rule string) (*testCase, error) {
	c := &testCase{name: cs.Name}
	caseDefaults, err := decodeFields(&cs.Defaults, key+".defaults")
	if err != nil {
		return nil, err
	}
	base := fileDefaults.overlay(caseDefaults)
	for j := range cs.Events {
		evs, err := decodeEvent(&cs.Events[j], fmt.Sprintf("%s.events[%d]", key, j), base)
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			if c.zone == nil {
				c.zone = ev.zone
			}
			c.events = append(c.events, ev)
		}
	}
	if c.zone == nil {
		c.zone = time.UTC
	}
	if cs.Until != "" {
		if c.until, err = parseUntil(cs.Until); err != nil {
			return nil, fmt.Errorf("%w: %s.until: %v", ErrTestFile, key, err)
		}
	}
	if cs.Expect == nil {
		return nil, fmt.Errorf("%w: %s.expect: missing (write [] to expect no alert)", ErrTestFile, key)
	}
	for j, x := range *cs.Expect {
		xkey := fmt.Sprintf("%s.expect[%d]", key, j)
		e := expected{rule: x.Rule, count: x.Count, user: x.User, host: x.Host, source: x.Source}
		if e.rule == "" {
			e.rule = rule
		}
		if x.Count != nil && *x.Count < 1 {
			return nil, fmt.Errorf("%w: %s.count: %d: want at least 1", ErrTestFile, xkey, *x.Count)
		}
		if x.First != nil {
			t, err := parseTime(*x.First)
			if err != nil {
				return nil, fmt.Errorf("%w: %s.first: %v", ErrTestFile, xkey, err)
			}
			e.first = &t
		}
		if x.Last != nil {
			t, err := parseTime(*x.Last)
			if err != nil {
				return nil, fmt.Errorf("%w: %s.last: %v", ErrTestFile, xkey, err)
			}
			e.last = &t
		}
		c.expect = append(c.expect, e)
	}
	return c, nil
}

// decodeEvent decodes one item of events: an event, or a repeat of one.
func decodeEvent(n *yaml.Node, key string, base fields) ([]*eventSpec, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: %s: line %d: want a mapping of fields, or repeat and event", ErrTestFile, key, n.Line)
	}
	var rep, ev *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "repeat":
			rep = n.Content[i+1]
		case "event":
			ev = n.Content[i+1]
		}
	}
	if rep == nil {
		f, err := decodeFields(n, key)
		if err != nil {
			return nil, err
		}
		one, err := base.overlay(f).expand(key, 0, 0)
		if err != nil {
			return nil, err
		}
		return []*eventSpec{one}, nil
	}
	if ev == nil || len(n.Content) != 4 {
		return nil, fmt.Errorf("%w: %s: line %d: a repeat has exactly two keys, repeat and event", ErrTestFile, key, n.Line)
	}
	var r repeatSpec
	if err := decodeStrict(rep, &r); err != nil {
		return nil, fmt.Errorf("%w: %s.repeat: %s", ErrTestFile, key, err)
	}
	if r.Count < 1 {
		return nil, fmt.Errorf("%w: %s.repeat.count: want at least 1", ErrTestFile, key)
	}
	if r.Count > maxRepeat {
		return nil, fmt.Errorf("%w: %s.repeat.count: %d: at most %d", ErrTestFile, key, r.Count, maxRepeat)
	}
	var every time.Duration
	if r.Every != "" {
		d, err := parseDuration(r.Every)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%w: %s.repeat.every: %q: want a duration such as 30s, 1h or 1d", ErrTestFile, key, r.Every)
		}
		every = d
	} else if r.Count > 1 {
		return nil, fmt.Errorf("%w: %s.repeat.every: missing", ErrTestFile, key)
	}
	f, err := decodeFields(ev, key+".event")
	if err != nil {
		return nil, err
	}
	tmpl := base.overlay(f)
	out := make([]*eventSpec, 0, r.Count)
	for k := 1; k <= r.Count; k++ {
		one, err := tmpl.expand(key, k, time.Duration(k-1)*every)
		if err != nil {
			return nil, err
		}
		out = append(out, one)
	}
	return out, nil
}

// maxRepeat bounds one repeat, so that a typo cannot exhaust memory.
const maxRepeat = 1_000_000

// decodeStrict decodes a node into v, rejecting unknown keys.
func decodeStrict(n *yaml.Node, v any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return errors.New(cleanYAML(err))
	}
	return nil
}

var yamlNoise = regexp.MustCompile(`^yaml: (unmarshal errors:\n\s*)?`)

// cleanYAML drops yaml.v3's prefixes from an error.
func cleanYAML(err error) string {
	return strings.TrimSpace(yamlNoise.ReplaceAllString(err.Error(), ""))
}

// parseTime reads an RFC 3339 time, which has an explicit zone.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want an RFC 3339 time with a zone, such as 2026-09-21T02:30:00+09:00", s)
	}
	return t, nil
}

// parseUntil reads an RFC 3339 time or "+DURATION".
func parseUntil(s string) (untilSpec, error) {
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		d, err := parseDuration(rest)
		if err != nil || d < 0 {
			return untilSpec{}, fmt.Errorf("%q: want +DURATION such as +45m or +2d", s)
		}
		return untilSpec{after: d}, nil
	}
	t, err := parseTime(s)
	if err != nil {
		return untilSpec{}, fmt.Errorf("%w, or +DURATION after the last event such as +45m", err)
	}
	return untilSpec{at: t}, nil
}

// parseDuration reads a Go duration, optionally preceded by whole days
// ("2d", "1d12h").
func parseDuration(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseUint(s[:i], 10, 16)
		if err != nil {
			return 0, err
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return days + d, nil
}
