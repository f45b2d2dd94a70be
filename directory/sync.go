package directory

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// LDAP search filters for each kind of entity.
const (
	FilterUsers     = "(&(objectCategory=person)(objectClass=user))"
	FilterGroups    = "(objectClass=group)"
	FilterComputers = "(objectClass=computer)"
)

var (
	accountAttrs = []string{
		"objectGUID", "objectSid", "sAMAccountName", "description",
		"userAccountControl", "msDS-User-Account-Control-Computed", "primaryGroupID", "memberOf",
		"whenCreated", "whenChanged", "lastLogonTimestamp", "pwdLastSet", "accountExpires", "lockoutTime",
	}
	userAttrs = append(append([]string{}, accountAttrs...),
		"userPrincipalName", "displayName", "givenName", "sn", "mail", "department", "title", "company")
	computerAttrs = append(append([]string{}, accountAttrs...),
		"dNSHostName", "operatingSystem", "operatingSystemVersion")
	groupAttrs = []string{
		"objectGUID", "objectSid", "sAMAccountName", "description", "groupType", "memberOf",
		"whenCreated", "whenChanged",
	}
)

// Client syncs one directory. It holds no connection between syncs.
type Client struct {
	cfg Config
	log *slog.Logger
}

// New validates cfg (after defaults) and returns a Client. It does not
// connect; the password is read at each Sync, so a rotated file is picked up.
func New(cfg Config, logger *slog.Logger) (*Client, error) {
	cfg.applyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Client{cfg: cfg, log: logger}, nil
}

// Sync connects, binds, pages through the users, groups and computers under
// the base DN and returns them with group membership resolved. It returns
// when ctx is cancelled (the connection is closed).
func (c *Client) Sync(ctx context.Context) (*Snapshot, error) {
	start := time.Now()
	conn, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	snap := &Snapshot{BaseDN: c.cfg.BaseDN, Domain: c.readDomain(conn), Taken: start.UTC()}
	groups, err := c.search(ctx, conn, FilterGroups, groupAttrs)
	if err != nil {
		return nil, err
	}
	for _, e := range groups {
		g, err := decodeGroup(e)
		if err != nil {
			return nil, err
		}
		snap.Groups = append(snap.Groups, g)
	}
	users, err := c.search(ctx, conn, FilterUsers, userAttrs)
	if err != nil {
		return nil, err
	}
	for _, e := range users {
		u, err := decodeUser(e)
		if err != nil {
			return nil, err
		}
		snap.Users = append(snap.Users, u)
	}
	computers, err := c.search(ctx, conn, FilterComputers, computerAttrs)
	if err != nil {
		return nil, err
	}
	for _, e := range computers {
		m, err := decodeComputer(e)
		if err != nil {
			return nil, err
		}
		snap.Computers = append(snap.Computers, m)
	}
	Resolve(snap)
	c.log.Info("directory synced", "base_dn", c.cfg.BaseDN, "users", len(snap.Users),
		"groups", len(snap.Groups), "computers", len(snap.Computers), "took", time.Since(start))
	return snap, nil
}

func (c *Client) connect(ctx context.Context) (*ldap.Conn, error) {
	password, err := c.cfg.password()
	if err != nil {
		return nil, err
	}
	tc, err := c.cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: c.cfg.Timeout}
	type result struct {
		conn *ldap.Conn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		conn, err := ldap.DialURL(c.cfg.URL, ldap.DialWithDialer(d), ldap.DialWithTLSConfig(tc))
		ch <- result{conn, err}
	}()
	var conn *ldap.Conn
	select {
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.conn != nil {
				r.conn.Close()
			}
		}()
		return nil, ctx.Err()
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("directory: dial %s: %w", c.cfg.URL, r.err)
		}
		conn = r.conn
	}
	conn.SetTimeout(c.cfg.Timeout)
	if c.cfg.StartTLS {
		if err := conn.StartTLS(tc); err != nil {
			conn.Close()
			return nil, fmt.Errorf("directory: StartTLS with %s: %w", c.cfg.URL, err)
		}
	}
	if _, err := conn.SimpleBind(&ldap.SimpleBindRequest{Username: c.cfg.BindDN, Password: password}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("directory: bind as %s: %w", c.cfg.BindDN, err)
	}
	return conn, nil
}

