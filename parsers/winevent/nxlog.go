package winevent

import (
	"strconv"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
)

// FormatNXLog is the format name of NXLog's JSON for Windows events
// (im_msvistalog records written with xm_json's to_json()).
const FormatNXLog = "nxlog"

// DefaultNXLogLocation is the zone of EventTime values written without one:
// Japan Standard Time (UTC+9, no daylight saving time), as the senders
// Mamori is deployed for are set.
var DefaultNXLogLocation = time.FixedZone("JST", 9*60*60)

// NXLogParser parses NXLog JSON records of Windows events: one flat object
// per event, with the System properties under NXLog's names (EventTime,
// Hostname, EventID, SourceName, Keywords...) and every EventData field at
// the top level beside them. It reads them into a Record and maps that with
// ToECS, as for Event XML. Safe for concurrent use.
//
// EventTime carries a zone from NXLog Agent's default DateFormat
// ("2025-01-15T09:12:34.567890+09:00") and from DateFormat ...UTC
// ("...Z"), but NXLog Community Edition writes the sender's local time with
// no zone ("2025-01-15 09:12:34"). Such times are read in Location, which
// the configuration sets to the senders' zone; nil means
// DefaultNXLogLocation. The receive time is not used to guess the zone:
// NXLog buffers events on disk while the network is down and sends them
// hours later, and an offset guessed from such a delay would be wrong.
type NXLogParser struct {
	// Location is the zone of EventTime values without one; nil is
	// DefaultNXLogLocation.
	Location *time.Location
}

var _ parsers.Parser = (*NXLogParser)(nil)

// NewNXLogParser returns a parser for NXLog JSON that reads times without
// a zone in DefaultNXLogLocation.
func NewNXLogParser() *NXLogParser { return &NXLogParser{} }

// Parse reads raw with ParseNXLogIn's rules, maps it with ToECS, adds what
// NXLog set beyond the Record and keeps raw as event.original. Errors wrap
// parsers.ErrUnparsable.
func (p *NXLogParser) Parse(raw []byte, _ parsers.Meta, e *event.Event) error {
	b, err := toUTF8(raw)
	if err != nil {
		return withFormat("nxlog", err)
	}
	text := string(b) // a copy: raw is not retained; also event.original
	var rec Record
	var x extras
	if err := decodeNXLog(text, p.Location, &rec, &x); err != nil {
		return err
	}
	if e.Fields == nil && len(x.fields) > 0 {
		// Room for the extras too, so that adding them does not grow the map.
		e.Fields = make(map[string]any, fieldsHint(&rec)+len(x.fields))
	}
	if err := toECS(&rec, e, &x.box); err != nil {
		return withFormat("nxlog", err)
	}
	if err := x.apply(e); err != nil {
		return withFormat("nxlog", err)
	}
	e.Event.Original = text
	return nil
}

// ParseNXLog reads one NXLog JSON record of a Windows event into a Record,
// reading an EventTime without a zone in DefaultNXLogLocation.
func ParseNXLog(b []byte) (*Record, error) { return ParseNXLogIn(b, nil) }

// ParseNXLogIn is ParseNXLog reading an EventTime without a zone in loc
// (nil is DefaultNXLogLocation). It needs EventID and EventTime. Known
// NXLog fields become System properties; NXLog's own (EventReceivedTime,
// SourceModuleName, Severity...) are dropped; every other field is an
// EventData pair, in document order, its value as written (numbers and
// booleans as their JSON text).
func ParseNXLogIn(b []byte, loc *time.Location) (*Record, error) {
	b, err := toUTF8(b)
	if err != nil {
		return nil, withFormat("nxlog", err)
	}
	text := string(b)
	rec := &Record{}
	var x extras
	if err := decodeNXLog(text, loc, rec, &x); err != nil {
		return nil, err
	}
	return rec, nil
}

func decodeNXLog(text string, loc *time.Location, rec *Record, x *extras) error {
	if loc == nil {
		loc = DefaultNXLogLocation
	}
	d := nxlogDecoder{r: newJSONReader(text), rec: rec, x: x, loc: loc}
	if err := d.decode(); err != nil {
		return withFormat("nxlog", err)
	}
	return nil
}

// nxlogIgnored are the fields NXLog adds about itself or its transport,
// which are neither System properties nor event data.
var nxlogIgnored = map[string]bool{
	"EventReceivedTime": true, "SourceModuleName": true, "SourceModuleType": true,
	"Severity": true, "ERROR_EVT_UNRESOLVED": true, "MessageSourceAddress": true,
	"SyslogFacilityValue": true, "SyslogFacility": true, "SyslogSeverityValue": true,
	"SyslogSeverity": true, "EventXML": true,
}

// nxlogLevels maps NXLog's SeverityValue back to the Windows level:
// NXLog writes 1 DEBUG for verbose (5), 2 INFO for information (4) and
// LogAlways (0), 3 WARNING, 4 ERROR (2) and 5 CRITICAL (1).
var nxlogLevels = [...]uint8{1: 5, 2: 4, 3: 3, 4: 2, 5: 1}

type nxlogDecoder struct {
	r   *jsonReader
	rec *Record
	x   *extras
	loc *time.Location

	hasID, hasTime, hasKeywords bool
	eventType                   string
}

