package kql

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Parse parses a KQL query into its syntax tree. The empty query (or only
// whitespace) and "*" give *MatchAll. Errors are *Error.
//
// The grammar is Kibana's (packages/kbn-es-query/src/kuery/grammar): a
// recursive-descent rendering of the same PEG, so a query means here what it
// means in Kibana, including its less obvious rules:
//
//   - Unquoted values may contain spaces: "message:quick brown" has the value
//     "quick brown"; "a:b c:d" is an error (join conditions with and/or).
//   - and, or and not are keywords only between spaces ("x or y"); "or" at the
//     very end of a value is part of it ("user.name:a or" has the value
//     "a or"). Escape a keyword with a backslash (\or, \and, \not) or quote
//     the value to search for the word.
//   - A backslash escapes \ ( ) : < > " * { } and the keywords; \t, \r, \n and
//     \uXXXX write characters. Any other backslash is an error outside quotes;
//     inside quotes only \" and \\ (and \t \r \n \uXXXX) are escapes and any
//     other backslash is literal.
//   - not applies to one condition or parenthesised group, so "not not x" is
//     an error: write "not (not x)".
//
// Mamori departs from Kibana in two places, both where Kibana rejects or
// misreads a query nobody means: "not" inside a word is not a keyword
// ("message:cannot connect" is the value "cannot connect", a syntax error in
// Kibana), and "\not" followed by anything but a letter or digit escapes the
// keyword (Kibana reads it as a newline followed by "ot").
//
// Not supported, with an error that says so: nested queries
// ("field:{ ... }") and wildcards in field names ("user.*:tanaka"), except
// "*:*", which matches everything.
func Parse(query string) (Node, error) {
	p := &parser{src: query}
	n, err := p.query()
	if err != nil {
		return nil, err
	}
	return n, nil
}

type parser struct {
	src string
	pos int
}

// query = Space* OrQuery? Space*
func (p *parser) query() (Node, error) {
	p.pos = p.skipSpace(0)
	if p.pos == len(p.src) {
		return &MatchAll{At: 0}, nil
	}
	n, err := p.or("")
	if err != nil {
		return nil, err
	}
	if j := p.skipSpace(p.pos); j < len(p.src) {
		return nil, p.trailing(j, `"and", "or" or the end of the query`)
	}
	return n, nil
}

// or = and (Space+ "or" Space+ and)*
func (p *parser) or(after string) (Node, error) { return p.chain("or", after, p.and, orNode) }

// and = not (Space+ "and" Space+ not)*
func (p *parser) and(after string) (Node, error) { return p.chain("and", after, p.not, andNode) }

// chain parses operand (Space+ kw Space+ operand)* and joins two or more
// operands with join.
func (p *parser) chain(kw, after string, operand func(after string) (Node, error), join func(at int, nodes []Node) Node) (Node, error) {
	first, err := operand(after)
	if err != nil {
		return nil, err
	}
	nodes := []Node{first}
	for {
		end, ok := p.binary(p.pos, kw)
		if !ok {
			break
		}
		p.pos = end
		n, err := operand(kw)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	if len(nodes) == 1 {
		return first, nil
	}
	return join(first.Pos(), nodes), nil
}

func orNode(at int, nodes []Node) Node  { return &Or{At: at, Nodes: nodes} }
func andNode(at int, nodes []Node) Node { return &And{At: at, Nodes: nodes} }

// not = "not" Space+ sub / sub
func (p *parser) not(after string) (Node, error) {
	if end, ok := p.unary(p.pos); ok {
		at := p.pos
		p.pos = end
		n, err := p.sub("not")
		if err != nil {
			return nil, err
		}
		return &Not{At: at, Node: n}, nil
	}
	return p.sub(after)
}

// sub = "(" Space* or Space* ")" / expression
func (p *parser) sub(after string) (Node, error) {
	if p.pos < len(p.src) && p.src[p.pos] == '(' {
		open := p.pos
		p.pos = p.skipSpace(p.pos + 1)
		n, err := p.or("(")
		if err != nil {
			return nil, err
		}
		return n, p.close(open)
	}
	return p.expression(after)
}

// close consumes the ")" matching the "(" at open.
func (p *parser) close(open int) error {
	j := p.skipSpace(p.pos)
	if j >= len(p.src) || p.src[j] != ')' {
		return p.trailing(j, fmt.Sprintf(`"and", "or" or ")" to close the "(" at position %d`, open+1))
	}
	p.pos = j + 1
	return nil
}

// expression = field Space* rangeOp Space* literal
//
//	/ field Space* ":" Space* values
//	/ literal (free text)
func (p *parser) expression(after string) (Node, error) {
	start := p.pos
	lit, err := p.literal()
	if err != nil {
		return nil, err
	}
	if !lit.ok {
		e := p.unexpected(start, "a query"+afterText(after))
		if _, ok := p.unary(start); ok {
			e.hint(`write "not (not ...)" to negate a negation, or quote the word`)
		}
		return nil, e
	}
	j := p.skipSpace(p.pos)
	if op, n := p.rangeOp(j); n > 0 {
		if err := checkField(lit); err != nil {
			return nil, err
		}
		k := p.skipSpace(j + n)
		p.pos = k
		val, err := p.literal()
		if err != nil {
			return nil, err
		}
		if !val.ok {
			return nil, p.unexpected(k, fmt.Sprintf("a value after %q", lit.text+" "+op.String()))
		}
		if val.parts != nil {
			return nil, errorf(k, "a range value cannot contain a wildcard, but %q does", val.text).hint(`escape "*" as "\*"`)
		}
		return &Range{At: start, Field: lit.text, Op: op, Value: val.text}, nil
	}
	if j < len(p.src) && p.src[j] == ':' {
		k := p.skipSpace(j + 1)
		if k < len(p.src) && p.src[k] == '{' {
			return nil, errorf(k, "nested field queries (%s:{ ... }) are not supported", lit.text)
		}
		p.pos = k
		f := field{name: lit.text}
		if lit.parts != nil && isLoneWildcard(lit.parts) {
			// "*:*" matches everything; "*:value" would search every field.
			n, err := p.values(f, "", start)
			if err != nil {
				return nil, err
			}
			if _, ok := n.(*Exists); ok {
				return &MatchAll{At: start}, nil
			}
			return nil, errorf(start, "searching every field (*:value) is not supported").hint("name the field")
		}
		if err := checkField(lit); err != nil {
			return nil, err
		}
		return p.values(f, "", start)
	}
	// Free text.
	if lit.parts != nil && isLoneWildcard(lit.parts) {
		return &MatchAll{At: start}, nil
	}
	return &Match{At: start, Value: lit.value()}, nil
}

func checkField(lit literal) error {
	if lit.parts != nil {
		return errorf(lit.start, "wildcards in field names are not supported, but %q has one", lit.text).hint("name the field")
	}
	if lit.text == "" {
		return errorf(lit.start, "expected a field name but found an empty one")
	}
	return nil
}

// field is the field a list of values applies to.
type field struct{ name string }

// values = "(" Space* orValues Space* ")" / value
//
// after is the token before the values, for error messages; "" means the
// colon after the field name. at is the position given to a node made of a
// single value (the field's position); values inside parentheses get their
// own. at < 0 means "the value's own position".
func (p *parser) values(f field, after string, at int) (Node, error) {
	if p.pos < len(p.src) && p.src[p.pos] == '(' {
		open := p.pos
		p.pos = p.skipSpace(p.pos + 1)
		n, err := p.orValues(f, "(")
		if err != nil {
			return nil, err
		}
		return n, p.close(open)
	}
	return p.value(f, after, at)
}

func (p *parser) orValues(f field, after string) (Node, error) {
	return p.chain("or", after, func(a string) (Node, error) { return p.andValues(f, a) }, orNode)
}

func (p *parser) andValues(f field, after string) (Node, error) {
	return p.chain("and", after, func(a string) (Node, error) { return p.notValues(f, a) }, andNode)
}

func (p *parser) notValues(f field, after string) (Node, error) {
	if end, ok := p.unary(p.pos); ok {
		at := p.pos
		p.pos = end
		n, err := p.values(f, "not", -1)
		if err != nil {
			return nil, err
		}
		return &Not{At: at, Node: n}, nil
	}
	return p.values(f, after, -1)
}

// value is one quoted or unquoted value of f: a *Match, or an *Exists for "*".
func (p *parser) value(f field, after string, at int) (Node, error) {
	start := p.pos
	lit, err := p.literal()
	if err != nil {
		return nil, err
	}
	if !lit.ok {
		if after == "" {
			after = f.name + ":"
		}
		if _, ok := p.unary(start); ok {
			return nil, errorf(start, `expected a value after %q but found "not"`, after).hint(`write "not %s:..." to negate, or quote the word`, f.name)
		}
		return nil, p.unexpected(start, fmt.Sprintf("a value after %q", after))
	}
	if at < 0 {
		at = start
	}
	if lit.parts != nil && isLoneWildcard(lit.parts) {
		return &Exists{At: at, Field: f.name}, nil
	}
	return &Match{At: at, Field: f.name, Value: lit.value()}, nil
}

// literal is a quoted or unquoted literal.
type literal struct {
	ok     bool
	start  int
	text   string
	quoted bool
	parts  []string // non-nil when the unquoted literal has wildcards
}

func (l literal) value() Value { return Value{Text: l.text, Quoted: l.quoted, Parts: l.parts} }

func isLoneWildcard(parts []string) bool { return len(parts) == 2 && parts[0] == "" && parts[1] == "" }

// literal parses a quoted or unquoted literal at p.pos. It returns ok false,
// and consumes nothing, when there is none.
func (p *parser) literal() (literal, error) {
	if p.pos < len(p.src) && p.src[p.pos] == '"' {
		return p.quoted()
	}
	return p.unquoted()
}

// quoted = '"' (escape / [^"])* '"'
func (p *parser) quoted() (literal, error) {
	start := p.pos
	// Fast path: no backslash before the closing quote.
	if j := strings.IndexAny(p.src[start+1:], `"\`); j >= 0 && p.src[start+1+j] == '"' {
		p.pos = start + 1 + j + 1
		return literal{ok: true, start: start, text: p.src[start+1 : start+1+j], quoted: true}, nil
	}
	var b []byte
	i := start + 1
	for {
		if i >= len(p.src) {
			return literal{}, errorf(start, `expected a closing " for the quoted string but found the end of the query`)
		}
		c := p.src[i]
		if c == '"' {
			i++
			break
		}
		if c == '\\' && i+1 < len(p.src) {
			switch n := p.src[i+1]; n {
			case 't', 'r', 'n':
				b = append(b, whitespaceEscape(n))
				i += 2
				continue
			case '\\', '"':
				b = append(b, n)
				i += 2
				continue
			case 'u':
				if r, size, ok := p.unicodeEscape(i); ok {
					b = utf8.AppendRune(b, r)
					i += size
					continue
				}
			}
		}
		b = append(b, c) // a backslash that escapes nothing is literal
		i++
	}
	p.pos = i
	return literal{ok: true, start: start, text: string(b), quoted: true}, nil
}

// whitespaceEscape returns the character written \t, \r or \n.
func whitespaceEscape(c byte) byte {
	switch c {
	case 't':
		return '\t'
	case 'r':
		return '\r'
	}
	return '\n'
}

// unquoted = (escape / "*" / !special !keyword .)+, trimmed.
func (p *parser) unquoted() (literal, error) {
	start := p.pos
	// Fast path: no escape and no wildcard, so the literal is a slice of
	// the query.
	i := start
	for i < len(p.src) && !p.keywordAt(i, start) {
		c := p.src[i]
		if c == '\\' || c == '*' {
			break
		}
		if isSpecial(c) {
			break
		}
		_, size := utf8.DecodeRuneInString(p.src[i:])
		i += size
	}
	if i == len(p.src) || p.src[i] != '\\' && p.src[i] != '*' { // a keyword starts with a space or "n"
		if i == start {
			return literal{}, nil
		}
		text := strings.TrimFunc(p.src[start:i], isJSSpace)
		if text == "" {
			return literal{}, errorf(start, "expected a value but found only whitespace")
		}
		p.pos = i
		return literal{ok: true, start: start, text: text}, nil
	}
	var (
		b        []byte
		parts    []string
		wildcard bool
	)
	i = start
	for i < len(p.src) && !p.keywordAt(i, start) {
		c := p.src[i]
		if c == '\\' {
			s, size, err := p.escape(i)
			if err != nil {
				return literal{}, err
			}
			b = append(b, s...)
			i += size
			continue
		}
		if c == '*' {
			parts = append(parts, string(b))
			b = b[:0]
			wildcard = true
			i++
			continue
		}
		if isSpecial(c) {
			break
		}
		_, size := utf8.DecodeRuneInString(p.src[i:])
		b = append(b, p.src[i:i+size]...)
		i += size
	}
	if i == start {
		return literal{}, nil
	}
	p.pos = i
	// Trim like JavaScript's String.prototype.trim, which Kibana applies.
	if !wildcard {
		text := strings.TrimFunc(string(b), isJSSpace)
		if text == "" {
			return literal{}, errorf(start, "expected a value but found only whitespace")
		}
		return literal{ok: true, start: start, text: text}, nil
	}
	parts = append(parts, string(b))
	parts[0] = strings.TrimLeftFunc(parts[0], isJSSpace)
	parts[len(parts)-1] = strings.TrimRightFunc(parts[len(parts)-1], isJSSpace)
	return literal{ok: true, start: start, text: strings.Join(parts, "*"), parts: parts}, nil
}

// escape decodes the backslash escape at i in an unquoted literal.
func (p *parser) escape(i int) (string, int, error) {
	if i+1 >= len(p.src) {
		return "", 0, errorf(i, `expected an escaped character after "\" but found the end of the query`).hint(`write "\\" for a backslash`)
	}
	c := p.src[i+1]
	switch {
	case c == 'n' && p.wordAt(i+1, "not") && !isWordByte(p.src, i+4):
		return p.src[i+1 : i+4], 4, nil // \not: the keyword (see Parse)
	case c == 't' || c == 'r' || c == 'n':
		return string(whitespaceEscape(c)), 2, nil
	case c == 'u':
		if r, size, ok := p.unicodeEscape(i); ok {
			return string(r), size, nil
		}
	case isSpecial(c) || c == '*':
		return string(c), 2, nil
	}
	for _, kw := range [...]string{"or", "and", "not"} {
		if p.wordAt(i+1, kw) {
			return p.src[i+1 : i+1+len(kw)], 1 + len(kw), nil
		}
	}
	_, size := utf8.DecodeRuneInString(p.src[i+1:])
	return "", 0, errorf(i, "unknown escape %q", p.src[i:i+1+size]).hint(`a backslash escapes \ ( ) : < > " * { } and the words and, or, not, or writes \t \r \n \uXXXX; write "\\" for a backslash, or quote the value`)
}

// unicodeEscape decodes \uXXXX at i, joining a UTF-16 surrogate pair written
// as two escapes; a lone surrogate becomes U+FFFD.
func (p *parser) unicodeEscape(i int) (rune, int, bool) {
	hi, ok := p.hex4(i)
	if !ok {
		return 0, 0, false
	}
	r := rune(hi)
	if utf16High(r) {
		if lo, ok := p.hex4(i + 6); ok && utf16Low(rune(lo)) {
			return 0x10000 + (r-0xD800)<<10 + (rune(lo) - 0xDC00), 12, true
		}
	}
	if utf16High(r) || utf16Low(r) {
		return utf8.RuneError, 6, true
	}
	return r, 6, true
}

func utf16High(r rune) bool { return 0xD800 <= r && r < 0xDC00 }
func utf16Low(r rune) bool  { return 0xDC00 <= r && r < 0xE000 }

// hex4 reads "\uXXXX" at i.
func (p *parser) hex4(i int) (int, bool) {
	if i+6 > len(p.src) || p.src[i] != '\\' || p.src[i+1] != 'u' {
		return 0, false
	}
	v := 0
	for _, c := range []byte(p.src[i+2 : i+6]) {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | int(d)
	}
	return v, true
}

// isSpecial reports the characters that end an unquoted literal (the
// wildcard "*" is handled apart).
func isSpecial(c byte) bool {
	switch c {
	case '\\', '(', ')', ':', '<', '>', '"', '{', '}':
		return true
	}
	return false
}

// keywordAt reports whether an unquoted literal that started at start stops
// at i because a keyword begins there: " or ", " and ", or "not " at the start
// of a word.
func (p *parser) keywordAt(i, start int) bool {
	if p.spaceLen(i) > 0 {
		if _, ok := p.binary(i, "or"); ok {
			return true
		}
		_, ok := p.binary(i, "and")
		return ok
	}
	if i == start || p.spaceBefore(i) {
		_, ok := p.unary(i)
		return ok
	}
	return false
}

// binary matches Space+ kw Space+ at i and returns where it ends.
func (p *parser) binary(i int, kw string) (int, bool) {
	j := p.skipSpace(i)
	if j == i || !p.wordAt(j, kw) {
		return 0, false
	}
	k := j + len(kw)
	end := p.skipSpace(k)
	if end == k {
		return 0, false
	}
	return end, true
}

// unary matches "not" Space+ at i and returns where it ends.
func (p *parser) unary(i int) (int, bool) {
	if !p.wordAt(i, "not") {
		return 0, false
	}
	end := p.skipSpace(i + 3)
	if end == i+3 {
		return 0, false
	}
	return end, true
}

// wordAt reports whether src[i:] starts with the lower-case ASCII word kw,
// ignoring ASCII case.
func (p *parser) wordAt(i int, kw string) bool {
	if len(p.src)-i < len(kw) {
		return false
	}
	for k := 0; k < len(kw); k++ {
		c := p.src[i+k]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != kw[k] {
			return false
		}
	}
	return true
}

// isWordByte reports whether s[i] is an ASCII letter or digit or the start of
// a non-ASCII letter or digit.
func isWordByte(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// spaceLen returns the length of the KQL whitespace character at i (space,
// tab, CR, LF, no-break space), or 0.
func (p *parser) spaceLen(i int) int {
	if i >= len(p.src) {
		return 0
	}
	switch p.src[i] {
	case ' ', '\t', '\r', '\n':
		return 1
	case 0xC2:
		if i+1 < len(p.src) && p.src[i+1] == 0xA0 {
			return 2
		}
	}
	return 0
}

func (p *parser) skipSpace(i int) int {
	for {
		n := p.spaceLen(i)
		if n == 0 {
			return i
		}
		i += n
	}
}

func (p *parser) spaceBefore(i int) bool {
	if i == 0 {
		return false
	}
	switch p.src[i-1] {
	case ' ', '\t', '\r', '\n':
		return true
	case 0xA0:
		return i >= 2 && p.src[i-2] == 0xC2
	}
	return false
}

// isSpace reports the KQL whitespace characters.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\r', '\n', '\u00A0':
		return true
	}
	return false
}

