package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/store"
)

// Collection is the store collection of directory records: one updatable
// document per user, group and computer, with the objectGUID as id.
const Collection = "directory"

// Kind says what a record describes.
type Kind string

// Kinds of records.
const (
	KindUser     Kind = "user"
	KindGroup    Kind = "group"
	KindComputer Kind = "computer"
)

// Record is the stored document of one directory object. Active Directory's
// attributes keep their LDAP names (as Elastic's Active Directory entity
// integration does), so an administrator finds sAMAccountName or
// whenChanged where they expect it; what Mamori derives or observes is in
// snake case: uac (userAccountControl decoded), privileged_groups and
// mamori (first_seen, last_seen, disabled_at, deleted_at).
//
// @timestamp is when Mamori last wrote the record: the sync that last saw a
// change, refreshed at least daily while the object exists (see
// RecordRefresh), and the deletion time once the object is gone.
type Record struct {
	Timestamp time.Time    `json:"@timestamp"`
	Kind      Kind         `json:"kind"`
	Domain    RecordDomain `json:"domain"`

	GUID                   string `json:"objectGUID"`
	SID                    string `json:"objectSid,omitempty"`
	DN                     string `json:"distinguishedName"`
	SAMAccountName         string `json:"sAMAccountName"`
	UserPrincipalName      string `json:"userPrincipalName,omitempty"`
	DisplayName            string `json:"displayName,omitempty"`
	GivenName              string `json:"givenName,omitempty"`
	Surname                string `json:"sn,omitempty"`
	Mail                   string `json:"mail,omitempty"`
	Department             string `json:"department,omitempty"`
	Title                  string `json:"title,omitempty"`
	Company                string `json:"company,omitempty"`
	Description            string `json:"description,omitempty"`
	DNSHostName            string `json:"dNSHostName,omitempty"`
	OperatingSystem        string `json:"operatingSystem,omitempty"`
	OperatingSystemVersion string `json:"operatingSystemVersion,omitempty"`
	GroupType              int32  `json:"groupType,omitempty"`
	GroupScope             string `json:"groupScope,omitempty"`
	PrimaryGroupID         uint32 `json:"primaryGroupID,omitempty"`

	// MemberOf are the direct groups' DNs (primary group included) and
	// MemberOfNames their names, index for index; NestedMemberOf and
	// NestedMemberOfNames add every group reached through nesting.
	MemberOf            []string `json:"memberOf,omitempty"`
	MemberOfNames       []string `json:"memberOfNames,omitempty"`
	NestedMemberOf      []string `json:"nestedMemberOf,omitempty"`
	NestedMemberOfNames []string `json:"nestedMemberOfNames,omitempty"`

	// UserAccountControl is the raw value (with the lockout and
	// password-expired bits of msDS-User-Account-Control-Computed); UAC
	// decodes it. Both are absent for groups.
	UserAccountControl *uint32   `json:"userAccountControl,omitempty"`
	UAC                *UACState `json:"uac,omitempty"`

	WhenCreated        time.Time `json:"whenCreated,omitzero"`
	WhenChanged        time.Time `json:"whenChanged,omitzero"`
	LastLogonTimestamp time.Time `json:"lastLogonTimestamp,omitzero"`
	PwdLastSet         time.Time `json:"pwdLastSet,omitzero"`
	AccountExpires     time.Time `json:"accountExpires,omitzero"`
	LockoutTime        time.Time `json:"lockoutTime,omitzero"`

	// PrivilegedGroups names the privileged groups (see Privileged) the
	// object is in, directly or through nesting.
	PrivilegedGroups []string `json:"privileged_groups,omitempty"`

	Mamori Observed `json:"mamori"`
}

// RecordDomain is the domain a record belongs to.
type RecordDomain struct {
	DNS     string `json:"dns,omitempty"`
	NetBIOS string `json:"netbios,omitempty"`
	SID     string `json:"sid,omitempty"`
}

// UACState is userAccountControl decoded.
type UACState struct {
	Flags                []string `json:"flags,omitempty"`
	Disabled             bool     `json:"disabled"`
	Locked               bool     `json:"locked"`
	PasswordNeverExpires bool     `json:"password_never_expires"`
	PasswordExpired      bool     `json:"password_expired"`
}

