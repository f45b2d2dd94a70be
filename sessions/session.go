package sessions

import (
	"fmt"
	"time"

	json "github.com/goccy/go-json"
)

// EndReason says how a session ended.
type EndReason int

// End reasons.
const (
	// Open: no end seen, and the session is younger than the maximum
	// duration, so it may still be running.
	Open EndReason = iota
	// Logoff: a 4634 (an account was logged off) for its logon id.
	Logoff
	// UserLogoff: a 4647 (user initiated logoff) for its logon id.
	UserLogoff
	// Reboot: the host started, shut down or lost its event log (4608, 4609,
	// 1100, or System 6005, 6006, 6008 from EventLog) while it was open. The
	// end is the time of that event: the session ended then at the latest.
	Reboot
	// Timeout: no end seen within the maximum duration. The end is start +
	// maximum: a bound, not an observation.
	Timeout
)

var reasonNames = [...]string{"open", "logoff", "user_logoff", "reboot", "timeout"}

// String returns the reason as written in output: open, logoff, user_logoff,
// reboot or timeout.
func (r EndReason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("EndReason(%d)", int(r))
}

// MarshalText writes the reason's name.
func (r EndReason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a reason's name.
func (r *EndReason) UnmarshalText(b []byte) error {
	for i, n := range reasonNames {
		if n == string(b) {
			*r = EndReason(i)
			return nil
		}
	}
	return fmt.Errorf("sessions: end reason %q: want open, logoff, user_logoff, reboot or timeout", b)
}

// User is who logged on (user.* of the logon event: TargetUserName,
// TargetDomainName, TargetUserSid).
type User struct {
	Name   string `json:"name,omitempty"`
	Domain string `json:"domain,omitempty"`
	ID     string `json:"id,omitempty"`
}

// Source is where the logon came from (source.* of the logon event): the
// client address and port, and the workstation name it gave.
type Source struct {
	IP     string `json:"ip,omitempty"`
	Domain string `json:"domain,omitempty"`
	Port   int64  `json:"port,omitempty"`
}

// Mark is an event inside a session that does not end it: an RDP disconnect
// (4779) or reconnect (4778), with the client it came from.
type Mark struct {
	Time time.Time `json:"time"`
	// Action is the event's event.action: session-disconnected or
	// session-reconnected.
	Action string `json:"action"`
	// Session is the terminal-services session name (RDP-Tcp#14).
	Session string `json:"session_name,omitempty"`
	Source  Source `json:"source"`
	EventID string `json:"event_id,omitempty"`
}

// Session is one logon session: a 4624 and what ended it. It encodes to
// JSON as MarshalJSON describes.
type Session struct {
	Host string
	User User
	// LogonID is the session's logon id (TargetLogonId of the 4624), in
	// lower-case hex as Windows writes it.
	LogonID   string
	LogonType LogonType
	// Elevated is set when the logon holds an elevated token: a UAC split
	// logon (two 4624 linked by TargetLinkedLogonId, shown as one session)
	// or a single logon with ElevatedToken "Yes".
	Elevated bool
	// LinkedLogonID is the other half of a UAC split logon ("" when none).
	LinkedLogonID string
	Source        Source

	Start time.Time
	// End is when the session ended; zero while Open. For Reboot it is the
	// time of the reboot event, for Timeout start + maximum duration.
	End       time.Time
	EndReason EndReason
	// Marks are RDP disconnects and reconnects, oldest first.
	Marks []Mark

	// LogonEvent and EndEvent are the store ids of the 4624 and of the event
	// that ended the session (empty for Open and Timeout).
	LogonEvent string
	EndEvent   string

	// asOf is the time the session was computed at, for Duration of an open
	// session.
	asOf time.Time
}

// Duration is End - Start; for an open session, the time it has been open
// as of the query.
func (s *Session) Duration() time.Duration {
	if s.EndReason == Open {
		if s.asOf.Before(s.Start) {
			return 0
		}
		return s.asOf.Sub(s.Start)
	}
	return s.End.Sub(s.Start)
}

// In returns a copy of the session with its times in loc, for display.
func (s Session) In(loc *time.Location) Session {
	s.Start = s.Start.In(loc)
	if !s.End.IsZero() {
		s.End = s.End.In(loc)
	}
	s.asOf = s.asOf.In(loc)
	if len(s.Marks) > 0 {
		marks := make([]Mark, len(s.Marks))
		for i, m := range s.Marks {
			m.Time = m.Time.In(loc)
			marks[i] = m
		}
		s.Marks = marks
	}
	return s
}

// sessionJSON is the wire form of a Session (one NDJSON line, one API item).
type sessionJSON struct {
	Start           time.Time  `json:"start"`
	End             *time.Time `json:"end,omitempty"`
	DurationSeconds float64    `json:"duration_seconds"`
	EndReason       EndReason  `json:"end_reason"`
	Host            struct {
		Name string `json:"name"`
	} `json:"host"`
	User  User `json:"user"`
	Logon struct {
		ID       string `json:"id"`
		Type     string `json:"type,omitempty"`
		TypeCode int    `json:"type_code,omitempty"`
		LinkedID string `json:"linked_id,omitempty"`
		Elevated bool   `json:"elevated"`
	} `json:"logon"`
	Source Source `json:"source"`
	Marks  []Mark `json:"marks,omitempty"`
	Events struct {
		Logon string `json:"logon"`
		End   string `json:"end,omitempty"`
	} `json:"events"`
}

// MarshalJSON writes the session as one JSON object: start, end (absent
// while open), duration_seconds, end_reason, host.name, user.{name,domain,
// id}, logon.{id,type,type_code,linked_id,elevated}, source.{ip,domain,
// port}, marks and events.{logon,end} (store ids). Times keep their zone:
// call In first to show them in the configured one.
func (s Session) MarshalJSON() ([]byte, error) {
	var out sessionJSON
	out.Start = s.Start
	if !s.End.IsZero() {
		end := s.End
		out.End = &end
	}
	out.DurationSeconds = s.Duration().Seconds()
	out.EndReason = s.EndReason
	out.Host.Name = s.Host
	out.User = s.User
	out.Logon.ID, out.Logon.Type, out.Logon.TypeCode = s.LogonID, s.LogonType.String(), int(s.LogonType)
	out.Logon.LinkedID, out.Logon.Elevated = s.LinkedLogonID, s.Elevated
	out.Source = s.Source
	out.Marks = s.Marks
	out.Events.Logon, out.Events.End = s.LogonEvent, s.EndEvent
	return json.MarshalWithOption(out, json.DisableHTMLEscape())
}
