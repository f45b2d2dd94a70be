package winevent

import (
	"errors"
	"strings"
	"sync"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/internal/jsonread"
	"github.com/mamori-soc/mamori/parsers"
)

// FormatWinlogbeat is the format name of Winlogbeat and Elastic Agent JSON,
// one event a record, as output.kafka writes it with the json codec.
const FormatWinlogbeat = "winlogbeat"

// WinlogbeatParser parses the JSON events Winlogbeat (7.x and 8.x) and
// Elastic Agent's winlog input write to Kafka. It reads the fields
// Winlogbeat takes from the event (winlog.*, @timestamp, message,
// log.level, event.outcome) into a Record and maps that with ToECS, so the
// Security module's work, which the Kafka path skips, is done here exactly
// as for Event XML. Safe for concurrent use; the zero value is ready.
//
// What Winlogbeat adds that a Record does not hold is kept where ECS has a
// place for it: host.* (add_host_metadata: host.name, host.hostname,
// host.ip, host.os.*, ...; host.name then names the agent's host as in
// Winlogbeat's own indices, winlog.computer_name the event's), cloud.*,
// tags, labels.*, event.dataset (Elastic Agent), log.file.path (.evtx
// files), error.* (rendering errors), winlog.api and winlog.user.name,
// domain and type. agent.* is not kept: the parse stage sets agent.* to
// Mamori's receiver, and Winlogbeat's agent.version or agent.id next to
// agent.type "mamori" would describe a program that does not exist;
// event.created is likewise the parse stage's. Both stay in event.original,
// which holds the whole document. Fields the 7.x Security module already
// computed in the beat (winlog.logon.*, user.*, event.category) are not
// read but computed again from the event data, so every version maps alike.
type WinlogbeatParser struct{}

var _ parsers.Parser = (*WinlogbeatParser)(nil)

// NewWinlogbeatParser returns a parser for Winlogbeat JSON.
func NewWinlogbeatParser() *WinlogbeatParser { return &WinlogbeatParser{} }

// Parse reads raw with ParseWinlogbeat's rules, maps it with ToECS, adds
// what Winlogbeat set beyond the Record and keeps raw as event.original.
// Errors wrap parsers.ErrUnparsable.
func (*WinlogbeatParser) Parse(raw []byte, _ parsers.Meta, e *event.Event) error {
	b, err := toUTF8(raw)
	if err != nil {
		return withFormat("winlogbeat", err)
	}
	text := string(b) // a copy: raw is not retained; also event.original
	st := winlogbeatStates.Get().(*winlogbeatState)
	err = st.parse(text, e)
	st.reset()
	winlogbeatStates.Put(st)
	if err != nil {
		return err
	}
	e.Event.Original = text
	return nil
}

// winlogbeatState is the working memory of one Parse: the reader, the
// Record and the extras, with room for the event data and extras of a
// typical event. Parse takes one from winlogbeatStates and returns it, so
// that reading an event allocates none of it; nothing of it outlives
// Parse (ToECS copies what it keeps).
type winlogbeatState struct {
	d      winlogbeatDecoder
	r      jsonReader
	rec    Record
	x      extras
	pairs  [40]Pair
	extra  [20]extraField
	kwords [4]string
}

var winlogbeatStates = sync.Pool{New: func() any { return new(winlogbeatState) }}

// parse reads text into e, all but event.original.
func (st *winlogbeatState) parse(text string, e *event.Event) error {
	st.rec = Record{EventData: st.pairs[:0], KeywordsText: st.kwords[:0]}
	st.x = extras{fields: st.extra[:0]}
	st.r.Reset(text)
	st.d = winlogbeatDecoder{r: &st.r, rec: &st.rec, x: &st.x}
	if err := st.d.decode(); err != nil {
		return withFormat("winlogbeat", err)
	}
	rec, x := &st.rec, &st.x
	if e.Fields == nil && len(x.fields) > 0 {
		// Room for the extras too, so that adding them does not grow the map.
		e.Fields = make(map[string]any, fieldsHint(rec)+len(x.fields))
	}
	if err := toECS(rec, e, &x.box); err != nil {
		return withFormat("winlogbeat", err)
	}
	if err := x.apply(e); err != nil {
		return withFormat("winlogbeat", err)
	}
	return nil
}

// reset clears st for its next use; it holds no references to the event
// it read, so that the pool keeps no document alive.
func (st *winlogbeatState) reset() {
	clear(st.pairs[:used(st.rec.EventData, len(st.pairs))])
	clear(st.extra[:used(st.x.fields, len(st.extra))])
	clear(st.kwords[:used(st.rec.KeywordsText, len(st.kwords))])
	st.d, st.r, st.rec, st.x = winlogbeatDecoder{}, jsonReader{}, Record{}, extras{}
}

// used returns how much of a buffer of n elements s, made on it, used: all
// of it when s outgrew it.
func used[T any](s []T, n int) int {
	if cap(s) != n {
		return n
	}
	return len(s)
}

