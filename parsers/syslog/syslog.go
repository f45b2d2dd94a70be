// Package syslog parses syslog messages, RFC 5424 and RFC 3164 (BSD) alike,
// into ECS events.
//
// The format is detected per message: "<PRI>1 " starts RFC 5424, anything
// else is read as RFC 3164, including messages without a PRI, which get the
// configured default priority as rsyslog gives them. Both formats go first
// through github.com/influxdata/go-syslog/v3 in best-effort mode; when it
// rejects a message, or reads it only in part, a lenient scanner of this
// package reads it instead, so that the variants real devices send (no
// hostname, fractional or year-bearing stamps, tabs in the text, nine-digit
// fractions, loose structured-data escapes, non-ASCII hostnames) still give
// a full event. Text in Shift_JIS, EUC-JP or ISO-2022-JP is converted to
// UTF-8 first (see parsers.ToUTF8).
//
// Field mapping follows ECS and Filebeat's syslog processor: log.syslog.*
// for the syslog header, host.* from the syslog hostname (or the sending
// peer), process.* from the app-name or tag, structured data under
// log.syslog.structured_data.<SD-ID>.<PARAM>, times in UTC.
package syslog

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	gosyslog "github.com/influxdata/go-syslog/v3"
	"github.com/influxdata/go-syslog/v3/rfc3164"
	"github.com/influxdata/go-syslog/v3/rfc5424"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
)

// Parser parses syslog messages. It is safe for concurrent use.
type Parser struct {
	loc        *time.Location
	defaultPRI int
	tolerance  time.Duration
	now        func() time.Time // receive time for records the edge did not stamp
	bodies     []BodyParser     // readers of bodies in other formats (WithBodyParsers)

	// machines holds *machines: go-syslog's machines are not safe for
	// concurrent use, and its parsers serialise every call on one mutex.
	machines sync.Pool
}

var _ parsers.Parser = (*Parser)(nil)

// machines is one goroutine's go-syslog machines and scratch space.
type machines struct {
	m3164 gosyslog.Machine
	m5424 gosyslog.Machine
	buf   []byte
	// sdKeys caches the field names of structured-data parameters: the
	// same few SD-ID and PARAM-NAME pairs recur in every message of a
	// source, and building "log.syslog.structured_data.<id>.<name>" is an
	// allocation per parameter.
	sdKeys map[sdKey]string
}

type sdKey struct{ id, name string }

// maxSDKeys bounds sdKeys, so that senders inventing names cannot grow it.
const maxSDKeys = 4096

// sdField returns the event field name of a structured-data parameter.
func (ms *machines) sdField(id, name string) string {
	if k, ok := ms.sdKeys[sdKey{id, name}]; ok {
		return k
	}
	k := "log.syslog.structured_data." + id + "." + name
	if len(ms.sdKeys) < maxSDKeys {
		// Copy the map key: id and name may be slices of a message.
		ms.sdKeys[sdKey{strings.Clone(id), strings.Clone(name)}] = k
	}
	return k
}

// New returns a parser for cfg, which it validates after putting the
// defaults in place of zero values, configured further by opts.
func New(cfg Config, opts ...Option) (*Parser, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	loc, err := cfg.location()
	if err != nil {
		return nil, err
	}
	p := &Parser{
		loc:        loc,
		defaultPRI: cfg.DefaultPriority,
		tolerance:  cfg.FutureTolerance,
		now:        time.Now,
	}
	for _, o := range opts {
		o(p)
	}
	p.machines.New = func() any {
		return &machines{
			// WithYear and WithTimezone are left out on purpose: WithYear
			// adds years to a year-0 date, which turns 29 February into 1
			// March, and WithTimezone converts the UTC reading into the zone
			// instead of reading the wall clock in it. The year and zone are
			// settled by stamp.resolve instead.
			m3164:  rfc3164.NewMachine(rfc3164.WithBestEffort(), rfc3164.WithRFC3339()),
			m5424:  rfc5424.NewMachine(rfc5424.WithBestEffort()),
			sdKeys: make(map[sdKey]string),
		}
	}
	return p, nil
}

// message is a parsed syslog message, before it becomes an event.
type message struct {
	priority int
	ts       time.Time // zero when the message has none
	hostname string
	appname  string
	procid   string
	msgid    string
	version  string
	text     string
	sd       []sdParam                    // from the lenient scanner
	sdMap    map[string]map[string]string // from go-syslog
}

// sdParam is one RFC 5424 structured-data parameter.
type sdParam struct{ id, name, value string }

