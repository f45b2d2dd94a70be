package sigma

import (
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
)

// Matcher tests events against a compiled condition: kql.Matcher, so
// Sigma rules, KQL exceptions and the engine share one contract, and the
// boolean combinators are kql's.
type Matcher = kql.Matcher

type (
	constant = kql.ConstMatch
	allOf    = kql.AllMatch
	anyOf    = kql.AnyMatch
	negate   = kql.NotMatch
)

// getter reads one ECS field. Typed core fields go through event.Get;
// others are read from the Fields map directly (one map lookup, not two).
type getter struct {
	name string
	core bool
}

func newGetter(name string) getter { return getter{name: name, core: event.Lookup(name) != nil} }

func (g getter) get(e *event.Event) (any, bool) {
	if g.core {
		return e.Get(g.name)
	}
	v, ok := e.Fields[g.name]
	if !ok || v == nil {
		return nil, false
	}
	if s, isStr := v.(string); isStr && s == "" {
		return nil, false
	}
	return v, true
}

// valueTest tests one scalar value. str gets strings without boxing; other
// gets every other scalar (int64, float64, bool, time.Time...).
type valueTest interface {
	str(s string) bool
	other(v any) bool
}

// forEach applies t to v or to each element of a multi-valued v.
func forEach(v any, t valueTest) bool {
	switch x := v.(type) {
	case string:
		return t.str(x)
	case []string:
		for _, s := range x {
			if t.str(s) {
				return true
			}
		}
		return false
	case []any:
		for _, el := range x {
			if forEach(el, t) {
				return true
			}
		}
		return false
	case nil:
		return false
	}
	return t.other(v)
}

// text is the canonical text of a scalar, as Sigma compares numbers and
// booleans with strings.
func text(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), true
	}
	return "", false
}

// byText gives string tests the other scalar kinds through their text.
type byText struct{ strTest }

type strTest interface{ str(s string) bool }

func (b byText) other(v any) bool {
	s, ok := text(v)
	return ok && b.str(s)
}

// fieldMatch matches when the field's values pass its tests: any test (OR),
// or every test (the all modifier). A field mapped to several ECS fields
// passes a test when any of them does.
type fieldMatch struct {
	fields []getter
	tests  []valueTest
	all    bool
	// constraint, when set, is the exact-equality form of this match, for
	// the prefilter.
	constraint *Constraint
}

func (m *fieldMatch) Match(e *event.Event) bool {
	var vals [4]any
	vs := vals[:0]
	for _, g := range m.fields {
		if v, ok := g.get(e); ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return false
	}
	for _, t := range m.tests {
		hit := false
		for _, v := range vs {
			if forEach(v, t) {
				hit = true
				break
			}
		}
		if hit && !m.all {
			return true
		}
		if !hit && m.all {
			return false
		}
	}
	return m.all
}

// absent matches when none of the fields has a value (Sigma null).
type absent []getter

func (m absent) Match(e *event.Event) bool {
	for _, g := range m {
		if _, ok := g.get(e); ok {
			return false
		}
	}
	return true
}

// exists implements the exists modifier.
type exists struct {
	fields []getter
	want   bool
}

func (m *exists) Match(e *event.Event) bool { return absent(m.fields).Match(e) != m.want }

// condMatch is a log source condition: exact equality with any value.
type condMatch struct {
	field  getter
	values []string
	c      Constraint
}

func (m *condMatch) Match(e *event.Event) bool {
	v, ok := m.field.get(e)
	if !ok {
		return false
	}
	switch x := v.(type) {
	case string:
		return exactAny(m.values).str(x)
	case []string:
		for _, s := range x {
			if exactAny(m.values).str(s) {
				return true
			}
		}
		return false
	}
	return forEach(v, byText{exactAny(m.values)})
}

type exactAny []string

func (x exactAny) str(s string) bool {
	for _, v := range x {
		if s == v {
			return true
		}
	}
	return false
}

// fieldref compares a field with another field of the same event.
type fieldref struct {
	fields, refs []getter
	kind         patKind
	cased        bool
}

func (m *fieldref) Match(e *event.Event) bool {
	for _, r := range m.refs {
		rv, ok := r.get(e)
		if !ok {
			continue
		}
		// The reference's values become patterns compared with the field.
		ok = forEach(rv, byText{refTest{m: m, e: e}})
		if ok {
			return true
		}
	}
	return false
}

type refTest struct {
	m *fieldref
	e *event.Event
}

func (t refTest) str(ref string) bool {
	p := &strPattern{kind: t.m.kind, lit: ref, cased: t.m.cased}
	if !p.cased {
		p.lit = strings.ToLower(ref)
	}
	for _, g := range t.m.fields {
		if v, ok := g.get(t.e); ok && forEach(v, byText{p}) {
			return true
		}
	}
	return false
}

// patKind is the shape of a compiled string pattern.
type patKind uint8

