package sqlitestore

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/store"
)

// compiler translates a kql.Cond into an SQL boolean expression over the
// documents table aliased d. Every value from the query is a bound
// parameter; the only literals are JSON paths of typed core fields, which
// come from the event catalogue, so that the text matches the expression
// indexes of hot fields.
//
// Conditions on a single-valued core field read json_extract(doc, path)
// (the hot fields' indexed expression). Conditions on a multi-valued core
// field or on a field outside the catalogue run EXISTS over json_each, so
// arrays and scalars behave the same; members of an object never match.
//
// Every expression evaluates to 0, 1 or NULL, where NULL (a missing field)
// means no match; Negate turns NULL into 0 before negating.
type compiler struct {
	c    *collection
	args *args
	// timeFrac, when positive, is the estimated fraction of documents in
	// the @timestamp range compiled: a likelihood() hint that lets SQLite
	// weigh the ts index against a hot field's index.
	timeFrac float64
}

// args collects the parameters of one statement; placeholders are numbered
// (?NNN), so pieces of a statement may be compiled in any order.
type args []any

func (a *args) bind(v any) string {
	*a = append(*a, v)
	return "?" + strconv.Itoa(len(*a))
}

// where compiles cond into an expression whose parameters go to a; nil
// matches everything.
func (c *collection) where(cond kql.Cond, a *args) (string, error) {
	k := &compiler{c: c, args: a}
	return k.cond(cond)
}

func (k *compiler) bind(v any) string { return k.args.bind(v) }

func badQuery(format string, a ...any) error {
	return fmt.Errorf("%w: %s", store.ErrBadQuery, fmt.Sprintf(format, a...))
}

func (k *compiler) cond(c kql.Cond) (string, error) {
	switch c := c.(type) {
	case nil, *kql.Everything:
		return "1", nil
	case *kql.Nothing:
		return "0", nil
	case *kql.AllOf:
		return k.join(c.Conds, " AND ", "1")
	case *kql.AnyOf:
		return k.join(c.Conds, " OR ", "0")
	case *kql.Negate:
		s, err := k.cond(c.Cond)
		if err != nil {
			return "", err
		}
		return "NOT coalesce(" + s + ", 0)", nil
	case *kql.Equals:
		return k.equals(c)
	case *kql.Glob:
		return k.glob(c)
	case *kql.Phrase:
		return k.phrase(c)
	case *kql.InPrefix:
		return k.inPrefix(c.Field, c.Prefix)
	case *kql.Between:
		return k.between(c)
	case *kql.Present:
		return k.present(c.Field)
	}
	return "", badQuery("unsupported condition %T", c)
}

