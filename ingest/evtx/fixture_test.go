package evtx

import (
	"time"

	"github.com/mamori-soc/mamori/parsers/winevent"
)

// The fixture: Security events of one logon session of 田中 on a
// Japanese municipal PC, a failed logon, and one classic (non-manifest)
// event with positional data. wantRecords is what each must read back as.

var systemTemplate = &template{
	guid: [16]byte{0x6d, 0x61, 0x6d, 0x6f, 0x72, 0x69, 0x2d, 0x73, 0x79, 0x73, 0x74, 0x65, 0x6d, 0x00, 0x00, 0x01},
	root: node{name: "Event", sub: 18, attrs: []attr{textAttr("xmlns", winevent.EventNamespace)}, kids: []node{{
		name: "System", sub: -1, kids: []node{
			el("Provider", -1, subAttr("Name", 0), subAttr("Guid", 1)),
			el("EventID", 3, subAttr("Qualifiers", 2)),
			el("Version", 4), el("Level", 5), el("Task", 6), el("Opcode", 7), el("Keywords", 8),
			el("TimeCreated", -1, subAttr("SystemTime", 9)),
			el("EventRecordID", 10),
			el("Correlation", -1, subAttr("ActivityID", 11), subAttr("RelatedActivityID", 12)),
			el("Execution", -1, subAttr("ProcessID", 13), subAttr("ThreadID", 14)),
			el("Channel", 15), el("Computer", 16),
			el("Security", -1, subAttr("UserID", 17)),
		},
	}}},
	types: map[int]byte{0: tString, 1: tGUID, 2: tUInt16, 3: tUInt16, 4: tUInt8, 5: tUInt8, 6: tUInt16, 7: tUInt8,
		8: tHex64, 9: tFileTime, 10: tUInt64, 11: tGUID, 12: tGUID, 13: tUInt32, 14: tUInt32, 15: tString, 16: tString,
		17: tSID, 18: tBinXML},
}

// eventData returns an EventData template of named <Data> elements.
func eventData(id byte, names []string, types []byte) *template {
	t := &template{guid: [16]byte{0x6d, 0x61, 0x6d, 0x6f, 0x72, 0x69, 0x2d, 0x64, 0x61, 0x74, 0x61, 0, 0, 0, 0, id}, types: map[int]byte{}}
	t.root = node{name: "EventData", sub: -1}
	for i, n := range names {
		if n == "" {
			t.root.kids = append(t.root.kids, el("Data", i))
		} else {
			t.root.kids = append(t.root.kids, el("Data", i, textAttr("Name", n)))
		}
		t.types[i] = types[i]
	}
	return t
}