func (d *nxlogDecoder) decode() error {
	r, rec := d.r, d.rec
	rec.EventData = make([]Pair, 0, 32)
	err := r.Document(func(key string) error {
		var err error
		var n uint64
		switch key {
		case "EventTime":
			if r.Null() {
				return nil
			}
			var s string
			if s, err = r.stringValue("EventTime"); err == nil {
				rec.TimeCreated, err = parseNXLogTime(s, d.loc)
				d.hasTime = err == nil
			}
		case "Hostname":
			rec.Computer, err = r.stringValue(key)
		case "Keywords":
			if r.Null() {
				return nil
			}
			d.hasKeywords = true
			rec.Keywords, err = d.keywords()
		case "EventType":
			d.eventType, err = r.stringValue(key)
		case "SeverityValue":
			n, err = r.uintValue(key, 8)
			if n < uint64(len(nxlogLevels)) {
				rec.Level = nxlogLevels[n]
			}
		case "EventID":
			if r.Null() {
				return nil
			}
			n, err = r.uintValue(key, 32)
			rec.EventID, d.hasID = uint32(n), err == nil
		case "SourceName":
			rec.ProviderName, err = r.stringValue(key)
		case "ProviderGuid":
			rec.ProviderGUID, err = r.stringValue(key)
		case "Version":
			n, err = r.uintValue(key, 8)
			rec.Version = uint8(n)
		case "Task":
			n, err = r.uintValue(key, 16)
			rec.Task = uint16(n)
		case "OpcodeValue":
			n, err = r.uintValue(key, 8)
			rec.Opcode = uint8(n)
		case "RecordNumber":
			rec.RecordID, err = r.uintValue(key, 64)
		case "ActivityID":
			rec.ActivityID, err = r.stringValue(key)
		case "RelatedActivityID":
			rec.RelatedActivityID, err = r.stringValue(key)
		case "ExecutionProcessID":
			n, err = r.uintValue(key, 32)
			rec.ProcessID = uint32(n)
		case "ExecutionThreadID":
			n, err = r.uintValue(key, 32)
			rec.ThreadID = uint32(n)
		case "Channel":
			rec.Channel, err = r.stringValue(key)
		case "Message":
			rec.Message, err = r.stringValue(key)
		case "Category":
			rec.TaskText, err = r.stringValue(key)
		case "Opcode":
			rec.OpcodeText, err = r.stringValue(key)
		case "UserID":
			rec.UserID, err = r.stringValue(key)
		default:
			if nxlogIgnored[key] {
				return r.Skip()
			}
			v, ok, err := r.scalarText("", key)
			if ok {
				rec.EventData = append(rec.EventData, Pair{Name: key, Value: v})
			}
			return err
		}
		return err
	})
	if err != nil {
		return err
	}
	if !d.hasID {
		return errorf("no EventID")
	}
	if !d.hasTime {
		return errorf("no EventTime")
	}
	if rec.UserID != "" {
		d.accountFields()
	}
	if !d.hasKeywords {
		switch d.eventType {
		case "AUDIT_SUCCESS":
			rec.Keywords = keywordAuditSuccess
		case "AUDIT_FAILURE":
			rec.Keywords = keywordAuditFailure
		}
	}
	return nil
}

// nxlogUserFields names NXLog's account fields as Winlogbeat does.
var nxlogUserFields = map[string]string{
	"AccountName": "winlog.user.name", "Domain": "winlog.user.domain", "AccountType": "winlog.user.type",
}

// accountFields moves AccountName, Domain and AccountType out of the event
// data: with a UserID (System/Security/@UserID) NXLog writes them for the
// account it resolved, and they go where Winlogbeat puts that account.
// Without one they are event data (4778 and 4779 have an AccountName).
func (d *nxlogDecoder) accountFields() {
	data := d.rec.EventData[:0]
	for _, p := range d.rec.EventData {
		if name, ok := nxlogUserFields[p.Name]; ok {
			d.x.addString(name, p.Value)
			continue
		}
		data = append(data, p)
	}
	d.rec.EventData = data
}

// keywords reads Keywords: NXLog writes the 64-bit mask as a signed
// integer (-9214364837600034816 for 0x8020000000000000); a string in
// decimal or in hex after 0x is accepted too.
func (d *nxlogDecoder) keywords() (uint64, error) {
	s, hex, err := d.r.numberText("Keywords")
	if err != nil || s == "" {
		return 0, err
	}
	if hex {
		n, err := strconv.ParseUint(s, 16, 64)
		if err != nil {
			return 0, errorf("Keywords %q is not a 64-bit number", "0x"+s)
		}
		return n, nil
	}
	if strings.HasPrefix(s, "-") {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, errorf("Keywords %q is not a 64-bit number", s)
		}
		return uint64(n), nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, errorf("Keywords %q is not a 64-bit number", s)
	}
	return n, nil
}

// nxlogTimeLayouts are EventTime without a zone: xm_json's format in NXLog
// Community Edition, and the same with a T or fractional seconds.
var nxlogTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
}

// parseNXLogTime reads EventTime: RFC 3339 with a zone, or local time
// without one, read in loc.
func parseNXLogTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return inRange("EventTime", s, t)
	}
	for _, layout := range nxlogTimeLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return inRange("EventTime", s, t)
		}
	}
	return time.Time{}, errorf("EventTime %q is not a time (want 2006-01-02 15:04:05 or RFC 3339)", s)
}
