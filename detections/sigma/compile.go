package sigma

import (
	"encoding/base64"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"

	"gopkg.in/yaml.v3"
)

// compiler compiles one rule's detection.
type compiler struct {
	res          *resolved
	placeholders map[string][]string
	// reads are the ECS fields the compiled matchers read.
	reads []string
}

// getter returns the reader of an ECS field and notes that it is read.
func (c *compiler) getter(name string) getter {
	c.reads = append(c.reads, name)
	return newGetter(name)
}

// detection compiles the search identifiers and the condition.
func (c *compiler) detection(n *yaml.Node) (Matcher, error) {
	var names []string
	idents := map[string]Matcher{}
	var cond *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		switch k {
		case "condition":
			cond = v
			continue
		case "timeframe":
			return nil, unsupportedf("detection.timeframe (aggregation window) is not supported")
		}
		m, err := c.search(k, v)
		if err != nil {
			return nil, err
		}
		if _, dup := idents[k]; dup {
			return nil, invalidf("search identifier %q defined twice", k)
		}
		names = append(names, k)
		idents[k] = m
	}
	if cond == nil {
		return nil, invalidf("detection has no condition")
	}
	var conds []string
	switch cond.Kind {
	case yaml.ScalarNode:
		conds = []string{cond.Value}
	case yaml.SequenceNode:
		if err := cond.Decode(&conds); err != nil {
			return nil, invalidf("condition: %v", err)
		}
	default:
		return nil, invalidf("condition must be a string")
	}
	if len(conds) == 0 {
		return nil, invalidf("detection has no condition")
	}
	var ms anyOf
	for _, s := range conds {
		m, err := parseCondition(s, names, idents)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	if len(ms) == 1 {
		return ms[0], nil
	}
	return ms, nil
}

// search compiles one search identifier: a map (AND of fields), a list of
// maps (OR), or a list of keywords (OR).
func (c *compiler) search(name string, n *yaml.Node) (Matcher, error) {
	switch n.Kind {
	case yaml.MappingNode:
		return c.fieldMap(name, n)
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return nil, invalidf("search identifier %q is an empty list", name)
		}
		if n.Content[0].Kind == yaml.MappingNode {
			var or anyOf
			for _, el := range n.Content {
				if el.Kind != yaml.MappingNode {
					return nil, invalidf("search identifier %q mixes maps and values", name)
				}
				m, err := c.fieldMap(name, el)
				if err != nil {
					return nil, err
				}
				or = append(or, m)
			}
			return or, nil
		}
		return c.field(name, "", nil, n)
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, invalidf("search identifier %q is empty", name)
		}
		return c.field(name, "", nil, n)
	}
	return nil, invalidf("search identifier %q: unexpected YAML", name)
}

func (c *compiler) fieldMap(name string, n *yaml.Node) (Matcher, error) {
	if len(n.Content) == 0 {
		return nil, invalidf("search identifier %q is an empty map", name)
	}
	var and allOf
	for i := 0; i+1 < len(n.Content); i += 2 {
		parts := strings.Split(n.Content[i].Value, "|")
		m, err := c.field(name, parts[0], parts[1:], n.Content[i+1])
		if err != nil {
			return nil, err
		}
		and = append(and, m)
	}
	if len(and) == 1 {
		return and[0], nil
	}
	return and, nil
}

// mods holds a field's parsed modifiers.
type mods struct {
	anchor                string // contains, startswith, endswith
	all, cased            bool
	re                    bool
	reFlags               string
	cidr                  bool
	cmp                   string
	exists                bool
	fieldref              bool
	expand                bool
	windash               bool
	encoding              string // utf16le, utf16be, utf16 (with BOM)
	b64, b64off           bool
	valueKind             string // the modifier that decides the value type
	transformsAfterEncode bool
}