// Observed is what Mamori itself recorded about an object.
type Observed struct {
	// FirstSeen is the sync that first saw the object; LastSeen the last
	// sync that saw it and wrote the record.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// DisabledAt is set while the account is disabled: its whenChanged in
	// the first sync that saw it disabled, which is no earlier than the
	// disabling itself (the sync time when whenChanged is missing).
	DisabledAt time.Time `json:"disabled_at,omitzero"`
	// DeletedAt is the sync that first missed the object; the record then
	// keeps the object's last known state.
	DeletedAt time.Time `json:"deleted_at,omitzero"`
}

// Deleted reports whether the object is gone from the directory.
func (r *Record) Deleted() bool { return !r.Mamori.DeletedAt.IsZero() }

// Disabled reports a disabled account.
func (r *Record) Disabled() bool { return r.UAC != nil && r.UAC.Disabled }

// Account reports a user or computer.
func (r *Record) Account() bool { return r.Kind == KindUser || r.Kind == KindComputer }

// Expired reports whether accountExpires is set and before now. Active
// Directory's two "never" values, 0 and 0x7FFFFFFFFFFFFFFF, are read as the
// zero time (see FileTime), so such an account never expires.
func (r *Record) Expired(now time.Time) bool {
	return !r.AccountExpires.IsZero() && r.AccountExpires.Before(now)
}

// Inactive reports whether, as far as the record tells, the account has not
// logged on since cutoff: it was created no later than cutoff and Active
// Directory's lastLogonTimestamp, when it has one, is no later than cutoff
// either (an account that never logged on is judged by its age alone).
// StaleAccounts lists such an enabled account when Mamori's logon events do
// not show a logon since cutoff either; the Enricher marks such an account
// stale (StateStale) with the event's time less StaleAfter as cutoff.
//
// lastLogonTimestamp is replicated only when it is older than
// msDS-LogonTimeSyncInterval (9 to 14 days by default), so it can lag the
// true last logon by up to two weeks.
func (r *Record) Inactive(cutoff time.Time) bool {
	return !r.WhenCreated.After(cutoff) && !r.LastLogonTimestamp.After(cutoff)
}

// Name is the display form used in messages: "tanaka (田中 太郎)".
func (r *Record) Name() string {
	if r.DisplayName != "" && r.DisplayName != r.SAMAccountName {
		return r.SAMAccountName + " (" + r.DisplayName + ")"
	}
	return r.SAMAccountName
}

// sameContent reports whether two records say the same about the object,
// ignoring when Mamori wrote them.
func sameContent(a, b *Record) bool {
	x, y := *a, *b
	x.Timestamp, y.Timestamp = time.Time{}, time.Time{}
	x.Mamori.LastSeen, y.Mamori.LastSeen = time.Time{}, time.Time{}
	jx, err1 := json.Marshal(&x)
	jy, err2 := json.Marshal(&y)
	return err1 == nil && err2 == nil && string(jx) == string(jy)
}

