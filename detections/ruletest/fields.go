package ruletest

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mamori-soc/mamori/event"
)

// rawValue is a field's value as written: a scalar, a list of scalars, or
// null (which removes a default).
type rawValue struct {
	null   bool
	list   bool
	values []string
	line   int
}

// fields are an event's fields as written, by dotted name.
type fields map[string]rawValue

// eventSpec is one input event, typed and with its @timestamp, ready to
// become an event.Event.
type eventSpec struct {
	at     time.Time
	zone   *time.Location // the zone @timestamp was written in
	values map[string]any // every field but @timestamp, typed
	names  []string       // the keys of values, sorted
}

// decodeFields reads a mapping of fields, nested or dotted, into raw values.
// A node that is absent (the zero Node) is no fields.
func decodeFields(n *yaml.Node, key string) (fields, error) {
	out := fields{}
	if n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return out, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%w: %s: line %d: want a mapping of field names to values", ErrTestFile, key, n.Line)
	}
	if err := flatten(n, "", key, out); err != nil {
		return nil, err
	}
	return out, nil
}

// flatten adds the fields of a mapping under prefix.
func flatten(n *yaml.Node, prefix, key string, out fields) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			return fmt.Errorf("%w: %s: line %d: want a field name", ErrTestFile, key, k.Line)
		}
		name := prefix + k.Value
		if _, dup := out[name]; dup {
			return fmt.Errorf("%w: %s.%s: line %d: field given twice", ErrTestFile, key, name, k.Line)
		}
		switch v.Kind {
		case yaml.MappingNode:
			if err := flatten(v, name+".", key, out); err != nil {
				return err
			}
		case yaml.ScalarNode:
			if v.Tag == "!!null" {
				out[name] = rawValue{null: true, line: v.Line}
				continue
			}
			out[name] = rawValue{values: []string{v.Value}, line: v.Line}
		case yaml.SequenceNode:
			rv := rawValue{list: true, line: v.Line, values: make([]string, 0, len(v.Content))}
			for _, el := range v.Content {
				if el.Kind != yaml.ScalarNode || el.Tag == "!!null" {
					return fmt.Errorf("%w: %s.%s: line %d: a list holds scalar values only", ErrTestFile, key, name, el.Line)
				}
				rv.values = append(rv.values, el.Value)
			}
			out[name] = rv
		default:
			return fmt.Errorf("%w: %s.%s: line %d: want a value, a list or a mapping", ErrTestFile, key, name, v.Line)
		}
	}
	return nil
}

// overlay returns f with o's fields laid over it (o wins).
func (f fields) overlay(o fields) fields {
	out := maps.Clone(f)
	if out == nil {
		out = fields{}
	}
	maps.Copy(out, o)
	return out
}

var placeholder = regexp.MustCompile(`\{\{\s*n\s*(?:%\s*(\d+)\s*)?\}\}`)

// expand types the fields of one event: the k-th of a repeat (k from 1,
// with {{n}} replaced by k and offset added to @timestamp) or, for k = 0,
// a single event, where a placeholder is an error.
func (f fields) expand(key string, k int, offset time.Duration) (*eventSpec, error) {
	ev := &eventSpec{values: make(map[string]any, len(f))}
	for _, name := range slices.Sorted(maps.Keys(f)) {
		rv := f[name]
		if rv.null {
			continue
		}
		vals := rv.values
		if k > 0 {
			vals = make([]string, len(rv.values))
			for i, s := range rv.values {
				vals[i] = substitute(s, k)
			}
		} else {
			for _, s := range vals {
				if placeholder.MatchString(s) {
					return nil, fmt.Errorf("%w: %s.%s: line %d: {{n}} is only allowed in a repeated event", ErrTestFile, key, name, rv.line)
				}
			}
		}
		if name == "@timestamp" {
			if rv.list {
				return nil, fmt.Errorf("%w: %s.@timestamp: line %d: want one time", ErrTestFile, key, rv.line)
			}
			t, err := parseTime(vals[0])
			if err != nil {
				return nil, fmt.Errorf("%w: %s.@timestamp: line %d: %v", ErrTestFile, key, rv.line, err)
			}
			ev.zone = t.Location()
			ev.at = t.Add(offset)
			continue
		}
		v, err := typed(name, rv.list, vals)
		if err != nil {
			return nil, fmt.Errorf("%w: %s.%s: line %d: %v", ErrTestFile, key, name, rv.line, err)
		}
		ev.values[name] = v
		ev.names = append(ev.names, name)
	}
	if ev.at.IsZero() {
		return nil, fmt.Errorf("%w: %s: @timestamp: missing", ErrTestFile, key)
	}
	// Check the values against the event model now, so that a bad value is
	// reported at its key rather than when the case runs.
	if _, err := ev.build(""); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrTestFile, key, err)
	}
	return ev, nil
}

// substitute replaces the {{n}} and {{n%M}} placeholders of s.
func substitute(s string, k int) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		sub := placeholder.FindStringSubmatch(m)
		if sub[1] == "" {
			return strconv.Itoa(k)
		}
		mod, err := strconv.Atoi(sub[1])
		if err != nil || mod == 0 {
			return m
		}
		return strconv.Itoa(k % mod)
	})
}

// typed converts written values to the type of the field: the catalogue's
// for the typed ECS core, text (kept as written) for every other field.
func typed(name string, list bool, vals []string) (any, error) {
	f := event.Lookup(name)
	if f == nil {
		if list {
			return slices.Clone(vals), nil
		}
		return vals[0], nil
	}
	if list && !f.Multi {
		return nil, fmt.Errorf("%s is a single %s, not a list", name, f.Type)
	}
	conv := func(s string) (any, error) {
		switch f.Type {
		case event.Long:
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%q: want a whole number", s)
			}
			return n, nil
		case event.Double:
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("%q: want a number", s)
			}
			return x, nil
		case event.Boolean:
			b, err := strconv.ParseBool(s)
			if err != nil {
				return nil, fmt.Errorf("%q: want true or false", s)
			}
			return b, nil
		case event.Date:
			return parseTime(s)
		}
		return s, nil
	}
	if !f.Multi {
		return conv(vals[0])
	}
	if f.Type == event.Keyword || f.Type == event.Text || f.Type == event.IP {
		return slices.Clone(vals), nil
	}
	out := make([]any, len(vals))
	for i, s := range vals {
		v, err := conv(s)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// build makes the event, with id as event.id unless the event names one,
// and event.kind "event" unless given.
func (ev *eventSpec) build(id string) (*event.Event, error) {
	e := &event.Event{Timestamp: ev.at, Event: event.Meta{Kind: "event", ID: id}}
	for _, name := range ev.names {
		if err := e.Set(name, ev.values[name]); err != nil {
			return nil, err
		}
	}
	return e, nil
}
