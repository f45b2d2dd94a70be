package winevent

import (
	"strconv"
	"strings"
)

// Event id sets of the Security module's steps, for the events this package
// maps (Winlogbeat's lists are longer).
var (
	// User from the target account, the first step that sets user.*.
	targetAsUser = ids(4624, 4625, 4634, 4647, 4648, 4768, 4769, 4770, 4771, 4776)
	// User from the subject account (overriding the target for 4648).
	subjectAsUser = ids(4648, 4672, 4720, 4722, 4723, 4724, 4725, 4726, 4738, 4740, 4767)
	// The target account as user.target.
	targetAsTarget = ids(4720, 4722, 4723, 4724, 4725, 4726, 4738, 4740, 4767)
	// The target account as user.effective.
	targetAsEffective = ids(4648)
	// Events whose ProcessId, ProcessName, IpAddress, IpPort and
	// WorkstationName become process.* and source.*.
	authFields = ids(4624, 4625, 4648, 4720, 4722, 4723, 4724, 4725, 4726, 4738, 4740,
		4767, 4768, 4769, 4770, 4771)
	// Events whose TargetUserName is also appended to related.user.
	targetRelated = ids(4720, 4722, 4723, 4724, 4725, 4726, 4738, 4740, 4767)
)

func ids(list ...uint32) map[uint32]bool {
	m := make(map[uint32]bool, len(list))
	for _, id := range list {
		m[id] = true
	}
	return m
}

// security does the work of Winlogbeat's Security module pipeline, step by
// step in its order, since later steps overwrite earlier ones.
func (m *mapper) security() {
	id, d, e := m.rec.EventID, &m.data, m.e
	e.Event.Module = "security"
	if c, ok := securityActions[id]; ok {
		e.Event.Category = c.category
		e.Event.Type = c.typ
		e.Event.Action = c.action
	}
	if t, ok := logonTypes[d.val(dLogonType)]; ok {
		m.e.Fields["winlog.logon.type"] = m.box.str(t)
	}
	m.accountControl()
	m.kerberos()
	if v, ok := d.get(dServiceName); ok {
		m.set("service.name", v)
	}
	if v, ok := d.get(dFailureReason); ok {
		if r, ok := failureReasons[strings.TrimPrefix(v, "%%")]; ok {
			m.e.Fields["winlog.logon.failure.reason"] = m.box.str(r)
		}
	}
	if id == 4625 || id == 4776 {
		if s, ok := ntStatus[strings.ToLower(d.val(dStatus))]; ok {
			m.e.Fields["winlog.logon.failure.status"] = m.box.str(s)
		}
		if s, ok := ntStatus[strings.ToLower(d.val(dSubStatus))]; ok {
			m.e.Fields["winlog.logon.failure.sub_status"] = m.box.str(s)
		}
	}
	if id == 4778 || id == 4779 {
		m.session()
	}
	if targetAsUser[id] {
		m.targetUser()
	}
	if id == 4634 || id == 4647 {
		m.set("winlog.logon.id", d.val(dTargetLogonId))
	}
	if subjectAsUser[id] {
		m.subjectUser()
	}
	if targetAsTarget[id] {
		m.targetAccount("user.target", d.val(dTargetSid))
	}
	if targetAsEffective[id] {
		m.targetAccount("user.effective", d.val(dTargetUserSid))
	}
	// Winlogbeat copies SubjectLogonId last, so it wins over TargetLogonId
	// wherever an event has both (4624 gets the subject's logon id: use
	// winlog.event_data.TargetLogonId to follow the new session).
	m.set("winlog.logon.id", d.val(dSubjectLogonId))
	if authFields[id] {
		m.authFields()
	}
	if id == 4624 || id == 4648 {
		if v, ok := d.get(dSubjectUserName); ok && v != "-" {
			m.relatedUser(v)
		}
	}
	if targetRelated[id] {
		if v, ok := d.get(dTargetUserName); ok && v != "-" {
			m.relatedUser(v)
		}
	}
	if id == 4672 {
		if v, ok := d.get(dPrivilegeList); ok {
			m.e.Fields["winlog.event_data.PrivilegeList"] = strings.Fields(v)
		}
	}
	if s := m.e.Source; s != nil && s.IP != "" {
		m.relatedIP(s.IP)
	}
}

// targetUser maps the target account to user.* (TargetUserSid or TargetSid,
// TargetUserName without any "@realm", TargetDomainName).
func (m *mapper) targetUser() {
	d := &m.data
	sid, ok := d.get(dTargetUserSid)
	if !ok {
		sid, ok = d.get(dTargetSid)
	}
	if ok {
		m.user().ID = sid
	}
	if v, ok := d.get(dTargetUserName); ok {
		name, _, _ := strings.Cut(v, "@")
		m.user().Name = name
		m.relatedUser(name)
	}
	if v, ok := d.get(dTargetDomainName); ok {
		m.user().Domain = v
	}
}