func parseMods(list []string) (*mods, error) {
	m := &mods{}
	setKind := func(k string) error {
		if m.valueKind != "" {
			return unsupportedf("modifiers %s and %s cannot be combined", m.valueKind, k)
		}
		m.valueKind = k
		return nil
	}
	for _, raw := range list {
		mod := strings.ToLower(raw)
		var err error
		switch mod {
		case "contains", "startswith", "endswith":
			if m.anchor != "" {
				return nil, invalidf("modifiers %s and %s cannot be combined", m.anchor, mod)
			}
			m.anchor = mod
		case "all":
			m.all = true
		case "cased":
			m.cased = true
		case "re":
			m.re = true
			err = setKind(mod)
		case "i", "m", "s":
			if !m.re {
				return nil, invalidf("modifier %s must follow re", mod)
			}
			m.reFlags += mod
		case "cidr":
			m.cidr = true
			err = setKind(mod)
		case "lt", "lte", "gt", "gte":
			m.cmp = mod
			err = setKind(mod)
		case "exists":
			m.exists = true
			err = setKind(mod)
		case "fieldref":
			m.fieldref = true
			err = setKind(mod)
		case "expand":
			m.expand = true
		case "windash":
			if m.encoding != "" || m.b64 || m.b64off {
				return nil, unsupportedf("windash after an encoding modifier")
			}
			m.windash = true
		case "wide", "utf16le":
			err = setEnc(m, "utf16le")
		case "utf16be":
			err = setEnc(m, "utf16be")
		case "utf16":
			err = setEnc(m, "utf16")
		case "base64", "base64offset":
			if m.b64 || m.b64off {
				return nil, invalidf("base64 and base64offset cannot be combined or repeated")
			}
			m.b64, m.b64off = mod == "base64", mod == "base64offset"
		case "":
			return nil, invalidf("empty modifier")
		default:
			return nil, unsupportedf("modifier %q", raw)
		}
		if err != nil {
			return nil, err
		}
	}
	if m.encoding != "" && !m.b64 && !m.b64off {
		return nil, unsupportedf("%s must be followed by base64 or base64offset", m.encoding)
	}
	switch m.valueKind {
	case "":
	case "re":
		if m.anchor != "" || m.cased || m.windash || m.b64 || m.b64off || m.expand {
			return nil, unsupportedf("re cannot be combined with other value modifiers")
		}
	case "fieldref":
		if m.windash || m.b64 || m.b64off || m.expand {
			return nil, unsupportedf("fieldref cannot be combined with encoding modifiers")
		}
	default:
		if m.anchor != "" || m.cased || m.windash || m.b64 || m.b64off || m.expand || (m.all && m.valueKind == "exists") {
			return nil, unsupportedf("%s cannot be combined with string modifiers", m.valueKind)
		}
	}
	return m, nil
}

func setEnc(m *mods, enc string) error {
	if m.encoding != "" {
		return invalidf("two utf16 modifiers")
	}
	if m.b64 || m.b64off {
		return invalidf("%s must come before base64", enc)
	}
	m.encoding = enc
	return nil
}

// field compiles one "Field|modifiers: values" item; field "" is a keyword
// search.
func (c *compiler) field(ident, field string, modList []string, n *yaml.Node) (Matcher, error) {
	where := field
	if where == "" {
		where = "keywords"
	}
	m, err := parseMods(modList)
	if err != nil {
		return nil, wrapIn(ident, where, err)
	}
	var getters []getter
	if field == "" {
		if m.valueKind == "exists" || m.valueKind == "fieldref" {
			return nil, wrapIn(ident, where, invalidf("%s needs a field name", m.valueKind))
		}
		for _, f := range c.res.keywords {
			getters = append(getters, c.getter(f))
		}
		if m.anchor == "" && m.valueKind == "" {
			m.anchor = "contains" // keywords are full-text searches
		}
	} else {
		fs, err := c.res.field(field)
		if err != nil {
			return nil, wrapIn(ident, where, err)
		}
		for _, f := range fs {
			getters = append(getters, c.getter(f))
		}
	}
	var vals []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		vals = []*yaml.Node{n}
	case yaml.SequenceNode:
		for _, el := range n.Content {
			if el.Kind != yaml.ScalarNode {
				return nil, wrapIn(ident, where, invalidf("values must be scalars"))
			}
		}
		vals = n.Content
		if len(vals) == 0 {
			return nil, wrapIn(ident, where, invalidf("empty list of values"))
		}
	default:
		return nil, wrapIn(ident, where, invalidf("values must be scalars or a list of scalars"))
	}
	mt, err := c.values(field, getters, m, vals)
	if err != nil {
		return nil, wrapIn(ident, where, err)
	}
	return mt, nil
}

func wrapIn(ident, field string, err error) error {
	return &detailErr{prefix: "detection." + ident + ": field " + strconv.Quote(field) + ": ", err: err}
}

