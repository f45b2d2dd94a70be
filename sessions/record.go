package sessions

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/mamori-soc/mamori/event"
)

// kind orders records that share a timestamp: a reboot first (a session
// that starts at the instant of a boot event belongs to the new boot), then
// logons, marks, and ends last (a network logon and its logoff often share
// a millisecond).
type kind uint8

const (
	kindReboot kind = iota
	kindLogon
	kindMark
	kindEnd
)

// record is the part of a stored event that pairing needs.
type record struct {
	kind    kind
	at      time.Time
	host    string
	logonID string // canonical, see canonicalID
	docID   string

	// Logons.
	user      User
	logonType LogonType
	source    Source
	linked    string
	elevated  bool

	// Ends: the reason; marks: the action and client.
	reason  EndReason
	action  string
	session string
}

// Event codes that end or mark sessions.
const (
	codeLogon      = "4624"
	codeLogoff     = "4634"
	codeUserLogoff = "4647"
	codeReconnect  = "4778"
	codeDisconnect = "4779"
)

// rebootCodes are the events after which no earlier session of the host can
// still be open: Security 4608 (Windows is starting up), 4609 (Windows is
// shutting down), 1100 (the event logging service has shut down), and
// System 6005 (the event log service was started), 6006 (stopped) and 6008
// (the previous shutdown was unexpected), the last three only from the
// EventLog provider (other providers reuse those numbers).
var rebootCodes = []string{"4608", "4609", "1100", "6005", "6006", "6008"}

// endCodes are the events looked up by host and logon id.
var endCodes = []string{codeLogoff, codeUserLogoff, codeReconnect, codeDisconnect}

// decode reads a stored event into a record. ok is false for an event that
// plays no part in sessions (a failed logon, a 600x from another provider,
// an event without host or logon id).
func decode(id string, src []byte) (record, bool, error) {
	var e event.Event
	if !decodeFast(src, &e) {
		if err := event.Unmarshal(src, &e); err != nil {
			return record{}, false, fmt.Errorf("sessions: event %s: %w", id, err)
		}
	}
	r, ok := fromEvent(id, &e)
	return r, ok, nil
}

// wire is the part of a stored event that sessions read, in the form the
// index stage writes (event.Marshal: the typed core nested, winlog.* as
// dotted keys). Decoding it skips the rest of the document (event.original,
// the message), which is most of the bytes: several times faster than
// event.Unmarshal (see BenchmarkDecodeAndPair).
type wire struct {
	Timestamp string `json:"@timestamp"`
	Event     struct {
		Code     string `json:"code"`
		Outcome  string `json:"outcome"`
		Action   string `json:"action"`
		Provider string `json:"provider"`
	} `json:"event"`
	Host struct {
		Name string `json:"name"`
	} `json:"host"`
	User   *event.User     `json:"user"`
	Source *event.Endpoint `json:"source"`
	// A nested winlog object is another spelling: decodeFast gives up.
	Winlog json.RawMessage `json:"winlog"`

	EventID       any `json:"winlog.event_id"`
	ComputerName  any `json:"winlog.computer_name"`
	ProviderName  any `json:"winlog.provider_name"`
	LogonID       any `json:"winlog.logon.id"`
	LogonTypeName any `json:"winlog.logon.type"`
	TargetLogonID any `json:"winlog.event_data.TargetLogonId"`
	DataLogonID   any `json:"winlog.event_data.LogonID"`
	LogonType     any `json:"winlog.event_data.LogonType"`
	Linked        any `json:"winlog.event_data.TargetLinkedLogonId"`
	Elevated      any `json:"winlog.event_data.ElevatedToken"`
	SessionName   any `json:"winlog.event_data.SessionName"`
}

// decodeFast fills e from src when src has the canonical form, and reports
// whether it could; the caller falls back to event.Unmarshal otherwise.
func decodeFast(src []byte, e *event.Event) bool {
	var w wire
	if err := json.Unmarshal(src, &w); err != nil || len(w.Winlog) > 0 || w.Event.Code == "" || w.Host.Name == "" {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, w.Timestamp)
	if err != nil {
		return false
	}
	*e = event.Event{Timestamp: t, User: w.User, Source: w.Source, Host: &event.Host{Name: w.Host.Name}}
	e.Event.Code, e.Event.Outcome, e.Event.Action, e.Event.Provider = w.Event.Code, w.Event.Outcome, w.Event.Action, w.Event.Provider
	e.Fields = make(map[string]any, 8)
	set := func(name string, v any) {
		if v != nil {
			e.Fields[name] = v
		}
	}
	set("winlog.event_id", w.EventID)
	set("winlog.computer_name", w.ComputerName)
	set("winlog.provider_name", w.ProviderName)
	set("winlog.logon.id", w.LogonID)
	set("winlog.logon.type", w.LogonTypeName)
	set("winlog.event_data.TargetLogonId", w.TargetLogonID)
	set("winlog.event_data.LogonID", w.DataLogonID)
	set("winlog.event_data.LogonType", w.LogonType)
	set("winlog.event_data.TargetLinkedLogonId", w.Linked)
	set("winlog.event_data.ElevatedToken", w.Elevated)
	set("winlog.event_data.SessionName", w.SessionName)
	return true
}

