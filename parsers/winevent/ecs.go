package winevent

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/mamori-soc/mamori/event"
)

// opcodeNames are the standard opcode names, for events without RenderingInfo.
var opcodeNames = map[uint8]string{
	0: "Info", 1: "Start", 2: "Stop", 3: "DCStart", 4: "DCStop", 5: "Extension",
	6: "Reply", 7: "Resume", 8: "Suspend", 9: "Send", 240: "Receive",
}

// ToECS fills e from rec as Winlogbeat and, for the Security log, its
// Security module would. e should be reset by the caller; the caller sets
// event.id, event.created, event.original and the other fields every event
// shares. The error reports a record that cannot become an event.
func ToECS(rec Record, e *event.Event) error {
	var b boxes
	return toECS(&rec, e, &b)
}

// toECS is ToECS, making the interface values of Fields with b.
func toECS(rec *Record, e *event.Event, b *boxes) error {
	if rec.TimeCreated.IsZero() {
		return errorf("record has no TimeCreated")
	}
	b.grow(fieldsHint(rec))
	m := mapper{rec: rec, e: e, box: b}
	m.common()
	if isSecurity(rec) {
		m.security()
	}
	return nil
}

// eventCodes are the event codes of the events this package maps, so that
// writing them allocates nothing.
var eventCodes = func() map[uint32]string {
	m := make(map[uint32]string, len(securityActions)+2)
	for id := range securityActions {
		m[id] = strconv.FormatUint(uint64(id), 10)
	}
	for _, id := range []uint32{4800, 4801} {
		m[id] = strconv.FormatUint(uint64(id), 10)
	}
	return m
}()

// eventCode returns an event id as text.
func eventCode(id uint32) string {
	if s, ok := eventCodes[id]; ok {
		return s
	}
	return strconv.FormatUint(uint64(id), 10)
}

// mapper holds one mapping in progress.
type mapper struct {
	rec   *Record
	e     *event.Event
	data  eventData // the EventData values the mapping reads
	parts *eventParts
	box   *boxes
}

// fieldsHint is the number of Fields entries ToECS makes for rec, or a
// little more: a map made with room for them does not grow, and one no
// larger than needed is cheaper to make and to collect.
func fieldsHint(rec *Record) int {
	return 14 + len(rec.EventData) + len(rec.UserData)
}

// eventParts are the field sets the mapping points e at, made in one
// allocation rather than one each.
type eventParts struct {
	user        event.User
	source      event.Endpoint
	process     event.Process
	related     event.Related
	log         event.Log
	host        event.Host
	relatedUser [2]string
	relatedIP   [1]string
}

// allParts returns the mapping's eventParts, made on first use.
func (m *mapper) allParts() *eventParts {
	if m.parts == nil {
		m.parts = &eventParts{}
	}
	return m.parts
}

// dataKey names an EventData value the mapping reads.
type dataKey uint8

// The EventData names the mapping reads.
const (
	dAccountDomain dataKey = iota
	dAccountName
	dClientAddress
	dClientName
	dFailureReason
	dIpAddress
	dIpPort
	dLogonID
	dLogonType
	dNewUacValue
	dPrivilegeList
	dProcessId
	dProcessName
	dServiceName
	dStatus
	dSubStatus
	dSubjectDomainName
	dSubjectLogonId
	dSubjectUserName
	dSubjectUserSid
	dTargetDomainName
	dTargetLogonId
	dTargetSid
	dTargetUserName
	dTargetUserSid
	dTicketEncryptionType
	dTicketOptions
	dUserAccountControl
	dWorkstationName
	numDataKeys // not a key
)

// dataKeyNames are the EventData names of the keys.
var dataKeyNames = [numDataKeys]string{
	dAccountDomain: "AccountDomain", dAccountName: "AccountName", dClientAddress: "ClientAddress",
	dClientName: "ClientName", dFailureReason: "FailureReason", dIpAddress: "IpAddress", dIpPort: "IpPort",
	dLogonID: "LogonID", dLogonType: "LogonType", dNewUacValue: "NewUacValue", dPrivilegeList: "PrivilegeList",
	dProcessId: "ProcessId", dProcessName: "ProcessName", dServiceName: "ServiceName", dStatus: "Status",
	dSubStatus: "SubStatus", dSubjectDomainName: "SubjectDomainName", dSubjectLogonId: "SubjectLogonId",
	dSubjectUserName: "SubjectUserName", dSubjectUserSid: "SubjectUserSid", dTargetDomainName: "TargetDomainName",
	dTargetLogonId: "TargetLogonId", dTargetSid: "TargetSid", dTargetUserName: "TargetUserName",
	dTargetUserSid: "TargetUserSid", dTicketEncryptionType: "TicketEncryptionType", dTicketOptions: "TicketOptions",
	dUserAccountControl: "UserAccountControl", dWorkstationName: "WorkstationName",
}

