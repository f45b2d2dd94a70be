// Package event defines Mamori's normalised event: an Elastic Common Schema (ECS)
// document with typed core fields and an open rest, its JSON codec, its field
// catalogue and its deterministic id.
//
// The typed core covers the ECS fields every parser fills. Any other ECS field
// (winlog.*, labels.*, log.syslog.structured_data.*, ...) goes in Fields under its dotted
// name. Get and Set reach both by dotted name, so the query language, the stores
// and the detection engine share one way to read an event.
package event

import "time"

// Event is one normalised ECS document. The zero value is an empty event.
type Event struct {
	Timestamp time.Time `json:"@timestamp"`
	Message   string    `json:"message,omitempty"`
	Tags      []string  `json:"tags,omitempty"`

	Event       Meta      `json:"event"`
	Agent       *Agent    `json:"agent,omitempty"`
	Host        *Host     `json:"host,omitempty"`
	Source      *Endpoint `json:"source,omitempty"`
	Destination *Endpoint `json:"destination,omitempty"`
	User        *User     `json:"user,omitempty"`
	Process     *Process  `json:"process,omitempty"`
	Network     *Network  `json:"network,omitempty"`
	Log         *Log      `json:"log,omitempty"`
	Related     *Related  `json:"related,omitempty"`
	Input       *Input    `json:"input,omitempty"`

	// Fields holds every other field by its dotted ECS name, for example
	// "winlog.event_data.TargetUserName". Values are strings, numbers (int64 or
	// float64), booleans, time.Time, or slices of those.
	Fields map[string]any `json:"-"`
}

// Meta is the ECS "event" field set.
type Meta struct {
	ID       string     `json:"id,omitempty"`
	Kind     string     `json:"kind,omitempty"`
	Category []string   `json:"category,omitempty"`
	Type     []string   `json:"type,omitempty"`
	Action   string     `json:"action,omitempty"`
	Code     string     `json:"code,omitempty"`
	Outcome  string     `json:"outcome,omitempty"`
	Dataset  string     `json:"dataset,omitempty"`
	Module   string     `json:"module,omitempty"`
	Provider string     `json:"provider,omitempty"`
	Severity *int64     `json:"severity,omitempty"` // nil when absent; 0 is a severity
	Reason   string     `json:"reason,omitempty"`
	Created  *time.Time `json:"created,omitempty"`
	Ingested *time.Time `json:"ingested,omitempty"`
	Original string     `json:"original,omitempty"`
}

// Agent is the ECS "agent" field set: the Mamori receiver that collected the event.
type Agent struct {
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`
}

// Host is the ECS "host" field set: the host the event is about.
type Host struct {
	Name     string   `json:"name,omitempty"`
	Hostname string   `json:"hostname,omitempty"`
	IP       []string `json:"ip,omitempty"`
}

// Endpoint is the ECS "source" and "destination" field sets.
type Endpoint struct {
	IP      string `json:"ip,omitempty"`
	Port    int64  `json:"port,omitempty"`
	Address string `json:"address,omitempty"`
	Domain  string `json:"domain,omitempty"`
}

// User is the ECS "user" field set.
type User struct {
	Name     string `json:"name,omitempty"`
	Domain   string `json:"domain,omitempty"`
	ID       string `json:"id,omitempty"`
	FullName string `json:"full_name,omitempty"`
}

// Process is the ECS "process" field set.
type Process struct {
	Name string `json:"name,omitempty"`
	PID  int64  `json:"pid,omitempty"`
}

// Network is the ECS "network" field set.
type Network struct {
	Transport string `json:"transport,omitempty"`
	Protocol  string `json:"protocol,omitempty"`
}

// Log is the ECS "log" field set.
type Log struct {
	Level  string     `json:"level,omitempty"`
	Source *LogSource `json:"source,omitempty"`
	Syslog *Syslog    `json:"syslog,omitempty"`
}

// LogSource is ECS log.source: where the log was read from (the sending peer).
type LogSource struct {
	Address string `json:"address,omitempty"`
}

// Syslog is ECS log.syslog. Structured data lives in Event.Fields under
// "log.syslog.structured_data.<SD-ID>.<PARAM>".
type Syslog struct {
	Facility *Code  `json:"facility,omitempty"`
	Severity *Code  `json:"severity,omitempty"`
	Priority *int64 `json:"priority,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	Appname  string `json:"appname,omitempty"`
	Procid   string `json:"procid,omitempty"`
	MsgID    string `json:"msgid,omitempty"`
	Version  string `json:"version,omitempty"`
}

// Code is a numeric code with its name, as in log.syslog.facility and severity.
type Code struct {
	Code int64  `json:"code"`
	Name string `json:"name,omitempty"`
}

// Related is the ECS "related" field set, for pivoting across fields.
type Related struct {
	IP    []string `json:"ip,omitempty"`
	User  []string `json:"user,omitempty"`
	Hosts []string `json:"hosts,omitempty"`
	Hash  []string `json:"hash,omitempty"`
}

// Input names the kind of input that received the event (Beats convention).
type Input struct {
	Type string `json:"type,omitempty"`
}
