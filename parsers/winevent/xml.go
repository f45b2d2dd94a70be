package winevent

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"

	"github.com/mamori-soc/mamori/parsers"
)

// EventNamespace is the XML namespace of the Windows event schema.
const EventNamespace = "http://schemas.microsoft.com/win/2004/08/events/event"

// parseError is a problem with the input. It wraps parsers.ErrUnparsable.
type parseError struct{ msg string }

func (e *parseError) Error() string { return "winevent: " + e.msg }
func (e *parseError) Unwrap() error { return parsers.ErrUnparsable }

func errorf(format string, args ...any) error {
	return &parseError{msg: fmt.Sprintf(format, args...)}
}

// The XML shape of an <Event>. Element names match in any namespace, so
// documents with and without the event schema namespace read alike.
type xmlEvent struct {
	XMLName       xml.Name
	System        *xmlSystem    `xml:"System"`
	EventData     *xmlEventData `xml:"EventData"`
	UserData      *xmlUserData  `xml:"UserData"`
	RenderingInfo *xmlRendering `xml:"RenderingInfo"`
}

type xmlSystem struct {
	Provider struct {
		Name            string `xml:"Name,attr"`
		GUID            string `xml:"Guid,attr"`
		EventSourceName string `xml:"EventSourceName,attr"`
	} `xml:"Provider"`
	EventID struct {
		Qualifiers string `xml:"Qualifiers,attr"`
		Value      string `xml:",chardata"`
	} `xml:"EventID"`
	Version     string `xml:"Version"`
	Level       string `xml:"Level"`
	Task        string `xml:"Task"`
	Opcode      string `xml:"Opcode"`
	Keywords    string `xml:"Keywords"`
	TimeCreated struct {
		SystemTime string `xml:"SystemTime,attr"`
	} `xml:"TimeCreated"`
	EventRecordID string `xml:"EventRecordID"`
	Correlation   struct {
		ActivityID        string `xml:"ActivityID,attr"`
		RelatedActivityID string `xml:"RelatedActivityID,attr"`
	} `xml:"Correlation"`
	Execution struct {
		ProcessID string `xml:"ProcessID,attr"`
		ThreadID  string `xml:"ThreadID,attr"`
	} `xml:"Execution"`
	Channel  string `xml:"Channel"`
	Computer string `xml:"Computer"`
	Security struct {
		UserID string `xml:"UserID,attr"`
	} `xml:"Security"`
}

type xmlEventData struct {
	Items []struct {
		XMLName xml.Name
		Name    string `xml:"Name,attr"`
		Value   string `xml:",chardata"`
	} `xml:",any"`
}

type xmlRendering struct {
	Culture  string   `xml:"Culture,attr"`
	Message  string   `xml:"Message"`
	Level    string   `xml:"Level"`
	Task     string   `xml:"Task"`
	Opcode   string   `xml:"Opcode"`
	Keywords []string `xml:"Keywords>Keyword"`
}

// xmlUserData reads the one element inside <UserData>, flattening its
// descendants into pairs named by their path below it.
type xmlUserData struct {
	name  string
	pairs []Pair
}

func (u *xmlUserData) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var path []string
	var text strings.Builder
	depth := 0 // 0: inside <UserData>; 1: inside its child; ...
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				if u.name == "" {
					u.name = t.Name.Local
				}
				continue
			}
			path = append(path, t.Name.Local)
			text.Reset()
		case xml.CharData:
			if depth >= 2 {
				text.Write(t)
			}
		case xml.EndElement:
			if depth == 0 {
				return nil // </UserData>
			}
			if depth >= 2 {
				if v := text.String(); strings.TrimSpace(v) != "" || !hasChildren(u.pairs, path) {
					u.pairs = append(u.pairs, Pair{Name: strings.Join(path, "."), Value: v})
				}
				path = path[:len(path)-1]
				text.Reset()
			}
			depth--
		}
	}
}

// hasChildren reports whether pairs already holds a descendant of path,
// so that a container element is not also recorded as an empty value.
func hasChildren(pairs []Pair, path []string) bool {
	if len(pairs) == 0 {
		return false
	}
	prefix := strings.Join(path, ".") + "."
	return strings.HasPrefix(pairs[len(pairs)-1].Name, prefix)
}