// eventData holds the EventData values the mapping reads, as Winlogbeat
// keys them (see addEventData): an array indexed by name rather than a map,
// since the mapping asks for a few dozen names it knows in advance.
type eventData struct {
	vals [numDataKeys]string
	has  uint64 // bit k: the event has a value for key k
}

// get returns the value of k and whether the event has one.
func (d *eventData) get(k dataKey) (string, bool) { return d.vals[k], d.has&(1<<k) != 0 }

// val returns the value of k, "" when the event has none.
func (d *eventData) val(k dataKey) string { return d.vals[k] }

// dataName is what the mapping knows of a frequent EventData name.
type dataName struct {
	field string  // "winlog.event_data.<name>", so that naming it allocates nothing
	seen  uint8   // its bit in addEventData's record of names seen
	key   dataKey // numDataKeys when the mapping does not read it
}

// dataNames holds the EventData names of the events this package maps;
// other names are joined on the fly.
var dataNames = newNameTable(func() map[string]dataName {
	names := []string{"AccountDomain", "AccountExpires", "AccountName", "AllowedToDelegateTo",
		"AuthenticationPackageName", "CertIssuerName", "CertSerialNumber", "CertThumbprint", "ClientAddress",
		"ClientName", "DisplayName", "Dummy", "ElevatedToken", "FailureReason", "HomeDirectory", "HomePath",
		"ImpersonationLevel", "IpAddress", "IpPort", "KeyLength", "LmPackageName", "LogonGuid", "LogonHours",
		"LogonID", "LogonProcessName", "LogonType", "NewUacValue", "OldUacValue", "PackageName",
		"PasswordLastSet", "PreAuthType", "PrimaryGroupId", "PrivilegeList", "ProcessId", "ProcessName",
		"ProfilePath", "RestrictedAdminMode", "SamAccountName", "ScriptPath", "ServiceName", "ServiceSid",
		"SessionId", "SessionName", "SidHistory", "Status", "SubStatus", "SubjectDomainName", "SubjectLogonId",
		"SubjectUserName", "SubjectUserSid", "TargetDomainName", "TargetInfo", "TargetLinkedLogonId",
		"TargetLogonGuid", "TargetLogonId", "TargetOutboundDomainName", "TargetOutboundUserName",
		"TargetServerName", "TargetSid", "TargetUserName", "TargetUserSid", "TicketEncryptionType",
		"TicketOptions", "TransmittedServices", "UserAccountControl", "UserParameters", "UserPrincipalName",
		"UserWorkstations", "VirtualAccount", "Workstation", "WorkstationName", "MemberName", "MemberSid",
		"OldTargetUserName", "NewTargetUserName", "SidList", "CallerProcessId", "CallerProcessName",
		"ObjectServer", "ObjectType", "ObjectName", "HandleId", "AccessMask", "NewProcessId", "NewProcessName",
		"TokenElevationType", "CommandLine", "ParentProcessName", "MandatoryLabel"}
	m := make(map[string]dataName, len(names))
	for _, n := range names {
		m[n] = dataName{field: "winlog.event_data." + n, seen: uint8(len(m)), key: numDataKeys}
	}
	for k, n := range dataKeyNames {
		d, ok := m[n]
		if !ok {
			panic("winevent: EventData key " + n + " is not in dataNames")
		}
		d.key = dataKey(k)
		m[n] = d
	}
	if len(m) > 128 || numDataKeys > 64 {
		panic("winevent: too many EventData names for the bit sets")
	}
	return m
}())