// readDomain names the base DN's domain: the DNS name from its DC=
// components, the NetBIOS name from the domain's crossRef in the
// configuration partition and the domain SID from the domain object. The
// last two are best effort: a service account that cannot read them gets the
// first DNS label upper-cased and no SID.
func (c *Client) readDomain(conn *ldap.Conn) Domain {
	d := DomainFromDN(c.cfg.BaseDN)
	root := domainRoot(c.cfg.BaseDN)
	if root == "" {
		return d
	}
	base := func(dn string, attrs ...string) *ldap.Entry {
		res, err := conn.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
			1, int(c.cfg.Timeout/time.Second), false, "(objectClass=*)", attrs, nil))
		if err != nil || len(res.Entries) == 0 {
			c.log.Debug("directory: domain attribute not readable", "dn", dn, "attrs", attrs, "err", err)
			return nil
		}
		return res.Entries[0]
	}
	if e := base(root, "objectSid"); e != nil {
		if b := e.GetRawAttributeValue("objectSid"); len(b) > 0 {
			if sid, err := ParseSID(b); err == nil {
				d.SID = sid
			}
		}
	}
	if e := base("", "configurationNamingContext"); e != nil {
		if cfgNC := e.GetAttributeValue("configurationNamingContext"); cfgNC != "" {
			res, err := conn.Search(ldap.NewSearchRequest("CN=Partitions,"+cfgNC, ldap.ScopeSingleLevel,
				ldap.NeverDerefAliases, 1, int(c.cfg.Timeout/time.Second), false,
				"(&(objectClass=crossRef)(nCName="+ldap.EscapeFilter(root)+"))", []string{"nETBIOSName"}, nil))
			if err == nil && len(res.Entries) > 0 {
				if n := res.Entries[0].GetAttributeValue("nETBIOSName"); n != "" {
					d.NetBIOS = n
				}
			} else {
				c.log.Debug("directory: NetBIOS domain name not readable", "err", err)
			}
		}
	}
	return d
}

// search pages through filter under the base DN, checking ctx between pages.
func (c *Client) search(ctx context.Context, conn *ldap.Conn, filter string, attrs []string) ([]*ldap.Entry, error) {
	paging := ldap.NewControlPaging(c.cfg.PageSize)
	var out []*ldap.Entry
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		req := ldap.NewSearchRequest(c.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			0, int(c.cfg.Timeout/time.Second), false, filter, attrs, []ldap.Control{paging})
		res, err := conn.Search(req)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, ctxErr
			}
			return nil, fmt.Errorf("directory: search %s page %d: %w", filter, page, err)
		}
		out = append(out, res.Entries...)
		ctrl, _ := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if ctrl == nil || len(ctrl.Cookie) == 0 {
			return out, nil
		}
		paging.SetCookie(ctrl.Cookie)
	}
}

// Resolve fills each account's and group's MemberOf (adding the primary
// group), AllGroups (the transitive closure over nested groups) and each
// group's direct Members, from the entities in s alone. Sync calls it; it
// is exported for snapshots built by other means.
func Resolve(s *Snapshot) {
	byDN := make(map[string]*Group, len(s.Groups))
	bySID := make(map[string]string, len(s.Groups))
	for i := range s.Groups {
		g := &s.Groups[i]
		byDN[strings.ToLower(g.DN)] = g
		if g.SID != "" {
			bySID[g.SID] = g.DN
		}
		g.Members = nil
	}
	addMember := func(groupDN, member string) {
		if g, ok := byDN[strings.ToLower(groupDN)]; ok {
			g.Members = append(g.Members, member)
		}
	}
	closure := func(direct []string) []string {
		seen := make(map[string]bool)
		var all []string
		queue := append([]string(nil), direct...)
		for len(queue) > 0 {
			dn := queue[0]
			queue = queue[1:]
			k := strings.ToLower(dn)
			if seen[k] {
				continue
			}
			seen[k] = true
			if g, ok := byDN[k]; ok {
				all = append(all, g.DN) // the group's own spelling
				queue = append(queue, g.MemberOf...)
			} else {
				all = append(all, dn) // outside the base DN or not a group we saw
			}
		}
		sort.Strings(all)
		return all
	}
	account := func(a *Account) {
		if a.PrimaryGroupID != 0 && a.SID != "" {
			if i := strings.LastIndexByte(a.SID, '-'); i > 0 {
				if dn, ok := bySID[a.SID[:i]+"-"+strconv.FormatUint(uint64(a.PrimaryGroupID), 10)]; ok && !containsFold(a.MemberOf, dn) {
					a.MemberOf = append(a.MemberOf, dn)
				}
			}
		}
		sort.Strings(a.MemberOf)
		for _, g := range a.MemberOf {
			addMember(g, a.DN)
		}
		a.AllGroups = closure(a.MemberOf)
	}
	for i := range s.Users {
		account(&s.Users[i].Account)
	}
	for i := range s.Computers {
		account(&s.Computers[i].Account)
	}
	for i := range s.Groups {
		g := &s.Groups[i]
		sort.Strings(g.MemberOf)
		for _, p := range g.MemberOf {
			addMember(p, g.DN)
		}
	}
	for i := range s.Groups {
		g := &s.Groups[i]
		g.AllGroups = closure(g.MemberOf)
		sort.Strings(g.Members)
	}
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// ------------------------------------------------------------ decoding

// attrs reads one entry, remembering the first decoding error.
type attrs struct {
	e   *ldap.Entry
	err error
}

func (a *attrs) str(name string) string { return a.e.GetAttributeValue(name) }

func (a *attrs) fail(err error, name string) {
	if a.err == nil {
		a.err = fmt.Errorf("%s: %s: %w", a.e.DN, name, err)
	}
}

func (a *attrs) uint(name string) uint64 {
	s := a.str(name)
	if s == "" {
		return 0
	}
	// AD writes 32-bit flag fields as signed integers.
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return uint64(uint32(v))
	}
	a.fail(fmt.Errorf("%w: integer %q", ErrBadAttribute, s), name)
	return 0
}