// ParseWinlogbeat reads one Winlogbeat or Elastic Agent JSON event into a
// Record. It needs winlog.event_id (a string, as 8.x writes it, or a
// number, as 7.x does; event.code stands in for it) and a time
// (winlog.time_created when present, else @timestamp). Event data keeps
// its document order. Winlogbeat does not write the Keywords bit mask, so
// the audit bits are set from event.outcome, which Winlogbeat derived from
// them, or, without event.outcome, from the keyword names in
// winlog.keywords ("Audit Success", "Audit Failure", or their Japanese
// renderings).
func ParseWinlogbeat(b []byte) (*Record, error) {
	b, err := toUTF8(b)
	if err != nil {
		return nil, withFormat("winlogbeat", err)
	}
	text := string(b)
	rec := &Record{}
	var x extras
	if err := decodeWinlogbeat(text, rec, &x); err != nil {
		return nil, err
	}
	return rec, nil
}

// withFormat prefixes a parse error's message with the format name.
// Errors of the JSON reader become parse errors.
func withFormat(format string, err error) error {
	var pe *parseError
	if errors.As(err, &pe) {
		return &parseError{msg: format + ": " + pe.msg}
	}
	var je *jsonread.Error
	if errors.As(err, &je) {
		return &parseError{msg: format + ": " + je.Error()}
	}
	return err
}

func decodeWinlogbeat(text string, rec *Record, x *extras) error {
	if err := (&winlogbeatDecoder{r: newJSONReader(text), rec: rec, x: x}).decode(); err != nil {
		return withFormat("winlogbeat", err)
	}
	return nil
}

// winlogbeatDecoder reads one document.
type winlogbeatDecoder struct {
	r   *jsonReader
	rec *Record
	x   *extras

	hasWinlog, hasID bool
	timestamp        string // @timestamp, when winlog.time_created is absent
	outcome          string // event.outcome
	code             uint64 // event.code
	hasCode          bool
	provider         string // event.provider
}

func (d *winlogbeatDecoder) decode() error {
	r, rec := d.r, d.rec
	err := r.Document(func(key string) error {
		var err error
		switch key {
		case "@timestamp":
			d.timestamp, err = r.stringValue("@timestamp")
		case "message":
			rec.Message, err = r.stringValue("message")
		case "winlog":
			d.hasWinlog = true
			err = r.Object("winlog", d.winlog)
		case "event":
			err = r.Object("event", d.event)
		case "log":
			err = r.Object("log", d.log)
		case "host", "cloud", "labels":
			if r.Kind() != jsonread.Object {
				return errorf("%s is %s, want an object", key, r.KindName())
			}
			err = r.flatten(d.x, key, 0)
		case "tags":
			var tags []string
			err = r.Array("tags", func() error {
				s, err := r.stringValue("tags")
				if s != "" {
					tags = append(tags, s)
				}
				return err
			})
			if len(tags) > 0 {
				d.x.add("tags", tags)
			}
		case "error":
			err = r.Object("error", func(k string) error {
				if k != "code" && k != "message" {
					return r.Skip()
				}
				s, ok, err := r.scalarText("error", k)
				if ok {
					d.x.addString("error."+k, s)
				}
				return err
			})
		default: // agent, ecs, @metadata, data_stream, input...
			err = r.Skip()
		}
		return err
	})
	if err != nil {
		return err
	}
	if !d.hasWinlog {
		return errorf("no winlog object: not a Windows event")
	}
	if !d.hasID {
		if !d.hasCode {
			return errorf("no winlog.event_id")
		}
		rec.EventID = uint32(d.code)
	}
	if rec.TimeCreated.IsZero() {
		if d.timestamp == "" {
			return errorf("no @timestamp")
		}
		t, err := parseRFC3339("@timestamp", d.timestamp)
		if err != nil {
			return err
		}
		rec.TimeCreated = t
	}
	if rec.ProviderName == "" {
		rec.ProviderName = d.provider
	}
	switch d.outcome {
	case "failure":
		rec.Keywords |= keywordAuditFailure
	case "success":
		rec.Keywords |= keywordAuditSuccess
	case "":
		rec.Keywords |= auditKeywords(rec.KeywordsText)
	}
	return nil
}

// auditKeywords returns the audit keyword bits named in winlog.keywords,
// the names Windows renders in English and in Japanese, for documents
// without event.outcome (Winlogbeat derives event.outcome from these bits,
// but a pipeline may drop it).
func auditKeywords(names []string) uint64 {
	var bits uint64
	for _, k := range names {
		switch strings.TrimSpace(k) {
		case "Audit Success", "成功の監査":
			bits |= keywordAuditSuccess
		case "Audit Failure", "失敗の監査":
			bits |= keywordAuditFailure
		}
	}
	return bits
}

