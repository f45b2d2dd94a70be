package detections

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mamori-soc/mamori/event"
)

// Alert document fields outside the ECS typed core.
const (
	FieldAlertCount    = "mamori.alert.count"        // long: events the alert stands for
	FieldAlertEventIDs = "mamori.alert.event_ids"    // keyword[]: triggering event ids, capped
	FieldAlertDedupKey = "mamori.alert.dedup_key"    // keyword[]: the dedup key's values
	FieldAlertWindow   = "mamori.alert.window_start" // date: start of the suppression window
	FieldAlertSeverity = "mamori.alert.severity"     // keyword: low, medium, high or critical
)

// AlertID returns the deterministic id of the alert of rule ruleID for the
// dedup key values in the window starting at windowStart: the first 160 bits
// of SHA-256 over them, in the lower-case base32 of event ids.
func AlertID(ruleID string, key []string, windowStart time.Time) string {
	h := sha256.New()
	h.Write([]byte("mamori.alert\x00"))
	h.Write([]byte(ruleID))
	h.Write([]byte{0})
	for _, k := range key {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(k)))])
		h.Write([]byte(k))
	}
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(windowStart.UnixNano()))
	h.Write(ts[:])
	var sum [sha256.Size]byte
	return alertEncoding.EncodeToString(h.Sum(sum[:0])[:20])
}

var alertEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// windowStart aligns t to the Unix epoch in steps of d.
func windowStart(t time.Time, d time.Duration) time.Time {
	n := t.UnixNano()
	w := n / int64(d) * int64(d)
	if w > n { // negative times round towards zero
		w -= int64(d)
	}
	return time.Unix(0, w).UTC()
}

// Alerts keeps the open alerts for deduplication, in memory, bounded by a TTL
// in event time and a maximum count. Changes go through a Batch, which
// becomes visible only when committed.
type Alerts struct {
	cfg Config

	mu        sync.Mutex // held from Begin to Commit or Abort
	open      map[string]*openAlert
	watermark time.Time // latest event time committed
	swept     time.Time // watermark at the last sweep
}

// openAlert is the state of one alert.
type openAlert struct {
	id          string
	rule        *Rule
	key         []string
	window, end time.Time // suppression window
	first, last time.Time
	count       int64
	ids         []eventRef // the earliest triggering events, capped
	user        *event.User
	host        *event.Host
	source      *event.Endpoint
}

// NewAlerts returns an empty dedup state with the engine's limits.
func NewAlerts(cfg Config) *Alerts {
	cfg.defaults()
	return &Alerts{cfg: cfg, open: map[string]*openAlert{}}
}

// Len returns the number of open alerts.
func (a *Alerts) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.open)
}

// Batch is a set of changes to the open alerts: hits are added, the updated
// alerts read, and the changes committed once the alerts are durable, or
// aborted. Only one Batch is open at a time; Begin waits for the previous one
// to end.
type Batch struct {
	a         *Alerts
	touched   map[string]*openAlert
	order     []*openAlert
	watermark time.Time
}

// Begin opens a batch. The caller must end it with Commit or Abort.
func (a *Alerts) Begin() *Batch {
	a.mu.Lock()
	return &Batch{a: a, touched: map[string]*openAlert{}, watermark: a.watermark}
}

// Watermark returns the latest event time seen by the batch and the
// committed state before it.
func (b *Batch) Watermark() time.Time { return b.watermark }

// See raises the batch's watermark to t, the time of an event read (hit or
// not): it drives Observer.Advance and the expiry of open alerts.
func (b *Batch) See(t time.Time) {
	if t.After(b.watermark) {
		b.watermark = t
	}
}