// addEventData puts the EventData into Fields, keyed as Winlogbeat does:
// empty values are dropped, an unnamed <Data> is "param<N>" by its
// position, the first of two equal names wins, and Windows line ends become
// line feeds. It keeps the values the mapping reads in m.data.
func (m *mapper) addEventData(pairs []Pair) {
	var seen [2]uint64  // the dataNames seen, by their bit
	var others []string // the other names seen, in the usual case few
	var othersMap map[string]bool
	for i, p := range pairs {
		if p.Value == "" {
			continue
		}
		name := p.Name
		if name == "" || name == "Data" {
			name = "param" + strconv.Itoa(i+1)
		}
		var field string
		if d, ok := dataNames.get(name); ok {
			w, bit := d.seen>>6, uint64(1)<<(d.seen&63)
			if seen[w]&bit != 0 {
				continue
			}
			seen[w] |= bit
			field = d.field
			if d.key < numDataKeys {
				v := cleanText(p.Value)
				m.data.vals[d.key] = v
				m.data.has |= 1 << d.key
				m.e.Fields[field] = m.box.str(v)
				continue
			}
		} else {
			if othersMap != nil {
				if othersMap[name] {
					continue
				}
				othersMap[name] = true
			} else {
				if slices.Contains(others, name) {
					continue
				}
				if others = append(others, name); len(others) > 16 {
					// Many names not in dataNames: a map keeps this linear.
					othersMap = make(map[string]bool, 2*len(others))
					for _, o := range others {
						othersMap[o] = true
					}
				}
			}
			field = "winlog.event_data." + name
		}
		m.e.Fields[field] = m.box.str(cleanText(p.Value))
	}
}