func (k *compiler) join(cs []kql.Cond, op, empty string) (string, error) {
	if len(cs) == 0 {
		return empty, nil
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		s, err := k.cond(c)
		if err != nil {
			return "", err
		}
		parts[i] = s
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return "(" + strings.Join(parts, op) + ")", nil
}

// field is how a condition reaches a field's values.
type field struct {
	name string
	// scalar is the SQL expression of a single-valued core field's value
	// (empty otherwise), typeOf the expression of its JSON type.
	scalar, typeOf string
	hot            bool
}

func (k *compiler) field(name string) (field, error) {
	f := event.Lookup(name)
	if f != nil && !f.Multi {
		if e, ok := k.c.hot[name]; ok && f.Type != event.IP {
			return field{name: name, scalar: e, typeOf: "json_type(doc, " + quoteString(corePath(name)) + ")", hot: true}, nil
		}
		p := quoteString(corePath(name))
		return field{name: name, scalar: "json_extract(d.doc, " + p + ")", typeOf: "json_type(d.doc, " + p + ")"}, nil
	}
	if name == "" {
		return field{}, badQuery("empty field name")
	}
	return field{name: name}, nil
}

// each matches when any value of a multi-valued or dynamic field satisfies
// pred, written over j.atom (the SQL value) and j.type (its JSON type). A
// scalar is tested in place with json_extract and json_type (cheap: SQLite
// caches the parsed document); only an array goes through json_each.
// Members of an object never match: pred must check the type.
func (k *compiler) each(name, pred string) (string, error) {
	path, err := k.pathExpr(name)
	if err != nil {
		return "", err
	}
	scalar := strings.NewReplacer("j.atom", "json_extract(d.doc, "+path+")", "j.type", "json_type(d.doc, "+path+")").Replace(pred)
	return "(CASE json_type(d.doc, " + path + ") WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(d.doc, " + path +
		") j WHERE " + pred + ") ELSE coalesce(" + scalar + ", 0) END)", nil
}

// pathExpr returns the SQL expression of a field's JSON path. A typed core
// field is nested (event.Marshal); a field outside the catalogue is a
// top-level dotted key (event.Marshal) or, in other collections' documents,
// nested objects: the dotted key wins when present.
func (k *compiler) pathExpr(name string) (string, error) {
	if event.Lookup(name) != nil {
		return quoteString(corePath(name)), nil
	}
	if strings.ContainsAny(name, "\"\\") {
		return "", badQuery("field name %q: quotes and backslashes are not supported", name)
	}
	dotted := `$."` + name + `"`
	if !strings.Contains(name, ".") || strings.Contains(name, "..") || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") {
		return k.bind(dotted), nil
	}
	nested := "$"
	for _, seg := range strings.Split(name, ".") {
		nested += `."` + seg + `"`
	}
	d := k.bind(dotted)
	n := k.bind(nested)
	return "CASE WHEN json_type(d.doc, " + d + ") IS NOT NULL THEN " + d + " ELSE " + n + " END", nil
}

// keywordText is the canonical text of j's value for keyword comparisons.
const keywordText = "(CASE j.type WHEN 'text' THEN j.atom WHEN 'integer' THEN CAST(j.atom AS TEXT) WHEN 'real' THEN " +
	fnFloatText + "(j.atom) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' END)"

func (k *compiler) equals(c *kql.Equals) (string, error) {
	if c.Field == timeField {
		t, ok := c.Value.(time.Time)
		if !ok {
			return "", badQuery("%s: want a time, got %T", c.Field, c.Value)
		}
		ns, ok := timeNanos(t)
		if !ok {
			return "0", nil
		}
		return "d.ts = " + k.bind(ns), nil
	}
	f, err := k.field(c.Field)
	if err != nil {
		return "", err
	}
	switch c.Type {
	case event.Keyword:
		s, ok := c.Value.(string)
		if !ok {
			return "", badQuery("%s: want a string, got %T", c.Field, c.Value)
		}
		if f.scalar != "" {
			return f.scalar + " = " + k.bind(s), nil
		}
		alts := []string{"(j.type = 'text' AND j.atom = " + k.bind(s) + ")"}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && strconv.FormatInt(n, 10) == s {
			alts = append(alts, "(j.type = 'integer' AND j.atom = "+k.bind(n)+")")
		}
		if x, err := strconv.ParseFloat(s, 64); err == nil && strconv.FormatFloat(x, 'g', -1, 64) == s {
			alts = append(alts, "(j.type = 'real' AND j.atom = "+k.bind(x)+")")
		}
		if s == "true" || s == "false" {
			alts = append(alts, "j.type = '"+s+"'")
		}
		return k.each(c.Field, "("+strings.Join(alts, " OR ")+")")
	case event.Long, event.Double:
		v, err := number(c.Field, c.Value)
		if err != nil {
			return "", err
		}
		if f.scalar != "" {
			return "(" + f.typeOf + " IN ('integer', 'real') AND " + f.scalar + " = " + k.bind(v) + ")", nil
		}
		return k.each(c.Field, "(j.type IN ('integer', 'real') AND j.atom = "+k.bind(v)+")")
	case event.Boolean:
		b, ok := c.Value.(bool)
		if !ok {
			return "", badQuery("%s: want a boolean, got %T", c.Field, c.Value)
		}
		lit := "'false'"
		if b {
			lit = "'true'"
		}
		if f.scalar != "" {
			return "(" + f.typeOf + " = " + lit + ")", nil
		}
		return k.each(c.Field, "j.type = "+lit)
	case event.IP:
		a, ok := c.Value.(netip.Addr)
		if !ok || !a.IsValid() {
			return "", badQuery("%s: want an IP address, got %T", c.Field, c.Value)
		}
		a = a.WithZone("")
		return k.inPrefix(c.Field, netip.PrefixFrom(a, a.BitLen()))
	case event.Date:
		t, ok := c.Value.(time.Time)
		if !ok {
			return "", badQuery("%s: want a time, got %T", c.Field, c.Value)
		}
		ns, ok := timeNanos(t)
		if !ok {
			return "0", nil
		}
		if f.scalar != "" {
			return fnTime + "(" + f.scalar + ") = " + k.bind(ns), nil
		}
		return k.each(c.Field, "(j.type = 'text' AND "+fnTime+"(j.atom) = "+k.bind(ns)+")")
	}
	return "", badQuery("%s: equality on a %s field", c.Field, c.Type)
}

