// Package sessions answers "logon history of user X" and "who was on host
// Y": it builds Windows logon sessions, each a logon (4624) paired with what
// ended it, at query time from the events in the store. There is no
// sessions stage and no sessions index: a query reads the matching logon
// events and then the end events of those logons, and pairs them in memory.
//
// # What a query means
//
// The KQL filter applies to the logon events (4624, ECS as Winlogbeat
// writes it), so any field of the logon can be asked for:
// user.name:tanaka, user.id:S-1-5-21-..., source.ip:10.20.0.0/16,
// host.name:FS01.city.example.lg.jp. host.name is the computer name as
// Windows reports it, usually fully qualified: to ask for every name that
// starts with FS01 write host.name:FS01*. The events that end a session are
// then found by host and logon id, whatever the filter says: a logoff
// (4634) or user-initiated logoff (4647) with the logon's TargetLogonId on
// the same host, the RDP disconnects and reconnects (4779, 4778: marks in the
// session, not ends), and the reboots of the host (Security 4608, 4609, 1100;
// System 6005, 6006, 6008 from EventLog), which end every session open on
// it.
//
// A logon's id is winlog.event_data.TargetLogonId, never winlog.logon.id:
// on a 4624 Winlogbeat copies SubjectLogonId there (the id of the process
// that made the logon, 0x3e7 for SYSTEM). Windows reuses logon ids after a
// reboot, so an end pairs with the latest earlier logon of its id on its
// host that is still open (see pair.go for the whole algorithm).
//
// Sessions overlapping [From, To) are returned, newest start first, at most
// Limit of them. A session with no end seen ends by Timeout at start +
// MaxDuration, or is Open when that is still in the future. Logons are read
// from [From - MaxDuration, To), newest first, stopping once Limit sessions
// are certain (and marking the result Truncated); memory is bounded by the
// logons read, never by the number of end events, which are streamed and
// kept only when they belong to a logon read.
package sessions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/search"
	"github.com/mamori-soc/mamori/store"
)

// ErrBadRequest wraps every problem with the request itself.
var ErrBadRequest = errors.New("bad sessions request")

// Defaults and bounds.
const (
	// DefaultMaxDuration is how long a session without a seen end is taken
	// to last. A week: desktops stay logged on over a weekend and RDP
	// sessions sit disconnected for days, so a shorter bound would cut real
	// sessions short, while a lost logoff (log gap, agent down) still ends
	// within a week rather than never. The cost is the logon window, which
	// reaches back MaxDuration before From.
	DefaultMaxDuration = 7 * 24 * time.Hour
	// DefaultLimit is how many sessions a query returns unless told.
	DefaultLimit = 100
	// MaxLimit is the most sessions a query may return.
	MaxLimit = 10000
	// minScan is the fewest logons before From read to find sessions that
	// started before the range and were still open in it.
	minScan = 10000
	// idsPerHost is the most logon ids of one host looked up by id; a host
	// with more is read whole (see readEnds).
	idsPerHost = 16
	// idsPerQuery and hostsPerQuery bound the size of one end-event query.
	idsPerQuery   = 100
	hostsPerQuery = 200
	// pageSize is the store page size for the streaming reads.
	pageSize = 1000
)

// Request is a sessions query ready to run.
type Request struct {
	// Filter selects logon events (nil: every logon).
	Filter kql.Cond
	// From (inclusive) and To (exclusive) bound the time the sessions must
	// overlap.
	From, To time.Time
	// Now is the time the query is asked at: a session without an end that
	// is younger than MaxDuration at Now is Open (default time.Now()).
	Now time.Time
	// Types limits the logon types. nil means DefaultTypes; an empty,
	// non-nil set (ParseTypes("all")) means every type.
	Types TypeSet
	// MaxDuration bounds a session without a seen end (default
	// DefaultMaxDuration).
	MaxDuration time.Duration
	// Limit is the most sessions returned (default DefaultLimit, at most
	// MaxLimit).
	Limit int
}

// Result is the answer to a Request.
type Result struct {
	// Sessions overlap [From, To), newest start first.
	Sessions []Session
	// Truncated is set when more sessions may overlap the range than were
	// returned: narrow the filter or the range, or raise the limit.
	Truncated bool
	// LogonsRead and EndsRead count the events read from the store.
	LogonsRead, EndsRead int
}

// errStop ends an Export early.
var errStop = errors.New("stop")

// Find computes the sessions of a request from the events in s.
func Find(ctx context.Context, s store.Store, req Request) (*Result, error) {
	if err := req.defaults(); err != nil {
		return nil, err
	}
	res := &Result{}
	recs, truncated, err := readLogons(ctx, s, &req, res)
	if err != nil {
		return nil, err
	}
	res.Truncated = truncated
	if len(recs) == 0 {
		return res, nil
	}
	ends, err := readEnds(ctx, s, &req, recs, res)
	if err != nil {
		return nil, err
	}
	all := pair(append(recs, ends...), req.MaxDuration, req.Now)
	out := make([]Session, 0, min(len(all), req.Limit))
	for _, ss := range all {
		if overlaps(ss, req.From, req.To) {
			out = append(out, *ss)
		}
	}
	slices.SortFunc(out, func(a, b Session) int {
		if c := b.Start.Compare(a.Start); c != 0 {
			return c
		}
		if c := strings.Compare(a.Host, b.Host); c != 0 {
			return c
		}
		return strings.Compare(a.LogonID, b.LogonID)
	})
	if len(out) > req.Limit {
		out, res.Truncated = out[:req.Limit], true
	}
	res.Sessions = out
	return res, nil
}

