package casework

import (
	"fmt"
	"slices"
	"time"

	"github.com/mamori-soc/mamori/casework/logexport"
)

// Type is the kind of a case.
type Type string

// Case types, as the operations work of the seed names them.
const (
	Incident         Type = "incident"             // a helpdesk report
	Failure          Type = "failure"              // a system or network failure
	SecurityIncident Type = "security_incident"    // handled by the security-incident procedure too
	Problem          Type = "problem"              // a cause behind incidents, known or unknown
	Request          Type = "request"              // an application form (Subtype names which)
	Vulnerability    Type = "vulnerability_notice" // a vulnerability or maintenance notice from a vendor or JPCERT/CC, IPA, JVN
	Duty             Type = "periodic_duty"        // a periodic duty (Subtype: daily_report, weekly_security_report...)
	Outage           Type = "planned_outage"       // a planned outage (statutory power shutdown)
)

// Types lists every case type.
var Types = []Type{Incident, Failure, SecurityIncident, Problem, Request, Vulnerability, Duty, Outage}

// Subtypes lists the subtypes a type allows (none listed: any or none).
var Subtypes = map[Type][]string{
	Request: {"account", "network_connection", "web_filter_exception", "mail_block_exception",
		"software_install", "password_reset", "log_retrieval"},
	Duty: {"daily_report", "weekly_security_report", "monthly_report", "monthly_log_analysis",
		"sla_review", "monthly_meeting", "improvement_report"},
	Problem: {"known_cause", "unknown_cause"},
}

// Channels are how an incident reached the helpdesk.
var Channels = []string{"phone", "email", "paper", "in_person", "monitoring", "vendor"}

// Status is where a case is in its life cycle.
type Status string

// Statuses. A case waiting on a vendor or on its requester pauses the SLA
// clocks that allow it.
const (
	New              Status = "new"
	Acknowledged     Status = "acknowledged"
	InProgress       Status = "in_progress"
	WaitingVendor    Status = "waiting_vendor"
	WaitingRequester Status = "waiting_requester"
	Resolved         Status = "resolved"
	Closed           Status = "closed"
)

// Statuses lists every status, in life-cycle order.
var Statuses = []Status{New, Acknowledged, InProgress, WaitingVendor, WaitingRequester, Resolved, Closed}

// transitions are the statuses each status may move to. Every type shares
// them; a closed case can be reopened (back to in progress).
var transitions = map[Status][]Status{
	New:              {Acknowledged, InProgress, Resolved, Closed},
	Acknowledged:     {InProgress, WaitingVendor, WaitingRequester, Resolved, Closed},
	InProgress:       {WaitingVendor, WaitingRequester, Resolved, Closed},
	WaitingVendor:    {InProgress, Resolved, Closed},
	WaitingRequester: {InProgress, Resolved, Closed},
	Resolved:         {Closed, InProgress},
	Closed:           {InProgress},
}

// CanMove reports whether a case may go from one status to another.
func CanMove(from, to Status) bool { return slices.Contains(transitions[from], to) }

// Priority orders cases; P1 is the most urgent.
type Priority string

// Priorities.
const (
	P1 Priority = "p1"
	P2 Priority = "p2"
	P3 Priority = "p3"
	P4 Priority = "p4"
)

