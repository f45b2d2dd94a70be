package syslog

import (
	"bytes"
	"strings"
	"time"

	"github.com/influxdata/go-syslog/v3/rfc3164"
)

// parse3164 reads an RFC 3164 message: line is the trimmed input and s the
// same text as a string; s[priLen:] follows the PRI (priLen is 0 without
// one). go-syslog reads it when it can read it whole; scan3164 reads the rest.
func (p *Parser) parse3164(ms *machines, line []byte, s string, priLen int, hasPRI bool, ref time.Time) message {
	in := line
	if !hasPRI {
		// go-syslog needs a PRI; the configured default replaces this one.
		ms.buf = append(append(ms.buf[:0], "<13>"...), line...)
		in = ms.buf
	}
	res, err := ms.m3164.Parse(in)
	if err == nil && res != nil {
		if m, ok := p.accept3164(res.(*rfc3164.SyslogMessage), line, priLen, ref); ok {
			return m
		}
	}
	return p.scan3164(s[priLen:], ref)
}

// accept3164 takes go-syslog's reading when it is whole and agrees with the
// rules of scan3164; otherwise scan3164 reads the message. go-syslog reports
// success with the message text dropped when the text holds a tab or a line
// feed; reads a tag-looking first word as the hostname when the hostname is
// missing; takes Cisco's "%FAC-6-CODE:" and sequence numbers for tags; takes
// no tag longer than 32 bytes or with non-ASCII text; and reads "tag:text"
// and "tag[1]x: text" with the tag both split off and left in the text.
// FuzzScannerAgreesWithGoSyslog holds the two readers to one result.
func (p *Parser) accept3164(r *rfc3164.SyslogMessage, line []byte, priLen int, ref time.Time) (m message, ok bool) {
	if r.Timestamp == nil || r.Message == nil || !suffixOf(*r.Message, line) {
		return m, false
	}
	head := line[:len(line)-len(*r.Message)]
	if r.Hostname != nil {
		if tagLike(*r.Hostname) {
			return m, false
		}
		m.hostname = *r.Hostname
	}
	if r.Appname == nil {
		// go-syslog takes ASCII tags of up to 32 bytes; scan3164 also
		// takes longer ones and ones with non-ASCII text ("監査[12]: ").
		if _, _, _, ok := splitTag(*r.Message, false); ok || strings.HasPrefix(*r.Message, ": ") {
			return m, false
		}
	} else {
		if r.ProcID != nil {
			m.procid = *r.ProcID
		}
		if !validTag(*r.Appname, false) || strings.ContainsAny(m.procid, "[]") || !endsWithTag(head, *r.Appname, m.procid) {
			return m, false
		}
		m.appname = *r.Appname
	}
	ts := *r.Timestamp
	if c := line[priLen]; c >= '0' && c <= '9' { // RFC 3339, zoned
		m.ts = ts
	} else if t, ok := fromStamp(ts).resolve(p.loc, ref, p.tolerance); ok {
		m.ts = t
	}
	m.text = trimBOM(*r.Message)
	return m, true
}

// endsWithTag reports whether head, the message up to its text, ends with
// " TAG: " or " TAG[PID]: " (go-syslog leaves PID out when it is "-").
func endsWithTag(head []byte, tag, pid string) bool {
	h, ok := bytes.CutSuffix(head, colonSpace)
	if !ok {
		return false
	}
	if c, ok := bytes.CutSuffix(h, []byte{']'}); ok {
		i := bytes.LastIndexByte(c, '[')
		if i < 0 {
			return false
		}
		if got := string(c[i+1:]); got != pid && !(pid == "" && got == "-") {
			return false
		}
		h = c[:i]
	} else if pid != "" {
		return false
	}
	return len(h) > len(tag) && h[len(h)-len(tag)-1] == ' ' && string(h[len(h)-len(tag):]) == tag
}

