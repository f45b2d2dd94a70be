package winevent

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
)

// FormatSnare is the format name of Snare's "MSWinEventLog" records.
const FormatSnare = "snare"

// snareMarker is the fixed second token of every Snare record for Windows.
const snareMarker = "MSWinEventLog"

// snareDelimiters are the field delimiters ParseSnare reads. Snare writes a
// tab unless its "delimiter" setting is changed; the others are the
// characters deployments choose instead. The delimiter in use is the byte
// that follows "MSWinEventLog".
const snareDelimiters = "\t|;,^~"

// snareTimeLayout is Snare's DateTime token: ctime(3) form, the sender's
// local time without a zone ("Wed Jan 15 09:12:34 2025"). The day may be
// zero-padded ("Mar 06") or space-padded ("Mar  6").
const snareTimeLayout = "Mon Jan _2 15:04:05 2006"

// The fixed tokens of a Snare record, counted from "MSWinEventLog" (0).
const (
	snareCriticality = iota + 1
	snareLogName
	snareCounter
	snareTime
	snareEventID
	snareSource
	snareUser
	snareSIDType
	snareLogType
	snareComputer
	snareCategory
	snareFixed // number of fixed tokens; the strings follow
)

// ParseSnare reads one Snare for Windows record ("MSWinEventLog" format)
// into a Record. Its layout, one record a line, tokens separated by a tab (or
// by one of | ; , ^ ~ when Snare is configured so):
//
//	[hostname]  MSWinEventLog  criticality  log name  Snare event counter
//	submit time  event id  source  user name  SID type  event log type
//	computer name  category  data string  expanded string
//	[event log counter | MD5 checksum]  [optional key=value fields...]
//
// The leading hostname is present when Snare's syslog header is off; over
// syslog (see NewSyslogBody) the record starts at "MSWinEventLog". The submit
// time is the sender's local time and is read in loc (UTC when nil). The
// description (the expanded string, or the data string when that is the one
// filled) is the message Windows rendered, with its tabs and line ends
// replaced by spaces; Snare carries no EventData, so for the Security events
// in snareLayouts the EventData values are read back from the description's
// "Label: value" lines, in English or Japanese (see snare_labels.go). A value
// that cannot be read faithfully stays absent.
//
// Input that is not UTF-8 is converted as parsers.ToUTF8 does (Snare on a
// Japanese host may send Shift_JIS). Errors wrap parsers.ErrUnparsable.
func ParseSnare(b []byte, loc *time.Location) (*Record, error) {
	text, _, err := parsers.ToUTF8(b)
	if err != nil {
		return nil, errorf("snare: %v", err)
	}
	text = bytes.TrimRight(text, "\r\n\x00")
	s := string(text)

	start, err := snareStart(s)
	if err != nil {
		return nil, err
	}
	host := ""
	if start > 0 {
		host = s[:start-1]
	}
	s = s[start:]
	delim := s[len(snareMarker)]
	tok := strings.SplitN(s, string(delim), snareFixed+1)
	if len(tok) < snareFixed {
		return nil, errorf("snare: %d fields, want at least %d (MSWinEventLog to category) separated by %s", len(tok), snareFixed, delimName(delim))
	}
	for i := 1; i < snareFixed; i++ {
		tok[i] = strings.TrimSpace(tok[i])
	}

	rec := &Record{
		Channel:      tok[snareLogName],
		ProviderName: tok[snareSource],
		Computer:     tok[snareComputer],
	}
	if rec.Computer == "" || rec.Computer == "N/A" {
		rec.Computer = host
	}
	id, err := strconv.ParseUint(tok[snareEventID], 10, 32)
	if err != nil {
		return nil, errorf("snare: event id %q is not a number", tok[snareEventID])
	}
	rec.EventID = uint32(id)
	if loc == nil {
		loc = time.UTC
	}
	rec.TimeCreated, err = time.ParseInLocation(snareTimeLayout, tok[snareTime], loc)
	if err != nil {
		return nil, errorf("snare: submit time %q is not of the form %q", tok[snareTime], "Wed Jan 15 09:12:34 2025")
	}
	if y := rec.TimeCreated.UTC().Year(); y < 1 || y > 9999 {
		// Year 0, or a year moved out of range by the zone: a JSON
		// document (and Elasticsearch) cannot hold it.
		return nil, errorf("snare: submit time %q is out of range", tok[snareTime])
	}
	rec.Level, rec.Keywords = snareEventType(tok[snareLogType])
	if c := tok[snareCategory]; c != "None" && c != "N/A" {
		rec.TaskText = c
	}
	if len(tok) > snareFixed {
		rec.Message = snareDescription(tok[snareFixed], delim)
	}
	if rec.Message != "" {
		rec.EventData = snareEventData(rec.EventID, rec.Message)
	}
	return rec, nil
}