// Add records a hit of rule r: it updates the open alert with the same key
// in the hit's window, or opens one. The key is the group key of a stateful
// rule's hit (nil for a stateless rule) followed by the rule's dedup key
// read from the hit's event. A hit whose event ids are all recorded in that
// alert already (the same event delivered twice) changes nothing.
func (b *Batch) Add(r *Rule, h Hit, group []string) {
	e := h.Event
	last, first := h.Last, h.First
	if last.IsZero() {
		last = e.Timestamp
	}
	if first.IsZero() {
		first = e.Timestamp
	}
	count := int64(h.Count)
	if count <= 0 {
		count = 1
	}
	ids := h.EventIDs
	if ids == nil && e.Event.ID != "" {
		ids = []string{e.Event.ID}
	}
	key := append(slices.Clip(group), dedupKey(e, r.DedupKey)...)
	ws := windowStart(last, r.Suppression)
	id := AlertID(r.ID, key, ws)

	o := b.touched[id]
	if o == nil {
		if prev := b.a.open[id]; prev != nil {
			c := *prev
			c.ids = slices.Clone(prev.ids)
			o = &c
		} else {
			o = &openAlert{id: id, rule: r, key: key, window: ws, end: ws.Add(r.Suppression), first: first, last: last}
			o.user, o.host, o.source = entity(e, r.Entity)
		}
		b.touched[id] = o
		b.order = append(b.order, o)
	}
	if len(ids) > 0 {
		// Only the events the alert does not list yet count: a hit that
		// repeats events (a redelivery, a threshold crossed again with
		// events of the same window) adds just the new ones.
		fresh := 0
		for _, s := range ids {
			if !o.has(s) {
				fresh++
			}
		}
		if fresh == 0 {
			return
		}
		count = count * int64(fresh) / int64(len(ids))
		if count < 1 {
			count = 1
		}
	}
	o.count += count
	if first.Before(o.first) {
		o.first = first
	}
	if last.After(o.last) {
		o.last = last
	}
	for i, s := range ids {
		if o.has(s) {
			continue
		}
		// Times order the ids: a single event's own time; the ids of a
		// multi-event hit from its first time on, in the order given.
		ref := eventRef{ID: s, At: first, Seq: i}
		if len(ids) == 1 {
			ref.At = last
		}
		at, _ := slices.BinarySearchFunc(o.ids, ref, compareRefs)
		o.ids = slices.Insert(o.ids, at, ref)
		if len(o.ids) > b.a.cfg.MaxEventIDs {
			o.ids = o.ids[:b.a.cfg.MaxEventIDs]
		}
	}
	if last.After(b.watermark) {
		b.watermark = last
	}
}

// eventRef is a triggering event of an alert. The alert keeps the earliest
// ones by (time, position in the hit, id), so that which ids an alert
// lists does not depend on the order its hits arrived in.
type eventRef struct {
	ID  string    `json:"id"`
	At  time.Time `json:"at"`
	Seq int       `json:"seq,omitempty"`
}

func compareRefs(a, b eventRef) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	if a.Seq != b.Seq {
		return a.Seq - b.Seq
	}
	return strings.Compare(a.ID, b.ID)
}

// has reports whether the alert lists the event id.
func (o *openAlert) has(id string) bool {
	return slices.ContainsFunc(o.ids, func(r eventRef) bool { return r.ID == id })
}

// Alerts returns the alert documents the batch created or updated, in the
// order they were first touched.
func (b *Batch) Alerts() []*event.Event {
	out := make([]*event.Event, len(b.order))
	for i, o := range b.order {
		out[i] = o.document()
	}
	return out
}

// Commit makes the batch's changes the open alerts, forgets alerts whose
// window ended longer ago than the allowed lateness, and ends the batch.
func (b *Batch) Commit() {
	a := b.a
	defer a.mu.Unlock()
	for id, o := range b.touched {
		a.open[id] = o
	}
	a.watermark = b.watermark
	if a.watermark.Sub(a.swept) >= time.Minute || len(a.open) > a.cfg.MaxOpenAlerts {
		a.sweep()
	}
	b.touched, b.order = nil, nil
}

// Abort drops the batch's changes and ends the batch.
func (b *Batch) Abort() {
	b.touched, b.order = nil, nil
	b.a.mu.Unlock()
}