func number(field string, v any) (any, error) {
	switch x := v.(type) {
	case int64, float64:
		return x, nil
	case int:
		return int64(x), nil
	}
	return nil, badQuery("%s: want a number, got %T", field, v)
}

// globPattern escapes the GLOB metacharacters of each literal part and joins
// the parts with "*".
func globPattern(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('*')
		}
		for _, r := range p {
			switch r {
			case '*':
				b.WriteString("[*]")
			case '?':
				b.WriteString("[?]")
			case '[':
				b.WriteString("[[]")
			default:
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// prefixEnd returns the least string greater than every string with prefix
// p, or "" when there is none.
func prefixEnd(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}

func (k *compiler) glob(c *kql.Glob) (string, error) {
	if len(c.Parts) == 0 {
		return "", badQuery("%s: empty wildcard pattern", c.Field)
	}
	f, err := k.field(c.Field)
	if err != nil {
		return "", err
	}
	pat := globPattern(c.Parts)
	if f.scalar != "" {
		s := "(" + f.typeOf + " = 'text' AND " + f.scalar + " GLOB " + k.bind(pat)
		// A literal head bounds the range of the hot field's index.
		if head := c.Parts[0]; f.hot && head != "" && len(c.Parts) > 1 {
			s += " AND " + f.scalar + " >= " + k.bind(head)
			if end := prefixEnd(head); end != "" {
				s += " AND " + f.scalar + " < " + k.bind(end)
			}
		}
		return s + ")", nil
	}
	return k.each(c.Field, keywordText+" GLOB "+k.bind(pat))
}

// ftsQuery is the FTS5 query for a phrase in the given columns: one string,
// so FTS5's tokenizer yields exactly the tokens, with "*" for a prefix.
func ftsQuery(cols []string, tokens []string, prefix bool) string {
	q := "{" + strings.Join(cols, " ") + "} : \"" + strings.ReplaceAll(strings.Join(tokens, " "), `"`, `""`) + "\""
	if prefix {
		q += "*"
	}
	return q
}

func (k *compiler) phrase(c *kql.Phrase) (string, error) {
	if len(c.Tokens) == 0 {
		return "0", nil
	}
	var cols, alts []string
	for _, name := range c.Fields {
		if _, ok := k.c.textCols[name]; ok {
			cols = append(cols, sanitize(name))
			continue
		}
		prefix := 0
		if c.Prefix {
			prefix = 1
		}
		s, err := k.each(name, "(j.type = 'text' AND "+fnPhrase+"(j.atom, "+k.bind(strings.Join(c.Tokens, " "))+", "+k.bind(prefix)+"))")
		if err != nil {
			return "", err
		}
		alts = append(alts, s)
	}
	if len(cols) > 0 {
		fts := "d.rowid IN (SELECT rowid FROM " + k.c.fts + " WHERE " + k.c.fts + " MATCH " + k.bind(ftsQuery(cols, c.Tokens, c.Prefix)) + ")"
		alts = append([]string{fts}, alts...)
	}
	switch len(alts) {
	case 0:
		return "0", nil
	case 1:
		return alts[0], nil
	}
	return "(" + strings.Join(alts, " OR ") + ")", nil
}

// mappedV4 is the range of IPv4-mapped IPv6 keys, where IPv4 addresses live.
var mappedV4 = netip.MustParsePrefix("::ffff:0.0.0.0/96")

// keyRange returns the first and last 16-byte keys of a prefix.
func keyRange(p netip.Prefix) (lo, hi []byte) {
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	a := p.Addr().As16()
	lo = append([]byte(nil), a[:]...)
	hi = append([]byte(nil), a[:]...)
	for i := bits; i < 128; i++ {
		hi[i/8] |= 0x80 >> (i % 8)
	}
	return lo, hi
}

// inPrefix matches IP values in a prefix: as in netip, an IPv4 address (or
// its IPv4-mapped IPv6 spelling) lies only in IPv4 prefixes, and an IPv6
// prefix written over the mapped range is taken as the IPv4 prefix.
func (k *compiler) inPrefix(name string, p netip.Prefix) (string, error) {
	if !p.IsValid() {
		return "", badQuery("%s: invalid prefix", name)
	}
	p = p.Masked()
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	f, err := k.field(name)
	if err != nil {
		return "", err
	}
	var key string
	switch {
	case f.scalar != "":
		key = fnIPKey + "(" + f.scalar + ")"
		if e, ok := k.c.hot[name]; ok {
			key = e
		}
	default:
		key = fnIPKey + "(j.atom)"
	}
	var s string
	if p.IsSingleIP() {
		s = key + " = " + k.bind(ipKey(p.Addr()))
	} else {
		lo, hi := keyRange(p)
		s = key + " BETWEEN " + k.bind(lo) + " AND " + k.bind(hi)
		if p.Addr().Is6() && p.Overlaps(mappedV4) {
			mlo, mhi := keyRange(mappedV4)
			s = "(" + s + " AND " + key + " NOT BETWEEN " + k.bind(mlo) + " AND " + k.bind(mhi) + ")"
		}
	}
	if f.scalar != "" {
		return s, nil
	}
	return k.each(name, "(j.type = 'text' AND "+s+")")
}

// bound is one side of a range: the SQL operator and the bound parameter.
func (k *compiler) bounds(expr string, lo, hi any, loIncl, hiIncl bool) string {
	var parts []string
	if lo != nil {
		op := " > "
		if loIncl {
			op = " >= "
		}
		parts = append(parts, expr+op+k.bind(lo))
	}
	if hi != nil {
		op := " < "
		if hiIncl {
			op = " <= "
		}
		parts = append(parts, expr+op+k.bind(hi))
	}
	if len(parts) == 0 {
		return expr + " IS NOT NULL"
	}
	return strings.Join(parts, " AND ")
}

// timeBound converts a time bound to nanoseconds, saturating at the ends
// of the representable range.
func timeBound(field string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	t, ok := v.(time.Time)
	if !ok {
		return nil, badQuery("%s: want a time bound, got %T", field, v)
	}
	if ns, ok := timeNanos(t); ok {
		return ns, nil
	}
	if t.Year() < 1678 {
		return int64(math.MinInt64), nil
	}
	return int64(math.MaxInt64), nil
}

func (k *compiler) between(c *kql.Between) (string, error) {
	switch c.Type {
	case event.Date:
		lo, err := timeBound(c.Field, c.Lo)
		if err != nil {
			return "", err
		}
		hi, err := timeBound(c.Field, c.Hi)
		if err != nil {
			return "", err
		}
		if c.Field == timeField {
			if lo == nil && hi == nil {
				return "1", nil
			}
			s := k.bounds("d.ts", lo, hi, c.LoIncl, c.HiIncl)
			if k.timeFrac > 0 {
				// One hint per bound: SQLite multiplies them.
				p := strconv.FormatFloat(math.Max(k.timeFrac, 1e-6), 'f', 6, 64)
				if lo != nil && hi != nil {
					p = strconv.FormatFloat(math.Max(math.Sqrt(k.timeFrac), 1e-3), 'f', 6, 64)
				}
				parts := strings.Split(s, " AND ")
				for i := range parts {
					parts[i] = "likelihood(" + parts[i] + ", " + p + ")"
				}
				s = strings.Join(parts, " AND ")
			}
			return "(" + s + ")", nil
		}
		f, err := k.field(c.Field)
		if err != nil {
			return "", err
		}
		if f.scalar != "" {
			return "(" + k.bounds(fnTime+"("+f.scalar+")", lo, hi, c.LoIncl, c.HiIncl) + ")", nil
		}
		return k.each(c.Field, "(j.type = 'text' AND "+k.bounds(fnTime+"(j.atom)", lo, hi, c.LoIncl, c.HiIncl)+")")
	case event.Long, event.Double:
		var lo, hi any
		var err error
		if c.Lo != nil {
			if lo, err = number(c.Field, c.Lo); err != nil {
				return "", err
			}
		}
		if c.Hi != nil {
			if hi, err = number(c.Field, c.Hi); err != nil {
				return "", err
			}
		}
		f, err := k.field(c.Field)
		if err != nil {
			return "", err
		}
		if f.scalar != "" {
			return "(" + f.typeOf + " IN ('integer', 'real') AND " + k.bounds(f.scalar, lo, hi, c.LoIncl, c.HiIncl) + ")", nil
		}
		return k.each(c.Field, "(j.type IN ('integer', 'real') AND "+k.bounds("j.atom", lo, hi, c.LoIncl, c.HiIncl)+")")
	case event.Keyword:
		lo, ok1 := c.Lo.(string)
		hi, ok2 := c.Hi.(string)
		if (c.Lo != nil && !ok1) || (c.Hi != nil && !ok2) {
			return "", badQuery("%s: want string bounds", c.Field)
		}
		var l, h any
		if c.Lo != nil {
			l = lo
		}
		if c.Hi != nil {
			h = hi
		}
		f, err := k.field(c.Field)
		if err != nil {
			return "", err
		}
		if f.scalar != "" {
			return "(" + f.typeOf + " = 'text' AND " + k.bounds(f.scalar, l, h, c.LoIncl, c.HiIncl) + ")", nil
		}
		return k.each(c.Field, "("+k.bounds(keywordText, l, h, c.LoIncl, c.HiIncl)+")")
	case event.IP:
		var l, h any
		if c.Lo != nil {
			a, ok := c.Lo.(netip.Addr)
			if !ok || !a.IsValid() {
				return "", badQuery("%s: want an IP bound, got %T", c.Field, c.Lo)
			}
			l = ipKey(a)
		}
		if c.Hi != nil {
			a, ok := c.Hi.(netip.Addr)
			if !ok || !a.IsValid() {
				return "", badQuery("%s: want an IP bound, got %T", c.Field, c.Hi)
			}
			h = ipKey(a)
		}
		f, err := k.field(c.Field)
		if err != nil {
			return "", err
		}
		if f.scalar != "" {
			key := fnIPKey + "(" + f.scalar + ")"
			if e, ok := k.c.hot[c.Field]; ok {
				key = e
			}
			return "(" + k.bounds(key, l, h, c.LoIncl, c.HiIncl) + ")", nil
		}
		return k.each(c.Field, "(j.type = 'text' AND "+k.bounds(fnIPKey+"(j.atom)", l, h, c.LoIncl, c.HiIncl)+")")
	}
	return "", badQuery("%s: range on a %s field", c.Field, c.Type)
}

func (k *compiler) present(name string) (string, error) {
	if name == timeField {
		return "1", nil
	}
	if name == "" {
		return "", badQuery("empty field name")
	}
	return k.each(name, "j.type NOT IN ('null', 'array', 'object') AND NOT (j.type = 'text' AND j.atom = '')")
}
