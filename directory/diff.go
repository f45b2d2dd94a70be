package directory

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/store"
)

// RecordRefresh is how old a record's last_seen may grow before a sync
// rewrites an unchanged record: last_seen is exact at every change and
// accurate to this period otherwise, which spares the store a write per
// object per sync.
const RecordRefresh = 24 * time.Hour

// Dataset is the event.dataset of change events.
const Dataset = "mamori.directory"

// Change event actions (event.action).
const (
	ActionCreated             = "directory-account-created"
	ActionRestored            = "directory-account-restored"
	ActionDeleted             = "directory-account-deleted"
	ActionDisabled            = "directory-account-disabled"
	ActionEnabled             = "directory-account-enabled"
	ActionLocked              = "directory-account-locked"
	ActionUnlocked            = "directory-account-unlocked"
	ActionPasswordNeverExpiry = "directory-account-password-never-expires-set"
	ActionPasswordMayExpire   = "directory-account-password-never-expires-cleared"
	ActionAddedToGroup        = "directory-account-added-to-group"
	ActionRemovedFromGroup    = "directory-account-removed-from-group"
	ActionGroupCreated        = "directory-group-created"
	ActionGroupDeleted        = "directory-group-deleted"
)

// ErrEmptySnapshot refuses a sync that found no users while the store holds
// live ones: a wrong base DN or a service account that lost its rights
// would otherwise mark every account deleted.
var ErrEmptySnapshot = errors.New("directory: the sync found no users")

// Change is one difference between the stored records and a new snapshot.
type Change struct {
	Action string
	Type   []string // event.type
	// Record is the object (its new state; its last known state when
	// deleted). Group is the group of a membership change.
	Record *Record
	Group  *Record
	// At is the best known time of the change: Active Directory's
	// whenCreated, whenChanged or lockoutTime, the group's whenChanged for
	// membership; the sync time when AD keeps no trace (deletion).
	At time.Time
	// key identifies the change itself, so the same change seen by two
	// syncs gets the same event id.
	key []string
}

// Plan is the outcome of comparing stored records with a snapshot.
type Plan struct {
	// Baseline is set when the store held no record: every object is
	// recorded and no change event is produced.
	Baseline bool
	Changes  []Change
	Writes   []Stored // records to write, with the version they replace
}