func (r *Request) defaults() error {
	if r.Now.IsZero() {
		r.Now = time.Now()
	}
	if r.MaxDuration == 0 {
		r.MaxDuration = DefaultMaxDuration
	}
	if r.MaxDuration < 0 {
		return fmt.Errorf("%w: maximum duration %s must be positive", ErrBadRequest, r.MaxDuration)
	}
	if r.Limit == 0 {
		r.Limit = DefaultLimit
	}
	if r.Limit < 1 || r.Limit > MaxLimit {
		return fmt.Errorf("%w: limit %d: want 1 to %d", ErrBadRequest, r.Limit, MaxLimit)
	}
	if r.Types == nil {
		r.Types = slices.Clone(DefaultTypes)
	}
	if r.From.IsZero() || r.To.IsZero() || !r.From.Before(r.To) {
		return fmt.Errorf("%w: from (%s) must be before to (%s)", ErrBadRequest, r.From.Format(time.RFC3339), r.To.Format(time.RFC3339))
	}
	return nil
}

// overlaps reports whether s was open at some time in [from, to).
func overlaps(s *Session, from, to time.Time) bool {
	if !s.Start.Before(to) {
		return false
	}
	if !s.Start.Before(from) || s.EndReason == Open {
		return true
	}
	return s.End.After(from)
}