type detailErr struct {
	prefix string
	err    error
}

func (e *detailErr) Error() string { return e.prefix + e.err.Error() }
func (e *detailErr) Unwrap() error { return e.err }

func (c *compiler) values(field string, getters []getter, m *mods, vals []*yaml.Node) (Matcher, error) {
	switch m.valueKind {
	case "exists":
		if len(vals) != 1 || vals[0].Tag != "!!bool" {
			return nil, invalidf("exists takes true or false")
		}
		return &exists{fields: getters, want: vals[0].Value == "true" || vals[0].Value == "True" || vals[0].Value == "TRUE"}, nil
	case "fieldref":
		kind := map[string]patKind{"": patEqual, "contains": patContains, "startswith": patPrefix, "endswith": patSuffix}[m.anchor]
		var or anyOf
		for _, v := range vals {
			refs, err := c.res.field(v.Value)
			if err != nil {
				return nil, err
			}
			fr := &fieldref{fields: getters, kind: kind, cased: m.cased}
			for _, r := range refs {
				fr.refs = append(fr.refs, c.getter(r))
			}
			or = append(or, fr)
		}
		return combine(or, m.all), nil
	}
	if m.all && len(vals) == 1 {
		return nil, invalidf("all needs a list of two or more values")
	}
	fm := &fieldMatch{fields: getters, all: m.all}
	var nulls bool
	for _, v := range vals {
		isNull := v.Tag == "!!null"
		if v.Value == "" && m.valueKind == "" && m.anchor == "" && !m.b64 && !m.b64off {
			// Events do not keep empty strings apart from absent fields
			// (event.Get), so an empty value means what null means.
			isNull = true
		}
		if isNull {
			if m.valueKind != "" || m.anchor != "" || m.encoding != "" || m.b64 || m.b64off || m.windash {
				return nil, invalidf("null cannot take modifiers")
			}
			nulls = true
			continue
		}
		tests, err := c.tests(m, v)
		if err != nil {
			return nil, err
		}
		if m.all && len(tests) > 1 {
			// One value expanding into alternatives (windash, base64offset,
			// expand) must still match as one value.
			fm.tests = append(fm.tests, anyTest(tests))
		} else {
			fm.tests = append(fm.tests, tests...)
		}
	}
	if nulls {
		if m.all {
			return nil, invalidf("all cannot be combined with null")
		}
		if len(fm.tests) == 0 {
			return absent(getters), nil
		}
		return anyOf{absent(getters), fm}, nil
	}
	fm.constraint = exactConstraint(field, getters, m, vals)
	return fm, nil
}

func combine(ms anyOf, all bool) Matcher {
	if len(ms) == 1 {
		return ms[0]
	}
	if all {
		return allOf(ms)
	}
	return ms
}

// anyTest passes when any of its tests does.
type anyTest []valueTest

func (t anyTest) str(s string) bool {
	for _, x := range t {
		if x.str(s) {
			return true
		}
	}
	return false
}

func (t anyTest) other(v any) bool {
	for _, x := range t {
		if x.other(v) {
			return true
		}
	}
	return false
}

