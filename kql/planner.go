package kql

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/textan"
)

// Plan resolves a syntax tree against the field catalogue (event.TypeOf) and
// returns the typed condition the compilers translate. It checks every value
// against its field's type, analyses text and resolves dates (see the package
// documentation for the rules). Errors are *Error, positioned at the
// offending node, naming the field, its type and the value.
func Plan(n Node, opts Options) (Cond, error) {
	pl := planner{opts: opts.withDefaults()}
	return pl.node(n)
}

func (o Options) withDefaults() Options {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if len(o.TextFields) == 0 {
		o.TextFields = []string{"message"}
	} else {
		o.TextFields = append([]string(nil), o.TextFields...)
	}
	return o
}

type planner struct{ opts Options }

func (pl *planner) node(n Node) (Cond, error) {
	switch n := n.(type) {
	case nil, *MatchAll:
		return &Everything{}, nil
	case *And:
		conds, err := pl.nodes(n.Nodes)
		if err != nil {
			return nil, err
		}
		return &AllOf{Conds: conds}, nil
	case *Or:
		conds, err := pl.nodes(n.Nodes)
		if err != nil {
			return nil, err
		}
		return &AnyOf{Conds: conds}, nil
	case *Not:
		c, err := pl.node(n.Node)
		if err != nil {
			return nil, err
		}
		return &Negate{Cond: c}, nil
	case *Exists:
		if n.Field == "" {
			return nil, errorf(n.At, "expected a field name but found an empty one")
		}
		return &Present{Field: n.Field}, nil
	case *Match:
		return pl.match(n)
	case *Range:
		return pl.rangeCond(n)
	}
	return nil, errorf(n.Pos(), "unknown query node %T", n)
}

