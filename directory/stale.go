package directory

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/store"
)

// ErrNoRecords means the store holds no directory records yet.
var ErrNoRecords = errors.New("directory: no directory records in the store (configure directory: and let mamori run sync once)")

// LogonCodes are the Windows events that prove a successful logon: 4624 (an
// account logged on), 4768 (a Kerberos TGT was issued) and 4776 (NTLM
// credentials validated), each counted when event.outcome is success.
var LogonCodes = []string{"4624", "4768", "4776"}

// StaleOptions steer StaleAccounts.
type StaleOptions struct {
	// Days without a logon that make an enabled account inactive (default 90).
	Days int
	// Now is the report time (default time.Now()).
	Now time.Time
	// Location is the zone the report's times are given in (default UTC).
	Location *time.Location
	// Computers includes computer accounts; by default only users.
	Computers bool
	// Events is the events collection (default store.Events).
	Events string
}

// StaleReport is the periodic clean-up list of leavers' accounts.
type StaleReport struct {
	GeneratedAt time.Time `json:"generated_at"`
	Days        int       `json:"days"`
	Cutoff      time.Time `json:"cutoff"`
	// Inactive: enabled accounts older than Days with no logon since Cutoff,
	// neither in Active Directory (lastLogonTimestamp) nor in the events
	// Mamori stored.
	Inactive []StaleAccount `json:"inactive"`
	// ExpiredEnabled: accounts whose accountExpires has passed but that are
	// still enabled.
	ExpiredEnabled []StaleAccount `json:"expired_enabled"`
	// LogonAfterDisable: accounts seen logging on after Mamori recorded them
	// disabled or deleted.
	LogonAfterDisable []StaleAccount `json:"logon_after_disable"`
}

// StaleAccount is one account of the report, with its evidence.
type StaleAccount struct {
	Kind           Kind     `json:"kind"`
	Name           string   `json:"name"`
	DisplayName    string   `json:"display_name,omitempty"`
	Department     string   `json:"department,omitempty"`
	Title          string   `json:"title,omitempty"`
	SID            string   `json:"sid,omitempty"`
	DN             string   `json:"dn"`
	Disabled       bool     `json:"disabled"`
	Deleted        bool     `json:"deleted"`
	PrivilegedGrps []string `json:"privileged_groups,omitempty"`
	// Reason says in one sentence why the account is listed.
	Reason string `json:"reason"`

	WhenCreated        time.Time `json:"when_created,omitzero"`
	LastLogonTimestamp time.Time `json:"last_logon_timestamp,omitzero"` // from AD
	// LastLogonMamori is the newest successful logon event Mamori stored.
	LastLogonMamori *Logon    `json:"last_logon_mamori,omitempty"`
	LastLogon       time.Time `json:"last_logon,omitzero"` // the newer of the two
	AccountExpires  time.Time `json:"account_expires,omitzero"`
	// DisabledAt (whenChanged as first seen disabled) or DeletedAt (the sync
	// that first missed the account) is the time logons are counted after.
	DisabledAt time.Time `json:"disabled_at,omitzero"`
	DeletedAt  time.Time `json:"deleted_at,omitzero"`
	// Logons after that time: the newest ones (at most five) and how many
	// were found (at most 100 are counted: LogonsCapped says there are more).
	Logons       []Logon `json:"logons_after,omitempty"`
	LogonCount   int     `json:"logon_count,omitempty"`
	LogonsCapped bool    `json:"logons_capped,omitempty"`
}

// Logon is one successful logon event, the evidence of a report line.
type Logon struct {
	Time     time.Time `json:"time"`
	EventID  string    `json:"event_id"`
	Code     string    `json:"event_code"`
	Host     string    `json:"host,omitempty"`
	SourceIP string    `json:"source_ip,omitempty"`
}