// BuildRecords turns a snapshot into records (without Mamori's
// observations, which Compare fills in). Objects without an objectGUID are
// left out: the GUID is the record's id.
func BuildRecords(s *Snapshot, priv *Privileged) []Record {
	names := make(map[string]string, len(s.Groups))
	for i := range s.Groups {
		names[strings.ToLower(s.Groups[i].DN)] = s.Groups[i].SAMAccountName
	}
	var privileged map[string]string
	if priv != nil {
		privileged = priv.Groups(s)
	}
	nameOf := func(dns []string) []string {
		out := make([]string, len(dns))
		for i, dn := range dns {
			if n, ok := names[strings.ToLower(dn)]; ok {
				out[i] = n
			} else {
				out[i] = cnOf(dn)
			}
		}
		return out
	}
	dom := RecordDomain{DNS: s.Domain.DNS, NetBIOS: s.Domain.NetBIOS, SID: s.Domain.SID}
	out := make([]Record, 0, len(s.Users)+len(s.Groups)+len(s.Computers))
	account := func(kind Kind, a *Account) Record {
		uac := uint32(a.UAC)
		return Record{
			Kind: kind, Domain: dom, GUID: a.GUID, SID: a.SID, DN: a.DN, SAMAccountName: a.SAMAccountName,
			Description: a.Description, PrimaryGroupID: a.PrimaryGroupID,
			MemberOf: a.MemberOf, MemberOfNames: nameOf(a.MemberOf),
			NestedMemberOf: a.AllGroups, NestedMemberOfNames: nameOf(a.AllGroups),
			UserAccountControl: &uac,
			UAC: &UACState{Flags: a.UAC.Names(), Disabled: a.Disabled, Locked: a.Locked,
				PasswordNeverExpires: a.PasswordNeverExpires, PasswordExpired: a.PasswordExpired},
			WhenCreated: a.WhenCreated, WhenChanged: a.WhenChanged, LastLogonTimestamp: a.LastLogonTimestamp,
			PwdLastSet: a.PwdLastSet, AccountExpires: a.AccountExpires, LockoutTime: a.LockoutTime,
			PrivilegedGroups: reached(a.AllGroups, privileged),
		}
	}
	for i := range s.Users {
		u := &s.Users[i]
		if u.GUID == "" {
			continue
		}
		r := account(KindUser, &u.Account)
		r.UserPrincipalName, r.DisplayName, r.GivenName, r.Surname = u.UserPrincipalName, u.DisplayName, u.GivenName, u.Surname
		r.Mail, r.Department, r.Title, r.Company = u.Mail, u.Department, u.Title, u.Company
		out = append(out, r)
	}
	for i := range s.Computers {
		c := &s.Computers[i]
		if c.GUID == "" {
			continue
		}
		r := account(KindComputer, &c.Account)
		r.DNSHostName, r.OperatingSystem, r.OperatingSystemVersion = c.DNSHostName, c.OperatingSystem, c.OperatingSystemVersion
		out = append(out, r)
	}
	for i := range s.Groups {
		g := &s.Groups[i]
		if g.GUID == "" {
			continue
		}
		out = append(out, Record{
			Kind: KindGroup, Domain: dom, GUID: g.GUID, SID: g.SID, DN: g.DN, SAMAccountName: g.SAMAccountName,
			Description: g.Description, GroupType: int32(g.Type), GroupScope: g.Type.Scope(),
			MemberOf: g.MemberOf, MemberOfNames: nameOf(g.MemberOf),
			NestedMemberOf: g.AllGroups, NestedMemberOfNames: nameOf(g.AllGroups),
			WhenCreated: g.WhenCreated, WhenChanged: g.WhenChanged,
			PrivilegedGroups: reached(g.AllGroups, privileged),
		})
	}
	return out
}

// cnOf returns the value of a DN's first RDN ("Sales" for
// "CN=Sales,OU=x,DC=y"), unescaping \, and the like.
func cnOf(dn string) string {
	var b strings.Builder
	_, v, ok := strings.Cut(dn, "=")
	if !ok {
		return dn
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && i+1 < len(v):
			i++
			b.WriteByte(v[i])
		case c == ',':
			return b.String()
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Stored is a record as read from the store, with its version.
type Stored struct {
	Record
	Version store.Version
}

// LoadRecords reads every directory record from the store, deleted ones
// included. A collection that does not exist yet gives none.
func LoadRecords(ctx context.Context, s store.Store) ([]Stored, error) {
	var out []Stored
	err := s.Export(ctx, store.SearchRequest{Query: store.Query{Collection: Collection}}, func(h store.Hit) error {
		var r Record
		if err := json.Unmarshal(h.Source, &r); err != nil {
			return fmt.Errorf("directory: record %s: %w", h.ID, err)
		}
		if r.GUID == "" {
			r.GUID = h.ID
		}
		out = append(out, Stored{Record: r, Version: h.Version})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("directory: read records: %w", err)
	}
	return out, nil
}

// MailOf returns the e-mail address the directory holds for the user with
// the account name sam (its sAMAccountName, as API tokens and requesters are
// named), or "" when there is no such live user or it has no mail.
func MailOf(ctx context.Context, s store.Store, sam string) (string, error) {
	if sam == "" {
		return "", nil
	}
	mail := ""
	err := s.Export(ctx, store.SearchRequest{Query: store.Query{Collection: Collection, Filter: &kql.AllOf{Conds: []kql.Cond{
		&kql.Equals{Field: "kind", Type: event.Keyword, Value: string(KindUser)},
		&kql.Equals{Field: "sAMAccountName", Type: event.Keyword, Value: sam},
	}}}}, func(h store.Hit) error {
		var r Record
		if err := json.Unmarshal(h.Source, &r); err != nil {
			return fmt.Errorf("directory: record %s: %w", h.ID, err)
		}
		if r.Mail != "" && !r.Deleted() {
			mail = r.Mail
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return mail, err
}
