package directory

import (
	"strings"
	"time"
)

// UAC is the userAccountControl bit field of an account.
type UAC uint32

// userAccountControl flags ([MS-ADTS] 2.2.16).
const (
	UACScript                     UAC = 0x0000_0001
	UACAccountDisable             UAC = 0x0000_0002
	UACHomeDirRequired            UAC = 0x0000_0008
	UACLockout                    UAC = 0x0000_0010
	UACPasswdNotRequired          UAC = 0x0000_0020
	UACPasswdCantChange           UAC = 0x0000_0040
	UACEncryptedTextPwdAllowed    UAC = 0x0000_0080
	UACTempDuplicateAccount       UAC = 0x0000_0100
	UACNormalAccount              UAC = 0x0000_0200
	UACInterdomainTrustAccount    UAC = 0x0000_0800
	UACWorkstationTrustAccount    UAC = 0x0000_1000
	UACServerTrustAccount         UAC = 0x0000_2000
	UACDontExpirePassword         UAC = 0x0001_0000
	UACMNSLogonAccount            UAC = 0x0002_0000
	UACSmartcardRequired          UAC = 0x0004_0000
	UACTrustedForDelegation       UAC = 0x0008_0000
	UACNotDelegated               UAC = 0x0010_0000
	UACUseDESKeyOnly              UAC = 0x0020_0000
	UACDontRequirePreauth         UAC = 0x0040_0000
	UACPasswordExpired            UAC = 0x0080_0000
	UACTrustedToAuthForDelegation UAC = 0x0100_0000
	UACPartialSecretsAccount      UAC = 0x0400_0000
)

var uacNames = []struct {
	bit  UAC
	name string
}{
	{UACScript, "SCRIPT"},
	{UACAccountDisable, "ACCOUNTDISABLE"},
	{UACHomeDirRequired, "HOMEDIR_REQUIRED"},
	{UACLockout, "LOCKOUT"},
	{UACPasswdNotRequired, "PASSWD_NOTREQD"},
	{UACPasswdCantChange, "PASSWD_CANT_CHANGE"},
	{UACEncryptedTextPwdAllowed, "ENCRYPTED_TEXT_PWD_ALLOWED"},
	{UACTempDuplicateAccount, "TEMP_DUPLICATE_ACCOUNT"},
	{UACNormalAccount, "NORMAL_ACCOUNT"},
	{UACInterdomainTrustAccount, "INTERDOMAIN_TRUST_ACCOUNT"},
	{UACWorkstationTrustAccount, "WORKSTATION_TRUST_ACCOUNT"},
	{UACServerTrustAccount, "SERVER_TRUST_ACCOUNT"},
	{UACDontExpirePassword, "DONT_EXPIRE_PASSWORD"},
	{UACMNSLogonAccount, "MNS_LOGON_ACCOUNT"},
	{UACSmartcardRequired, "SMARTCARD_REQUIRED"},
	{UACTrustedForDelegation, "TRUSTED_FOR_DELEGATION"},
	{UACNotDelegated, "NOT_DELEGATED"},
	{UACUseDESKeyOnly, "USE_DES_KEY_ONLY"},
	{UACDontRequirePreauth, "DONT_REQ_PREAUTH"},
	{UACPasswordExpired, "PASSWORD_EXPIRED"},
	{UACTrustedToAuthForDelegation, "TRUSTED_TO_AUTH_FOR_DELEGATION"},
	{UACPartialSecretsAccount, "PARTIAL_SECRETS_ACCOUNT"},
}

// Has reports whether every bit of f is set.
func (u UAC) Has(f UAC) bool { return u&f == f }

// Disabled reports ACCOUNTDISABLE.
func (u UAC) Disabled() bool { return u.Has(UACAccountDisable) }

// PasswordNeverExpires reports DONT_EXPIRE_PASSWORD.
func (u UAC) PasswordNeverExpires() bool { return u.Has(UACDontExpirePassword) }

