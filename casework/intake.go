package casework

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/dlq"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/stage"
)

// IntakeOptions configure how alerts become cases.
type IntakeOptions struct {
	// Window groups alerts: alerts of one rule about one entity (the
	// alert's dedup key) whose first-seen times fall into the same window
	// join one case. Default 24 hours. Windows are aligned to midnight in
	// Location (default UTC), so a day's window is the local day, and case
	// ids carry its local date.
	Window   time.Duration
	Location *time.Location
	// Runbooks are attached to new cases: the one named after the rule id,
	// else the one named after the case type.
	Runbooks Runbooks
	// Types gives the case type of a rule's alerts by rule id (default
	// security_incident): a rule that watches for failures (a log source
	// gone silent, a device down) opens failure cases, whose first-report
	// clock starts at detection time.
	Types map[string]Type
	// DeadLetters receives the alerts that cannot be filed.
	DeadLetters bus.Producer
	Logger      *slog.Logger
}

// Intake turns detection alerts (mamori.alerts) into cases, security
// incidents unless IntakeOptions.Types says otherwise: the first alert of a rule and entity in a window opens a case,
// with the alert's severity as priority, the runbook's steps as checklist
// and the detection time as the case's opening time (SLA clocks start when
// the problem was detected, not when someone looked); later alerts, and
// later versions of the same alert, are linked to it. Case ids are derived
// from the rule, the entity and the window, so redelivered alerts and
// several workers never open a case twice.
type Intake struct {
	cases *Cases
	opts  IntakeOptions
}

var _ stage.Handler = (*Intake)(nil)

// NewIntake returns the intake handler.
func NewIntake(cases *Cases, opts IntakeOptions) *Intake {
	if opts.Window <= 0 {
		opts.Window = 24 * time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Intake{cases: cases, opts: opts}
}

// Handle files the batch's alerts. An alert that cannot be filed (not an
// alert, an invalid case) is dead-lettered through DeadLetters; a store
// error fails the batch, which is retried (filing is idempotent).
func (in *Intake) Handle(ctx context.Context, batch []bus.Record) error {
	var dead []bus.Record
	for i := range batch {
		var a event.Event
		err := event.Unmarshal(batch[i].Value, &a)
		if err == nil {
			if err = in.file(ctx, &a); err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, errNotAlert) {
				return err
			}
		}
		if err != nil {
			dead = append(dead, dlq.Wrap(batch[i], "casework", err, time.Now().UTC()))
			in.opts.Logger.Warn("alert not filed as a case", "err", err)
		}
	}
	if len(dead) > 0 && in.opts.DeadLetters != nil {
		if err := in.opts.DeadLetters.Publish(ctx, dead...); err != nil {
			return fmt.Errorf("casework: dead-letter: %w", err)
		}
	}
	return nil
}

var errNotAlert = errors.New("casework: not an alert (no rule.id or id)")

// priorities maps alert severities to case priorities.
var priorities = map[string]Priority{"critical": P1, "high": P2, "medium": P3, "low": P4}

// file opens or updates the case of one alert.
func (in *Intake) file(ctx context.Context, a *event.Event) error {
	rule, _ := a.Fields["rule.id"].(string)
	if rule == "" || a.Event.ID == "" {
		return errNotAlert
	}
	name, _ := a.Fields["rule.name"].(string)
	severity, _ := a.Fields["mamori.alert.severity"].(string)
	var key []string
	switch k := a.Fields["mamori.alert.dedup_key"].(type) {
	case []string:
		key = k
	case []any:
		for _, v := range k {
			key = append(key, fmt.Sprint(v))
		}
	}
	typ := SecurityIncident
	if t, ok := in.opts.Types[rule]; ok {
		typ = t
	}
	id := caseIDFor(typ, rule, key, a.Timestamp, in.opts.Window, in.opts.Location)
	link := Link{Kind: "alert", ID: a.Event.ID}

	c := Case{
		ID: id, Timestamp: a.Timestamp.UTC(), Type: typ,
		Title: a.Message, Description: a.Event.Reason, Priority: priorities[severity], Channel: "monitoring",
		Fields: map[string]string{"rule.id": rule, "rule.name": name, "entity": strings.Join(slices.DeleteFunc(slices.Clone(key), func(s string) bool { return s == "" }), " ")},
		Links:  []Link{link},
	}
	if c.Title == "" {
		c.Title = name
	}
	if rb, ok := in.opts.Runbooks.For(rule, string(typ)); ok {
		c.Runbook, c.Checklist = rb.Name, rb.Checklist()
	}
	_, _, err := in.cases.Open(ctx, "detection", c)
	if !errors.Is(err, ErrConflict) {
		if err == nil {
			in.opts.Logger.Info("case opened from an alert", "case", id, "rule", rule, "alert", a.Event.ID)
		}
		return err
	}
	// The case exists: link this alert (once).
	_, _, err = in.cases.Modify(ctx, id, "detection", func(c *Case) error {
		if !slices.Contains(c.Links, link) {
			c.Links = append(c.Links, link)
		}
		return nil
	})
	return err
}

// CaseIDForAlert returns the id of the security-incident case an alert of
// rule with dedup key, first seen at first, joins under a grouping window
// (0: the default 24 hours) aligned to midnight in loc (nil: UTC):
// SEC-20261124-<10 hex digits>, the date the window's start in loc.
func CaseIDForAlert(rule string, key []string, first time.Time, window time.Duration, loc *time.Location) string {
	return caseIDFor(SecurityIncident, rule, key, first, window, loc)
}

// caseIDFor is CaseIDForAlert for a case of type t (FAIL-... for failures).
func caseIDFor(t Type, rule string, key []string, first time.Time, window time.Duration, loc *time.Location) string {
	if window <= 0 {
		window = 24 * time.Hour
	}
	if loc == nil {
		loc = time.UTC
	}
	// Truncate aligns to the zero time in UTC: shift by the zone's offset
	// at first so that windows start at local midnight.
	_, offset := first.In(loc).Zone()
	shift := time.Duration(offset) * time.Second
	start := first.Add(shift).Truncate(window).Add(-shift)
	return caseID(idPrefix[t], rule, key, start.In(loc))
}

func caseID(prefix, rule string, key []string, window time.Time) string {
	h := sha256.New()
	h.Write([]byte(rule))
	for _, k := range key {
		h.Write([]byte{0})
		h.Write([]byte(k))
	}
	h.Write([]byte(window.UTC().Format(time.RFC3339)))
	return prefix + "-" + window.Format("20060102") + "-" + hex.EncodeToString(h.Sum(nil))[:10]
}
