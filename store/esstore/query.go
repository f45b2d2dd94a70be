package esstore

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/store"
)

// obj is a JSON object of the query DSL.
type obj = map[string]any

// compile translates a planned KQL condition to query DSL. Conditions are
// filters (no scoring). Text is never analysed again here: a phrase is sent
// as the very tokens package textan produced, as term and span queries on the
// message field, whose analyzer reproduces textan at index time.
func compile(c kql.Cond) (obj, error) {
	switch c := c.(type) {
	case nil, *kql.Everything:
		return obj{"match_all": obj{}}, nil
	case *kql.Nothing:
		return obj{"match_none": obj{}}, nil
	case *kql.AllOf:
		qs, err := compileAll(c.Conds)
		if err != nil {
			return nil, err
		}
		return obj{"bool": obj{"filter": qs}}, nil
	case *kql.AnyOf:
		qs, err := compileAll(c.Conds)
		if err != nil {
			return nil, err
		}
		return obj{"bool": obj{"should": qs, "minimum_should_match": 1}}, nil
	case *kql.Negate:
		q, err := compile(c.Cond)
		if err != nil {
			return nil, err
		}
		return obj{"bool": obj{"must_not": []any{q}}}, nil
	case *kql.Equals:
		v, err := value(c.Field, c.Type, c.Value)
		if err != nil {
			return nil, err
		}
		return obj{"term": obj{c.Field: obj{"value": v}}}, nil
	case *kql.Glob:
		return obj{"wildcard": obj{c.Field: obj{"value": wildcard(c.Parts)}}}, nil
	case *kql.Phrase:
		return phrase(c), nil
	case *kql.InPrefix:
		p := c.Prefix
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return obj{"term": obj{c.Field: obj{"value": p.String()}}}, nil
	case *kql.Between:
		return between(c)
	case *kql.Present:
		if event.TypeOf(c.Field) == event.Keyword {
			// "Non-empty": exists would also match "".
			return obj{"range": obj{c.Field: obj{"gt": ""}}}, nil
		}
		return obj{"exists": obj{"field": c.Field}}, nil
	}
	return nil, fmt.Errorf("%w: condition %T", store.ErrBadQuery, c)
}

func compileAll(cs []kql.Cond) ([]any, error) {
	out := make([]any, 0, len(cs))
	for _, c := range cs {
		q, err := compile(c)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// value converts a condition value to its JSON form for a field's type.
func value(field string, t event.Type, v any) (any, error) {
	switch x := v.(type) {
	case string, int64, float64, bool:
		return x, nil
	case int:
		return int64(x), nil
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), nil
	case netip.Addr:
		return x.Unmap().String(), nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("%w: %s field %s: unsupported value %T", store.ErrBadQuery, t, field, v)
}

// wildcard joins glob parts with "*", escaping the wildcard query's own
// special characters in the literal parts.
func wildcard(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('*')
		}
		for _, r := range p {
			if r == '*' || r == '?' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// phrase matches consecutive tokens in any of the fields.
func phrase(p *kql.Phrase) obj {
	if len(p.Tokens) == 0 {
		return obj{"match_none": obj{}}
	}
	tokens := make([]string, len(p.Tokens))
	for i, t := range p.Tokens {
		tokens[i] = truncate(t)
	}
	var alts []any
	for _, f := range p.Fields {
		alts = append(alts, phraseIn(f, tokens, p.Prefix))
	}
	if len(alts) == 1 {
		return alts[0].(obj)
	}
	return obj{"bool": obj{"should": alts, "minimum_should_match": 1}}
}

func phraseIn(field string, tokens []string, prefix bool) obj {
	last := len(tokens) - 1
	if len(tokens) == 1 {
		if prefix {
			return obj{"prefix": obj{field: obj{"value": tokens[0]}}}
		}
		return obj{"term": obj{field: obj{"value": tokens[0]}}}
	}
	clauses := make([]any, len(tokens))
	for i, t := range tokens {
		if i == last && prefix {
			clauses[i] = obj{"span_multi": obj{"match": obj{"prefix": obj{field: obj{"value": t}}}}}
		} else {
			clauses[i] = obj{"span_term": obj{field: obj{"value": t}}}
		}
	}
	return obj{"span_near": obj{"clauses": clauses, "slop": 0, "in_order": true}}
}

// truncate cuts a token as the analyzer's truncate filter does.
func truncate(t string) string {
	if utf8.RuneCountInString(t) <= maxTokenLen {
		return t
	}
	n := 0
	for i := range t {
		if n == maxTokenLen {
			return t[:i]
		}
		n++
	}
	return t
}

func between(c *kql.Between) (obj, error) {
	r := obj{}
	if c.Lo != nil {
		v, err := value(c.Field, c.Type, c.Lo)
		if err != nil {
			return nil, err
		}
		r[op(c.LoIncl, "gte", "gt")] = v
	}
	if c.Hi != nil {
		v, err := value(c.Field, c.Type, c.Hi)
		if err != nil {
			return nil, err
		}
		r[op(c.HiIncl, "lte", "lt")] = v
	}
	if c.Type == event.Date {
		r["format"] = dateFormat
		if c.Lo == nil {
			r["gte"] = epoch // see query
		}
	}
	return obj{"range": obj{c.Field: r}}, nil
}

// epoch is the least value of a date_nanos field.
const epoch = "1970-01-01T00:00:00Z"

// dateFormat parses the RFC 3339 times the store sends.
const dateFormat = "strict_date_optional_time_nanos"

func op(incl bool, yes, no string) string {
	if incl {
		return yes
	}
	return no
}

// query returns the DSL of a store query: the filter within the time range.
func query(q store.Query) (obj, error) {
	f, err := compile(q.Filter)
	if err != nil {
		return nil, err
	}
	if q.From.IsZero() && q.To.IsZero() {
		return obj{"bool": obj{"filter": []any{f}}}, nil
	}
	// Always a lower bound: Elasticsearch 8 fails a date_histogram over a
	// date_nanos range open below (elastic/elasticsearch#92727), and
	// date_nanos holds nothing before 1970 anyway.
	r := obj{"format": dateFormat, "gte": epoch}
	if !q.From.IsZero() {
		r["gte"] = q.From.UTC().Format(time.RFC3339Nano)
	}
	if !q.To.IsZero() {
		r["lt"] = q.To.UTC().Format(time.RFC3339Nano)
	}
	return obj{"bool": obj{"filter": []any{f, obj{"range": obj{timeField(q): r}}}}}, nil
}

func timeField(q store.Query) string {
	if q.TimeField != "" {
		return q.TimeField
	}
	return "@timestamp"
}

// keyText renders a terms bucket key as the embedded store does.
func keyText(t event.Type, key any, keyString string) string {
	switch t {
	case event.Date:
		if tm, err := time.Parse(time.RFC3339Nano, keyString); err == nil {
			return tm.UTC().Format(time.RFC3339Nano)
		}
	case event.Boolean:
		if keyString != "" {
			return keyString
		}
	}
	switch x := key.(type) {
	case string:
		return x
	case fmt.Stringer: // json.Number
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(key)
}