// Parse implements parsers.Parser.
func (p *Parser) Parse(raw []byte, meta parsers.Meta, e *event.Event) error {
	if meta.Truncated > 0 {
		return unparsable("message of %d bytes exceeds the listener's max_message_size; the first %d bytes were kept", meta.Truncated, len(raw))
	}
	if len(raw) == 0 {
		return unparsable("empty message")
	}
	text, _, err := parsers.ToUTF8(raw)
	if err != nil {
		return fmt.Errorf("syslog: %w", err)
	}
	start, end := trimLine(text)
	line := text[start:end]
	if isBlank(line) {
		return unparsable("empty message: %d bytes of white space, line ends or NULs", len(raw))
	}
	pri, priLen, hasPRI, err := parsePRI(line)
	if err != nil {
		return err
	}
	if err := checkControls(line); err != nil {
		return err
	}
	if !hasPRI {
		if isControl(line[0]) {
			return unparsable("no PRI, and the message starts with control character 0x%02x", line[0])
		}
		pri = p.defaultPRI
	} else if isBlank(line[priLen:]) {
		return unparsable("nothing after the PRI <%d>", pri)
	}

	// The event keeps one copy of the text; the lenient scanners slice it.
	original := string(text)
	s := original[start:end]
	ref := meta.Received
	if ref.IsZero() {
		ref = p.now()
	}

	ms := p.machines.Get().(*machines)
	var m message
	if hasPRI && len(line) > priLen+1 && line[priLen] == '1' && line[priLen+1] == ' ' {
		m = p.parse5424(ms, line, s, priLen, ref)
	} else {
		m = p.parse3164(ms, line, s, priLen, hasPRI, ref)
	}
	m.priority = pri
	if !m.ts.IsZero() && !storable(m.ts) {
		m.ts = time.Time{}
	}
	if bp := p.bodyParser(m.text); bp != nil {
		p.fillBody(bp, e, &m, original, meta.Peer, ref, ms)
	} else {
		p.fill(e, &m, original, meta.Peer, ref, ms)
	}
	p.machines.Put(ms)
	return nil
}

// parts holds the field sets an event points to, so that one allocation
// serves them all.
type parts struct {
	log      event.Log
	sys      event.Syslog
	fac, sev event.Code
	pri      int64
	host     event.Host
	proc     event.Process
	ip       [1]string
}

func (p *Parser) fill(e *event.Event, m *message, original, peer string, ref time.Time, ms *machines) {
	fac, sev := m.priority>>3, m.priority&7
	x := &parts{pri: int64(m.priority)}
	x.fac = event.Code{Code: int64(fac), Name: facilityNames[fac]}
	x.sev = event.Code{Code: int64(sev), Name: severityNames[sev]}
	x.sys = event.Syslog{
		Facility: &x.fac,
		Severity: &x.sev,
		Priority: &x.pri,
		Hostname: m.hostname,
		Appname:  m.appname,
		Procid:   m.procid,
		MsgID:    m.msgid,
		Version:  m.version,
	}
	x.log = event.Log{Level: levelNames[sev], Syslog: &x.sys}
	e.Log = &x.log

	if m.ts.IsZero() {
		e.Timestamp = ref.UTC()
	} else {
		e.Timestamp = m.ts.UTC()
	}
	e.Message = m.text
	e.Event.Kind = "event"
	e.Event.Dataset = "syslog"
	e.Event.Module = "syslog"
	sevCode := int64(sev)
	e.Event.Severity = &sevCode
	e.Event.Original = original

	host := m.hostname
	if host == "" {
		host = peerHost(peer)
	}
	if host != "" {
		x.host = event.Host{Name: host, Hostname: host}
		if isIP(host) {
			x.ip[0] = host
			x.host.IP = x.ip[:]
		}
		e.Host = &x.host
	}
	if m.appname != "" || m.procid != "" {
		x.proc.Name = m.appname
		x.proc.PID = pid(m.procid)
		if x.proc != (event.Process{}) {
			e.Process = &x.proc
		}
	}

	if n := len(m.sd) + len(m.sdMap); n > 0 {
		if e.Fields == nil {
			e.Fields = make(map[string]any, n)
		}
		for _, sp := range m.sd {
			e.Fields[ms.sdField(sp.id, sp.name)] = sp.value
		}
		for id, params := range m.sdMap {
			for name, value := range params {
				e.Fields[ms.sdField(id, name)] = value
			}
		}
	}
}

// isIP reports whether s is an IP address without a zone. It rules out
// hostnames before netip.ParseAddr, which allocates an error for them.
func isIP(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':') {
			return false
		}
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// pid returns procid as a process id, or 0 when it is not a positive
// decimal number that fits.
func pid(procid string) int64 {
	if len(procid) == 0 || len(procid) > 18 {
		return 0
	}
	var n int64
	for i := 0; i < len(procid); i++ {
		c := procid[i]
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// peerHost returns the host part of the sender address "host:port".
func peerHost(peer string) string {
	if h, _, err := net.SplitHostPort(peer); err == nil {
		return h
	}
	return peer
}

// trimBOM drops the UTF-8 byte order mark RFC 5424 allows before MSG.
func trimBOM(s string) string {
	if len(s) >= 3 && s[:3] == bom {
		return s[3:]
	}
	return s
}

// suffixOf reports whether s is the tail of b.
func suffixOf(s string, b []byte) bool {
	return len(s) <= len(b) && string(b[len(b)-len(s):]) == s
}

var colonSpace = []byte(": ")