// readLogons streams the logons of [From - MaxDuration, To), newest first.
// All logons in [From, To) start sessions that overlap the range; it stops
// after 2 x Limit of them (two per session for UAC split logons) with
// truncated set. Logons before From overlap only if still open at From; it
// reads up to max(10 x Limit, 10,000) of them, nearest From first, and sets
// truncated if there were more.
func readLogons(ctx context.Context, s store.Store, req *Request, res *Result) ([]record, bool, error) {
	conds := []kql.Cond{eq("event.code", codeLogon)}
	if req.Filter != nil {
		conds = append(conds, req.Filter)
	}
	if len(req.Types) > 0 {
		var types []kql.Cond
		for _, t := range req.Types {
			types = append(types, eq("winlog.event_data.LogonType", fmt.Sprint(int(t))))
		}
		conds = append(conds, anyOf(types))
	}
	q := store.SearchRequest{
		Query: store.Query{Collection: store.Events, Filter: &kql.AllOf{Conds: conds},
			From: req.From.Add(-req.MaxDuration), To: req.To},
		Sort: []store.SortField{{Field: "@timestamp", Desc: true}},
		Size: pageSize,
	}
	var recs []record
	inRange, before, truncated := 0, 0, false
	maxBefore := max(10*req.Limit, minScan)
	err := s.Export(ctx, q, func(h store.Hit) error {
		res.LogonsRead++
		r, ok, err := decode(h.ID, h.Source)
		if err != nil {
			return err
		}
		if !ok || !req.Types.Has(r.logonType) {
			return nil
		}
		if !r.at.Before(req.From) {
			if inRange++; inRange > 2*req.Limit {
				truncated = true
				return errStop
			}
		} else {
			if inRange >= 2*req.Limit {
				return errStop // the range alone fills the limit
			}
			if before++; before > maxBefore {
				truncated = true
				return errStop
			}
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, false, fmt.Errorf("sessions: read logons: %w", err)
	}
	return recs, truncated, nil
}

// readEnds streams the end events, marks and reboots of the hosts and logon
// ids of the logons, from the oldest logon to MaxDuration after the newest,
// keeping those that belong to a logon read.
func readEnds(ctx context.Context, s store.Store, req *Request, logons []record, res *Result) ([]record, error) {
	from, to := logons[0].at, logons[0].at
	ids := map[string][]string{} // host -> raw logon ids
	known := map[hostID]bool{}
	for _, r := range logons {
		from, to = minTime(from, r.at), maxTime(to, r.at)
		k := hostID{r.host, r.logonID}
		if !known[k] {
			known[k] = true
			ids[r.host] = append(ids[r.host], r.logonID)
		}
	}
	to = to.Add(req.MaxDuration + time.Nanosecond)
	hosts := make([]string, 0, len(ids))
	for h := range ids {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)

	var out []record
	keep := func(h store.Hit) error {
		res.EndsRead++
		r, ok, err := decode(h.ID, h.Source)
		if err != nil || !ok {
			return err
		}
		if (r.kind == kindReboot && ids[r.host] != nil) || ((r.kind == kindEnd || r.kind == kindMark) && known[hostID{r.host, r.logonID}]) {
			out = append(out, r)
		}
		return nil
	}
	read := func(cond kql.Cond) error {
		q := store.SearchRequest{
			Query: store.Query{Collection: store.Events, Filter: cond, From: from, To: to},
			Sort:  []store.SortField{{Field: "@timestamp"}},
			Size:  pageSize,
		}
		if err := s.Export(ctx, q, keep); err != nil {
			return fmt.Errorf("sessions: read end events: %w", err)
		}
		return nil
	}

	// Reboots, a batch of hosts at a time.
	for chunk := range slices.Chunk(hosts, hostsPerQuery) {
		var hc []kql.Cond
		for _, h := range chunk {
			hc = append(hc, eq("host.name", h))
		}
		if err := read(&kql.AllOf{Conds: []kql.Cond{codes(rebootCodes), anyOf(hc)}}); err != nil {
			return nil, err
		}
	}
	// Ends and marks. A host with few logons read is asked for exactly
	// their ids; a host with many (a server's network logons) for all its
	// end events, which are streamed and dropped unless they belong to a
	// logon read: there a condition per id costs the store more than the
	// extra events cost us (BenchmarkFindEmbedded: 9 times slower on the
	// embedded store).
	var few, many []kql.Cond
	nFew := 0
	flush := func(batch *[]kql.Cond) error {
		if len(*batch) == 0 {
			return nil
		}
		err := read(&kql.AllOf{Conds: []kql.Cond{codes(endCodes), anyOf(*batch)}})
		*batch = (*batch)[:0]
		return err
	}
	for _, h := range hosts {
		if len(ids[h]) > idsPerHost {
			if many = append(many, eq("host.name", h)); len(many) >= hostsPerQuery {
				if err := flush(&many); err != nil {
					return nil, err
				}
			}
			continue
		}
		var ic []kql.Cond
		for _, id := range ids[h] {
			ic = append(ic, eq("winlog.event_data.TargetLogonId", id), eq("winlog.event_data.LogonID", id))
			if up := "0x" + strings.ToUpper(strings.TrimPrefix(id, "0x")); up != id {
				ic = append(ic, eq("winlog.event_data.TargetLogonId", up), eq("winlog.event_data.LogonID", up))
			}
		}
		few = append(few, &kql.AllOf{Conds: []kql.Cond{eq("host.name", h), anyOf(ic)}})
		if nFew += len(ids[h]); nFew >= idsPerQuery {
			if err := flush(&few); err != nil {
				return nil, err
			}
			nFew = 0
		}
	}
	if err := flush(&few); err != nil {
		return nil, err
	}
	if err := flush(&many); err != nil {
		return nil, err
	}
	return out, nil
}

func eq(field, value string) kql.Cond {
	return &kql.Equals{Field: field, Type: event.TypeOf(field), Value: value}
}

func codes(cs []string) kql.Cond {
	conds := make([]kql.Cond, len(cs))
	for i, c := range cs {
		conds[i] = eq("event.code", c)
	}
	return anyOf(conds)
}

func anyOf(conds []kql.Cond) kql.Cond {
	if len(conds) == 1 {
		return conds[0]
	}
	return &kql.AnyOf{Conds: slices.Clone(conds)}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Params is a sessions query as people write it (command line, API).
type Params struct {
	Query string // KQL on the logon events
	From  string // time expression; default "now-24h"
	To    string // time expression; default "now"
	Types string // see ParseTypes; "" for the configured default
	Limit int    // 0 for DefaultLimit
}

// Defaults are a deployment's configured defaults (the sessions: block of
// the configuration).
type Defaults struct {
	MaxDuration time.Duration // 0: DefaultMaxDuration
	Types       TypeSet       // nil: DefaultTypes
}

// Resolve parses and plans p. now anchors relative times; loc reads times
// and dates written without a zone. Errors wrap ErrBadRequest.
func Resolve(p Params, now time.Time, loc *time.Location, d Defaults) (*Request, error) {
	node, err := kql.Parse(p.Query)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	cond, err := kql.Plan(node, kql.Options{Location: loc, Now: now})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if _, all := cond.(*kql.Everything); all {
		cond = nil
	}
	from, err := search.ParseTime(orDefault(p.From, "now-24h"), now, loc)
	if err != nil {
		return nil, fmt.Errorf("%w: from: %w", ErrBadRequest, err)
	}
	to, err := search.ParseTime(orDefault(p.To, "now"), now, loc)
	if err != nil {
		return nil, fmt.Errorf("%w: to: %w", ErrBadRequest, err)
	}
	types := d.Types
	if strings.TrimSpace(p.Types) != "" {
		if types, err = ParseTypes(p.Types); err != nil {
			return nil, fmt.Errorf("%w: types: %w", ErrBadRequest, err)
		}
	}
	req := &Request{Filter: cond, From: from, To: to, Now: now, Types: types, MaxDuration: d.MaxDuration, Limit: p.Limit}
	if err := req.defaults(); err != nil {
		return nil, err
	}
	return req, nil
}

func orDefault(s, d string) string {
	if strings.TrimSpace(s) == "" {
		return d
	}
	return s
}
