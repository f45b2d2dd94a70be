package casework

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/store"
)

// Errors. ErrConflict and ErrNotFound wrap the store's.
var (
	ErrInvalid  = errors.New("casework: invalid case")
	ErrConflict = fmt.Errorf("casework: the case changed since it was read: %w", store.ErrConflict)
	ErrNotFound = fmt.Errorf("casework: %w", store.ErrNotFound)
)

// Cases reads and writes cases in a store's "cases" collection.
type Cases struct {
	s   store.Store
	now func() time.Time
}

// NewCases returns the cases kept in s. now may be nil (time.Now).
func NewCases(s store.Store, now func() time.Time) *Cases {
	if now == nil {
		now = time.Now
	}
	return &Cases{s: s, now: now}
}

// idPrefix is the first part of a case id, by type.
var idPrefix = map[Type]string{
	Incident: "INC", Failure: "FAIL", SecurityIncident: "SEC", Problem: "PRB", Request: "REQ",
	Vulnerability: "VUL", Duty: "DUTY", Outage: "OUT",
}

var idEncoding = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// newID returns a readable, practically unique id: INC-20261126-7K3QX.
func (c *Cases) newID(t Type, at time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return idPrefix[t] + "-" + at.Format("20060102") + "-" + idEncoding.EncodeToString(b[:])[:5]
}

// Open creates a case from cs (its Type, Title and what else it has) and
// returns it with its version. The case starts in status New (or the
// status given), opened now by actor, with a "created" timeline entry.
func (c *Cases) Open(ctx context.Context, actor string, cs Case) (Case, store.Version, error) {
	now := c.now().UTC()
	if cs.Timestamp.IsZero() {
		cs.Timestamp = now
	}
	if cs.Status == "" {
		cs.Status = New
	}
	cs.UpdatedAt = now
	cs.Timeline = append([]Entry{{At: cs.Timestamp, Kind: "created", Actor: actor, Status: cs.Status}}, cs.Timeline...)
	cs.Audit = []Change{{At: now, Actor: actor, Field: "case", After: "opened"}}
	if err := cs.Validate(); err != nil {
		return Case{}, store.Version{}, err
	}
	given := cs.ID
	for attempt := 0; ; attempt++ {
		if given == "" {
			cs.ID = c.newID(cs.Type, cs.Timestamp)
		}
		v, err := c.put(ctx, &cs, store.Version{})
		if errors.Is(err, store.ErrConflict) && given == "" && attempt < 3 {
			continue // the random part collided: another id
		}
		if errors.Is(err, store.ErrConflict) {
			return Case{}, store.Version{}, fmt.Errorf("casework: case %s exists already: %w", cs.ID, ErrConflict)
		}
		return cs, v, err
	}
}

func (c *Cases) put(ctx context.Context, cs *Case, v store.Version) (store.Version, error) {
	src, err := json.Marshal(cs)
	if err != nil {
		return store.Version{}, err
	}
	return c.s.Update(ctx, store.Cases, store.Doc{ID: cs.ID, Source: src, Version: v})
}

