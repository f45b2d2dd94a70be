package kql

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/textan"
)

// Matcher tests events against a compiled condition. It is immutable and
// safe for concurrent use.
type Matcher interface {
	// Match reports whether the event satisfies the condition.
	Match(e *event.Event) bool
}

// Compile turns a planned condition into an in-memory Matcher for the
// streaming detection engine. Everything that can be prepared is prepared
// here (phrases are already analysed by Plan, canonical forms of keyword
// values are parsed, IP bounds converted), so Match itself does not allocate
// (event.Get may, to box a typed field's value).
//
// A nil condition matches every event. Compile trusts c to come from Plan: a
// condition it cannot interpret (a bound of the wrong Go type, an unknown
// Cond) matches no event.
func Compile(c Cond) Matcher {
	switch c := c.(type) {
	case nil, *Everything:
		return ConstMatch(true)
	case *Nothing:
		return ConstMatch(false)
	case *AllOf:
		m := make(AllMatch, len(c.Conds))
		for i, sub := range c.Conds {
			m[i] = Compile(sub)
		}
		return m
	case *AnyOf:
		m := make(AnyMatch, len(c.Conds))
		for i, sub := range c.Conds {
			m[i] = Compile(sub)
		}
		return m
	case *Negate:
		return NotMatch{Compile(c.Cond)}
	case *Present:
		return newFieldMatcher([]string{c.Field}, present{})
	case *Equals:
		if t := equalsTest(c); t != nil {
			return newFieldMatcher([]string{c.Field}, t)
		}
	case *Glob:
		if len(c.Parts) > 0 {
			return newFieldMatcher([]string{c.Field}, &glob{c.Parts})
		}
	case *Phrase:
		return newFieldMatcher(c.Fields, byText{&phrase{tokens: c.Tokens, prefix: c.Prefix}})
	case *InPrefix:
		if c.Prefix.IsValid() {
			return newFieldMatcher([]string{c.Field}, &inPrefix{c.Prefix})
		}
	case *Between:
		if t := betweenTest(c); t != nil {
			return newFieldMatcher([]string{c.Field}, t)
		}
	}
	return ConstMatch(false)
}

// ConstMatch matches every event (true) or none (false).
type ConstMatch bool

// Match implements Matcher.
func (m ConstMatch) Match(*event.Event) bool { return bool(m) }

// AllMatch matches when every one of its matchers does (true when empty).
type AllMatch []Matcher

// Match implements Matcher.
func (m AllMatch) Match(e *event.Event) bool {
	for _, sub := range m {
		if !sub.Match(e) {
			return false
		}
	}
	return true
}

// AnyMatch matches when one of its matchers does (false when empty).
type AnyMatch []Matcher

// Match implements Matcher.
func (m AnyMatch) Match(e *event.Event) bool {
	for _, sub := range m {
		if sub.Match(e) {
			return true
		}
	}
	return false
}

// NotMatch matches when M does not.
type NotMatch struct{ M Matcher }

// Match implements Matcher.
func (m NotMatch) Match(e *event.Event) bool { return !m.M.Match(e) }

// valueTest tests one scalar value of a field. Each method gets the value in
// its Go type, so no value is boxed on the way.
type valueTest interface {
	str(s string) bool
	long(n int64) bool
	double(f float64) bool
	boolean(b bool) bool
	date(t time.Time) bool
}

// byText gives a test on strings the other kinds of value, compared by
// their canonical text (as keyword and text fields compare them).
type byText struct{ strTest }

type strTest interface{ str(s string) bool }

func (b byText) long(n int64) bool {
	var buf [24]byte
	return b.str(string(formatLong(buf[:0], n)))
}

func (b byText) double(f float64) bool {
	var buf [32]byte
	return b.str(string(formatDouble(buf[:0], f)))
}

func (b byText) boolean(v bool) bool { return b.str(formatBool(v)) }

func (b byText) date(t time.Time) bool {
	var buf [40]byte
	return b.str(string(formatDate(buf[:0], t)))
}

