package syslog

import (
	"strings"
	"time"

	"github.com/influxdata/go-syslog/v3/rfc5424"
)

// parse5424 reads an RFC 5424 message: line is the trimmed input, s the same
// text as a string, and s[priLen:] starts with the version "1 ". go-syslog
// reads it when it accepts it whole; scan5424 reads the rest.
func (p *Parser) parse5424(ms *machines, line []byte, s string, priLen int, ref time.Time) message {
	res, err := ms.m5424.Parse(line)
	if err == nil && res != nil {
		return accept5424(res.(*rfc5424.SyslogMessage))
	}
	return p.scan5424(s[priLen:])
}

func accept5424(r *rfc5424.SyslogMessage) (m message) {
	m.version = "1"
	if r.Timestamp != nil {
		m.ts = *r.Timestamp
	}
	m.hostname = deref(r.Hostname)
	m.appname = deref(r.Appname)
	m.procid = deref(r.ProcID)
	m.msgid = deref(r.MsgID)
	if r.StructuredData != nil {
		m.sdMap = *r.StructuredData
	}
	m.text = trimBOM(deref(r.Message))
	return m
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// scan5424 reads what follows the PRI of an RFC 5424 message leniently, for
// what go-syslog rejects: fractions of more than six digits, hostnames and
// other header fields outside printable ASCII, structured-data values with
// backslashes before other characters, repeated SD-IDs, a message cut short
// in its header. Header fields that are missing are left empty; structured
// data that does not close is left in the message text, which always keeps
// what could not be read.
func (p *Parser) scan5424(s string) (m message) {
	m.version = "1"
	s = s[2:]         // "1 "
	var hdr [5]string // TIMESTAMP HOSTNAME APP-NAME PROCID MSGID
	for i := range hdr {
		if s == "" {
			break
		}
		hdr[i], s, _ = strings.Cut(s, " ")
	}
	if t, _, ok := parseISOStamp(hdr[0], p.loc); ok {
		m.ts = t
	}
	m.hostname = nilValue(hdr[1])
	m.appname = nilValue(hdr[2])
	m.procid = nilValue(hdr[3])
	m.msgid = nilValue(hdr[4])
	switch {
	case strings.HasPrefix(s, "-"):
		s = s[1:]
	case strings.HasPrefix(s, "["):
		if sd, rest, ok := parseSD(s); ok {
			m.sd, s = sd, rest
		}
	}
	m.text = trimBOM(strings.TrimPrefix(s, " "))
	return m
}

// nilValue maps the RFC 5424 NILVALUE "-" to "".
func nilValue(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// parseSD reads STRUCTURED-DATA, one or more [SD-ID PARAM="VALUE"...]
// elements, at the start of s. In values, \" \\ and \] stand for the
// character after the backslash; any other backslash is kept as it is, as
// RFC 5424 6.3.3 asks. ok is false when an element does not close.
func parseSD(s string) (params []sdParam, rest string, ok bool) {
	for len(s) > 0 && s[0] == '[' {
		i := 1 + strings.IndexFunc(s[1:], func(r rune) bool { return r == ' ' || r == ']' || r == '=' || r == '"' })
		if i <= 1 || s[i] == '=' || s[i] == '"' {
			return nil, s, false
		}
		id := s[1:i]
		for {
			if i >= len(s) {
				return nil, s, false
			}
			if s[i] == ']' {
				i++
				break
			}
			if s[i] != ' ' {
				return nil, s, false
			}
			i++
			eq := strings.IndexByte(s[i:], '=')
			if eq <= 0 || i+eq+1 >= len(s) || s[i+eq+1] != '"' || strings.ContainsAny(s[i:i+eq], " ]\"") {
				return nil, s, false
			}
			name := s[i : i+eq]
			i += eq + 2
			value, n, closed := sdValue(s[i:])
			if !closed {
				return nil, s, false
			}
			params = append(params, sdParam{id: id, name: name, value: value})
			i += n
		}
		s = s[i:]
	}
	return params, s, true
}

// sdValue reads a PARAM-VALUE up to its closing quote, which s must hold,
// and returns the value unescaped and the bytes read, closing quote included.
func sdValue(s string) (value string, n int, ok bool) {
	escaped := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\' || s[i+1] == ']') {
				escaped = true
				i++
			}
		case '"':
			if !escaped {
				return s[:i], i + 1, true
			}
			return unescapeSD(s[:i]), i + 1, true
		}
	}
	return "", 0, false
}

func unescapeSD(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\' || s[i+1] == ']') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