// scan3164 reads what follows the PRI of an RFC 3164 message leniently:
//
//	[STAMP[:] [HOSTNAME ][TAG[[PID]]: ]]MSG
//
// STAMP is any form parseBSDStamp or parseISOStamp accepts. The hostname is
// taken only after a stamp, and only when the word there does not look like
// a tag ("sshd[12]:"): syslogd writing to a local socket leaves it out.
// Without a stamp nothing tells a hostname from the text, so none is taken,
// and a tag only when it starts with a letter (not Cisco's "123: " sequence
// numbers or FortiGate's "date=...").
func (p *Parser) scan3164(s string, ref time.Time) (m message) {
	stamped := false
	if st, n, ok := parseBSDStamp(s); ok && (n == len(s) || s[n] == ' ' || s[n] == ':') {
		stamped = true
		s = s[n:]
		if t, ok := st.resolve(p.loc, ref, p.tolerance); ok {
			m.ts = t
		}
	} else if len(s) > 0 && s[0] >= '0' && s[0] <= '9' {
		if t, n, ok := parseISOStamp(s, p.loc); ok {
			stamped = true
			s = s[n:]
			m.ts = t
		}
	}
	if stamped {
		s = strings.TrimPrefix(s, ":") // "Jan 15 2024 10:00:00: %ASA-..."
		s = strings.TrimLeft(s, " ")
		word, rest, _ := strings.Cut(s, " ")
		if word != "" && !tagLike(word) {
			if word != "-" {
				m.hostname = word
			}
			s = rest
			s = strings.TrimPrefix(s, ": ") // "asa01 : %ASA-..."
		}
	}
	if name, pid, rest, ok := splitTag(s, !stamped); ok {
		m.appname, m.procid, s = name, pid, rest
	}
	m.text = trimBOM(s)
	return m
}

// tagLike reports a word that is a tag, not a hostname: "sshd:" or
// "sshd[123]:", but not an IPv6 address such as "2001:db8::".
func tagLike(w string) bool {
	return (strings.HasSuffix(w, ":") || strings.IndexByte(w, '[') >= 0) && !isIP(w)
}

// splitTag reads "TAG: " or "TAG[PID]: " at the start of s (the colon may
// also end s). strict asks that TAG start with a letter.
func splitTag(s string, strict bool) (name, pid, rest string, ok bool) {
	i := 0
	for i < len(s) && i <= maxTag && tagByte(s[i]) {
		i++
	}
	if !validTag(s[:i], strict) {
		return "", "", s, false
	}
	name = s[:i]
	if i < len(s) && s[i] == '[' {
		j := strings.IndexByte(s[i+1:], ']')
		if j < 0 {
			return "", "", s, false
		}
		pid = s[i+1 : i+1+j]
		i += j + 2
	}
	switch {
	case i == len(s)-1 && s[i] == ':':
		return name, pid, "", true
	case i+1 < len(s) && s[i] == ':' && s[i+1] == ' ':
		return name, pid, s[i+2:], true
	}
	return "", "", s, false
}

// maxTag is the longest tag taken, in bytes. RFC 3164 4.1.3 says 32
// characters, but longer program names are common; 48 is RFC 5424's
// APP-NAME limit.
const maxTag = 48

// tagByte reports a byte allowed in a tag: printable ASCII except space,
// colon and brackets, or part of a non-ASCII UTF-8 character (Japanese
// program names).
func tagByte(c byte) bool {
	return c > ' ' && c != ':' && c != '[' && c != ']' && c != 0x7f
}

// validTag reports whether w can be a tag (a program name): 1 to maxTag tag
// bytes, not all digits (Cisco sequence numbers), not starting with '%'
// (Cisco message codes). strict asks for a letter first.
func validTag(w string, strict bool) bool {
	if len(w) == 0 || len(w) > maxTag || w[0] == '%' {
		return false
	}
	if strict && !(w[0] >= 'a' && w[0] <= 'z' || w[0] >= 'A' && w[0] <= 'Z' || w[0] >= 0x80) {
		return false
	}
	digitsOnly := true
	for i := 0; i < len(w); i++ {
		if !tagByte(w[i]) {
			return false
		}
		if w[i] < '0' || w[i] > '9' {
			digitsOnly = false
		}
	}
	return !digitsOnly
}