// sweep forgets expired alerts and, over the limit, the oldest windows.
func (a *Alerts) sweep() {
	a.swept = a.watermark
	horizon := a.watermark.Add(-a.cfg.AllowedLateness)
	for id, o := range a.open {
		if o.end.Before(horizon) {
			delete(a.open, id)
		}
	}
	if len(a.open) <= a.cfg.MaxOpenAlerts {
		return
	}
	all := make([]*openAlert, 0, len(a.open))
	for _, o := range a.open {
		all = append(all, o)
	}
	slices.SortFunc(all, func(x, y *openAlert) int {
		if c := x.end.Compare(y.end); c != 0 {
			return c
		}
		return strings.Compare(x.id, y.id)
	})
	for _, o := range all[:len(all)-a.cfg.MaxOpenAlerts*9/10] {
		delete(a.open, o.id)
	}
}

// dedupKey reads the canonical text of each key field.
func dedupKey(e *event.Event, fields []string) []string { return KeyOf(e, fields) }

// entity copies who and what the alert is about from the event: the whole
// user, host and source field sets when the rule names the default fields,
// else the named field's value as user.name, host.name or source.ip (or
// source.address when it is not an address).
func entity(e *event.Event, en Entity) (*event.User, *event.Host, *event.Endpoint) {
	var u *event.User
	var h *event.Host
	var s *event.Endpoint
	if en.User == "user.name" {
		if e.User != nil {
			c := *e.User
			u = &c
		}
	} else if v := text(e, en.User); v != "" {
		u = &event.User{Name: v}
	}
	if en.Host == "host.name" {
		if e.Host != nil {
			c := *e.Host
			c.IP = slices.Clone(c.IP)
			h = &c
		}
	} else if v := text(e, en.Host); v != "" {
		h = &event.Host{Name: v}
	}
	if en.Source == "source.ip" {
		if e.Source != nil {
			c := *e.Source
			s = &c
		}
	} else if v := text(e, en.Source); v != "" {
		if _, err := netip.ParseAddr(v); err == nil {
			s = &event.Endpoint{IP: v}
		} else {
			s = &event.Endpoint{Address: v}
		}
	}
	return u, h, s
}

// text returns a field's canonical text (the first element of an array).
func text(e *event.Event, field string) string {
	v, ok := e.Get(field)
	if !ok {
		return ""
	}
	var buf [32]byte
	out := ""
	forEachText(v, &buf, func(s string) {
		if out == "" {
			out = strings.Clone(s)
		}
	})
	return out
}

// document builds the alert's ECS document.
func (o *openAlert) document() *event.Event {
	r := o.rule
	sev := int64(r.Severity.RiskScore())
	e := &event.Event{
		Timestamp: o.first.UTC(),
		Message:   o.message(),
		Event: event.Meta{
			ID:       o.id,
			Kind:     "alert",
			Category: slices.Clone(r.Category),
			Type:     slices.Clone(r.Type),
			Module:   "mamori",
			Dataset:  "mamori.alert",
			Severity: &sev,
			Reason:   r.Description,
		},
		User:   o.user,
		Host:   o.host,
		Source: o.source,
		Fields: map[string]any{
			"event.start":      o.first.UTC(),
			"event.end":        o.last.UTC(),
			"event.risk_score": float64(r.RiskScore),
			"rule.id":          r.ID,
			"rule.name":        r.Name,
			"rule.version":     strconv.Itoa(r.Version),
			FieldAlertCount:    o.count,
			FieldAlertEventIDs: o.eventIDs(),
			FieldAlertDedupKey: slices.Clone(o.key),
			FieldAlertWindow:   o.window,
			FieldAlertSeverity: r.Severity.String(),
		},
	}
	if r.Description != "" {
		e.Fields["rule.description"] = r.Description
	}
	if len(r.Techniques) > 0 || len(r.Tactics) > 0 {
		e.Fields["threat.framework"] = "MITRE ATT&CK"
	}
	if len(r.Techniques) > 0 {
		ids, names, refs := make([]string, len(r.Techniques)), make([]string, len(r.Techniques)), make([]string, len(r.Techniques))
		for i, t := range r.Techniques {
			ids[i], names[i] = t.ID, t.Name
			refs[i] = "https://attack.mitre.org/techniques/" + strings.ReplaceAll(t.ID, ".", "/") + "/"
		}
		e.Fields["threat.technique.id"] = ids
		e.Fields["threat.technique.name"] = names
		e.Fields["threat.technique.reference"] = refs
	}
	if len(r.Tactics) > 0 {
		ids, names, refs := make([]string, len(r.Tactics)), make([]string, len(r.Tactics)), make([]string, len(r.Tactics))
		for i, t := range r.Tactics {
			ids[i], names[i] = t.ID, t.Name
			refs[i] = "https://attack.mitre.org/tactics/" + t.ID + "/"
		}
		e.Fields["threat.tactic.id"] = ids
		e.Fields["threat.tactic.name"] = names
		e.Fields["threat.tactic.reference"] = refs
	}
	return e
}