// fieldMatcher matches when any value of any of its fields passes the test.
type fieldMatcher struct {
	fields []string
	test   valueTest
	// strs holds, per field, the typed string field read without boxing
	// (nil for other fields).
	strs []*event.Field
}

func newFieldMatcher(fields []string, test valueTest) *fieldMatcher {
	m := &fieldMatcher{fields: fields, test: test, strs: make([]*event.Field, len(fields))}
	for i, f := range fields {
		if tf := event.Lookup(f); tf != nil && tf.IsString() {
			m.strs[i] = tf
		}
	}
	return m
}

func (m *fieldMatcher) Match(e *event.Event) bool {
	for i, f := range m.fields {
		if tf := m.strs[i]; tf != nil {
			if s, ok := tf.StringOf(e); ok && m.test.str(s) {
				return true
			}
			continue
		}
		if v, ok := e.Get(f); ok && anyValue(v, m.test) {
			return true
		}
	}
	return false
}

// anyValue applies t to v, or to each element of a multi-valued v (nested
// arrays are flattened, as Elasticsearch does).
func anyValue(v any, t valueTest) bool {
	switch x := v.(type) {
	case string:
		return t.str(x)
	case []string:
		for _, s := range x {
			if t.str(s) {
				return true
			}
		}
	case int64:
		return t.long(x)
	case int:
		return t.long(int64(x))
	case float64:
		return t.double(x)
	case bool:
		return t.boolean(x)
	case time.Time:
		return t.date(x)
	case []any:
		for _, el := range x {
			if anyValue(el, t) {
				return true
			}
		}
	}
	return false
}

// canonical text of non-string values, as keyword and text fields see them.
func formatLong(buf []byte, n int64) []byte     { return strconv.AppendInt(buf, n, 10) }
func formatDouble(buf []byte, f float64) []byte { return strconv.AppendFloat(buf, f, 'g', -1, 64) }
func formatBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
func formatDate(buf []byte, t time.Time) []byte { return t.UTC().AppendFormat(buf, time.RFC3339Nano) }

// present: a value that is not an empty string.
type present struct{}

func (present) str(s string) bool     { return s != "" }
func (present) long(int64) bool       { return true }
func (present) double(float64) bool   { return true }
func (present) boolean(bool) bool     { return true }
func (present) date(t time.Time) bool { return true }

// keywordEquals compares with a keyword value; a number, boolean or time
// equals it when its canonical text does, which is decided here once.
type keywordEquals struct {
	s      string
	n      int64
	nOK    bool
	f      uint64 // float64 bits
	fOK    bool
	b, bOK bool
	t      time.Time
	tOK    bool
}

