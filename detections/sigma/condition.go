package sigma

import (
	"path"
	"strings"
)

// parseCondition compiles a Sigma condition over the search identifiers
// (names, in rule order). Precedence, loosest first: or, and, not; then
// parentheses, "1 of", "all of" and identifiers.
func parseCondition(s string, names []string, idents map[string]Matcher) (Matcher, error) {
	toks, err := lexCondition(s)
	if err != nil {
		return nil, err
	}
	p := &condParser{toks: toks, names: names, idents: idents, src: s}
	m, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, p.errf("unexpected %q", p.toks[p.pos])
	}
	return m, nil
}

func lexCondition(s string) ([]string, error) {
	var toks []string
	i := 0
	for i < len(s) {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, s[i:i+1])
			i++
		case c == '|':
			return nil, unsupportedf("condition %q: aggregations (| count() ...) are not supported; use correlation rules", s)
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n()|", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	if len(toks) == 0 {
		return nil, invalidf("empty condition")
	}
	return toks, nil
}

type condParser struct {
	toks   []string
	pos    int
	names  []string
	idents map[string]Matcher
	src    string
}

func (p *condParser) errf(format string, args ...any) error {
	return invalidf("condition %q: "+format, append([]any{p.src}, args...)...)
}

func (p *condParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *condParser) keyword(kw string) bool {
	if strings.EqualFold(p.peek(), kw) {
		p.pos++
		return true
	}
	return false
}

func (p *condParser) or() (Matcher, error) {
	m, err := p.and()
	if err != nil {
		return nil, err
	}
	or := anyOf{m}
	for p.keyword("or") {
		m, err := p.and()
		if err != nil {
			return nil, err
		}
		or = append(or, m)
	}
	if len(or) == 1 {
		return or[0], nil
	}
	return or, nil
}

func (p *condParser) and() (Matcher, error) {
	m, err := p.not()
	if err != nil {
		return nil, err
	}
	and := allOf{m}
	for p.keyword("and") {
		m, err := p.not()
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

func (p *condParser) not() (Matcher, error) {
	if p.keyword("not") {
		m, err := p.not()
		if err != nil {
			return nil, err
		}
		return negate{M: m}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (Matcher, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, p.errf("unexpected end")
	case t == "(":
		p.pos++
		m, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.keyword(")") {
			return nil, p.errf("missing )")
		}
		return m, nil
	case t == ")":
		return nil, p.errf("unexpected )")
	}
	if p.pos+1 < len(p.toks) && strings.EqualFold(p.toks[p.pos+1], "of") {
		return p.of()
	}
	switch strings.ToLower(t) {
	case "and", "or", "of", "them":
		return nil, p.errf("unexpected %q", t)
	}
	p.pos++
	if strings.ContainsAny(t, "*?[") {
		return nil, p.errf("wildcard identifier %q outside \"1 of\" / \"all of\"", t)
	}
	m, ok := p.idents[t]
	if !ok {
		return nil, p.errf("undefined search identifier %q", t)
	}
	return m, nil
}

// of parses "1 of X", "all of X" with X "them" or an identifier pattern.
func (p *condParser) of() (Matcher, error) {
	q := strings.ToLower(p.toks[p.pos])
	p.pos += 2 // quantifier, "of"
	target := p.peek()
	if target == "" || target == "(" || target == ")" {
		return nil, p.errf("%s of what?", q)
	}
	p.pos++
	var ms []Matcher
	if strings.EqualFold(target, "them") {
		for _, n := range p.names {
			if !strings.HasPrefix(n, "_") {
				ms = append(ms, p.idents[n])
			}
		}
	} else {
		for _, n := range p.names {
			if ok, err := path.Match(target, n); err != nil {
				return nil, p.errf("bad pattern %q", target)
			} else if ok {
				ms = append(ms, p.idents[n])
			}
		}
	}
	if len(ms) == 0 {
		return nil, p.errf("%q matches no search identifier", target)
	}
	switch q {
	case "1", "any":
		return anyOf(ms), nil
	case "all":
		return allOf(ms), nil
	}
	return nil, unsupportedf("condition %q: %q of (only \"1 of\" and \"all of\" are Sigma)", p.src, q)
}