// ParseXML reads one <Event> document of the Windows event schema. It needs
// System/EventID and System/TimeCreated; every other property is optional,
// but one that is present must be well formed. UTF-16 input with a byte
// order mark is accepted (wevtutil and PowerShell write files so).
func ParseXML(data []byte) (Record, error) {
	var rec Record
	data, err := toUTF8(data)
	if err != nil {
		return rec, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return rec, errorf("empty document")
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	// The document is UTF-8 by now, whatever its declaration says.
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "utf-16", "utf-16le", "utf-16be", "unicode", "us-ascii", "ascii":
			return r, nil
		}
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	var x xmlEvent
	if err := dec.Decode(&x); err != nil {
		if errors.Is(err, io.EOF) {
			return rec, errorf("no <Event> element")
		}
		return rec, errorf("bad XML: %v", err)
	}
	if x.XMLName.Local != "Event" {
		return rec, errorf("root element is <%s>, want <Event>", x.XMLName.Local)
	}
	if err := checkTrailer(dec); err != nil {
		return rec, err
	}
	if x.System == nil {
		return rec, errorf("no <System> element")
	}
	if err := x.System.fill(&rec); err != nil {
		return rec, err
	}
	if x.EventData != nil {
		rec.EventData = make([]Pair, 0, len(x.EventData.Items))
		for _, it := range x.EventData.Items {
			name := it.Name
			if it.XMLName.Local != "Data" && name == "" {
				name = it.XMLName.Local
			}
			rec.EventData = append(rec.EventData, Pair{Name: name, Value: it.Value})
		}
	}
	if x.UserData != nil {
		rec.UserDataName, rec.UserData = x.UserData.name, x.UserData.pairs
	}
	if r := x.RenderingInfo; r != nil {
		rec.Culture = r.Culture
		rec.Message = r.Message
		rec.LevelText = r.Level
		rec.TaskText = r.Task
		rec.OpcodeText = r.Opcode
		rec.KeywordsText = r.Keywords
	}
	return rec, nil
}

// checkTrailer rejects anything but white space, comments and processing
// instructions after the </Event>: a second event means the framing upstream
// went wrong, and silently dropping it would lose an event.
func checkTrailer(dec *xml.Decoder) error {
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return errorf("bad XML after </Event>: %v", err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return errorf("text after </Event>")
			}
		case xml.StartElement:
			return errorf("element <%s> after </Event>: one event per document", t.Name.Local)
		}
	}
}

func (s *xmlSystem) fill(rec *Record) error {
	rec.ProviderName = s.Provider.Name
	rec.ProviderGUID = s.Provider.GUID
	rec.EventSourceName = s.Provider.EventSourceName
	id := strings.TrimSpace(s.EventID.Value)
	if id == "" {
		return errorf("no System/EventID")
	}
	n, err := strconv.ParseUint(id, 10, 32)
	if err != nil {
		return errorf("System/EventID %q is not a number", id)
	}
	rec.EventID = uint32(n)
	if s.EventID.Qualifiers != "" {
		if rec.Qualifiers, err = parseUint[uint16]("System/EventID/@Qualifiers", s.EventID.Qualifiers, 10, 16); err != nil {
			return err
		}
	}
	if rec.Version, err = parseUint[uint8]("System/Version", s.Version, 10, 8); err != nil {
		return err
	}
	if rec.Level, err = parseUint[uint8]("System/Level", s.Level, 10, 8); err != nil {
		return err
	}
	if rec.Task, err = parseUint[uint16]("System/Task", s.Task, 10, 16); err != nil {
		return err
	}
	if rec.Opcode, err = parseUint[uint8]("System/Opcode", s.Opcode, 10, 8); err != nil {
		return err
	}
	if rec.Keywords, err = parseUint[uint64]("System/Keywords", s.Keywords, 0, 64); err != nil {
		return err
	}
	if rec.RecordID, err = parseUint[uint64]("System/EventRecordID", s.EventRecordID, 10, 64); err != nil {
		return err
	}
	if rec.ProcessID, err = parseUint[uint32]("System/Execution/@ProcessID", s.Execution.ProcessID, 10, 32); err != nil {
		return err
	}
	if rec.ThreadID, err = parseUint[uint32]("System/Execution/@ThreadID", s.Execution.ThreadID, 10, 32); err != nil {
		return err
	}
	ts := strings.TrimSpace(s.TimeCreated.SystemTime)
	if ts == "" {
		return errorf("no System/TimeCreated/@SystemTime")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return errorf("System/TimeCreated/@SystemTime %q is not an RFC 3339 time", ts)
	}
	rec.TimeCreated = t.UTC()
	rec.ActivityID = s.Correlation.ActivityID
	rec.RelatedActivityID = s.Correlation.RelatedActivityID
	rec.Channel = strings.TrimSpace(s.Channel)
	rec.Computer = strings.TrimSpace(s.Computer)
	rec.UserID = s.Security.UserID
	return nil
}

// parseUint reads an optional unsigned property; base 0 accepts "0x" hex.
func parseUint[T uint8 | uint16 | uint32 | uint64](what, s string, base, bits int) (T, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, base, bits)
	if err != nil {
		return 0, errorf("%s %q is not a %d-bit unsigned number", what, s, bits)
	}
	return T(n), nil
}

// toUTF8 converts UTF-16 with a byte order mark to UTF-8 and drops a UTF-8
// byte order mark; other input must already be UTF-8.
func toUTF8(data []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		out, err := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(data)
		if err != nil {
			return nil, errorf("bad UTF-16: %v", err)
		}
		return bytes.TrimPrefix(out, []byte("\uFEFF")), nil
	case bytes.HasPrefix(data, []byte("\uFEFF")):
		data = data[3:]
	}
	if !utf8.Valid(data) {
		return nil, errorf("not UTF-8 text")
	}
	return data, nil
}
