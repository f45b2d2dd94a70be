package directory

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/store"
)

// Fields that enrichment adds besides ECS user.full_name. ECS has no field
// for a department, a job title, administrative group membership or the
// state of an account, and ECS reserves user.* for its own fields (a later
// ECS version could define user.department differently); Mamori's own
// namespace keeps them apart, as ECS advises for custom fields. All four
// are keywords, which is what the field catalogue gives a field it does not
// list (event.TypeOf), in both stores and the in-memory matcher:
// "mamori.user.privileged_groups:*" selects privileged accounts, and
// "mamori.user.account_state:(disabled or expired or deleted or stale)"
// logons by leavers' accounts.
const (
	FieldDepartment       = "mamori.user.department"
	FieldTitle            = "mamori.user.title"
	FieldPrivilegedGroups = "mamori.user.privileged_groups"
	// FieldAccountState lists the account's states (AccountState) at the
	// event's @timestamp, in the order of the constants below; it is absent
	// when the account is in none of them.
	FieldAccountState = "mamori.user.account_state"
)

// AccountState is one value of FieldAccountState.
type AccountState string

// The states of an account. Disabled, deleted and locked are the account's
// state at the last sync the enricher loaded; expired and stale are judged
// at the event's time.
const (
	// StateDeleted: the sync no longer finds the object (Record.Deleted).
	StateDeleted AccountState = "deleted"
	// StateDisabled: userAccountControl has ACCOUNTDISABLE.
	StateDisabled AccountState = "disabled"
	// StateExpired: accountExpires is set and before the event.
	StateExpired AccountState = "expired"
	// StateLocked: the account was locked out (the lockout bit of
	// msDS-User-Account-Control-Computed).
	StateLocked AccountState = "locked"
	// StateStale: no logon for StaleAfter before the event, by
	// Record.Inactive, the test StaleAccounts applies to the directory
	// records: lastLogonTimestamp no later than the event less StaleAfter,
	// or, for an account that never logged on, created no later than that.
	// Unlike the report's inactive list, disabled and deleted accounts can
	// be stale too, and Mamori's own logon events are not consulted (the
	// parse stage does no I/O): the first logon after a long pause is
	// marked, and so are the next ones until a sync brings the new
	// lastLogonTimestamp.
	StateStale AccountState = "stale"
)

// DefaultStaleAfter is the time without a logon after which an account is
// stale, as for the default of StaleOptions.Days.
const DefaultStaleAfter = 90 * 24 * time.Hour

// States returns the account's states (see AccountState) for an event at
// time at, or none. A zero at leaves out the states that depend on the
// time, expired and stale; staleAfter <= 0 leaves out stale.
func (r *Record) States(at time.Time, staleAfter time.Duration) []AccountState {
	var out []AccountState
	if r.Deleted() {
		out = append(out, StateDeleted)
	}
	if r.Disabled() {
		out = append(out, StateDisabled)
	}
	if !at.IsZero() && r.Expired(at) {
		out = append(out, StateExpired)
	}
	if r.UAC != nil && r.UAC.Locked {
		out = append(out, StateLocked)
	}
	if !at.IsZero() && staleAfter > 0 && r.Inactive(at.Add(-staleAfter)) {
		out = append(out, StateStale)
	}
	return out
}

// setAccountContext adds what the directory knows about the event's user:
// user.full_name (when the event has none), department, title and
// privileged groups.
func setAccountContext(e *event.Event, r *Record) {
	if e.User == nil {
		e.User = &event.User{}
	}
	if e.User.FullName == "" && r.DisplayName != "" {
		e.User.FullName = r.DisplayName
	}
	if r.Department != "" {
		_ = e.Set(FieldDepartment, r.Department)
	}
	if r.Title != "" {
		_ = e.Set(FieldTitle, r.Title)
	}
	if len(r.PrivilegedGroups) > 0 {
		_ = e.Set(FieldPrivilegedGroups, append([]string(nil), r.PrivilegedGroups...))
	}
}

// setAccountState sets FieldAccountState from the account's states at the
// event's @timestamp, or nothing when it has none.
func setAccountState(e *event.Event, r *Record, staleAfter time.Duration) {
	states := r.States(e.Timestamp, staleAfter)
	if len(states) == 0 {
		return
	}
	vals := make([]string, len(states))
	for i, s := range states {
		vals[i] = string(s)
	}
	_ = e.Set(FieldAccountState, vals)
}

