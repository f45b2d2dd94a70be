package kql

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// String prints a node as canonical KQL: lower-case keywords, single spaces,
// parentheses only where precedence needs them, value lists expanded
// ("user.name:a or user.name:b"), unquoted values escaped and range values
// quoted when they contain anything but plain characters. Parse(String(n))
// gives n back, positions aside.
func String(n Node) string {
	var b strings.Builder
	writeNode(&b, n)
	return b.String()
}

func (n *And) String() string      { return String(n) }
func (n *Or) String() string       { return String(n) }
func (n *Not) String() string      { return String(n) }
func (n *MatchAll) String() string { return String(n) }
func (n *Match) String() string    { return String(n) }
func (n *Range) String() string    { return String(n) }
func (n *Exists) String() string   { return String(n) }

func writeNode(b *strings.Builder, n Node) {
	switch n := n.(type) {
	case *And:
		if len(n.Nodes) == 0 {
			b.WriteString("*")
			return
		}
		for i, c := range n.Nodes {
			if i > 0 {
				b.WriteString(" and ")
			}
			writeGroup(b, c, isAndOr(c))
		}
	case *Or:
		if len(n.Nodes) == 0 {
			b.WriteString("not *")
			return
		}
		for i, c := range n.Nodes {
			if i > 0 {
				b.WriteString(" or ")
			}
			_, or := c.(*Or)
			writeGroup(b, c, or)
		}
	case *Not:
		b.WriteString("not ")
		_, not := n.Node.(*Not)
		writeGroup(b, n.Node, not || isAndOr(n.Node))
	case *Match:
		if n.Field != "" {
			writeField(b, n.Field)
			b.WriteByte(':')
		}
		writeValue(b, n.Value)
	case *Exists:
		writeField(b, n.Field)
		b.WriteString(":*")
	case *Range:
		writeField(b, n.Field)
		fmt.Fprintf(b, " %s ", n.Op)
		if plain(n.Value) {
			b.WriteString(n.Value)
		} else {
			writeQuoted(b, n.Value)
		}
	default: // *MatchAll, nil
		b.WriteString("*")
	}
}

func isAndOr(n Node) bool {
	switch n.(type) {
	case *And, *Or:
		return true
	}
	return false
}

func writeGroup(b *strings.Builder, n Node, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	writeNode(b, n)
	if paren {
		b.WriteByte(')')
	}
}

func writeField(b *strings.Builder, name string) {
	if name == "" || strings.TrimFunc(name, isJSSpace) != name {
		writeQuoted(b, name)
		return
	}
	writeUnquoted(b, []string{name})
}

func writeValue(b *strings.Builder, v Value) {
	switch {
	case v.Quoted:
		writeQuoted(b, v.Text)
	case v.Wildcard():
		writeUnquoted(b, v.Parts)
	case v.Text == "" || strings.TrimFunc(v.Text, isJSSpace) != v.Text:
		// Trimming would change it: only a quoted string keeps it (a
		// hand-built tree; Parse never makes such a value).
		writeQuoted(b, v.Text)
	default:
		writeUnquoted(b, []string{v.Text})
	}
}

// writeQuoted writes s as a quoted string.
func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7F:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size]) // also keeps invalid UTF-8 bytes as they are
		}
		i += size
	}
	b.WriteByte('"')
}

// writeUnquoted writes the literal parts of an unquoted value with a wildcard
// between each two, escaping what Parse would otherwise read as syntax.
func writeUnquoted(b *strings.Builder, parts []string) {
	for k, s := range parts {
		if k > 0 {
			b.WriteByte('*')
		}
		first, last := k == 0, k == len(parts)-1
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			// A keyword at a word boundary: escape it.
			if (i == 0 && first || i > 0 && isSpaceByteBefore(s, i)) && keywordWord(s[i:], last) {
				b.WriteByte('\\')
			}
			switch {
			case r < utf8.RuneSelf && (isSpecial(byte(r)) || r == '*'):
				b.WriteByte('\\')
				b.WriteRune(r)
			case r == '\t':
				b.WriteString(`\t`)
			case r == '\r':
				b.WriteString(`\r`)
			case r == '\n':
				if hasWordPrefix(s[i+1:], "ot") {
					b.WriteString(`\u000a`) // "\not" would read as the escaped keyword
				} else {
					b.WriteString(`\n`)
				}
			case r < 0x20 || r == 0x7F:
				fmt.Fprintf(b, `\u%04x`, r)
			default:
				b.WriteString(s[i : i+size])
			}
			i += size
		}
	}
}

// keywordWord reports whether s starts with and, or or not (any case)
// followed by KQL whitespace, or by the end of the value when atEnd.
func keywordWord(s string, atEnd bool) bool {
	for _, kw := range [...]string{"and", "or", "not"} {
		if !(&parser{src: s}).wordAt(0, kw) {
			continue
		}
		rest := s[len(kw):]
		if rest == "" {
			return atEnd
		}
		r, _ := utf8.DecodeRuneInString(rest)
		if isSpace(r) {
			return true
		}
	}
	return false
}

// hasWordPrefix reports whether s starts with the ASCII word w followed by
// something other than a letter or digit.
func hasWordPrefix(s, w string) bool {
	return strings.HasPrefix(s, w) && !isWordByte(s, len(w))
}

func isSpaceByteBefore(s string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return isSpace(r)
}

// plain reports whether a range value can be written unquoted as it is.
func plain(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r < utf8.RuneSelf && (isSpecial(byte(r)) || r == '*') || r < 0x20 || r == 0x7F || isSpace(r) || isJSSpace(r) || r == utf8.RuneError {
			return false
		}
		i += size
	}
	return !keywordWord(s, true)
}