// Case is one case document.
type Case struct {
	// Timestamp is when the case was opened (the store's time field).
	Timestamp   time.Time `json:"@timestamp"`
	ID          string    `json:"id"`
	Type        Type      `json:"type"`
	Subtype     string    `json:"subtype,omitempty"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	Status      Status    `json:"status"`
	Priority    Priority  `json:"priority,omitempty"`
	Assignee    string    `json:"assignee,omitempty"`
	// Reporter is who reported or requested (a user name), Channel how.
	Reporter string `json:"reporter,omitempty"`
	Channel  string `json:"channel,omitempty"`
	// Fields holds type-specific facts (a failure's device and impact, a
	// problem's cause and fix, a request's details), by name.
	Fields map[string]string `json:"fields,omitempty"`
	Links  []Link            `json:"links,omitempty"`
	// Runbook names the runbook whose steps Checklist holds.
	Runbook   string    `json:"runbook,omitempty"`
	Checklist []Step    `json:"checklist,omitempty"`
	Comments  []Comment `json:"comments,omitempty"`
	Timeline  []Entry   `json:"timeline,omitempty"`
	// Survey is the reporter\'s rating of a closed incident (SLA item 4).
	Survey *Survey `json:"survey,omitempty"`
	// Exports are the chain-of-custody records of the log exports
	// delivered for a log-retrieval request (files under the exports
	// directory, in a folder named after the case).
	Exports   []logexport.Custody `json:"exports,omitempty"`
	Audit     []Change            `json:"audit,omitempty"`
	UpdatedAt time.Time           `json:"updated_at"`
}

// LinkKinds are what a case links to.
var LinkKinds = []string{"alert", "event", "case"}

// Link points from a case to an alert, an event or another case.
type Link struct {
	Kind string `json:"kind"` // "alert", "event" or "case"
	ID   string `json:"id"`
	// Relation qualifies a case link ("caused_by", "duplicate_of"...).
	Relation string `json:"relation,omitempty"`
}

// Step is one item of a case's checklist (a runbook step).
type Step struct {
	Text   string    `json:"text"`
	Done   bool      `json:"done,omitempty"`
	DoneBy string    `json:"done_by,omitempty"`
	DoneAt time.Time `json:"done_at,omitzero"`
}

// Survey is a satisfaction rating on the seed's five-level scale.
type Survey struct {
	Score   int       `json:"score"` // 100, 80, 60, 40 or 0
	Comment string    `json:"comment,omitempty"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// SurveyScores are the five levels of the satisfaction survey: satisfied,
// mostly satisfied, neutral, somewhat dissatisfied, dissatisfied.
var SurveyScores = []int{100, 80, 60, 40, 0}

// Comment is a note on a case.
type Comment struct {
	At     time.Time `json:"at"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
}

// Entry is a moment of a case's timeline: created, a status change, a
// notification that went out, a comment. SLA clocks start, stop and pause
// on entries.
type Entry struct {
	At    time.Time `json:"at"`
	Kind  string    `json:"kind"` // created, status, notification, comment, link, sla, download
	Actor string    `json:"actor,omitempty"`
	// Status is the new status of a "status" entry.
	Status Status `json:"status,omitempty"`
	// Notification names what a "notification" entry sent
	// ("acknowledgement", "first_report", "progress_report"...).
	Notification string `json:"notification,omitempty"`
	Detail       string `json:"detail,omitempty"`
}

// Change is one entry of the audit trail: a field that changed.
type Change struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Field  string    `json:"field"`
	Before string    `json:"before,omitempty"`
	After  string    `json:"after,omitempty"`
}

// Validate checks a case's type, subtype, channel, status and priority.
func (c *Case) Validate() error {
	if !slices.Contains(Types, c.Type) {
		return fmt.Errorf("%w: type %q: want one of %v", ErrInvalid, c.Type, Types)
	}
	if subs := Subtypes[c.Type]; len(subs) > 0 && c.Subtype != "" && !slices.Contains(subs, c.Subtype) {
		return fmt.Errorf("%w: subtype %q of %s: want one of %v", ErrInvalid, c.Subtype, c.Type, subs)
	}
	if c.Title == "" {
		return fmt.Errorf("%w: a case needs a title", ErrInvalid)
	}
	if c.Channel != "" && !slices.Contains(Channels, c.Channel) {
		return fmt.Errorf("%w: channel %q: want one of %v", ErrInvalid, c.Channel, Channels)
	}
	if _, ok := transitions[c.Status]; !ok {
		return fmt.Errorf("%w: status %q", ErrInvalid, c.Status)
	}
	switch c.Priority {
	case "", P1, P2, P3, P4:
	default:
		return fmt.Errorf("%w: priority %q: want p1 to p4", ErrInvalid, c.Priority)
	}
	if sv := c.Survey; sv != nil {
		switch {
		case c.Type != Incident:
			return fmt.Errorf("%w: only incidents are rated (this is a %s)", ErrInvalid, c.Type)
		case c.Status != Closed:
			return fmt.Errorf("%w: an incident is rated once it is closed (it is %s)", ErrInvalid, c.Status)
		case !slices.Contains(SurveyScores, sv.Score):
			return fmt.Errorf("%w: survey score %d: want one of %v", ErrInvalid, sv.Score, SurveyScores)
		}
	}
	for _, l := range c.Links {
		if !slices.Contains(LinkKinds, l.Kind) || l.ID == "" {
			return fmt.Errorf("%w: link %s %q: want an alert, event or case id", ErrInvalid, l.Kind, l.ID)
		}
	}
	return nil
}
