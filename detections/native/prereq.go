package native

import (
	"maps"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/kql"
)

// implied maps a field to the canonical texts one of which every matching
// event has in it.
type implied map[string]map[string]struct{}

// prerequisites returns the dispatch prerequisites the condition implies,
// sorted by field. Only exact equality is used: an event the condition
// matches always has, in that field, a value whose canonical text (as the
// engine reads it, see detections.Prerequisite) is one of the values.
func prerequisites(c kql.Cond) []detections.Prerequisite {
	imp := implies(c)
	var out []detections.Prerequisite
	for _, f := range slices.Sorted(maps.Keys(imp)) {
		out = append(out, detections.Prerequisite{Field: f, Values: slices.Sorted(maps.Keys(imp[f]))})
	}
	return out
}

// implies computes what the condition implies: an AND implies what any of
// its parts does, an OR what all of its branches do (with the union of
// their values), an exact equality its own value; anything else nothing.
func implies(c kql.Cond) implied {
	switch c := c.(type) {
	case *kql.Equals:
		texts, ok := equalsTexts(c)
		if !ok {
			return nil
		}
		return implied{c.Field: texts}
	case *kql.AllOf:
		out := implied{}
		for _, sub := range c.Conds {
			for f, vs := range implies(sub) {
				if prev, ok := out[f]; ok {
					// Both hold; keep the narrower set when it is not empty.
					if both := intersect(prev, vs); len(both) > 0 {
						out[f] = both
					}
					continue
				}
				out[f] = vs
			}
		}
		return out
	case *kql.AnyOf:
		if len(c.Conds) == 0 {
			return nil
		}
		out := implies(c.Conds[0])
		for _, sub := range c.Conds[1:] {
			next := implies(sub)
			for f, vs := range out {
				other, ok := next[f]
				if !ok {
					delete(out, f)
					continue
				}
				u := maps.Clone(vs)
				maps.Copy(u, other)
				out[f] = u
			}
		}
		return out
	}
	return nil
}

func intersect(a, b map[string]struct{}) map[string]struct{} {
	out := map[string]struct{}{}
	for v := range a {
		if _, ok := b[v]; ok {
			out[v] = struct{}{}
		}
	}
	return out
}

// equalsTexts returns every canonical text (strings as they are, integers in
// decimal, floats with strconv 'f' formatting, booleans as true or false) of
// a document value the condition can match, or false when they cannot be
// listed: the KQL matcher also compares numbers numerically and keyword
// values with times, which have other texts or none.
func equalsTexts(c *kql.Equals) (map[string]struct{}, bool) {
	out := map[string]struct{}{}
	add := func(s string) { out[s] = struct{}{} }
	switch v := c.Value.(type) {
	case string:
		// A keyword value also matches a time whose RFC 3339 text it is:
		// the engine gives times no text.
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil && t.UTC().Format(time.RFC3339Nano) == v {
			return nil, false
		}
		add(v)
		// It matches a float whose 'g' text it is; the engine writes the
		// float with 'f'.
		if f, err := strconv.ParseFloat(v, 64); err == nil && strconv.FormatFloat(f, 'g', -1, 64) == v {
			add(strconv.FormatFloat(f, 'f', -1, 64))
		}
	case int64:
		add(strconv.FormatInt(v, 10))
		add(strconv.FormatFloat(float64(v), 'f', -1, 64)) // a float equal to it
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, false
		}
		add(strconv.FormatFloat(v, 'f', -1, 64))
		if v == math.Trunc(v) {
			if math.Abs(v) >= 1<<53 {
				return nil, false // several integers round to it
			}
			add(strconv.FormatInt(int64(v), 10))
		}
	case bool:
		add(strconv.FormatBool(v))
	case netip.Addr:
		return nil, false // addresses have several spellings
	default:
		return nil, false
	}
	return out, true
}