// Compare diffs the stored records with the records of a new snapshot taken
// at now. The first sync (no stored record) is a baseline: it records every
// object and reports no change, so installing Mamori does not flood the
// event stream with thousands of "created" events.
func Compare(prev []Stored, next []Record, now time.Time) (*Plan, error) {
	now = now.UTC()
	plan := &Plan{Baseline: len(prev) == 0}
	old := make(map[string]*Stored, len(prev))
	liveUsers := 0
	for i := range prev {
		old[prev[i].GUID] = &prev[i]
		if prev[i].Kind == KindUser && !prev[i].Deleted() {
			liveUsers++
		}
	}
	users := 0
	groups := map[string]*Record{} // by lower DN: new state first, then old
	for i := range next {
		if next[i].Kind == KindUser {
			users++
		}
		if next[i].Kind == KindGroup {
			groups[strings.ToLower(next[i].DN)] = &next[i]
		}
	}
	if users == 0 && liveUsers > 0 {
		return nil, fmt.Errorf("%w, but %d are recorded: refusing to mark them deleted (check base_dn and the service account's read rights)", ErrEmptySnapshot, liveUsers)
	}
	for i := range prev {
		if p := &prev[i]; p.Kind == KindGroup {
			if _, ok := groups[strings.ToLower(p.DN)]; !ok {
				groups[strings.ToLower(p.DN)] = &p.Record
			}
		}
	}
	groupOf := func(dn string) *Record {
		if g, ok := groups[strings.ToLower(dn)]; ok {
			return g
		}
		return &Record{Kind: KindGroup, DN: dn, SAMAccountName: cnOf(dn)}
	}
	add := func(c Change) {
		if !plan.Baseline {
			if c.At.IsZero() {
				c.At = now
			}
			plan.Changes = append(plan.Changes, c)
		}
	}
	seen := make(map[string]bool, len(next))
	for i := range next {
		n := next[i] // a copy: the plan owns it
		seen[n.GUID] = true
		p := old[n.GUID]
		var version store.Version
		if p != nil {
			version = p.Version
		}
		// Mamori's observations.
		n.Mamori = Observed{FirstSeen: now, LastSeen: now}
		if p != nil && !p.Mamori.FirstSeen.IsZero() {
			n.Mamori.FirstSeen = p.Mamori.FirstSeen
		}
		if n.Disabled() {
			switch {
			case p != nil && p.Disabled() && !p.Deleted() && !p.Mamori.DisabledAt.IsZero():
				n.Mamori.DisabledAt = p.Mamori.DisabledAt
			case !n.WhenChanged.IsZero():
				n.Mamori.DisabledAt = n.WhenChanged
			default:
				n.Mamori.DisabledAt = now
			}
		}
		n.Timestamp = now
		rec := &n
		switch {
		case p == nil:
			if n.Account() {
				add(Change{Action: ActionCreated, Type: []string{"user", "creation"}, Record: rec, At: n.WhenCreated,
					key: []string{ActionCreated, n.GUID, stamp(n.WhenCreated)}})
				// Groups given at creation, the primary group aside.
				for _, dn := range n.MemberOf {
					g := groupOf(dn)
					if n.PrimaryGroupID != 0 && g.SID != "" && ridOf(g.SID) == n.PrimaryGroupID {
						continue
					}
					add(membership(ActionAddedToGroup, rec, g))
				}
			} else {
				add(Change{Action: ActionGroupCreated, Type: []string{"group", "creation"}, Record: rec, At: n.WhenCreated,
					key: []string{ActionGroupCreated, n.GUID, stamp(n.WhenCreated)}})
			}
		default:
			if p.Deleted() && n.Account() {
				add(Change{Action: ActionRestored, Type: []string{"user", "creation"}, Record: rec, At: n.WhenChanged,
					key: []string{ActionRestored, n.GUID, stamp(n.WhenChanged)}})
			}
			if n.Account() {
				compareAccount(&p.Record, rec, groupOf, add)
			}
		}
		if p == nil || p.Deleted() || !sameContent(&p.Record, rec) || now.Sub(p.Mamori.LastSeen) >= RecordRefresh {
			plan.Writes = append(plan.Writes, Stored{Record: n, Version: version})
		}
	}
	for i := range prev {
		p := prev[i]
		if seen[p.GUID] || p.Deleted() {
			continue
		}
		p.Mamori.DeletedAt = now
		p.Timestamp = now
		rec := &p.Record
		action, typ := ActionDeleted, []string{"user", "deletion"}
		if p.Kind == KindGroup {
			action, typ = ActionGroupDeleted, []string{"group", "deletion"}
		}
		add(Change{Action: action, Type: typ, Record: rec, At: now,
			key: []string{action, p.GUID, stamp(p.WhenChanged)}})
		plan.Writes = append(plan.Writes, p)
	}
	sort.SliceStable(plan.Changes, func(i, j int) bool { return plan.Changes[i].At.Before(plan.Changes[j].At) })
	return plan, nil
}

// compareAccount reports the changes of an account that exists on both
// sides.
func compareAccount(p, n *Record, groupOf func(string) *Record, add func(Change)) {
	pu, nu := p.UAC, n.UAC
	if pu == nil {
		pu = &UACState{}
	}
	if nu == nil {
		nu = &UACState{}
	}
	flag := func(was, is bool, on, off string, onAt, offAt time.Time, onKey, offKey time.Time) {
		switch {
		case is && !was:
			add(Change{Action: on, Type: []string{"user", "change"}, Record: n, At: onAt, key: []string{on, n.GUID, stamp(onKey)}})
		case was && !is:
			add(Change{Action: off, Type: []string{"user", "change"}, Record: n, At: offAt, key: []string{off, n.GUID, stamp(offKey)}})
		}
	}
	flag(pu.Disabled, nu.Disabled, ActionDisabled, ActionEnabled, n.WhenChanged, n.WhenChanged, n.WhenChanged, n.WhenChanged)
	lockAt := n.LockoutTime
	if lockAt.IsZero() {
		lockAt = n.WhenChanged
	}
	// An unlock leaves no time in AD when the lockout simply expires: the
	// sync time stands for it, and the lockout it ends identifies it.
	flag(pu.Locked, nu.Locked, ActionLocked, ActionUnlocked, lockAt, time.Time{}, lockAt, p.LockoutTime)
	flag(pu.PasswordNeverExpires, nu.PasswordNeverExpires, ActionPasswordNeverExpiry, ActionPasswordMayExpire,
		n.WhenChanged, n.WhenChanged, n.WhenChanged, n.WhenChanged)

	before := map[string]bool{}
	for _, dn := range p.MemberOf {
		before[strings.ToLower(dn)] = true
	}
	after := map[string]bool{}
	for _, dn := range n.MemberOf {
		after[strings.ToLower(dn)] = true
		if !before[strings.ToLower(dn)] {
			add(membership(ActionAddedToGroup, n, groupOf(dn)))
		}
	}
	for _, dn := range p.MemberOf {
		if !after[strings.ToLower(dn)] {
			add(membership(ActionRemovedFromGroup, n, groupOf(dn)))
		}
	}
}