func (pl *planner) nodes(ns []Node) ([]Cond, error) {
	conds := make([]Cond, 0, len(ns))
	for _, n := range ns {
		c, err := pl.node(n)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	return conds, nil
}

// typeError reports a value that does not suit its field.
func typeError(at int, fieldName string, t event.Type, value, reason string) *Error {
	return errorf(at, "%s field %s: %q %s", t, fieldName, value, reason)
}

func (pl *planner) match(m *Match) (Cond, error) {
	v := m.Value
	if m.Field == "" {
		return pl.text(m.At, "free text", pl.opts.TextFields, v)
	}
	t := event.TypeOf(m.Field)
	if v.Wildcard() && t != event.Keyword && t != event.Text {
		e := typeError(m.At, m.Field, t, v.Text, "has a wildcard, which only keyword and text fields support")
		if t == event.IP {
			return nil, e.hint("use a CIDR block like 10.0.0.0/16")
		}
		return nil, e.hint("use a range like %s >= ...", m.Field)
	}
	switch t {
	case event.Keyword:
		if v.Wildcard() {
			return &Glob{Field: m.Field, Parts: append([]string(nil), v.Parts...)}, nil
		}
		return &Equals{Field: m.Field, Type: t, Value: v.Text}, nil
	case event.Text:
		return pl.text(m.At, "text field "+m.Field, []string{m.Field}, v)
	case event.IP:
		p, err := parsePrefix(v.Text)
		if err != nil {
			return nil, typeError(m.At, m.Field, t, v.Text, "is not an IP address or CIDR block").hint("write 10.0.0.1, 10.0.0.0/8 or a quoted IPv6 address like \"2001:db8::/32\"")
		}
		return &InPrefix{Field: m.Field, Prefix: p}, nil
	case event.Long:
		n, reason := parseLong(v.Text)
		if reason != "" {
			return nil, typeError(m.At, m.Field, t, v.Text, reason)
		}
		return &Equals{Field: m.Field, Type: t, Value: n}, nil
	case event.Double:
		f, reason := parseDouble(v.Text)
		if reason != "" {
			return nil, typeError(m.At, m.Field, t, v.Text, reason)
		}
		return &Equals{Field: m.Field, Type: t, Value: f}, nil
	case event.Date:
		p, err := parseDate(v.Text, pl.opts.Location, pl.opts.Now)
		if err != nil {
			return nil, typeError(m.At, m.Field, t, v.Text, "is not a date").hint(dateHint)
		}
		if p.instant() {
			return &Between{Field: m.Field, Type: t, Lo: p.start, Hi: p.start, LoIncl: true, HiIncl: true}, nil
		}
		return &Between{Field: m.Field, Type: t, Lo: p.start, Hi: p.end, LoIncl: true}, nil
	case event.Boolean:
		b, err := strconv.ParseBool(v.Text)
		if err != nil || v.Text != "true" && v.Text != "false" {
			return nil, typeError(m.At, m.Field, t, v.Text, "is not true or false")
		}
		return &Equals{Field: m.Field, Type: t, Value: b}, nil
	}
	return nil, typeError(m.At, m.Field, t, v.Text, "cannot be searched: unknown field type")
}

// text plans a value searched in text fields (see the package documentation).
func (pl *planner) text(at int, what string, fields []string, v Value) (Cond, error) {
	if v.Quoted {
		return phraseCond(fields, v.Text, false), nil
	}
	if v.Wildcard() {
		word := v.Parts[0]
		if len(v.Parts) != 2 || v.Parts[1] != "" || word == "" || strings.IndexFunc(word, unicode.IsSpace) >= 0 {
			return nil, errorf(at, "%s: wildcard %q is not supported", what, v.Text).hint(
				`on text a wildcard may only end a single word, like "fail*"; use a keyword field for other patterns`)
		}
		return phraseCond(fields, word, true), nil
	}
	var conds []Cond
	for _, word := range strings.FieldsFunc(v.Text, unicode.IsSpace) {
		if c, ok := phraseCond(fields, word, false).(*Phrase); ok {
			conds = append(conds, c)
		}
	}
	switch len(conds) {
	case 0:
		return &Nothing{}, nil
	case 1:
		return conds[0], nil
	}
	return &AllOf{Conds: conds}, nil
}

func phraseCond(fields []string, s string, prefix bool) Cond {
	toks := textan.Tokens(s)
	if len(toks) == 0 {
		return &Nothing{}
	}
	return &Phrase{Fields: fields, Tokens: toks, Prefix: prefix}
}

func (pl *planner) rangeCond(r *Range) (Cond, error) {
	t := event.TypeOf(r.Field)
	b := &Between{Field: r.Field, Type: t}
	var bound any
	switch t {
	case event.Keyword:
		bound = r.Value
	case event.IP:
		a, err := netip.ParseAddr(r.Value)
		if err != nil {
			return nil, typeError(r.At, r.Field, t, r.Value, "is not an IP address").hint("a range bound is a single address; for a network use %s:10.0.0.0/8", r.Field)
		}
		bound = a.WithZone("").Unmap()
	case event.Long:
		n, reason := parseLong(r.Value)
		if reason != "" {
			return nil, typeError(r.At, r.Field, t, r.Value, reason)
		}
		bound = n
	case event.Double:
		f, reason := parseDouble(r.Value)
		if reason != "" {
			return nil, typeError(r.At, r.Field, t, r.Value, reason)
		}
		bound = f
	case event.Date:
		p, err := parseDate(r.Value, pl.opts.Location, pl.opts.Now)
		if err != nil {
			return nil, typeError(r.At, r.Field, t, r.Value, "is not a date").hint(dateHint)
		}
		// Elasticsearch's rounding: gte and lt use the start of the period
		// written, gt and lte its end, so "< 2026-01-02" excludes that day
		// and "<= 2026-01-02" includes all of it.
		switch {
		case p.instant():
			bound = p.start
		case r.Op == Gt:
			b.Lo, b.LoIncl = p.end, true
			return b, nil
		case r.Op == Lte:
			b.Hi, b.HiIncl = p.end, false
			return b, nil
		default:
			bound = p.start
		}
	case event.Text:
		return nil, typeError(r.At, r.Field, t, r.Value, "cannot be a range bound: text fields have no order").hint("use a keyword field for ranges on strings")
	default:
		return nil, typeError(r.At, r.Field, t, r.Value, "cannot be a range bound: "+t.String()+" fields have no order")
	}
	switch r.Op {
	case Lt:
		b.Hi = bound
	case Lte:
		b.Hi, b.HiIncl = bound, true
	case Gt:
		b.Lo = bound
	default:
		b.Lo, b.LoIncl = bound, true
	}
	return b, nil
}

// parsePrefix reads an address (a /32 or /128 prefix) or a CIDR block, with
// IPv4-mapped IPv6 turned into IPv4.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		p = p.Masked()
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.WithZone("").Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// parseLong reads a whole number; a decimal with no fraction (5.0, 1e3) is
// whole too. It returns the reason when s is not one.
func parseLong(s string) (int64, string) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil {
		return n, ""
	}
	f, reason := parseDouble(s)
	switch {
	case reason != "":
		return 0, "is not a number"
	case f != math.Trunc(f):
		return 0, "has a fraction, but long fields hold whole numbers"
	case f < -(1<<63) || f >= 1<<63:
		return 0, "is out of range for a long"
	}
	return int64(f), ""
}

// parseDouble reads a decimal number (no hexadecimal, infinities or NaN).
func parseDouble(s string) (float64, string) {
	if !isDecimal(s) {
		return 0, "is not a number"
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, "is out of range for a double"
	}
	return f, ""
}

// isDecimal reports [+-]digits[.digits][e[+-]digits] with at least one digit
// in the mantissa.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i, exp = i+1, exp+1
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}