// StaleAccounts builds the report from the directory records and the logon
// events in the store.
//
// Inactive accounts take two aggregations over the logon events since the
// cutoff (distinct user.id and user.name values), so the common case costs
// two queries however many accounts there are; only the accounts left
// without a logon are looked up one by one, for the newest logon before the
// cutoff. Logons after a disable or delete are searched per disabled or
// deleted account, by user.name (an indexed field) or SID, from the time
// Mamori recorded it.
func StaleAccounts(ctx context.Context, st store.Store, opts StaleOptions) (*StaleReport, error) {
	if opts.Days <= 0 {
		opts.Days = 90
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Events == "" {
		opts.Events = store.Events
	}
	recs, err := LoadRecords(ctx, st)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, ErrNoRecords
	}
	now := opts.Now.UTC()
	cutoff := now.AddDate(0, 0, -opts.Days)
	loc := opts.Location
	rep := &StaleReport{GeneratedAt: now.In(loc), Days: opts.Days, Cutoff: cutoff.In(loc),
		Inactive: []StaleAccount{}, ExpiredEnabled: []StaleAccount{}, LogonAfterDisable: []StaleAccount{}}
	q := &logonQuery{st: st, events: opts.Events}

	var accounts []*Record
	liveName := map[string]string{} // lower sAMAccountName -> SID of the live account
	for i := range recs {
		r := &recs[i].Record
		if r.Kind == KindUser || opts.Computers && r.Kind == KindComputer {
			accounts = append(accounts, r)
		}
		if r.Account() && !r.Deleted() {
			liveName[strings.ToLower(r.SAMAccountName)] = r.SID
		}
	}
	sort.Slice(accounts, func(i, j int) bool { return accounts[i].SAMAccountName < accounts[j].SAMAccountName })

	// (a) Enabled accounts with no logon since the cutoff.
	var candidates []*Record
	for _, r := range accounts {
		if r.Deleted() || r.Disabled() || !r.Inactive(cutoff) {
			continue
		}
		candidates = append(candidates, r)
	}
	if len(candidates) > 0 {
		recent, complete, err := q.recentUsers(ctx, cutoff)
		if err != nil {
			return nil, err
		}
		for _, r := range candidates {
			if recent[strings.ToLower(r.SAMAccountName)] || r.SID != "" && recent[r.SID] {
				continue
			}
			if !complete {
				if n, err := q.count(ctx, r, cutoff); err != nil {
					return nil, err
				} else if n > 0 {
					continue
				}
			}
			last, err := q.newest(ctx, r, liveName, time.Time{})
			if err != nil {
				return nil, err
			}
			a := staleAccount(r, loc)
			if last != nil && !last.Time.Before(cutoff) {
				continue // a name-only match the aggregation could not attribute
			}
			a.LastLogonMamori = last.in(loc)
			a.LastLogon = newer(r.LastLogonTimestamp, last).In(loc)
			switch {
			case a.LastLogon.IsZero():
				a.Reason = fmt.Sprintf("enabled, created %s, and no logon recorded by Active Directory or Mamori", day(r.WhenCreated, loc))
			default:
				a.Reason = fmt.Sprintf("enabled, last logon %s (%d days ago)", day(a.LastLogon, loc), int(now.Sub(a.LastLogon).Hours()/24))
			}
			rep.Inactive = append(rep.Inactive, a)
		}
	}

	// (b) Expired but still enabled.
	for _, r := range accounts {
		if r.Deleted() || r.Disabled() || !r.Expired(now) {
			continue
		}
		a := staleAccount(r, loc)
		a.Reason = fmt.Sprintf("account expired %s but is still enabled", day(r.AccountExpires, loc))
		rep.ExpiredEnabled = append(rep.ExpiredEnabled, a)
	}

	// (c) Logons after being disabled or deleted.
	for _, r := range accounts {
		since := time.Time{}
		switch {
		case r.Disabled() && !r.Mamori.DisabledAt.IsZero():
			since = r.Mamori.DisabledAt
		case r.Deleted():
			since = r.Mamori.DeletedAt
		}
		if since.IsZero() {
			continue
		}
		// whenChanged has one-second precision: a logon within the same
		// second may have come just before the disable.
		logons, n, capped, err := q.after(ctx, r, liveName, since.Add(time.Second))
		if err != nil {
			return nil, err
		}
		if n == 0 {
			continue
		}
		a := staleAccount(r, loc)
		a.Logons, a.LogonCount, a.LogonsCapped = logons, n, capped
		for i := range a.Logons {
			a.Logons[i].Time = a.Logons[i].Time.In(loc)
		}
		state, at := "disabled", r.Mamori.DisabledAt
		if r.Deleted() && (r.Mamori.DisabledAt.IsZero() || !r.Disabled()) {
			state, at = "deleted", r.Mamori.DeletedAt
		}
		a.Reason = fmt.Sprintf("%d successful logon(s) after the account was %s (%s), the latest %s",
			n, state, at.In(loc).Format("2006-01-02 15:04:05"), logons[0].Time.In(loc).Format("2006-01-02 15:04:05"))
		rep.LogonAfterDisable = append(rep.LogonAfterDisable, a)
	}
	return rep, nil
}