// exactConstraint returns the prefilter form of a plain equality on one
// field whose values do not depend on case.
func exactConstraint(field string, getters []getter, m *mods, vals []*yaml.Node) *Constraint {
	if field == "" || len(getters) != 1 || m.valueKind != "" || m.anchor != "" || m.windash || m.encoding != "" || m.b64 || m.b64off || m.expand || (m.all && len(vals) > 1) {
		return nil
	}
	c := &Constraint{Field: getters[0].name}
	for _, v := range vals {
		if strings.ContainsAny(v.Value, `*?\`) || !m.cased && !caseless(v.Value) {
			return nil
		}
		c.Values = append(c.Values, v.Value)
	}
	return c
}

// caseless reports whether no character of s has another case form, so
// case-insensitive equality with s is exact equality.
func caseless(s string) bool {
	for _, r := range s {
		if unicode.SimpleFold(r) != r {
			return false
		}
	}
	return true
}

// tests compiles one value into its tests (several when a modifier makes
// alternatives of it).
func (c *compiler) tests(m *mods, v *yaml.Node) ([]valueTest, error) {
	switch m.valueKind {
	case "re":
		flags := ""
		for _, f := range []string{"i", "m", "s"} {
			if strings.Contains(m.reFlags, f) {
				flags += f
			}
		}
		expr := v.Value
		if flags != "" {
			expr = "(?" + flags + ")" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, unsupportedf("regular expression %q: %v (Go RE2 syntax: no lookaround or backreferences)", v.Value, err)
		}
		return []valueTest{reTest{re}}, nil
	case "cidr":
		p, err := netip.ParsePrefix(v.Value)
		if err != nil {
			return nil, invalidf("cidr %q: %v", v.Value, err)
		}
		return []valueTest{cidrTest{p.Masked()}}, nil
	case "lt", "lte", "gt", "gte":
		f, err := strconv.ParseFloat(v.Value, 64)
		if err != nil || v.Tag == "!!str" && strings.TrimSpace(v.Value) == "" {
			return nil, invalidf("%s needs a number, got %q", m.valueKind, v.Value)
		}
		return []valueTest{cmpTest{op: m.valueKind, n: f}}, nil
	}
	raws := []string{v.Value}
	if m.expand {
		var err error
		if raws, err = c.expand(v.Value); err != nil {
			return nil, err
		}
	}
	var pats [][]piece
	for _, r := range raws {
		pats = append(pats, parseWildcards(r))
	}
	if m.windash {
		var out [][]piece
		for _, p := range pats {
			w, err := windash(p)
			if err != nil {
				return nil, err
			}
			out = append(out, w...)
		}
		pats = out
	}
	if m.b64 || m.b64off {
		var out [][]piece
		for _, p := range pats {
			lit, ok := literal(p)
			if !ok {
				return nil, unsupportedf("wildcards in a base64-encoded value")
			}
			b := encode(lit, m.encoding)
			if m.b64 {
				out = append(out, []piece{{lit: base64.StdEncoding.EncodeToString(b)}})
				continue
			}
			for _, s := range base64Offsets(b) {
				out = append(out, []piece{{lit: s}})
			}
		}
		pats = out
	}
	var tests []valueTest
	for _, p := range pats {
		switch m.anchor {
		case "contains":
			p = append(append([]piece{{wild: '*'}}, p...), piece{wild: '*'})
		case "startswith":
			p = append(p, piece{wild: '*'})
		case "endswith":
			p = append([]piece{{wild: '*'}}, p...)
		}
		tests = append(tests, compilePattern(p, m.cased || m.b64 || m.b64off))
	}
	return tests, nil
}

// expand replaces %name% placeholders by each of their configured values.
func (c *compiler) expand(s string) ([]string, error) {
	out := []string{""}
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			break
		}
		name := s[i+1 : i+1+j]
		vals, ok := c.placeholders[name]
		if !ok {
			return nil, mappingf("placeholder %%%s%% is not configured", name)
		}
		var next []string
		for _, o := range out {
			for _, v := range vals {
				next = append(next, o+s[:i]+v)
			}
		}
		out, s = next, s[i+2+j:]
	}
	for k := range out {
		out[k] += s
	}
	return out, nil
}

// piece is a literal run or a wildcard of a Sigma string value.
type piece struct {
	lit  string
	wild byte // 0, '*' or '?'
}

// parseWildcards splits a Sigma string into literals and wildcards: * and ?
// are wildcards, \* \? and \\ escape them, any other backslash is literal.
func parseWildcards(s string) []piece {
	var out []piece
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, piece{lit: b.String()})
			b.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
				b.WriteByte(s[i+1])
				i++
			} else {
				b.WriteByte('\\')
			}
		case '*', '?':
			flush()
			out = append(out, piece{wild: ch})
		default:
			b.WriteByte(ch)
		}
	}
	flush()
	return out
}

func literal(p []piece) (string, bool) {
	var b strings.Builder
	for _, x := range p {
		if x.wild != 0 {
			return "", false
		}
		b.WriteString(x.lit)
	}
	return b.String(), true
}

// compilePattern turns pieces into the cheapest strPattern that matches them.
func compilePattern(p []piece, cased bool) *strPattern {
	// Merge adjacent literals and collapse runs of stars.
	var q []piece
	for _, x := range p {
		if x.wild == 0 && !cased {
			x.lit = strings.ToLower(x.lit)
		}
		n := len(q)
		switch {
		case x.wild == 0 && x.lit == "":
			continue
		case x.wild == 0 && n > 0 && q[n-1].wild == 0:
			q[n-1].lit += x.lit
		case x.wild == '*' && n > 0 && q[n-1].wild == '*':
		default:
			q = append(q, x)
		}
	}
	sp := &strPattern{cased: cased}
	hasQ := false
	stars := 0
	for _, x := range q {
		hasQ = hasQ || x.wild == '?'
		if x.wild == '*' {
			stars++
		}
	}
	switch {
	case hasQ:
		sp.kind = patGlob
		for _, x := range q {
			if x.wild != 0 {
				sp.glob = append(sp.glob, gtok{kind: x.wild})
				continue
			}
			for _, r := range x.lit {
				sp.glob = append(sp.glob, gtok{r: r})
			}
		}
	case stars == 0:
		sp.kind = patEqual
		if len(q) == 1 {
			sp.lit = q[0].lit
		}
	case len(q) == 1: // "*"
		sp.kind, sp.lit = patPrefix, ""
	case len(q) == 2 && q[0].wild == 0:
		sp.kind, sp.lit = patPrefix, q[0].lit
	case len(q) == 2:
		sp.kind, sp.lit = patSuffix, q[1].lit
	case len(q) == 3 && q[0].wild == '*' && q[2].wild == '*':
		sp.kind, sp.lit = patContains, q[1].lit
	default:
		sp.kind = patStars
		sp.parts = []string{""}
		for _, x := range q {
			if x.wild == '*' {
				sp.parts = append(sp.parts, "")
			} else {
				sp.parts[len(sp.parts)-1] = x.lit
			}
		}
	}
	return sp
}

// dashes are the characters windash substitutes for a leading - or /.
var dashes = []string{"-", "/", "\u2013", "\u2014", "\u2015"}

// windash returns every variant of p with each option dash replaced by each
// dash character. As in pySigma, an option dash is a - or / at the start of
// a literal or after a non-word character, and before a word character.
func windash(p []piece) ([][]piece, error) {
	out := [][]piece{nil}
	for _, x := range p {
		if x.wild != 0 {
			for i := range out {
				out[i] = append(out[i], x)
			}
			continue
		}
		var segs []string // literal split at option dashes
		start := 0
		for i := 0; i < len(x.lit); i++ {
			ch := x.lit[i]
			if (ch == '-' || ch == '/') && (i == 0 || !wordByte(x.lit[i-1])) && i+1 < len(x.lit) && wordByte(x.lit[i+1]) {
				segs = append(segs, x.lit[start:i], "")
				start = i + 1
			}
		}
		segs = append(segs, x.lit[start:])
		for k, s := range segs {
			if k%2 == 0 {
				for i := range out {
					out[i] = append(out[i], piece{lit: s})
				}
				continue
			}
			if len(out)*len(dashes) > 625 {
				return nil, unsupportedf("windash: too many option dashes in one value")
			}
			var next [][]piece
			for _, o := range out {
				for _, d := range dashes {
					next = append(next, append(append([]piece(nil), o...), piece{lit: d}))
				}
			}
			out = next
		}
	}
	return out, nil
}

// wordByte reports whether c belongs to a word character (non-ASCII bytes
// count: they are part of letters in the values windash is used on).
func wordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

// encode returns s in the utf16 variant asked for, or its UTF-8 bytes.
func encode(s, enc string) []byte {
	if enc == "" {
		return []byte(s)
	}
	u := utf16.Encode([]rune(s))
	var b []byte
	if enc == "utf16" {
		b = append(b, 0xFF, 0xFE) // byte order mark, little endian
		enc = "utf16le"
	}
	for _, c := range u {
		if enc == "utf16le" {
			b = append(b, byte(c), byte(c>>8))
		} else {
			b = append(b, byte(c>>8), byte(c))
		}
	}
	return b
}

// base64Offsets returns the three base64 forms of b as it appears at each
// offset modulo 3 within a larger encoded text, with the characters that
// depend on the surrounding bytes cut off.
func base64Offsets(b []byte) []string {
	var out []string
	for i := 0; i < 3; i++ {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, i), b...))
		start := []int{0, 2, 3}[i]
		end := len(enc) - []int{0, 3, 2}[(len(b)+i)%3]
		if start < end {
			out = append(out, enc[start:end])
		}
	}
	return out
}