func newKeywordEquals(s string) *keywordEquals {
	k := &keywordEquals{s: s}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && strconv.FormatInt(n, 10) == s {
		k.n, k.nOK = n, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && strconv.FormatFloat(f, 'g', -1, 64) == s {
		k.f, k.fOK = math.Float64bits(f), true
	}
	k.b, k.bOK = s == "true", s == "true" || s == "false"
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil && t.UTC().Format(time.RFC3339Nano) == s {
		k.t, k.tOK = t, true
	}
	return k
}

func (k *keywordEquals) str(s string) bool     { return s == k.s }
func (k *keywordEquals) long(n int64) bool     { return k.nOK && n == k.n }
func (k *keywordEquals) double(f float64) bool { return k.fOK && math.Float64bits(f) == k.f }
func (k *keywordEquals) boolean(b bool) bool   { return k.bOK && b == k.b }
func (k *keywordEquals) date(t time.Time) bool { return k.tOK && t.Equal(k.t) }

// numberEquals compares with a long or double value numerically.
type numberEquals struct {
	f     float64
	n     int64
	exact bool // n holds the value exactly
}

func (q *numberEquals) str(string) bool { return false }
func (q *numberEquals) long(n int64) bool {
	return q.exact && n == q.n || !q.exact && float64(n) == q.f
}
func (q *numberEquals) double(f float64) bool { return f == q.f }
func (q *numberEquals) boolean(bool) bool     { return false }
func (q *numberEquals) date(time.Time) bool   { return false }

type boolEquals bool

func (q boolEquals) str(string) bool     { return false }
func (q boolEquals) long(int64) bool     { return false }
func (q boolEquals) double(float64) bool { return false }
func (q boolEquals) boolean(b bool) bool { return b == bool(q) }
func (q boolEquals) date(time.Time) bool { return false }

func equalsTest(c *Equals) valueTest {
	switch v := c.Value.(type) {
	case string:
		return newKeywordEquals(v)
	case int64:
		return &numberEquals{f: float64(v), n: v, exact: true}
	case float64:
		return &numberEquals{f: v}
	case bool:
		return boolEquals(v)
	case netip.Addr:
		if v.IsValid() {
			v = v.WithZone("").Unmap()
			return &inPrefix{netip.PrefixFrom(v, v.BitLen())}
		}
	case time.Time:
		return &dateBetween{bounds: bounds{loSet: true, hiSet: true, loIncl: true, hiIncl: true}, lo: v, hi: v}
	}
	return nil
}

// glob matches keyword values (and the canonical text of other values)
// against a wildcard pattern.
type glob struct{ parts []string }

func (g *glob) str(s string) bool { return globMatch(s, g.parts) }
func (g *glob) long(n int64) bool {
	var buf [24]byte
	return globMatch(string(formatLong(buf[:0], n)), g.parts)
}
func (g *glob) double(f float64) bool {
	var buf [32]byte
	return globMatch(string(formatDouble(buf[:0], f)), g.parts)
}
func (g *glob) boolean(b bool) bool { return globMatch(formatBool(b), g.parts) }
func (g *glob) date(t time.Time) bool {
	var buf [40]byte
	return globMatch(string(formatDate(buf[:0], t)), g.parts)
}

// globMatch reports whether s matches the literal parts with a wildcard ("*",
// any run of bytes) between each two.
func globMatch(s string, parts []string) bool {
	if len(parts) == 1 {
		return s == parts[0]
	}
	return StarMatch(s, parts, strings.Index)
}

// StarMatch reports whether s matches literal parts with a "*" (any run of
// bytes) between each two: parts[0] anchored at the start, the last part
// at the end (either may be empty), the ones between found in order by
// index, which may fold case (strings.Index for exact matching). Sigma's
// wildcard values use it too.
func StarMatch(s string, parts []string, index func(s, sub string) int) bool {
	first, last := parts[0], parts[len(parts)-1]
	if len(s) < len(first)+len(last) || index(s[:len(first)], first) != 0 || index(s[len(s)-len(last):], last) != 0 {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, p := range parts[1 : len(parts)-1] {
		i := index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

// phrase searches analysed text for consecutive tokens.
type phrase struct {
	tokens []string
	prefix bool
}

func (p *phrase) str(s string) bool { return textan.ContainsPhrase(s, p.tokens, p.prefix) }

// inPrefix matches addresses in a prefix; IPv4-mapped IPv6 addresses count
// as IPv4.
type inPrefix struct{ p netip.Prefix }

func (q *inPrefix) str(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && q.p.Contains(a.WithZone("").Unmap())
}
func (q *inPrefix) long(int64) bool     { return false }
func (q *inPrefix) double(float64) bool { return false }
func (q *inPrefix) boolean(bool) bool   { return false }
func (q *inPrefix) date(time.Time) bool { return false }

// bounds holds which bounds a Between has and whether they are inclusive.
type bounds struct {
	loSet, hiSet   bool
	loIncl, hiIncl bool
}

// in reports whether a value that compares cmpLo with the low bound and
// cmpHi with the high bound (-1, 0, +1) lies within the bounds.
func (b bounds) in(cmpLo, cmpHi int) bool {
	if b.loSet && (cmpLo < 0 || cmpLo == 0 && !b.loIncl) {
		return false
	}
	if b.hiSet && (cmpHi > 0 || cmpHi == 0 && !b.hiIncl) {
		return false
	}
	return true
}

func betweenTest(c *Between) valueTest {
	b := bounds{loSet: c.Lo != nil, hiSet: c.Hi != nil, loIncl: c.LoIncl, hiIncl: c.HiIncl}
	switch c.Type {
	case event.Keyword:
		lo, okLo := c.Lo.(string)
		hi, okHi := c.Hi.(string)
		if b.loSet && !okLo || b.hiSet && !okHi {
			return nil
		}
		return byText{&keywordBetween{bounds: b, lo: lo, hi: hi}}
	case event.Long, event.Double:
		lo, okLo := toFloat(c.Lo)
		hi, okHi := toFloat(c.Hi)
		if b.loSet && !okLo || b.hiSet && !okHi {
			return nil
		}
		nb := &numberBetween{bounds: b, lo: lo, hi: hi}
		nb.loN, nb.loExact = c.Lo.(int64)
		nb.hiN, nb.hiExact = c.Hi.(int64)
		return nb
	case event.Date:
		lo, okLo := c.Lo.(time.Time)
		hi, okHi := c.Hi.(time.Time)
		if b.loSet && !okLo || b.hiSet && !okHi {
			return nil
		}
		return &dateBetween{bounds: b, lo: lo, hi: hi}
	case event.IP:
		lo, okLo := c.Lo.(netip.Addr)
		hi, okHi := c.Hi.(netip.Addr)
		if b.loSet && (!okLo || !lo.IsValid()) || b.hiSet && (!okHi || !hi.IsValid()) {
			return nil
		}
		return &ipBetween{bounds: b, lo: lo.Unmap().As16(), hi: hi.Unmap().As16()}
	}
	return nil
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, v == nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// keywordBetween compares strings bytewise; other values by canonical text.
type keywordBetween struct {
	bounds
	lo, hi string
}

func (q *keywordBetween) str(s string) bool { return q.in(cmpString(s, q.lo), cmpString(s, q.hi)) }

// numberBetween compares numbers; an int64 value against int64 bounds
// exactly.
type numberBetween struct {
	bounds
	lo, hi           float64
	loN, hiN         int64
	loExact, hiExact bool
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (q *numberBetween) str(string) bool { return false }
func (q *numberBetween) long(n int64) bool {
	lo, hi := cmpFloat(float64(n), q.lo), cmpFloat(float64(n), q.hi)
	if q.loExact {
		lo = cmpInt(n, q.loN)
	}
	if q.hiExact {
		hi = cmpInt(n, q.hiN)
	}
	return q.in(lo, hi)
}
func (q *numberBetween) double(f float64) bool {
	if math.IsNaN(f) {
		return false
	}
	return q.in(cmpFloat(f, q.lo), cmpFloat(f, q.hi))
}
func (q *numberBetween) boolean(bool) bool   { return false }
func (q *numberBetween) date(time.Time) bool { return false }

type dateBetween struct {
	bounds
	lo, hi time.Time
}

func (q *dateBetween) str(s string) bool {
	t, err := time.Parse(time.RFC3339Nano, s)
	return err == nil && q.date(t)
}
func (q *dateBetween) long(int64) bool     { return false }
func (q *dateBetween) double(float64) bool { return false }
func (q *dateBetween) boolean(bool) bool   { return false }
func (q *dateBetween) date(t time.Time) bool {
	return q.in(t.Compare(q.lo), t.Compare(q.hi))
}

// ipBetween compares addresses in their 16-byte form (IPv4 as IPv4-mapped
// IPv6), the order Elasticsearch gives ip fields.
type ipBetween struct {
	bounds
	lo, hi [16]byte
}

func (q *ipBetween) str(s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	v := a.WithZone("").Unmap().As16()
	return q.in(cmpBytes(v, q.lo), cmpBytes(v, q.hi))
}
func (q *ipBetween) long(int64) bool     { return false }
func (q *ipBetween) double(float64) bool { return false }
func (q *ipBetween) boolean(bool) bool   { return false }
func (q *ipBetween) date(time.Time) bool { return false }

func cmpBytes(a, b [16]byte) int {
	for i := range a {
		switch {
		case a[i] < b[i]:
			return -1
		case a[i] > b[i]:
			return 1
		}
	}
	return 0
}