// EnricherOptions configure an Enricher.
type EnricherOptions struct {
	// Store holds the records (read only).
	Store store.Store
	// Refresh is how often the records are checked for changes (default
	// 5 minutes).
	Refresh time.Duration
	// MaxAccounts bounds the accounts held in memory, deleted ones included
	// (default 1,000,000, about 300 MB at most); beyond it the rest, deleted
	// accounts first, are not enriched and a warning says so.
	MaxAccounts int
	// StaleAfter is how long an account may go without a logon before the
	// events of its next logons are marked stale (FieldAccountState;
	// default DefaultStaleAfter, 90 days).
	StaleAfter time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// Enricher adds directory context to events in the parse stage. It holds
// the latest directory records in memory and never touches the store while
// enriching: Run reloads the records in the background and Enrich always
// serves the last good copy, so a slow or unreachable store never delays
// parsing.
type Enricher struct {
	opts   EnricherOptions
	cur    atomic.Pointer[enrichIndex]
	nudge  chan struct{}
	newest time.Time // newest record @timestamp loaded (Run's goroutine only)
}

// enrichIndex is one loaded copy of the records.
type enrichIndex struct {
	loaded time.Time
	bySID  map[string]*Record
	byName map[string]*Record // lower-cased sAMAccountName and userPrincipalName
	domain Domain
}

// NewEnricher returns an enricher with no records yet; Run or Load fills it.
func NewEnricher(opts EnricherOptions) *Enricher {
	if opts.Refresh <= 0 {
		opts.Refresh = 5 * time.Minute
	}
	if opts.MaxAccounts <= 0 {
		opts.MaxAccounts = 1_000_000
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = DefaultStaleAfter
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Enricher{opts: opts, nudge: make(chan struct{}, 1)}
}

// Enrich adds user.full_name, department, title, privileged groups and the
// account's state (FieldAccountState, at the event's @timestamp) to an
// event whose user is a known account, found by user.id (the SID) first,
// then by user.name within the directory's domain (user.domain names it, or
// the event names no domain and no SID). Deleted accounts are known too, so
// that their use is marked: a name finds a deleted account only when no
// live account has it. It never blocks.
func (x *Enricher) Enrich(e *event.Event) {
	if e.User == nil {
		return
	}
	idx := x.cur.Load()
	if idx == nil {
		return
	}
	if r := idx.lookup(e.User.ID, e.User.Name, e.User.Domain); r != nil {
		setAccountContext(e, r)
		setAccountState(e, r, x.opts.StaleAfter)
	}
}

// Lookup finds the account an event's user.id, user.name and user.domain
// name, as Enrich does: a live one, or a deleted one (Record.Deleted) that
// no live account replaced.
func (x *Enricher) Lookup(sid, name, domain string) (*Record, bool) {
	idx := x.cur.Load()
	if idx == nil {
		return nil, false
	}
	r := idx.lookup(sid, name, domain)
	return r, r != nil
}

func (idx *enrichIndex) lookup(sid, name, domain string) *Record {
	if sid != "" {
		if r, ok := idx.bySID[sid]; ok {
			return r
		}
	}
	if name == "" {
		return nil
	}
	switch {
	case domain != "":
		if !idx.domain.Matches(domain) {
			return nil // a local account or another domain's
		}
	case sid != "":
		return nil // a SID we do not know, and nothing says it is our domain
	}
	return idx.byName[strings.ToLower(name)]
}

// Use replaces the enricher's copy with these records (groups are left
// out). Live accounts come first: a SID or name that a deleted account
// shares with a live one finds the live one, and MaxAccounts leaves out
// deleted accounts before live ones. Among deleted accounts, the most
// recently deleted one keeps a shared name.
func (x *Enricher) Use(records []Record) {
	idx := &enrichIndex{loaded: x.opts.Now(), bySID: map[string]*Record{}, byName: map[string]*Record{}}
	var live, deleted []*Record
	for i := range records {
		switch r := &records[i]; {
		case !r.Account():
		case r.Deleted():
			deleted = append(deleted, r)
		default:
			live = append(live, r)
		}
	}
	slices.SortStableFunc(deleted, func(a, b *Record) int { return b.Mamori.DeletedAt.Compare(a.Mamori.DeletedAt) })
	accounts := append(live, deleted...)
	if len(accounts) > x.opts.MaxAccounts {
		x.opts.Logger.Warn("directory enrichment: too many accounts, the rest are not enriched",
			"max_accounts", x.opts.MaxAccounts, "accounts", len(live), "deleted_accounts", len(deleted))
		accounts = accounts[:x.opts.MaxAccounts]
	}
	for _, r := range accounts {
		slim := slimRecord(r)
		if idx.domain.DNS == "" && idx.domain.NetBIOS == "" {
			idx.domain = Domain{DNS: r.Domain.DNS, NetBIOS: r.Domain.NetBIOS, SID: r.Domain.SID}
		}
		if r.SID != "" {
			if _, taken := idx.bySID[r.SID]; !taken || !r.Deleted() {
				idx.bySID[r.SID] = slim
			}
		}
		if r.SAMAccountName != "" {
			if _, taken := idx.byName[strings.ToLower(r.SAMAccountName)]; !taken || !r.Deleted() {
				idx.byName[strings.ToLower(r.SAMAccountName)] = slim
			}
		}
		if r.UserPrincipalName != "" {
			if _, taken := idx.byName[strings.ToLower(r.UserPrincipalName)]; !taken {
				idx.byName[strings.ToLower(r.UserPrincipalName)] = slim
			}
		}
	}
	x.cur.Store(idx)
}

// slimRecord keeps only what enrichment needs, so memory stays proportional
// to the accounts, not to their group lists.
func slimRecord(r *Record) *Record {
	return &Record{
		Kind: r.Kind, Domain: r.Domain, GUID: r.GUID, SID: r.SID, SAMAccountName: r.SAMAccountName,
		UserPrincipalName: r.UserPrincipalName, DisplayName: r.DisplayName, Department: r.Department, Title: r.Title,
		PrivilegedGroups: r.PrivilegedGroups, UAC: r.UAC,
		WhenCreated: r.WhenCreated, LastLogonTimestamp: r.LastLogonTimestamp, AccountExpires: r.AccountExpires,
		Mamori: Observed{DeletedAt: r.Mamori.DeletedAt},
	}
}

// Loaded returns when the copy in use was loaded (zero: none yet).
func (x *Enricher) Loaded() time.Time {
	if idx := x.cur.Load(); idx != nil {
		return idx.loaded
	}
	return time.Time{}
}

// Nudge asks Run to reload now (after a sync in the same process). It
// never blocks.
func (x *Enricher) Nudge() {
	select {
	case x.nudge <- struct{}{}:
	default:
	}
}

// Load reads the records from the store when they changed since the last
// load (a count of newer records tells) and swaps the copy in use. It is
// called by Run; tests call it directly.
func (x *Enricher) Load(ctx context.Context) error {
	if idx := x.cur.Load(); idx != nil && !x.newest.IsZero() {
		n, err := x.opts.Store.Count(ctx, store.Query{Collection: Collection, From: x.newest.Add(time.Nanosecond)})
		if err != nil {
			return fmt.Errorf("directory enrichment: check records: %w", err)
		}
		if n == 0 {
			x.cur.Store(&enrichIndex{loaded: x.opts.Now(), bySID: idx.bySID, byName: idx.byName, domain: idx.domain})
			return nil
		}
	}
	recs, err := LoadRecords(ctx, x.opts.Store)
	if err != nil {
		return fmt.Errorf("directory enrichment: %w", err)
	}
	records := make([]Record, len(recs))
	var newest time.Time
	for i := range recs {
		records[i] = recs[i].Record
		if recs[i].Timestamp.After(newest) {
			newest = recs[i].Timestamp
		}
	}
	x.Use(records)
	x.newest = newest
	return nil
}

// Run loads the records at once, then every Refresh or when nudged, until
// ctx ends. A failed load keeps the last good copy; it is logged, as a
// warning once the copy is older than three refresh periods.
func (x *Enricher) Run(ctx context.Context) error {
	t := time.NewTicker(x.opts.Refresh)
	defer t.Stop()
	for {
		if err := x.Load(ctx); err != nil && ctx.Err() == nil {
			loaded := x.Loaded()
			switch {
			case loaded.IsZero():
				x.opts.Logger.Warn("directory records not loaded: events are not enriched yet", "err", err)
			case x.opts.Now().Sub(loaded) > 3*x.opts.Refresh:
				x.opts.Logger.Warn("directory records are stale: enrichment serves an old copy",
					"loaded", loaded, "age", x.opts.Now().Sub(loaded).Round(time.Second), "err", err)
			default:
				x.opts.Logger.Info("directory records not reloaded; serving the last copy", "loaded", loaded, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-x.nudge:
		}
	}
}