func staleAccount(r *Record, loc *time.Location) StaleAccount {
	in := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return t.In(loc)
	}
	return StaleAccount{
		Kind: r.Kind, Name: r.SAMAccountName, DisplayName: r.DisplayName, Department: r.Department, Title: r.Title,
		SID: r.SID, DN: r.DN, Disabled: r.Disabled(), Deleted: r.Deleted(), PrivilegedGrps: r.PrivilegedGroups,
		WhenCreated: in(r.WhenCreated), LastLogonTimestamp: in(r.LastLogonTimestamp), AccountExpires: in(r.AccountExpires),
		DisabledAt: in(r.Mamori.DisabledAt), DeletedAt: in(r.Mamori.DeletedAt),
	}
}

func newer(ad time.Time, l *Logon) time.Time {
	if l != nil && l.Time.After(ad) {
		return l.Time
	}
	return ad
}

func (l *Logon) in(loc *time.Location) *Logon {
	if l == nil {
		return nil
	}
	c := *l
	c.Time = c.Time.In(loc)
	return &c
}

func day(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "never"
	}
	return t.In(loc).Format("2006-01-02")
}

// logonQuery asks the store about successful logons.
type logonQuery struct {
	st     store.Store
	events string
}

// termsLimit is the most distinct users one aggregation returns.
const termsLimit = 10000

func keyword(field, v string) kql.Cond {
	return &kql.Equals{Field: field, Type: event.Keyword, Value: v}
}

// logonCond matches successful logon events.
func logonCond() kql.Cond {
	codes := make([]kql.Cond, len(LogonCodes))
	for i, c := range LogonCodes {
		codes[i] = keyword("event.code", c)
	}
	return &kql.AllOf{Conds: []kql.Cond{&kql.AnyOf{Conds: codes}, keyword("event.outcome", "success")}}
}

// accountCond matches events naming the account: its SID, or its name as
// written or in lower case (Windows names are case-insensitive).
func accountCond(r *Record) kql.Cond {
	alts := []kql.Cond{keyword("user.name", r.SAMAccountName)}
	if l := strings.ToLower(r.SAMAccountName); l != r.SAMAccountName {
		alts = append(alts, keyword("user.name", l))
	}
	if r.SID != "" {
		alts = append(alts, keyword("user.id", r.SID))
	}
	return &kql.AllOf{Conds: []kql.Cond{logonCond(), &kql.AnyOf{Conds: alts}}}
}