var (
	tmpl4624 = eventData(1,
		[]string{"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "TargetUserSid", "TargetUserName",
			"TargetDomainName", "TargetLogonId", "LogonType", "LogonProcessName", "AuthenticationPackageName", "WorkstationName",
			"LogonGuid", "TransmittedServices", "LmPackageName", "KeyLength", "ProcessId", "ProcessName", "IpAddress", "IpPort",
			"ImpersonationLevel", "RestrictedAdminMode", "TargetOutboundUserName", "TargetOutboundDomainName", "VirtualAccount",
			"TargetLinkedLogonId", "ElevatedToken"},
		[]byte{tSID, tString, tString, tHex64, tSID, tString, tString, tHex64, tUInt32, tString, tString, tString,
			tGUID, tString, tString, tUInt32, tHex64, tString, tString, tString, tString, tString, tString, tString, tString,
			tHex64, tString})
	tmpl4625 = eventData(2,
		[]string{"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "TargetUserSid", "TargetUserName",
			"TargetDomainName", "Status", "FailureReason", "SubStatus", "LogonType", "LogonProcessName", "AuthenticationPackageName",
			"WorkstationName", "TransmittedServices", "LmPackageName", "KeyLength", "ProcessId", "ProcessName", "IpAddress", "IpPort"},
		[]byte{tSID, tString, tString, tHex64, tSID, tString, tString, tHex32, tString, tHex32, tUInt32, tString, tString,
			tString, tString, tString, tUInt32, tHex64, tString, tString, tString})
	tmpl4634 = eventData(3,
		[]string{"TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId", "LogonType"},
		[]byte{tSID, tString, tString, tHex64, tUInt32})
	tmpl4647 = eventData(4,
		[]string{"TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId"},
		[]byte{tSID, tString, tString, tHex64})
	tmpl4672 = eventData(5,
		[]string{"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "PrivilegeList"},
		[]byte{tSID, tString, tString, tHex64, tString})
	tmplClassic = eventData(6, []string{"", "Bytes"}, []byte{tStrArray, tSizeT})
)

const (
	fixtureComputer = "PC-SOUMU-001.city.example.lg.jp"
	securityGUID    = "54849625-5478-4994-A5BA-3E3B0328C30D"
	tanakaSID       = "S-1-5-21-3623811015-3361044348-30300820-1013"
	suzukiSID       = "S-1-0-0"
)

var fixtureBase = time.Date(2025, 1, 15, 14, 5, 6, 123456700, time.UTC) // 23:05 JST

// security builds the System values of a Security-log event.
func security(eventID uint16, version uint8, task uint16, keywords uint64, rec uint64, at time.Time, activity string) []wval {
	act := vNull()
	if activity != "" {
		act = vGUID(activity)
	}
	return []wval{vString("Microsoft-Windows-Security-Auditing"), vGUID(securityGUID), vNull(), vU16(eventID), vU8(version),
		vU8(0), vU16(task), vU8(0), vHex64(keywords), vTime(at), vU64(rec), act, vNull(), vU32(684), vU32(2212),
		vString("Security"), vString(fixtureComputer), vNull()}
}

const (
	kwSuccess = 0x8020000000000000
	kwFailure = 0x8010000000000000
	activity  = "7A1C2B90-66E1-0001-C42C-1C7AE166DB01"
)

func fixtureRecords() []fixtureRecord {
	t := fixtureBase
	return []fixtureRecord{
		{id: 20311, written: t.Add(time.Millisecond), system: security(4624, 2, 12544, kwSuccess, 20311, t, activity), data: tmpl4624, values: []wval{
			vSID("S-1-5-18"), vString("PC-SOUMU-001$"), vString("CITY"), vHex64(0x3e7), vSID(tanakaSID), vString("田中"),
			vString("CITY"), vHex64(0x4c02d1), vU32(10), vString("User32 "), vString("Negotiate"), vString("PC-SOUMU-001"),
			vGUID("00000000-0000-0000-0000-000000000000"), vString("-"), vString("-"), vU32(0), vHex64(0x2e8),
			vString(`C:\Windows\System32\svchost.exe`), vString("192.0.2.10"), vString("0"), vString("%%1833"), vString("%%1843"),
			vString("-"), vString("-"), vString("%%1843"), vHex64(0), vString("%%1842")}},
		{id: 20312, written: t.Add(time.Millisecond), system: security(4672, 0, 12548, kwSuccess, 20312, t, activity), data: tmpl4672, values: []wval{
			vSID(tanakaSID), vString("田中"), vString("CITY"), vHex64(0x4c02d1),
			vString("SeSecurityPrivilege\r\n\t\t\tSeBackupPrivilege\r\n\t\t\tSeDebugPrivilege")}},
		{id: 20313, written: t.Add(3 * time.Second), system: security(4625, 0, 12544, kwFailure, 20313, t.Add(3*time.Second), ""), data: tmpl4625, values: []wval{
			vSID("S-1-5-18"), vString("PC-SOUMU-001$"), vString("CITY"), vHex64(0x3e7), vSID(suzukiSID), vString("suzuki"),
			vString("CITY"), vHex32(0xc000006d), vString("%%2313"), vHex32(0xc000006a), vU32(3), vString("NtLmSsp "), vString("NTLM"),
			vString("WS-KIKAKU-07"), vString("-"), vString("-"), vU32(0), vHex64(0), vString("-"), vString("203.0.113.5"), vString("51234")}},
		{id: 20314, written: t.Add(time.Hour), system: security(4647, 0, 12545, kwSuccess, 20314, t.Add(time.Hour), ""), data: tmpl4647, values: []wval{
			vSID(tanakaSID), vString("田中"), vString("CITY"), vHex64(0x4c02d1)}},
		{id: 20315, written: t.Add(time.Hour + time.Second), system: security(4634, 0, 12545, kwSuccess, 20315, t.Add(time.Hour+time.Second), ""), data: tmpl4634, values: []wval{
			vSID(tanakaSID), vString("田中"), vString("CITY"), vHex64(0x4c02d1), vU32(10)}},
		{id: 20316, written: t.Add(2 * time.Hour), system: []wval{vString("MamoriFixture"), vNull(), vU16(0), vU16(1000), vU8(0), vU8(4),
			vU16(0), vU8(0), vHex64(0x80000000000000), vTime(t.Add(2 * time.Hour)), vU64(20316), vNull(), vNull(), vU32(0), vU32(0),
			vString("Application"), vString(fixtureComputer), vSID("S-1-5-18")}, data: tmplClassic, values: []wval{
			vStrings("", "バックアップ完了", "tail"), vSizeT(0x10000)}},
	}
}

// sec builds the expected Record of a Security event.
func sec(id uint32, version uint8, task uint16, kw uint64, rec uint64, at time.Time, act string, data ...string) winevent.Record {
	r := winevent.Record{ProviderName: "Microsoft-Windows-Security-Auditing", ProviderGUID: "{" + securityGUID + "}",
		EventID: id, Version: version, Task: task, Keywords: kw, TimeCreated: at, RecordID: rec, ProcessID: 684, ThreadID: 2212,
		Channel: "Security", Computer: fixtureComputer}
	if act != "" {
		r.ActivityID = "{" + act + "}"
	}
	for i := 0; i < len(data); i += 2 {
		r.EventData = append(r.EventData, winevent.Pair{Name: data[i], Value: data[i+1]})
	}
	return r
}

// wantRecords is what the fixture's events must read back as. The values
// are written out as Windows renders them, independently of the writer.
func wantRecords() []winevent.Record {
	t := fixtureBase
	classic := winevent.Record{ProviderName: "MamoriFixture", EventID: 1000, Level: 4, Keywords: 0x80000000000000,
		TimeCreated: t.Add(2 * time.Hour), RecordID: 20316, Channel: "Application", Computer: fixtureComputer, UserID: "S-1-5-18",
		EventData: []winevent.Pair{{Name: "", Value: ""}, {Name: "", Value: "バックアップ完了"}, {Name: "", Value: "tail"}, {Name: "Bytes", Value: "0x10000"}}}
	return []winevent.Record{
		sec(4624, 2, 12544, kwSuccess, 20311, t, activity,
			"SubjectUserSid", "S-1-5-18", "SubjectUserName", "PC-SOUMU-001$", "SubjectDomainName", "CITY", "SubjectLogonId", "0x3e7",
			"TargetUserSid", tanakaSID, "TargetUserName", "田中", "TargetDomainName", "CITY", "TargetLogonId", "0x4c02d1",
			"LogonType", "10", "LogonProcessName", "User32 ", "AuthenticationPackageName", "Negotiate", "WorkstationName", "PC-SOUMU-001",
			"LogonGuid", "{00000000-0000-0000-0000-000000000000}", "TransmittedServices", "-", "LmPackageName", "-", "KeyLength", "0",
			"ProcessId", "0x2e8", "ProcessName", `C:\Windows\System32\svchost.exe`, "IpAddress", "192.0.2.10", "IpPort", "0",
			"ImpersonationLevel", "%%1833", "RestrictedAdminMode", "%%1843", "TargetOutboundUserName", "-", "TargetOutboundDomainName", "-",
			"VirtualAccount", "%%1843", "TargetLinkedLogonId", "0x0", "ElevatedToken", "%%1842"),
		sec(4672, 0, 12548, kwSuccess, 20312, t, activity,
			"SubjectUserSid", tanakaSID, "SubjectUserName", "田中", "SubjectDomainName", "CITY", "SubjectLogonId", "0x4c02d1",
			// An XML parser reads the CR LF that wevtutil writes as LF.
			"PrivilegeList", "SeSecurityPrivilege\n\t\t\tSeBackupPrivilege\n\t\t\tSeDebugPrivilege"),
		sec(4625, 0, 12544, kwFailure, 20313, t.Add(3*time.Second), "",
			"SubjectUserSid", "S-1-5-18", "SubjectUserName", "PC-SOUMU-001$", "SubjectDomainName", "CITY", "SubjectLogonId", "0x3e7",
			"TargetUserSid", "S-1-0-0", "TargetUserName", "suzuki", "TargetDomainName", "CITY", "Status", "0xc000006d",
			"FailureReason", "%%2313", "SubStatus", "0xc000006a", "LogonType", "3", "LogonProcessName", "NtLmSsp ",
			"AuthenticationPackageName", "NTLM", "WorkstationName", "WS-KIKAKU-07", "TransmittedServices", "-", "LmPackageName", "-",
			"KeyLength", "0", "ProcessId", "0x0", "ProcessName", "-", "IpAddress", "203.0.113.5", "IpPort", "51234"),
		sec(4647, 0, 12545, kwSuccess, 20314, t.Add(time.Hour), "",
			"TargetUserSid", tanakaSID, "TargetUserName", "田中", "TargetDomainName", "CITY", "TargetLogonId", "0x4c02d1"),
		sec(4634, 0, 12545, kwSuccess, 20315, t.Add(time.Hour+time.Second), "",
			"TargetUserSid", tanakaSID, "TargetUserName", "田中", "TargetDomainName", "CITY", "TargetLogonId", "0x4c02d1", "LogonType", "10"),
		classic,
	}
}

// want4624XML is the first fixture event exactly as it must be rendered.
const want4624XML = `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>` +
	`<Provider Name='Microsoft-Windows-Security-Auditing' Guid='{54849625-5478-4994-A5BA-3E3B0328C30D}'/>` +
	`<EventID>4624</EventID><Version>2</Version><Level>0</Level><Task>12544</Task><Opcode>0</Opcode>` +
	`<Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime='2025-01-15T14:05:06.1234567Z'/>` +
	`<EventRecordID>20311</EventRecordID><Correlation ActivityID='{7A1C2B90-66E1-0001-C42C-1C7AE166DB01}'/>` +
	`<Execution ProcessID='684' ThreadID='2212'/><Channel>Security</Channel><Computer>PC-SOUMU-001.city.example.lg.jp</Computer>` +
	`<Security/></System><EventData><Data Name='SubjectUserSid'>S-1-5-18</Data><Data Name='SubjectUserName'>PC-SOUMU-001$</Data>` +
	`<Data Name='SubjectDomainName'>CITY</Data><Data Name='SubjectLogonId'>0x3e7</Data>` +
	`<Data Name='TargetUserSid'>S-1-5-21-3623811015-3361044348-30300820-1013</Data><Data Name='TargetUserName'>田中</Data>` +
	`<Data Name='TargetDomainName'>CITY</Data><Data Name='TargetLogonId'>0x4c02d1</Data><Data Name='LogonType'>10</Data>` +
	`<Data Name='LogonProcessName'>User32 </Data><Data Name='AuthenticationPackageName'>Negotiate</Data>` +
	`<Data Name='WorkstationName'>PC-SOUMU-001</Data><Data Name='LogonGuid'>{00000000-0000-0000-0000-000000000000}</Data>` +
	`<Data Name='TransmittedServices'>-</Data><Data Name='LmPackageName'>-</Data><Data Name='KeyLength'>0</Data>` +
	`<Data Name='ProcessId'>0x2e8</Data><Data Name='ProcessName'>C:\Windows\System32\svchost.exe</Data>` +
	`<Data Name='IpAddress'>192.0.2.10</Data><Data Name='IpPort'>0</Data><Data Name='ImpersonationLevel'>%%1833</Data>` +
	`<Data Name='RestrictedAdminMode'>%%1843</Data><Data Name='TargetOutboundUserName'>-</Data>` +
	`<Data Name='TargetOutboundDomainName'>-</Data><Data Name='VirtualAccount'>%%1843</Data>` +
	`<Data Name='TargetLinkedLogonId'>0x0</Data><Data Name='ElevatedToken'>%%1842</Data></EventData></Event>`