// isJSSpace reports the characters JavaScript's trim removes.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', '\u00A0', '\u1680', '\u2028', '\u2029', '\u202F', '\u205F', '\u3000', '\uFEFF':
		return true
	}
	return '\u2000' <= r && r <= '\u200A'
}

func (p *parser) rangeOp(i int) (Op, int) {
	if i >= len(p.src) {
		return 0, 0
	}
	switch c := p.src[i]; c {
	case '<', '>':
		eq := i+1 < len(p.src) && p.src[i+1] == '='
		switch {
		case c == '<' && eq:
			return Lte, 2
		case c == '<':
			return Lt, 1
		case eq:
			return Gte, 2
		default:
			return Gt, 1
		}
	}
	return 0, 0
}

// afterText describes the token before an expected query, if any.
func afterText(after string) string {
	if after == "" {
		return ""
	}
	return fmt.Sprintf(" after %q", after)
}

// unexpected reports that want was expected at i.
func (p *parser) unexpected(i int, want string) *Error {
	return errorf(i, "expected %s but found %s", want, p.describe(i))
}

// trailing reports text at i where a query could have ended, with a hint for
// the usual causes.
func (p *parser) trailing(i int, want string) *Error {
	e := p.unexpected(i, want)
	if i < len(p.src) {
		switch c := p.src[i]; {
		case c == ':' || c == '<' || c == '>' || c == '(' || c == ')' || c == '"' || c == '{' || c == '}' || c == '\\':
			if c != ')' {
				e.hint(`to search for "%c", quote the value or escape it as "\%c"`, c, c)
			}
		default:
			e.hint(`join conditions with "and" or "or"`)
		}
	}
	return e
}

// describe names what is at i for an error message.
func (p *parser) describe(i int) string {
	if i >= len(p.src) {
		return "the end of the query"
	}
	if c := p.src[i]; isSpecial(c) || c == '*' {
		return fmt.Sprintf("%q", string(c))
	}
	j, n := i, 0
	for j < len(p.src) && n < 20 {
		r, size := utf8.DecodeRuneInString(p.src[j:])
		if isSpace(r) || r < utf8.RuneSelf && (isSpecial(byte(r)) || r == '*') {
			break
		}
		j += size
		n++
	}
	return fmt.Sprintf("%q", p.src[i:j])
}