func (a *attrs) fileTime(name string) time.Time {
	t, err := ParseFileTime(a.str(name))
	if err != nil {
		a.fail(err, name)
	}
	return t
}

func (a *attrs) genTime(name string) time.Time {
	s := a.str(name)
	if s == "" {
		return time.Time{}
	}
	t, err := ParseGeneralizedTime(s)
	if err != nil {
		a.fail(err, name)
	}
	return t
}

func (a *attrs) sid() string {
	b := a.e.GetRawAttributeValue("objectSid")
	if len(b) == 0 {
		return ""
	}
	s, err := ParseSID(b)
	if err != nil {
		a.fail(err, "objectSid")
	}
	return s
}

func (a *attrs) guid() string {
	b := a.e.GetRawAttributeValue("objectGUID")
	if len(b) == 0 {
		return ""
	}
	s, err := ParseGUID(b)
	if err != nil {
		a.fail(err, "objectGUID")
	}
	return s
}

func decodeAccount(a *attrs) Account {
	uac := UAC(a.uint("userAccountControl"))
	computed := UAC(a.uint("msDS-User-Account-Control-Computed"))
	uac |= computed & (UACLockout | UACPasswordExpired)
	acc := Account{
		DN:                 a.e.DN,
		GUID:               a.guid(),
		SID:                a.sid(),
		SAMAccountName:     a.str("sAMAccountName"),
		Description:        a.str("description"),
		UAC:                uac,
		PrimaryGroupID:     uint32(a.uint("primaryGroupID")),
		MemberOf:           append([]string(nil), a.e.GetAttributeValues("memberOf")...),
		WhenCreated:        a.genTime("whenCreated"),
		WhenChanged:        a.genTime("whenChanged"),
		LastLogonTimestamp: a.fileTime("lastLogonTimestamp"),
		PwdLastSet:         a.fileTime("pwdLastSet"),
		AccountExpires:     a.fileTime("accountExpires"),
		LockoutTime:        a.fileTime("lockoutTime"),
	}
	acc.Disabled = uac.Disabled()
	acc.PasswordNeverExpires = uac.PasswordNeverExpires()
	acc.PasswordExpired = uac.Has(UACPasswordExpired)
	acc.Locked = uac.Has(UACLockout)
	return acc
}

func decodeUser(e *ldap.Entry) (User, error) {
	a := &attrs{e: e}
	u := User{
		Account:           decodeAccount(a),
		UserPrincipalName: a.str("userPrincipalName"),
		DisplayName:       a.str("displayName"),
		GivenName:         a.str("givenName"),
		Surname:           a.str("sn"),
		Mail:              a.str("mail"),
		Department:        a.str("department"),
		Title:             a.str("title"),
		Company:           a.str("company"),
	}
	return u, a.err
}

func decodeComputer(e *ldap.Entry) (Computer, error) {
	a := &attrs{e: e}
	m := Computer{
		Account:                decodeAccount(a),
		DNSHostName:            a.str("dNSHostName"),
		OperatingSystem:        a.str("operatingSystem"),
		OperatingSystemVersion: a.str("operatingSystemVersion"),
	}
	return m, a.err
}

func decodeGroup(e *ldap.Entry) (Group, error) {
	a := &attrs{e: e}
	g := Group{
		DN:             e.DN,
		GUID:           a.guid(),
		SID:            a.sid(),
		SAMAccountName: a.str("sAMAccountName"),
		Description:    a.str("description"),
		Type:           GroupType(int32(uint32(a.uint("groupType")))),
		MemberOf:       append([]string(nil), e.GetAttributeValues("memberOf")...),
		WhenCreated:    a.genTime("whenCreated"),
		WhenChanged:    a.genTime("whenChanged"),
	}
	return g, a.err
}
