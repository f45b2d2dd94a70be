package winevent

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

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
	if rec.TimeCreated.IsZero() {
		return errorf("record has no TimeCreated")
	}
	data := eventData(rec.EventData)
	m := mapper{rec: &rec, e: e, data: data}
	m.common()
	if isSecurity(&rec) {
		m.security()
	}
	if data != nil {
		clear(data)
		dataMaps.Put(data)
	}
	return nil
}

// dataMaps recycles the maps of eventData: every event needs one only
// while it is mapped, and making it anew was a tenth of the mapping's cost.
var dataMaps = sync.Pool{New: func() any { return make(map[string]string, 32) }}

// mapper holds one mapping in progress.
type mapper struct {
	rec  *Record
	e    *event.Event
	data map[string]string // EventData as Winlogbeat keys it
}

// eventData keys EventData as Winlogbeat does: empty values are dropped, an
// unnamed <Data> is "param<N>" by its position, the first of two equal names
// wins, and Windows line ends become line feeds.
func eventData(pairs []Pair) map[string]string {
	if len(pairs) == 0 {
		return nil
	}
	m := dataMaps.Get().(map[string]string)
	for i, p := range pairs {
		if p.Value == "" {
			continue
		}
		k := p.Name
		if k == "" || k == "Data" {
			k = "param" + strconv.Itoa(i+1)
		}
		if _, dup := m[k]; !dup {
			m[k] = cleanText(p.Value)
		}
	}
	return m
}

// eventDataFields holds "winlog.event_data.<name>" for the EventData names
// of the events this package maps, so that naming their fields allocates
// nothing; other names are joined on the fly.
var eventDataFields = func() map[string]string {
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
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = "winlog.event_data." + n
	}
	return m
}()

// eventDataField returns the field name of an EventData name.
func eventDataField(name string) string {
	if f, ok := eventDataFields[name]; ok {
		return f
	}
	return "winlog.event_data." + name
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
		// About 24 fields besides the event data: a map sized to hold
		// them without growing, and no larger, is cheaper to make.
		e.Fields = make(map[string]any, 24+len(m.data))
	}
	e.Timestamp = r.TimeCreated.UTC()
	e.Event.Kind = "event"
	e.Event.Code = strconv.FormatUint(uint64(r.EventID), 10)
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
		e.Log = &event.Log{Level: level}
	}
	e.Message = cleanText(r.Message)
	e.Event.Action = r.TaskText
	if r.Computer != "" {
		e.Host = &event.Host{Name: r.Computer}
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
	if kw := m.keywords(); len(kw) > 0 {
		m.e.Fields["winlog.keywords"] = kw
	}
	if r.Version != 0 {
		m.e.Fields["winlog.version"] = int64(r.Version)
	}
	m.set("winlog.user.identifier", r.UserID)
	m.set("winlog.activity_id", r.ActivityID)
	m.set("winlog.related_activity_id", r.RelatedActivityID)
	if r.ProcessID != 0 {
		m.e.Fields["winlog.process.pid"] = int64(r.ProcessID)
	}
	if r.ThreadID != 0 {
		m.e.Fields["winlog.process.thread.id"] = int64(r.ThreadID)
	}
	for k, v := range m.data {
		m.e.Fields[eventDataField(k)] = v
	}
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

// keywords returns the rendered keyword names, or the names of the audit
// keyword bits when the event was not rendered.
func (m *mapper) keywords() []string {
	if len(m.rec.KeywordsText) > 0 {
		out := make([]string, 0, len(m.rec.KeywordsText))
		for _, k := range m.rec.KeywordsText {
			if k = strings.TrimSpace(k); k != "" {
				out = append(out, k)
			}
		}
		return out
	}
	switch {
	case m.rec.Keywords&keywordAuditFailure != 0:
		return []string{"Audit Failure"}
	case m.rec.Keywords&keywordAuditSuccess != 0:
		return []string{"Audit Success"}
	}
	return nil
}

// set puts a non-empty string into Fields.
func (m *mapper) set(name, v string) {
	if v == "" {
		return
	}
	if m.e.Fields == nil {
		m.e.Fields = make(map[string]any, 32)
	}
	m.e.Fields[name] = v
}

func (m *mapper) user() *event.User {
	if m.e.User == nil {
		m.e.User = &event.User{}
	}
	return m.e.User
}

func (m *mapper) source() *event.Endpoint {
	if m.e.Source == nil {
		m.e.Source = &event.Endpoint{}
	}
	return m.e.Source
}

// relatedUser appends a name to related.user unless it is there already.
func (m *mapper) relatedUser(name string) {
	if m.e.Related == nil {
		m.e.Related = &event.Related{}
	}
	if !slices.Contains(m.e.Related.User, name) {
		m.e.Related.User = append(m.e.Related.User, name)
	}
}

// relatedIP appends an address to related.ip unless it is there already.
func (m *mapper) relatedIP(ip string) {
	if m.e.Related == nil {
		m.e.Related = &event.Related{}
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
		m.e.Process = &event.Process{}
	}
	return m.e.Process
}