func fromEvent(id string, e *event.Event) (record, bool) {
	r := record{at: e.Timestamp.UTC(), docID: id}
	if e.Host != nil {
		r.host = e.Host.Name
	}
	if r.host == "" {
		r.host = str(e.Fields["winlog.computer_name"])
	}
	if r.host == "" {
		return r, false
	}
	code := e.Event.Code
	if code == "" {
		code = str(e.Fields["winlog.event_id"])
	}
	switch code {
	case codeLogon:
		if e.Event.Outcome == "failure" {
			return r, false
		}
		r.kind = kindLogon
		// Not winlog.logon.id: on 4624 Winlogbeat puts SubjectLogonId there.
		r.logonID = canonicalID(str(e.Fields["winlog.event_data.TargetLogonId"]))
		if e.User != nil {
			r.user = User{Name: e.User.Name, Domain: e.User.Domain, ID: e.User.ID}
		}
		if e.Source != nil {
			r.source = Source{IP: e.Source.IP, Domain: e.Source.Domain, Port: e.Source.Port}
		}
		if n, err := strconv.Atoi(str(e.Fields["winlog.event_data.LogonType"])); err == nil {
			r.logonType = LogonType(n)
		} else if t, ok := lookupType(str(e.Fields["winlog.logon.type"])); ok {
			r.logonType = t
		}
		r.linked = canonicalID(str(e.Fields["winlog.event_data.TargetLinkedLogonId"]))
		if r.linked == "0x0" {
			r.linked = ""
		}
		r.elevated = isYes(str(e.Fields["winlog.event_data.ElevatedToken"]))
	case codeLogoff, codeUserLogoff:
		r.kind, r.reason = kindEnd, Logoff
		if code == codeUserLogoff {
			r.reason = UserLogoff
		}
		r.logonID = canonicalID(first(str(e.Fields["winlog.event_data.TargetLogonId"]), str(e.Fields["winlog.logon.id"])))
		if e.User != nil {
			r.user.ID = e.User.ID
		}
	case codeReconnect, codeDisconnect:
		r.kind = kindMark
		r.logonID = canonicalID(first(str(e.Fields["winlog.event_data.LogonID"]), str(e.Fields["winlog.logon.id"])))
		r.action = e.Event.Action
		if r.action == "" {
			r.action = map[string]string{codeReconnect: "session-reconnected", codeDisconnect: "session-disconnected"}[code]
		}
		r.session = str(e.Fields["winlog.event_data.SessionName"])
		if e.Source != nil {
			r.source = Source{IP: e.Source.IP, Domain: e.Source.Domain}
		}
	case "6005", "6006", "6008":
		provider := first(e.Event.Provider, str(e.Fields["winlog.provider_name"]))
		if !strings.EqualFold(provider, "EventLog") {
			return r, false
		}
		r.kind, r.reason = kindReboot, Reboot
		return r, true
	case "4608", "4609", "1100":
		r.kind, r.reason = kindReboot, Reboot
		return r, true
	default:
		return r, false
	}
	return r, r.logonID != ""
}

// canonicalID writes a logon id as lower-case hex without leading zeros
// ("0x8A3F21C" and "0x0008a3f21c" are both "0x8a3f21c"), so that events from
// shippers that spell it differently still pair. An id that is not hex is
// kept, lower-cased.
func canonicalID(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || s == "-" {
		return ""
	}
	if n, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64); err == nil {
		return "0x" + strconv.FormatUint(n, 16)
	}
	return s
}

// isYes reads ElevatedToken: %%1842 is Yes and %%1843 No in the message
// table; a rendered value may say Yes or はい.
func isYes(s string) bool {
	s = strings.TrimSpace(s)
	return s == "%%1842" || strings.EqualFold(s, "yes") || s == "はい"
}

// str reads a dynamic field as text (numbers by their decimal form).
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		if len(x) > 0 {
			return str(x[0])
		}
	case []string:
		if len(x) > 0 {
			return x[0]
		}
	}
	return ""
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