// winlog reads one member of the winlog object.
func (d *winlogbeatDecoder) winlog(key string) error {
	r, rec := d.r, d.rec
	var err error
	var n uint64
	switch key {
	case "channel":
		rec.Channel, err = r.stringValue("winlog.channel")
	case "event_id":
		if r.Null() {
			return nil
		}
		n, err = r.uintValue("winlog.event_id", 32)
		rec.EventID, d.hasID = uint32(n), err == nil
	case "provider_name":
		rec.ProviderName, err = r.stringValue("winlog.provider_name")
	case "provider_guid":
		rec.ProviderGUID, err = r.stringValue("winlog.provider_guid")
	case "record_id":
		rec.RecordID, err = r.uintValue("winlog.record_id", 64)
	case "computer_name":
		rec.Computer, err = r.stringValue("winlog.computer_name")
	case "task":
		rec.TaskText, err = r.stringValue("winlog.task")
	case "opcode":
		rec.OpcodeText, err = r.stringValue("winlog.opcode")
	case "version":
		n, err = r.uintValue("winlog.version", 8)
		rec.Version = uint8(n)
	case "activity_id":
		rec.ActivityID, err = r.stringValue("winlog.activity_id")
	case "related_activity_id":
		rec.RelatedActivityID, err = r.stringValue("winlog.related_activity_id")
	case "time_created":
		if r.Null() {
			return nil
		}
		rec.TimeCreated, err = r.timeValue("winlog.time_created")
	case "keywords":
		if r.Null() {
			return nil
		}
		err = r.Array("winlog.keywords", func() error {
			s, err := r.stringValue("winlog.keywords")
			if s != "" {
				rec.KeywordsText = append(rec.KeywordsText, s)
			}
			return err
		})
	case "process":
		err = r.Object("winlog.process", func(k string) error {
			switch k {
			case "pid":
				n, err := r.uintValue("winlog.process.pid", 32)
				rec.ProcessID = uint32(n)
				return err
			case "thread":
				return r.Object("winlog.process.thread", func(k string) error {
					if k != "id" {
						return r.Skip()
					}
					n, err := r.uintValue("winlog.process.thread.id", 32)
					rec.ThreadID = uint32(n)
					return err
				})
			}
			return r.Skip()
		})
	case "user":
		err = r.Object("winlog.user", func(k string) error {
			var name string
			switch k {
			case "identifier":
				var err error
				rec.UserID, err = r.stringValue("winlog.user.identifier")
				return err
			case "name":
				name = "winlog.user.name"
			case "domain":
				name = "winlog.user.domain"
			case "type":
				name = "winlog.user.type"
			default:
				return r.Skip()
			}
			s, err := r.stringValue(name)
			d.x.addString(name, s)
			return err
		})
	case "event_data":
		if r.Null() {
			return nil
		}
		if rec.EventData == nil {
			rec.EventData = make([]Pair, 0, 32)
		}
		err = r.Object("winlog.event_data", func(k string) error {
			v, ok, err := r.scalarText("winlog.event_data", k)
			if ok {
				rec.EventData = append(rec.EventData, Pair{Name: k, Value: v})
			}
			return err
		})
	case "user_data":
		if r.Null() {
			return nil
		}
		err = d.userData("", 0)
	case "api":
		var s string
		s, err = r.stringValue("winlog.api")
		d.x.addString("winlog.api", s)
	default:
		err = r.Skip()
	}
	return err
}

// userData reads winlog.user_data: xml_name is the element's name, nested
// objects become dotted names as ParseXML writes them.
func (d *winlogbeatDecoder) userData(prefix string, depth int) error {
	r, rec := d.r, d.rec
	return r.Object("winlog.user_data"+prefix, func(k string) error {
		name := k
		if prefix != "" {
			name = prefix[1:] + "." + k
		}
		if prefix == "" && k == "xml_name" {
			s, err := r.stringValue("winlog.user_data.xml_name")
			rec.UserDataName = s
			return err
		}
		if r.Kind() == jsonread.Object {
			if depth > 8 {
				return r.Skip()
			}
			return d.userData(prefix+"."+k, depth+1)
		}
		v, ok, err := r.scalarText("winlog.user_data", name)
		if ok {
			rec.UserData = append(rec.UserData, Pair{Name: name, Value: v})
		}
		return err
	})
}

// event reads the members of the event object that stand in for winlog
// fields, and event.dataset. event.action is not read: Winlogbeat copies
// winlog.task into it, and 7.x's Security module overwrote it.
func (d *winlogbeatDecoder) event(key string) error {
	r := d.r
	var err error
	switch key {
	case "outcome":
		d.outcome, err = r.stringValue("event.outcome")
	case "code":
		if r.Null() {
			return nil
		}
		d.code, err = r.uintValue("event.code", 32)
		d.hasCode = err == nil
	case "provider":
		d.provider, err = r.stringValue("event.provider")
	case "dataset":
		var s string
		s, err = r.stringValue("event.dataset")
		d.x.addString("event.dataset", s)
	default:
		err = r.Skip()
	}
	return err
}

// log reads log.level and log.file.path.
func (d *winlogbeatDecoder) log(key string) error {
	r := d.r
	switch key {
	case "level":
		var err error
		d.rec.LevelText, err = r.stringValue("log.level")
		return err
	case "file":
		return r.Object("log.file", func(k string) error {
			if k != "path" {
				return r.Skip()
			}
			s, err := r.stringValue("log.file.path")
			d.x.addString("log.file.path", s)
			return err
		})
	}
	return r.Skip()
}