// eventIDs lists the alert's event ids in order.
func (o *openAlert) eventIDs() []string {
	out := make([]string, len(o.ids))
	for i, r := range o.ids {
		out[i] = r.ID
	}
	return out
}

// message says in English what happened; names (Japanese ones included)
// are kept as they are.
func (o *openAlert) message() string {
	var b strings.Builder
	b.WriteString(o.rule.Name)
	sep := ": "
	if o.user != nil && o.user.Name != "" {
		b.WriteString(sep + "user " + o.user.Name)
		sep = " "
	}
	if o.host != nil && o.host.Name != "" {
		b.WriteString(sep + "on host " + o.host.Name)
		sep = " "
	}
	if o.source != nil {
		if src := firstNonEmpty(o.source.IP, o.source.Address); src != "" {
			b.WriteString(sep + "from " + src)
		}
	}
	if o.count == 1 {
		b.WriteString(" (1 event)")
	} else {
		fmt.Fprintf(&b, " (%d events)", o.count)
	}
	return b.String()
}

// firstNonEmpty returns the first non-empty string.
func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// alertSnapshot is the stored form of an open alert.
type alertSnapshot struct {
	ID     string          `json:"id"`
	Rule   string          `json:"rule"`
	Key    []string        `json:"key"`
	Window time.Time       `json:"window"`
	End    time.Time       `json:"end"`
	First  time.Time       `json:"first"`
	Last   time.Time       `json:"last"`
	Count  int64           `json:"count"`
	IDs    []eventRef      `json:"ids,omitempty"`
	User   *event.User     `json:"user,omitempty"`
	Host   *event.Host     `json:"host,omitempty"`
	Source *event.Endpoint `json:"source,omitempty"`
}

// snapshot returns the open alerts, by id.
func (a *Alerts) snapshot() []alertSnapshot {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]alertSnapshot, 0, len(a.open))
	for _, o := range a.open {
		out = append(out, alertSnapshot{ID: o.id, Rule: o.rule.ID, Key: o.key, Window: o.window, End: o.end,
			First: o.first, Last: o.last, Count: o.count, IDs: o.ids, User: o.user, Host: o.host, Source: o.source})
	}
	slices.SortFunc(out, func(x, y alertSnapshot) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// restore adds snapshotted alerts of rules the engine still runs.
func (a *Alerts) restore(snap []alertSnapshot, en *Engine) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range snap {
		c := en.byID[s.Rule]
		if c == nil {
			continue
		}
		a.open[s.ID] = &openAlert{id: s.ID, rule: c.rule, key: s.Key, window: s.Window, end: s.End,
			first: s.First, last: s.Last, count: s.Count, ids: s.IDs, user: s.User, host: s.Host, source: s.Source}
		a.watermark = maxTime(a.watermark, s.Last)
	}
}