// subjectUser maps the subject account to user.*.
func (m *mapper) subjectUser() {
	d := &m.data
	if v, ok := d.get(dSubjectUserSid); ok {
		m.user().ID = v
	}
	if v, ok := d.get(dSubjectUserName); ok {
		m.user().Name = v
		m.relatedUser(v)
	}
	if v, ok := d.get(dSubjectDomainName); ok {
		m.user().Domain = v
	}
}

// targetAccount maps the target account to user.target.* or user.effective.*,
// leaving out "-".
func (m *mapper) targetAccount(prefix, sid string) {
	d := &m.data
	if sid != "" && sid != "-" {
		m.set(prefix+".id", sid)
	}
	if v := d.val(dTargetUserName); v != "" && v != "-" {
		name, _, _ := strings.Cut(v, "@")
		m.set(prefix+".name", name)
		m.relatedUser(name)
	}
	if v := d.val(dTargetDomainName); v != "" && v != "-" {
		m.set(prefix+".domain", v)
	}
}

// session maps the Remote Desktop session events 4778 and 4779.
func (m *mapper) session() {
	d := &m.data
	if v, ok := d.get(dAccountName); ok {
		m.user().Name = v
		m.relatedUser(v)
	}
	if v, ok := d.get(dAccountDomain); ok {
		m.user().Domain = v
	}
	if v, ok := d.get(dClientAddress); ok && v != "-" && v != "Unknown" {
		if v == "LOCAL" {
			v = "127.0.0.1"
		}
		if ip, ok := cleanIP(v); ok {
			m.source().IP = ip
		}
	}
	if v, ok := d.get(dClientName); ok {
		m.source().Domain = v
	}
	m.set("winlog.logon.id", d.val(dLogonID))
}

// authFields maps the process and network fields of logon and account events.
func (m *mapper) authFields() {
	d := &m.data
	if v, ok := d.get(dProcessId); ok {
		if pid, err := decodeInt(v); err == nil {
			m.process().PID = pid
		}
	}
	exe, hasExe := d.get(dProcessName)
	if hasExe {
		m.set("process.executable", exe)
	}
	if v, ok := d.get(dIpAddress); ok && v != "-" {
		if ip, ok := cleanIP(v); ok {
			m.source().IP = ip
		}
	}
	if v, ok := d.get(dIpPort); ok && v != "-" {
		if port, err := decodeInt(v); err == nil && port >= 0 && port <= 65535 {
			m.source().Port = port
		}
	}
	if v, ok := d.get(dWorkstationName); ok {
		m.source().Domain = v
	}
	if hasExe {
		name := exe
		if i := strings.LastIndexByte(exe, '\\'); i >= 0 {
			name = exe[i+1:]
		}
		m.process().Name = name
	}
}

// accountControl describes the account control flags of 4720 and 4738.
func (m *mapper) accountControl() {
	v, ok := m.data.get(dNewUacValue)
	if !ok {
		return
	}
	n, err := decodeInt(v)
	if err != nil {
		return
	}
	names := bitNames(uint32(n), uacBits)
	if len(names) == 0 {
		return
	}
	m.e.Fields["winlog.event_data.NewUACList"] = names
	if v, ok := m.data.get(dUserAccountControl); ok {
		var list []string
		for _, part := range strings.Split(v, "%%") {
			if part = strings.TrimSpace(part); part != "" {
				list = append(list, part)
			}
		}
		m.e.Fields["winlog.event_data.UserAccountControl"] = list
	}
}

// kerberos describes ticket options, encryption type and result code.
func (m *mapper) kerberos() {
	d := &m.data
	if v, ok := d.get(dTicketOptions); ok {
		if n, err := decodeInt(v); err == nil {
			if names := bitNames(uint32(n), ticketOptionBits); len(names) > 0 {
				m.e.Fields["winlog.event_data.TicketOptionsDescription"] = names
			}
		}
	}
	if v, ok := d.get(dTicketEncryptionType); ok {
		if s, ok := ticketEncryptionTypes[strings.ToLower(v)]; ok {
			m.e.Fields["winlog.event_data.TicketEncryptionTypeDescription"] = m.box.str(s)
		}
	}
	switch m.rec.EventID {
	case 4768, 4769, 4770, 4771:
		if v, ok := d.get(dStatus); ok {
			if n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(v), "0x"), 16, 32); err == nil && strings.HasPrefix(strings.ToLower(v), "0x") {
				if s, ok := kerberosResults[n]; ok {
					m.e.Fields["winlog.event_data.StatusDescription"] = m.box.str(s)
				}
			}
		}
	}
}

// bitNames names the set bits of v from the lowest up, as Winlogbeat lists them.
func bitNames(v uint32, names map[uint32]string) []string {
	var out []string
	for b := range 32 {
		if bit := uint32(1) << b; v&bit != 0 {
			if s, ok := names[bit]; ok {
				out = append(out, s)
			}
		}
	}
	return out
}