// recentUsers returns the user names (lower-cased) and SIDs with a
// successful logon since t; complete is false when an aggregation hit its
// limit, so absence proves nothing.
func (q *logonQuery) recentUsers(ctx context.Context, t time.Time) (map[string]bool, bool, error) {
	out := map[string]bool{}
	complete := true
	for _, field := range []string{"user.name", "user.id"} {
		bs, err := q.st.Terms(ctx, store.Query{Collection: q.events, Filter: logonCond(), From: t},
			store.TermsAgg{Field: field, Size: termsLimit})
		if err != nil {
			return nil, false, fmt.Errorf("directory: logons since %s by %s: %w", t.Format(time.RFC3339), field, err)
		}
		if len(bs) >= termsLimit {
			complete = false
		}
		for _, b := range bs {
			if field == "user.name" {
				out[strings.ToLower(b.Key)] = true
			} else {
				out[b.Key] = true
			}
		}
	}
	return out, complete, nil
}

func (q *logonQuery) count(ctx context.Context, r *Record, since time.Time) (int64, error) {
	n, err := q.st.Count(ctx, store.Query{Collection: q.events, Filter: accountCond(r), From: since})
	if err != nil {
		return 0, fmt.Errorf("directory: logons of %s: %w", r.SAMAccountName, err)
	}
	return n, nil
}

// belongs reports whether a logon event is the account's: a SID decides;
// without one, the domain must be the account's (or absent), and a deleted
// account's name must not have been reused by a live account.
func belongs(r *Record, e *event.Event, liveName map[string]string) bool {
	if e.User == nil {
		return false
	}
	if e.User.ID != "" {
		return e.User.ID == r.SID
	}
	if !strings.EqualFold(e.User.Name, r.SAMAccountName) {
		return false
	}
	known := r.Domain.DNS != "" || r.Domain.NetBIOS != ""
	if d := e.User.Domain; d != "" && known && !(Domain{DNS: r.Domain.DNS, NetBIOS: r.Domain.NetBIOS}).Matches(d) {
		return false
	}
	if r.Deleted() {
		if sid, ok := liveName[strings.ToLower(r.SAMAccountName)]; ok && sid != r.SID {
			return false
		}
	}
	return true
}

// scan pages through the account's logons from since, newest first, and
// calls fn for each one that belongs to the account until fn returns false.
func (q *logonQuery) scan(ctx context.Context, r *Record, liveName map[string]string, since time.Time, fn func(Logon) bool) error {
	req := store.SearchRequest{Query: store.Query{Collection: q.events, Filter: accountCond(r), From: since},
		Sort: []store.SortField{{Field: "@timestamp", Desc: true}}, Size: 100}
	for page := 0; page < 10; page++ {
		res, err := q.st.Search(ctx, req)
		if err != nil {
			return fmt.Errorf("directory: logons of %s: %w", r.SAMAccountName, err)
		}
		for _, h := range res.Hits {
			var e event.Event
			if err := event.Unmarshal(h.Source, &e); err != nil || !belongs(r, &e, liveName) {
				continue
			}
			l := Logon{Time: e.Timestamp, EventID: h.ID, Code: e.Event.Code}
			if e.Host != nil {
				l.Host = first(e.Host.Name, e.Host.Hostname)
			}
			if e.Source != nil {
				l.SourceIP = e.Source.IP
			}
			if !fn(l) {
				return nil
			}
		}
		if len(res.Hits) < req.Size {
			return nil
		}
		req.SearchAfter = res.Hits[len(res.Hits)-1].Sort
	}
	return nil
}

// newest returns the account's newest logon since t (zero: ever), or nil.
func (q *logonQuery) newest(ctx context.Context, r *Record, liveName map[string]string, t time.Time) (*Logon, error) {
	var found *Logon
	err := q.scan(ctx, r, liveName, t, func(l Logon) bool { found = &l; return false })
	return found, err
}

// after returns the newest five logons since t, how many there are (up to
// 100) and whether there are more.
func (q *logonQuery) after(ctx context.Context, r *Record, liveName map[string]string, t time.Time) ([]Logon, int, bool, error) {
	const keep, limit = 5, 100
	var out []Logon
	n, capped := 0, false
	err := q.scan(ctx, r, liveName, t, func(l Logon) bool {
		if n == limit {
			capped = true
			return false
		}
		n++
		if len(out) < keep {
			out = append(out, l)
		}
		return true
	})
	return out, n, capped, err
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
