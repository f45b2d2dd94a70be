// Package winevent reads Windows events (Windows Event Log records, as in the
// Security log of domain controllers and member servers) and maps them to ECS.
//
// ParseXML reads one <Event> document in the Windows event schema, as written
// by Windows Event Forwarding and by "wevtutil qe /f:xml", into a Record: the
// System properties, the EventData (or UserData) name/value pairs and, when
// present, the RenderingInfo that the sending host rendered in its own locale.
//
// ToECS maps a Record to an ECS event the way Winlogbeat does: the fields
// Winlogbeat itself writes (winlog.*, event.code, event.provider,
// event.outcome, host.name, log.level, message), then, for the Security log,
// the work of the Security module's Elasticsearch ingest pipeline, which is
// skipped when Winlogbeat or Elastic Agent write to Kafka: event.category,
// event.type and event.action, user.*, source.*, related.*, winlog.logon.*
// and the descriptions of logon types, status codes, Kerberos result codes,
// ticket options and account control flags. The mapping reads the structured
// EventData only, never the rendered message, so events from hosts with a
// Japanese locale map the same way; the rendered message is kept as message.
//
// Parser is the parsers.Parser for Event XML (format name "eventxml").
package winevent

import "time"

// Record is one Windows event, normalised from whichever format carried it.
// Numeric System properties are zero when the event does not carry them.
type Record struct {
	// System
	ProviderName      string
	ProviderGUID      string
	EventSourceName   string // legacy (non-manifest) providers only
	EventID           uint32
	Qualifiers        uint16
	Version           uint8
	Level             uint8
	Task              uint16
	Opcode            uint8
	Keywords          uint64
	TimeCreated       time.Time
	RecordID          uint64
	ActivityID        string
	RelatedActivityID string
	ProcessID         uint32
	ThreadID          uint32
	Channel           string
	Computer          string
	UserID            string // System/Security/@UserID, a SID

	// EventData holds the <EventData> children in document order. Name is
	// the Name attribute of a <Data> element, empty for an unnamed <Data>,
	// or the element name of any other child (such as <Binary>).
	EventData []Pair

	// UserDataName is the name of the single element inside <UserData>;
	// UserData holds its descendants' text, named by their element path
	// below it joined with dots ("LogFileCleared" holds "SubjectUserName").
	UserDataName string
	UserData     []Pair

	// RenderingInfo, in the locale of the host that rendered it.
	Message      string
	LevelText    string
	TaskText     string
	OpcodeText   string
	KeywordsText []string
	Culture      string
}

// Pair is one named value of EventData or UserData.
type Pair struct {
	Name  string
	Value string
}

// Data returns the value of the first EventData pair with that name.
func (r *Record) Data(name string) (string, bool) {
	for _, p := range r.EventData {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}