// membership builds a group membership change. AD records it on the group
// (its member attribute), so the group's whenChanged dates it; a change of
// primary group dates from the account's whenChanged: the newer of the two
// both dates and identifies the change.
func membership(action string, acct, group *Record) Change {
	at := acct.WhenChanged
	if group.WhenChanged.After(at) {
		at = group.WhenChanged
	}
	return Change{Action: action, Type: []string{"group", "change"}, Record: acct, Group: group, At: at,
		key: []string{action, acct.GUID, strings.ToLower(group.DN), stamp(at)}}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// idSource is the event.Source of change events: with the change's key it
// makes the deterministic event id.
var idSource = event.Source{Receiver: "directory", Transport: "ldap"}

// ID is the change's deterministic event id.
func (c *Change) ID() string {
	return event.ID(idSource, []byte(strings.Join(c.key, "\x00")))
}

// Event renders the change as an ECS event. created is the sync time
// (event.created).
func (c *Change) Event(created time.Time) *event.Event {
	r := c.Record
	created = created.UTC()
	e := &event.Event{
		Timestamp: c.At.UTC(),
		Event: event.Meta{
			ID: c.ID(), Kind: "event", Category: []string{"iam"}, Type: append([]string(nil), c.Type...),
			Action: c.Action, Dataset: Dataset, Module: "mamori", Created: &created,
		},
		Message: c.message(),
	}
	if r.Kind == KindGroup {
		setGroup(e, r)
	} else {
		e.User = &event.User{Name: r.SAMAccountName, ID: r.SID, Domain: r.Domain.NetBIOS, FullName: r.DisplayName}
		e.Related = &event.Related{User: []string{r.SAMAccountName}}
		setAccountContext(e, r)
		if r.Mail != "" {
			_ = e.Set("user.email", r.Mail)
		}
		if r.Kind == KindComputer && r.DNSHostName != "" {
			e.Host = &event.Host{Name: strings.ToLower(r.DNSHostName)}
		}
		if c.Group != nil {
			setGroup(e, c.Group)
			if c.Group.Domain.NetBIOS == "" && r.Domain.NetBIOS != "" {
				_ = e.Set("group.domain", r.Domain.NetBIOS)
			}
		}
	}
	_ = e.Set("mamori.directory.kind", string(r.Kind))
	_ = e.Set("mamori.directory.guid", r.GUID)
	_ = e.Set("mamori.directory.dn", r.DN)
	return e
}

func setGroup(e *event.Event, g *Record) {
	_ = e.Set("group.name", g.SAMAccountName)
	if g.SID != "" {
		_ = e.Set("group.id", g.SID)
	}
	if g.Domain.NetBIOS != "" {
		_ = e.Set("group.domain", g.Domain.NetBIOS)
	}
	_ = e.Set("mamori.directory.group_dn", g.DN)
}

func (c *Change) message() string {
	r := c.Record
	what := "Account"
	if r.Kind == KindComputer {
		what = "Computer account"
	}
	name := r.Name()
	group := ""
	if c.Group != nil {
		group = c.Group.SAMAccountName
		if c.Group.Description != "" && c.Group.Description != group {
			group += " (" + c.Group.Description + ")"
		}
	}
	switch c.Action {
	case ActionCreated:
		return fmt.Sprintf("%s %s was created in the directory", what, name)
	case ActionRestored:
		return fmt.Sprintf("%s %s reappeared in the directory after being deleted", what, name)
	case ActionDeleted:
		return fmt.Sprintf("%s %s was deleted from the directory", what, name)
	case ActionDisabled:
		return fmt.Sprintf("%s %s was disabled", what, name)
	case ActionEnabled:
		return fmt.Sprintf("%s %s was enabled", what, name)
	case ActionLocked:
		return fmt.Sprintf("%s %s was locked out", what, name)
	case ActionUnlocked:
		return fmt.Sprintf("%s %s is no longer locked out", what, name)
	case ActionPasswordNeverExpiry:
		return fmt.Sprintf("The password of %s was set never to expire", name)
	case ActionPasswordMayExpire:
		return fmt.Sprintf("The password of %s no longer has \"password never expires\"", name)
	case ActionAddedToGroup:
		return fmt.Sprintf("%s %s was added to group %s", what, name, group)
	case ActionRemovedFromGroup:
		return fmt.Sprintf("%s %s was removed from group %s", what, name, group)
	case ActionGroupCreated:
		return fmt.Sprintf("Group %s was created in the directory", name)
	case ActionGroupDeleted:
		return fmt.Sprintf("Group %s was deleted from the directory", name)
	}
	return fmt.Sprintf("%s: %s", c.Action, name)
}