// cleanText turns Windows line ends into line feeds and drops trailing ones.
func cleanText(s string) string {
	if strings.Contains(s, "\r\n") {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	return strings.TrimRight(s, "\n")
}

// isSecurity reports whether the Security module's mapping applies, as
// Winlogbeat's routing decides it: the Security channel, from the auditing
// or the event log provider. Forwarded events keep their original channel.
func isSecurity(r *Record) bool {
	if !strings.EqualFold(r.Channel, "Security") {
		return false
	}
	return r.ProviderName == "Microsoft-Windows-Security-Auditing" || r.ProviderName == "Microsoft-Windows-Eventlog"
}

// common maps what Winlogbeat writes for every event.
func (m *mapper) common() {
	r, e := m.rec, m.e
	if e.Fields == nil {
		e.Fields = make(map[string]any, fieldsHint(r))
	}
	e.Timestamp = r.TimeCreated.UTC()
	e.Event.Kind = "event"
	e.Event.Code = eventCode(r.EventID)
	e.Event.Provider = r.ProviderName
	if e.Event.Provider == "" {
		e.Event.Provider = r.EventSourceName
	}
	switch {
	case r.Keywords&keywordAuditFailure != 0:
		e.Event.Outcome = "failure"
	case r.Keywords&keywordAuditSuccess != 0:
		e.Event.Outcome = "success"
	}
	level := strings.ToLower(r.LevelText)
	if level == "" {
		level = levelNames[r.Level]
	}
	if level != "" {
		p := m.allParts()
		p.log.Level = level
		e.Log = &p.log
	}
	e.Message = cleanText(r.Message)
	e.Event.Action = r.TaskText
	if r.Computer != "" {
		p := m.allParts()
		p.host.Name = r.Computer
		e.Host = &p.host
	}

	m.set("winlog.channel", r.Channel)
	m.set("winlog.event_id", e.Event.Code)
	m.set("winlog.provider_name", r.ProviderName)
	m.set("winlog.provider_guid", r.ProviderGUID)
	if r.RecordID != 0 {
		m.set("winlog.record_id", strconv.FormatUint(r.RecordID, 10))
	}
	m.set("winlog.computer_name", r.Computer)
	m.set("winlog.task", r.TaskText)
	opcode := r.OpcodeText
	if opcode == "" {
		opcode = opcodeNames[r.Opcode]
	}
	m.set("winlog.opcode", opcode)
	var kwBuf [8]string
	if kw := m.keywords(kwBuf[:0]); len(kw) > 0 {
		m.e.Fields["winlog.keywords"] = m.box.list(kw)
	}
	if r.Version != 0 {
		m.e.Fields["winlog.version"] = int64(r.Version)
	}
	m.set("winlog.user.identifier", r.UserID)
	m.set("winlog.activity_id", r.ActivityID)
	m.set("winlog.related_activity_id", r.RelatedActivityID)
	if r.ProcessID != 0 {
		m.e.Fields["winlog.process.pid"] = m.box.int(int64(r.ProcessID))
	}
	if r.ThreadID != 0 {
		m.e.Fields["winlog.process.thread.id"] = m.box.int(int64(r.ThreadID))
	}
	m.addEventData(r.EventData)
	if len(r.UserData) > 0 || r.UserDataName != "" {
		for i, p := range r.UserData {
			if p.Value == "" {
				continue
			}
			k := p.Name
			if k == "" {
				k = "param" + strconv.Itoa(i+1)
			}
			m.set("winlog.user_data."+k, cleanText(p.Value))
		}
		m.set("winlog.user_data.xml_name", r.UserDataName)
	}
}

// keywords appends to out the rendered keyword names, or the names of the
// audit keyword bits when the event was not rendered.
func (m *mapper) keywords(out []string) []string {
	if len(m.rec.KeywordsText) > 0 {
		for _, k := range m.rec.KeywordsText {
			if k = strings.TrimSpace(k); k != "" {
				out = append(out, k)
			}
		}
		return out
	}
	switch {
	case m.rec.Keywords&keywordAuditFailure != 0:
		return append(out, "Audit Failure")
	case m.rec.Keywords&keywordAuditSuccess != 0:
		return append(out, "Audit Success")
	}
	return out
}

// set puts a non-empty string into Fields.
func (m *mapper) set(name, v string) {
	if v == "" {
		return
	}
	if m.e.Fields == nil {
		m.e.Fields = make(map[string]any, 32)
	}
	m.e.Fields[name] = m.box.str(v)
}

func (m *mapper) user() *event.User {
	if m.e.User == nil {
		m.e.User = &m.allParts().user
	}
	return m.e.User
}

func (m *mapper) source() *event.Endpoint {
	if m.e.Source == nil {
		m.e.Source = &m.allParts().source
	}
	return m.e.Source
}

// relatedUser appends a name to related.user unless it is there already.
func (m *mapper) relatedUser(name string) {
	if m.e.Related == nil {
		m.e.Related = &m.allParts().related
	}
	if m.e.Related.User == nil && m.parts != nil && m.e.Related == &m.parts.related {
		m.e.Related.User = m.parts.relatedUser[:0]
	}
	if !slices.Contains(m.e.Related.User, name) {
		m.e.Related.User = append(m.e.Related.User, name)
	}
}

// relatedIP appends an address to related.ip unless it is there already.
func (m *mapper) relatedIP(ip string) {
	if m.e.Related == nil {
		m.e.Related = &m.allParts().related
	}
	if m.e.Related.IP == nil && m.parts != nil && m.e.Related == &m.parts.related {
		m.e.Related.IP = m.parts.relatedIP[:0]
	}
	if !slices.Contains(m.e.Related.IP, ip) {
		m.e.Related.IP = append(m.e.Related.IP, ip)
	}
}

// cleanIP returns an address as source.ip holds it: an IPv4 address mapped
// into IPv6 ("::ffff:192.0.2.1", as Kerberos events write it) in its IPv4
// form, as Winlogbeat's pipeline does, and without an IPv6 zone
// ("%12"), which an ip field does not hold. ok is false for anything that is not
// an address, which Elasticsearch would refuse in an ip field.
func cleanIP(s string) (string, bool) {
	s = strings.ReplaceAll(s, "::ffff:", "")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", false
	}
	return a.WithZone("").String(), true
}

// decodeInt reads an integer as Java's Long.decode does: decimal, or hex
// after "0x" or "#".
func decodeInt(s string) (int64, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	base := 10
	switch {
	case strings.HasPrefix(s, "0x"), strings.HasPrefix(s, "0X"):
		s, base = s[2:], 16
	case strings.HasPrefix(s, "#"):
		s, base = s[1:], 16
	}
	n, err := strconv.ParseInt(s, base, 64)
	if err != nil {
		return 0, fmt.Errorf("not an integer: %q", s)
	}
	if neg {
		n = -n
	}
	return n, nil
}

func (m *mapper) process() *event.Process {
	if m.e.Process == nil {
		m.e.Process = &m.allParts().process
	}
	return m.e.Process
}