// snareStart returns the offset of "MSWinEventLog" in s: 0, or just past a
// leading hostname and delimiter.
func snareStart(s string) (int, error) {
	i := strings.Index(s, snareMarker)
	switch {
	case i < 0:
		return 0, errorf("snare: no %q token: not a Snare record", snareMarker)
	case len(s) == i+len(snareMarker):
		return 0, errorf("snare: nothing after %q", snareMarker)
	}
	d := s[i+len(snareMarker)]
	if strings.IndexByte(snareDelimiters, d) < 0 {
		return 0, errorf("snare: %q is followed by %q, not a delimiter Snare writes (tab, |, ;, comma, ^, ~)", snareMarker, d)
	}
	if i == 0 {
		return 0, nil
	}
	host := s[:i-1]
	if s[i-1] != d || host == "" || strings.ContainsAny(host, " \t\r\n"+snareDelimiters) {
		return 0, errorf("snare: record does not start with %q or with a hostname and %q", snareMarker, snareMarker)
	}
	return i, nil
}

func delimName(d byte) string {
	if d == '\t' {
		return "tabs"
	}
	return strconv.QuoteRune(rune(d))
}

// snareEventType maps the event log type token to the level and the audit
// keyword bit that Windows records for it (Snare writes its own English
// names; the Japanese ones are accepted for agents that localise them).
func snareEventType(t string) (level uint8, keywords uint64) {
	switch t {
	case "Success Audit", "Audit Success", "成功の監査":
		return 0, keywordAuditSuccess
	case "Failure Audit", "Audit Failure", "失敗の監査":
		return 0, keywordAuditFailure
	case "Critical":
		return 1, 0
	case "Error":
		return 2, 0
	case "Warning":
		return 3, 0
	case "Information":
		return 4, 0
	case "Verbose":
		return 5, 0
	}
	return 0, 0
}

// snareDescription returns the rendered message from the tokens after the
// category: the data string, the expanded string, then optionally the event
// log counter (or, in older agents, an MD5 checksum) and key=value fields.
// With a delimiter other than tab the description may itself contain the
// delimiter, so the trailing tokens are taken off from the right.
func snareDescription(rest string, delim byte) string {
	d := string(delim)
	// Optional key=value fields come after a counter or checksum only.
	trimmed := rest
	for {
		i := strings.LastIndex(trimmed, d)
		if i < 0 || !isOptionalField(trimmed[i+1:]) {
			break
		}
		trimmed = trimmed[:i]
	}
	if i := strings.LastIndex(trimmed, d); i >= 0 && isCounterOrChecksum(trimmed[i+1:]) {
		rest = trimmed[:i]
	} else if i := strings.LastIndex(rest, d); i >= 0 && isCounterOrChecksum(rest[i+1:]) {
		rest = rest[:i]
	}
	var desc string
	switch {
	case strings.HasPrefix(rest, d): // empty data string, as Snare writes it for Security events
		desc = rest[1:]
	case delim == '\t':
		data, expanded, _ := strings.Cut(rest, d)
		desc = expanded
		if strings.TrimSpace(desc) == "" {
			desc = data
		}
	default:
		desc = rest
	}
	return strings.TrimSpace(desc)
}

// isCounterOrChecksum reports a decimal counter or a 32-digit hex MD5 sum.
func isCounterOrChecksum(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	digits := true
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			digits = false
			break
		}
	}
	if digits {
		return true
	}
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// isOptionalField reports a Snare optional field such as "EventSourceId=AU_123".
func isOptionalField(s string) bool {
	k, v, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok || k == "" || strings.ContainsAny(v, " ") {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// SnareParser parses Snare "MSWinEventLog" records into ECS events. It is
// safe for concurrent use.
type SnareParser struct {
	loc *time.Location
}

var _ parsers.Parser = (*SnareParser)(nil)

// NewSnareParser returns a parser for Snare records whose submit times (the
// sender's local time, without a zone) are read in loc; nil means UTC.
func NewSnareParser(loc *time.Location) *SnareParser {
	if loc == nil {
		loc = time.UTC
	}
	return &SnareParser{loc: loc}
}

// Parse reads raw with ParseSnare, maps the record with ToECS and keeps raw
// (as UTF-8) as event.original. Errors wrap parsers.ErrUnparsable.
func (p *SnareParser) Parse(raw []byte, _ parsers.Meta, e *event.Event) error {
	text, _, err := parsers.ToUTF8(raw)
	if err != nil {
		return errorf("snare: %v", err)
	}
	rec, err := ParseSnare(text, p.loc)
	if err != nil {
		return err
	}
	if err := ToECS(*rec, e); err != nil {
		return err
	}
	e.Event.Original = string(text) // a copy: raw is not retained
	return nil
}