const (
	patEqual patKind = iota
	patPrefix
	patSuffix
	patContains
	patStars // literals separated by *
	patGlob  // with ?: matched rune by rune
)

// strPattern is a Sigma string value with its wildcards compiled.
// Case-insensitive patterns hold lower-case literals.
type strPattern struct {
	kind  patKind
	lit   string
	parts []string // patStars: literals between stars
	glob  []gtok   // patGlob
	cased bool
}

type gtok struct {
	r    rune
	kind byte // 0 literal rune, '*' or '?'
}

func (p *strPattern) other(v any) bool {
	s, ok := text(v)
	return ok && p.str(s)
}

func (p *strPattern) str(s string) bool {
	if !p.cased {
		if !isASCII(s) {
			return p.cmp(strings.ToLower(s))
		}
		return p.cmpFold(s)
	}
	return p.cmp(s)
}

func (p *strPattern) cmp(s string) bool {
	switch p.kind {
	case patEqual:
		return s == p.lit
	case patPrefix:
		return strings.HasPrefix(s, p.lit)
	case patSuffix:
		return strings.HasSuffix(s, p.lit)
	case patContains:
		return strings.Contains(s, p.lit)
	case patStars:
		return kql.StarMatch(s, p.parts, strings.Index)
	}
	return globMatch(s, p.glob)
}

// cmpFold compares an ASCII s with the lower-case pattern, folding s.
func (p *strPattern) cmpFold(s string) bool {
	switch p.kind {
	case patEqual:
		return len(s) == len(p.lit) && eqFoldASCII(s, p.lit)
	case patPrefix:
		return len(s) >= len(p.lit) && eqFoldASCII(s[:len(p.lit)], p.lit)
	case patSuffix:
		return len(s) >= len(p.lit) && eqFoldASCII(s[len(s)-len(p.lit):], p.lit)
	case patContains:
		return indexFoldASCII(s, p.lit) >= 0
	case patStars:
		return kql.StarMatch(s, p.parts, indexFoldASCII)
	}
	return globMatch(strings.ToLower(s), p.glob)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// eqFoldASCII reports whether s, folded to lower case, equals lower.
func eqFoldASCII(s, lower string) bool {
	for i := 0; i < len(s); i++ {
		if lowerASCII(s[i]) != lower[i] {
			return false
		}
	}
	return true
}

func indexFoldASCII(s, lower string) int {
	n := len(lower)
	if n == 0 {
		return 0
	}
	c0 := lower[0]
	for i := 0; i+n <= len(s); i++ {
		if lowerASCII(s[i]) == c0 && eqFoldASCII(s[i+1:i+n], lower[1:]) {
			return i
		}
	}
	return -1
}

// globMatch matches * and ? rune by rune, backtracking to the last star
// only (linear in len(s) times len(p)).
func globMatch(s string, p []gtok) bool {
	si, pi := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		r, size := utf8.DecodeRuneInString(s[si:])
		switch {
		case pi < len(p) && p[pi].kind == '*':
			starP, starS = pi, si
			pi++
		case pi < len(p) && (p[pi].kind == '?' || p[pi].kind == 0 && p[pi].r == r):
			si += size
			pi++
		case starP >= 0:
			_, sz := utf8.DecodeRuneInString(s[starS:])
			starS += sz
			si, pi = starS, starP+1
		default:
			return false
		}
	}
	for pi < len(p) && p[pi].kind == '*' {
		pi++
	}
	return pi == len(p)
}

// reTest is the re modifier: an unanchored search.
type reTest struct{ re *regexp.Regexp }

func (t reTest) str(s string) bool { return t.re.MatchString(s) }
func (t reTest) other(v any) bool {
	s, ok := text(v)
	return ok && t.re.MatchString(s)
}

// cidrTest is the cidr modifier; IPv4-mapped IPv6 addresses count as IPv4.
type cidrTest struct{ p netip.Prefix }

func (t cidrTest) str(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && t.p.Contains(a.WithZone("").Unmap())
}
func (t cidrTest) other(any) bool { return false }

// cmpTest is lt, lte, gt or gte: numeric comparison; strings that parse as
// numbers compare as numbers, others never match.
type cmpTest struct {
	op string
	n  float64
}

func (t cmpTest) str(s string) bool {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil && t.cmp(f)
}

func (t cmpTest) other(v any) bool {
	switch x := v.(type) {
	case int64:
		return t.cmp(float64(x))
	case int:
		return t.cmp(float64(x))
	case float64:
		return t.cmp(x)
	}
	return false
}

func (t cmpTest) cmp(f float64) bool {
	if math.IsNaN(f) {
		return false
	}
	switch t.op {
	case "lt":
		return f < t.n
	case "lte":
		return f <= t.n
	case "gt":
		return f > t.n
	}
	return f >= t.n
}