// Get returns a case and its version.
func (c *Cases) Get(ctx context.Context, id string) (Case, store.Version, error) {
	doc, err := c.s.Get(ctx, store.Cases, id)
	if errors.Is(err, store.ErrNotFound) {
		return Case{}, store.Version{}, fmt.Errorf("case %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Case{}, store.Version{}, err
	}
	var cs Case
	if err := json.Unmarshal(doc.Source, &cs); err != nil {
		return Case{}, store.Version{}, fmt.Errorf("casework: case %s is unreadable: %w", id, err)
	}
	return cs, doc.Version, nil
}

// Update applies change to the case as it was at version (what the caller
// read) and writes it. Every field change goes into the audit trail; a
// status change must be allowed (CanMove) and is added to the timeline, as
// are new comments and links. If the case changed since version, nothing is
// written and the error wraps ErrConflict: the caller reads again and
// decides (a person sees the other change; automation uses Modify).
func (c *Cases) Update(ctx context.Context, id string, version store.Version, actor string, change func(*Case) error) (Case, store.Version, error) {
	before, current, err := c.Get(ctx, id)
	if err != nil {
		return Case{}, store.Version{}, err
	}
	if current != version {
		return Case{}, store.Version{}, fmt.Errorf("case %s: %w", id, ErrConflict)
	}
	return c.apply(ctx, before, version, actor, change)
}

// Modify reads the case, applies change and writes it, reading and
// applying again when another update came in between (up to 10 times).
// change must be safe to call more than once.
func (c *Cases) Modify(ctx context.Context, id, actor string, change func(*Case) error) (Case, store.Version, error) {
	for attempt := 0; ; attempt++ {
		before, v, err := c.Get(ctx, id)
		if err != nil {
			return Case{}, store.Version{}, err
		}
		after, nv, err := c.apply(ctx, before, v, actor, change)
		if errors.Is(err, ErrConflict) && attempt < 10 {
			continue
		}
		return after, nv, err
	}
}

func (c *Cases) apply(ctx context.Context, before Case, version store.Version, actor string, change func(*Case) error) (Case, store.Version, error) {
	after := clone(before)
	if err := change(&after); err != nil {
		return Case{}, store.Version{}, err
	}
	if after.ID != before.ID || after.Type != before.Type || !after.Timestamp.Equal(before.Timestamp) {
		return Case{}, store.Version{}, fmt.Errorf("%w: a case's id, type and opening time do not change", ErrInvalid)
	}
	if after.Status != before.Status && !CanMove(before.Status, after.Status) {
		return Case{}, store.Version{}, fmt.Errorf("%w: a case cannot go from %s to %s", ErrInvalid, before.Status, after.Status)
	}
	if err := after.Validate(); err != nil {
		return Case{}, store.Version{}, err
	}
	now := c.now().UTC()
	changes := diff(before, after)
	if len(changes) == 0 {
		return before, version, nil
	}
	for i := range changes {
		changes[i].At, changes[i].Actor = now, actor
	}
	after.Audit = append(after.Audit, changes...)
	if after.Status != before.Status {
		after.Timeline = append(after.Timeline, Entry{At: now, Kind: "status", Actor: actor, Status: after.Status})
	}
	for _, cm := range after.Comments[len(before.Comments):] {
		after.Timeline = append(after.Timeline, Entry{At: cm.At, Kind: "comment", Actor: cm.Author})
	}
	for _, l := range after.Links {
		if !slices.Contains(before.Links, l) {
			after.Timeline = append(after.Timeline, Entry{At: now, Kind: "link", Actor: actor, Detail: l.Kind + " " + l.ID})
		}
	}
	after.UpdatedAt = now
	v, err := c.put(ctx, &after, version)
	if errors.Is(err, store.ErrConflict) {
		return Case{}, store.Version{}, fmt.Errorf("case %s: %w", before.ID, ErrConflict)
	}
	return after, v, err
}

// clone copies a case deeply enough that changing the copy's slices and
// map leaves the original alone.
func clone(c Case) Case {
	c.Fields = maps.Clone(c.Fields)
	c.Links = slices.Clone(c.Links)
	c.Comments = slices.Clone(c.Comments)
	c.Checklist = slices.Clone(c.Checklist)
	c.Timeline = slices.Clone(c.Timeline)
	c.Audit = slices.Clone(c.Audit)
	c.Exports = slices.Clone(c.Exports)
	return c
}

// diff lists the changed fields between two versions of a case (the
// audit trail and timeline are the record of changes, not changes).
func diff(a, b Case) []Change {
	var out []Change
	scalar := func(field, x, y string) {
		if x != y {
			out = append(out, Change{Field: field, Before: x, After: y})
		}
	}
	scalar("subtype", a.Subtype, b.Subtype)
	scalar("title", a.Title, b.Title)
	scalar("description", a.Description, b.Description)
	scalar("status", string(a.Status), string(b.Status))
	scalar("priority", string(a.Priority), string(b.Priority))
	scalar("assignee", a.Assignee, b.Assignee)
	scalar("reporter", a.Reporter, b.Reporter)
	scalar("channel", a.Channel, b.Channel)
	for _, k := range slices.Sorted(maps.Keys(union(a.Fields, b.Fields))) {
		scalar("fields."+k, a.Fields[k], b.Fields[k])
	}
	linkText := func(l Link) string { return strings.TrimSpace(l.Kind + " " + l.ID + " " + l.Relation) }
	for _, l := range b.Links {
		if !slices.Contains(a.Links, l) {
			out = append(out, Change{Field: "links", After: linkText(l)})
		}
	}
	for _, l := range a.Links {
		if !slices.Contains(b.Links, l) {
			out = append(out, Change{Field: "links", Before: linkText(l)})
		}
	}
	if len(b.Comments) > len(a.Comments) {
		for _, cm := range b.Comments[len(a.Comments):] {
			out = append(out, Change{Field: "comments", After: cm.Text})
		}
	}
	for i := range min(len(a.Comments), len(b.Comments)) {
		scalar(fmt.Sprintf("comments[%d]", i), a.Comments[i].Text, b.Comments[i].Text)
	}
	if len(b.Comments) < len(a.Comments) {
		for _, cm := range a.Comments[len(b.Comments):] {
			out = append(out, Change{Field: "comments", Before: cm.Text})
		}
	}
	scalar("runbook", a.Runbook, b.Runbook)
	survey := func(sv *Survey) string {
		if sv == nil {
			return ""
		}
		return strings.TrimSpace(fmt.Sprintf("%d %s", sv.Score, sv.Comment))
	}
	scalar("survey", survey(a.Survey), survey(b.Survey))
	for i := range max(len(a.Checklist), len(b.Checklist)) {
		state := func(l []Step) string {
			switch {
			case i >= len(l):
				return ""
			case l[i].Done:
				return "done: " + l[i].Text
			}
			return "open: " + l[i].Text
		}
		scalar(fmt.Sprintf("checklist[%d]", i), state(a.Checklist), state(b.Checklist))
	}
	for _, x := range b.Exports[min(len(a.Exports), len(b.Exports)):] {
		out = append(out, Change{Field: "exports", After: fmt.Sprintf("%s %d events sha256 %s", x.File, x.Events, x.FileSHA256)})
	}
	if len(b.Exports) < len(a.Exports) {
		out = append(out, Change{Field: "exports", Before: fmt.Sprintf("%d exports", len(a.Exports)), After: fmt.Sprintf("%d exports", len(b.Exports))})
	}
	if len(b.Timeline) > len(a.Timeline) {
		for _, e := range b.Timeline[len(a.Timeline):] {
			switch e.Kind {
			case "notification":
				out = append(out, Change{Field: "notifications", After: e.Notification})
			case "sla": // warnings and breaches the SLA watcher records
				out = append(out, Change{Field: "sla", After: e.Detail})
			case "download": // who fetched a delivered export (chain of custody)
				out = append(out, Change{Field: "downloads", After: e.Actor + " " + e.Detail})
			}
		}
	}
	return out
}

func union(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}

// Opened returns every case opened in [from, to), oldest first, reading
// the store page by page.
func (c *Cases) Opened(ctx context.Context, from, to time.Time) ([]Case, error) {
	return c.Find(ctx, "", from, to)
}

// Find returns the cases opened in [from, to) that match the KQL query
// over the case fields ("" for all), such as `not status:closed`, oldest
// first, reading the store page by page. The store does the filtering.
func (c *Cases) Find(ctx context.Context, query string, from, to time.Time) ([]Case, error) {
	var filter kql.Cond
	if query != "" {
		n, err := kql.Parse(query)
		if err != nil {
			return nil, fmt.Errorf("casework: query %q: %w", query, err)
		}
		if filter, err = kql.Plan(n, kql.Options{}); err != nil {
			return nil, fmt.Errorf("casework: query %q: %w", query, err)
		}
	}
	var out []Case
	err := c.s.Export(ctx, store.SearchRequest{
		Query: store.Query{Collection: store.Cases, Filter: filter, From: from, To: to},
		Sort:  []store.SortField{{Field: "@timestamp"}},
	}, func(h store.Hit) error {
		var cs Case
		if err := json.Unmarshal(h.Source, &cs); err != nil {
			return fmt.Errorf("casework: case %s is unreadable: %w", h.ID, err)
		}
		out = append(out, cs)
		return nil
	})
	return out, err
}