// Names lists the set flags by their Microsoft names, lowest bit first;
// unknown bits are left out.
func (u UAC) Names() []string {
	var out []string
	for _, n := range uacNames {
		if u&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// String joins Names with "|".
func (u UAC) String() string { return strings.Join(u.Names(), "|") }

// Account holds what users and computers share. Times are UTC; a zero time
// means never or not set (FILETIME 0 and 0x7FFFFFFFFFFFFFFF, or an absent
// attribute).
type Account struct {
	DN             string
	GUID           string // objectGUID in the usual text form
	SID            string // objectSid, S-1-5-21-...
	SAMAccountName string
	Description    string
	// UAC is userAccountControl merged with the lockout and password-expired
	// bits of msDS-User-Account-Control-Computed (AD never stores those two
	// in userAccountControl itself).
	UAC                  UAC
	Disabled             bool
	Locked               bool
	PasswordNeverExpires bool
	PasswordExpired      bool
	PrimaryGroupID       uint32
	// MemberOf are the groups' DNs the account is a direct member of,
	// including its primary group; AllGroups adds every group reached
	// through nesting. Both sorted.
	MemberOf  []string
	AllGroups []string

	WhenCreated        time.Time
	WhenChanged        time.Time
	LastLogonTimestamp time.Time // replicated, up to ~14 days behind
	PwdLastSet         time.Time
	AccountExpires     time.Time
	LockoutTime        time.Time
}

// Expired reports whether AccountExpires is set and before now.
func (a *Account) Expired(now time.Time) bool {
	return !a.AccountExpires.IsZero() && a.AccountExpires.Before(now)
}

// InGroup reports whether the account is in the group with this DN, directly
// or through nesting (DNs compare case-insensitively).
func (a *Account) InGroup(dn string) bool {
	for _, g := range a.AllGroups {
		if strings.EqualFold(g, dn) {
			return true
		}
	}
	return false
}

// User is a person's account (objectCategory person).
type User struct {
	Account
	UserPrincipalName string
	DisplayName       string
	GivenName         string
	Surname           string
	Mail              string
	Department        string
	Title             string
	Company           string
}

// Computer is a computer account (objectClass computer).
type Computer struct {
	Account
	DNSHostName            string
	OperatingSystem        string
	OperatingSystemVersion string
}

// GroupType is the groupType bit field.
type GroupType int32

// groupType flags.
const (
	GroupBuiltinLocal GroupType = 0x0000_0001
	GroupGlobal       GroupType = 0x0000_0002
	GroupDomainLocal  GroupType = 0x0000_0004
	GroupUniversal    GroupType = 0x0000_0008
	GroupSecurity     GroupType = -0x8000_0000
)

// Security reports a security group (as opposed to a distribution list).
func (t GroupType) Security() bool { return t&GroupSecurity != 0 }

// Scope names the group scope: "global", "domain local", "universal",
// "builtin local" or "".
func (t GroupType) Scope() string {
	switch {
	case t&GroupGlobal != 0:
		return "global"
	case t&GroupDomainLocal != 0:
		return "domain local"
	case t&GroupUniversal != 0:
		return "universal"
	case t&GroupBuiltinLocal != 0:
		return "builtin local"
	}
	return ""
}

// Group is a group. MemberOf and AllGroups are the groups it is nested in;
// Members are its direct members' DNs (users, computers and groups found in
// the same sync, primary-group members included).
type Group struct {
	DN             string
	GUID           string
	SID            string
	SAMAccountName string
	Description    string
	Type           GroupType
	MemberOf       []string
	AllGroups      []string
	Members        []string
	WhenCreated    time.Time
	WhenChanged    time.Time
}

// RID is the last sub-authority of the group's SID (512 for Domain Admins),
// or 0.
func (g *Group) RID() uint32 { return ridOf(g.SID) }

// Domain names the directory's domain, as events spell it: user.domain is
// the NetBIOS name in logon events (MAMORI) and the DNS name in Kerberos
// events (MAMORI.TEST).
type Domain struct {
	DNS     string // from the DC= components of the base DN: mamori.test
	NetBIOS string // the crossRef's nETBIOSName, else the first DNS label upper-cased
	SID     string // the domain object's objectSid, when it could be read
}

// Matches reports whether an event's user.domain names this domain: the
// NetBIOS or DNS name, case-insensitively.
func (d Domain) Matches(name string) bool {
	return name != "" && (strings.EqualFold(name, d.NetBIOS) || strings.EqualFold(name, d.DNS))
}

// DomainFromDN derives the DNS name and a NetBIOS guess from the DC=
// components of a DN ("OU=x,DC=mamori,DC=test" gives mamori.test, MAMORI).
func DomainFromDN(dn string) Domain {
	var labels []string
	for _, rdn := range strings.Split(dn, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(rdn), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "DC") {
			labels = append(labels, strings.TrimSpace(v))
		}
	}
	d := Domain{DNS: strings.ToLower(strings.Join(labels, "."))}
	if len(labels) > 0 {
		d.NetBIOS = strings.ToUpper(labels[0])
	}
	return d
}

// domainRoot returns the DC= suffix of a DN: the domain's own DN.
func domainRoot(dn string) string {
	parts := strings.Split(dn, ",")
	for i, rdn := range parts {
		k, _, ok := strings.Cut(strings.TrimSpace(rdn), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "DC") {
			return strings.Join(parts[i:], ",")
		}
	}
	return ""
}

// Snapshot is the result of one sync.
type Snapshot struct {
	BaseDN    string
	Domain    Domain
	Taken     time.Time
	Users     []User
	Groups    []Group
	Computers []Computer
}

// User returns the user with this sAMAccountName (case-insensitive).
func (s *Snapshot) User(sam string) (*User, bool) {
	for i := range s.Users {
		if strings.EqualFold(s.Users[i].SAMAccountName, sam) {
			return &s.Users[i], true
		}
	}
	return nil, false
}

// Group returns the group with this sAMAccountName (case-insensitive).
func (s *Snapshot) Group(sam string) (*Group, bool) {
	for i := range s.Groups {
		if strings.EqualFold(s.Groups[i].SAMAccountName, sam) {
			return &s.Groups[i], true
		}
	}
	return nil, false
}

// Computer returns the computer with this sAMAccountName ("WS01$") or name
// without the trailing "$" (case-insensitive).
func (s *Snapshot) Computer(name string) (*Computer, bool) {
	name = strings.TrimSuffix(name, "$")
	for i := range s.Computers {
		if strings.EqualFold(strings.TrimSuffix(s.Computers[i].SAMAccountName, "$"), name) {
			return &s.Computers[i], true
		}
	}
	return nil, false
}
