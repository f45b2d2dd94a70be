package winevent

import "strings"

// Snare carries the message Windows rendered, not the EventData. For the
// Security events below, snareEventData reads the EventData values back from
// the rendered "Label: value" lines, so that ToECS maps a Snare record as it
// maps the same event in XML. The tables list, event by event and section
// by section, the labels of the message templates of
// Microsoft-Windows-Security-Auditing in English (en-US) and Japanese
// (ja-JP), and the EventData name each label renders.
//
// A label is matched at the start of a line of the description; a section
// header (such as "Subject:") makes the labels of its section current. A
// value is read only when it renders the EventData value unchanged: values
// Windows renders from a message table ("%%1833" as "Impersonation" or
// 「偽装」, "%%1843" as "No", "%%1793" as "<value not set>") are left out,
// except the 4625 failure reason in English, whose text maps back to its
// code. Security IDs are kept only as SIDs ("S-1-5-18"), not as the account
// names a renderer may resolve them to, and hex numbers are written in lower
// case as EventData holds them ("0x3E7" becomes "0x3e7").

// valueKind says how a rendered value becomes an EventData value.
type valueKind uint8

const (
	plain  valueKind = iota // as rendered
	sid                     // a SID ("S-1-..."), else absent
	hex                     // "0x..." in lower case
	reason                  // a 4625 failure reason text, back to "%%2313"
	list                    // one item a line (privileges), joined as EventData holds them
)

// field is one "Label: value" line: its label in every language read, with
// the colon, and the EventData name of its value.
type field struct {
	labels []string
	name   string
	kind   valueKind
}

// section is a header line and the fields under it. The fields of the
// section without headers (the top level) match anywhere in the message.
type section struct {
	headers []string
	fields  []field
}

func f(name string, kind valueKind, labels ...string) field {
	return field{labels: labels, name: name, kind: kind}
}

// Section headers.
var (
	hSubject         = []string{"Subject:", "サブジェクト:"}
	hNewLogon        = []string{"New Logon:", "新しいログオン:"}
	hLogonInfo       = []string{"Logon Information:", "ログオン情報:"}
	hProcess         = []string{"Process Information:", "プロセス情報:"}
	hNetwork         = []string{"Network Information:", "ネットワーク情報:"}
	hAuthDetail      = []string{"Detailed Authentication Information:", "詳細な認証情報:"}
	hFailedAccount   = []string{"Account For Which Logon Failed:", "ログオンに失敗したアカウント:"}
	hFailure         = []string{"Failure Information:", "失敗情報:"}
	hCredentials     = []string{"Account Whose Credentials Were Used:", "資格情報が使用されたアカウント:"}
	hTargetServer    = []string{"Target Server:", "ターゲット サーバー:"}
	hNewAccount      = []string{"New Account:", "新しいアカウント:"}
	hTargetAccount   = []string{"Target Account:", "ターゲット アカウント:"}
	hAttributes      = []string{"Attributes:", "属性:"}
	hChangedAttrs    = []string{"Changed Attributes:", "変更された属性:"}
	hLockedOut       = []string{"Account That Was Locked Out:", "ロックアウトされたアカウント:"}
	hAdditional      = []string{"Additional Information:", "追加情報:"}
	hAccountInfo     = []string{"Account Information:", "アカウント情報:"}
	hServiceInfo     = []string{"Service Information:", "サービス情報:"}
	hSession         = []string{"Session:", "セッション:"}
	hCertificateInfo = []string{"Certificate Information:", "証明書情報:"}
)

// Field labels shared by several events.
var (
	lSecurityID    = []string{"Security ID:", "セキュリティ ID:"}
	lAccountName   = []string{"Account Name:", "アカウント名:"}
	lAccountDomain = []string{"Account Domain:", "アカウント ドメイン:"}
	lLogonID       = []string{"Logon ID:", "ログオン ID:"}
	lLogonGUID     = []string{"Logon GUID:", "ログオン GUID:"}
	// Windows 10 and later render "ログオン タイプ:", Windows Server 2008
	// to 2012 R2 "ログオンの種類:".
	lLogonType      = []string{"Logon Type:", "ログオン タイプ:", "ログオンの種類:"}
	lProcessID      = []string{"Process ID:", "プロセス ID:"}
	lProcessName    = []string{"Process Name:", "プロセス名:"}
	lWorkstation    = []string{"Workstation Name:", "ワークステーション名:"}
	lClientAddress  = []string{"Client Address:", "クライアント アドレス:"}
	lClientPort     = []string{"Client Port:", "クライアント ポート:"}
	lServiceName    = []string{"Service Name:", "サービス名:"}
	lServiceID      = []string{"Service ID:", "サービス ID:"}
	lTicketOptions  = []string{"Ticket Options:", "チケット オプション:"}
	lTicketEncType  = []string{"Ticket Encryption Type:", "チケットの暗号化の種類:"}
	lPreAuthType    = []string{"Pre-Authentication Type:", "事前認証の種類:"}
	lFailureCode    = []string{"Failure Code:", "エラー コード:"}
	lTransited      = []string{"Transited Services:", "移行されたサービス:"}
	lPrivileges     = []string{"Privileges:", "特権:"}
	lSAMAccountName = []string{"SAM Account Name:", "SAM アカウント名:"}
	lDisplayName    = []string{"Display Name:", "表示名:"}
	lUPN            = []string{"User Principal Name:", "ユーザー プリンシパル名:"}
	lOldUAC         = []string{"Old UAC Value:", "旧 UAC 値:"}
	lNewUAC         = []string{"New UAC Value:", "新しい UAC 値:"}
)

// account is the four lines of an account block, mapped to the EventData
// names of the event (empty names are not read).
func account(sidName, userName, domainName, logonIDName string) []field {
	var out []field
	if sidName != "" {
		out = append(out, f(sidName, sid, lSecurityID...))
	}
	if userName != "" {
		out = append(out, f(userName, plain, lAccountName...))
	}
	if domainName != "" {
		out = append(out, f(domainName, plain, lAccountDomain...))
	}
	if logonIDName != "" {
		out = append(out, f(logonIDName, hex, lLogonID...))
	}
	return out
}

var (
	subjectAccount = account("SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId")
	// The subject of 4634, 4647, 4800 and 4801 is the account logging off
	// or locking, which EventData names as the target.
	subjectAsTarget = account("TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId")
	targetAccount   = account("TargetSid", "TargetUserName", "TargetDomainName", "")

	privilegesSection = section{hAdditional, []field{f("PrivilegeList", list, lPrivileges...)}}

	// The account attributes of 4720 and 4738 that render their value
	// unchanged (others render "<value not set>" from a message table).
	attributeFields = []field{
		f("SamAccountName", plain, lSAMAccountName...),
		f("DisplayName", plain, lDisplayName...),
		f("UserPrincipalName", plain, lUPN...),
		f("OldUacValue", hex, lOldUAC...),
		f("NewUacValue", hex, lNewUAC...),
	}

	logonNetwork = section{hNetwork, []field{
		f("WorkstationName", plain, lWorkstation...),
		f("IpAddress", plain, "Source Network Address:", "ソース ネットワーク アドレス:"),
		f("IpPort", plain, "Source Port:", "ソース ポート:"),
	}}
	logonAuthDetail = section{hAuthDetail, []field{
		f("LogonProcessName", plain, "Logon Process:", "ログオン プロセス:"),
		f("AuthenticationPackageName", plain, "Authentication Package:", "認証パッケージ:"),
		f("TransmittedServices", plain, lTransited...),
		f("LmPackageName", plain, "Package Name (NTLM only):", "パッケージ名 (NTLM のみ):"),
		f("KeyLength", plain, "Key Length:", "キーの長さ:"),
	}}
	kerberosNetwork = section{hNetwork, []field{
		f("IpAddress", plain, lClientAddress...),
		f("IpPort", plain, lClientPort...),
	}}
)

// snareLayouts is the description layout of each event id read.
var snareLayouts = map[uint32][]section{
	// An account was successfully logged on.
	4624: {
		{nil, []field{f("LogonType", plain, lLogonType...)}}, // top level up to Windows 2012 R2, under Logon Information since
		{hSubject, subjectAccount},
		{hLogonInfo, []field{f("RestrictedAdminMode", plain, "Restricted Admin Mode:", "制限付き管理モード:")}},
		{hNewLogon, append(account("TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId"),
			f("TargetLinkedLogonId", hex, "Linked Logon ID:", "リンクされたログオン ID:"),
			f("TargetOutboundUserName", plain, "Network Account Name:", "ネットワーク アカウント名:"),
			f("TargetOutboundDomainName", plain, "Network Account Domain:", "ネットワーク アカウント ドメイン:"),
			f("LogonGuid", plain, lLogonGUID...),
		)},
		{hProcess, []field{f("ProcessId", hex, lProcessID...), f("ProcessName", plain, lProcessName...)}},
		logonNetwork,
		logonAuthDetail,
	},
	// An account failed to log on.
	4625: {
		{nil, []field{f("LogonType", plain, lLogonType...)}},
		{hSubject, subjectAccount},
		{hFailedAccount, account("TargetUserSid", "TargetUserName", "TargetDomainName", "")},
		{hFailure, []field{
			f("FailureReason", reason, "Failure Reason:", "失敗の原因:"),
			f("Status", hex, "Status:", "状態:"),
			f("SubStatus", hex, "Sub Status:", "サブステータス:", "サブ状態:"),
		}},
		{hProcess, []field{
			f("ProcessId", hex, "Caller Process ID:", "呼び出し元プロセス ID:"),
			f("ProcessName", plain, "Caller Process Name:", "呼び出し元プロセス名:"),
		}},
		logonNetwork,
		logonAuthDetail,
	},
	// An account was logged off.
	4634: {
		{nil, []field{f("LogonType", plain, lLogonType...)}},
		{hSubject, subjectAsTarget},
	},
	// User initiated logoff.
	4647: {{hSubject, subjectAsTarget}},
	// A logon was attempted using explicit credentials.
	4648: {
		{hSubject, append(subjectAccount[:4:4], f("LogonGuid", plain, lLogonGUID...))},
		{hCredentials, []field{
			f("TargetUserName", plain, lAccountName...),
			f("TargetDomainName", plain, lAccountDomain...),
			f("TargetLogonGuid", plain, lLogonGUID...),
		}},
		{hTargetServer, []field{
			f("TargetServerName", plain, "Target Server Name:", "ターゲット サーバー名:"),
			f("TargetInfo", plain, "Additional Information:", "追加情報:"),
		}},
		{hProcess, []field{f("ProcessId", hex, lProcessID...), f("ProcessName", plain, lProcessName...)}},
		{hNetwork, []field{
			f("IpAddress", plain, "Network Address:", "ネットワーク アドレス:"),
			f("IpPort", plain, "Port:", "ポート:"),
		}},
	},
	// Special privileges assigned to new logon.
	4672: {
		{nil, []field{f("PrivilegeList", list, lPrivileges...)}},
		{hSubject, subjectAccount},
	},
	// A user account was created.
	4720: {
		{hSubject, subjectAccount},
		{hNewAccount, targetAccount},
		{hAttributes, attributeFields},
		privilegesSection,
	},
	// A user account was enabled.
	4722: {{hSubject, subjectAccount}, {hTargetAccount, targetAccount}},
	// An attempt was made to change an account's password.
	4723: {{hSubject, subjectAccount}, {hTargetAccount, targetAccount}, privilegesSection},
	// An attempt was made to reset an account's password.
	4724: {{hSubject, subjectAccount}, {hTargetAccount, targetAccount}},
	// A user account was disabled.
	4725: {{hSubject, subjectAccount}, {hTargetAccount, targetAccount}},
	// A user account was deleted.
	4726: {{hSubject, subjectAccount}, {hTargetAccount, targetAccount}, privilegesSection},
	// A user account was changed.
	4738: {
		{hSubject, subjectAccount},
		{hTargetAccount, targetAccount},
		{hChangedAttrs, attributeFields},
		privilegesSection,
	},
	// A user account was locked out. EventData keeps the caller computer
	// in TargetDomainName.
	4740: {
		{hSubject, subjectAccount},
		{hLockedOut, account("TargetSid", "TargetUserName", "", "")},
		{hAdditional, []field{f("TargetDomainName", plain, "Caller Computer Name:", "呼び出し元コンピューター名:")}},
	},
	// A user account was unlocked.
	4767: {{hSubject, subjectAccount}, {hTargetAccount, targetAccount}},
	// A Kerberos authentication ticket (TGT) was requested.
	4768: {
		{hAccountInfo, []field{
			f("TargetUserName", plain, lAccountName...),
			f("TargetDomainName", plain, "Supplied Realm Name:", "指定された領域名:"),
			f("TargetSid", sid, "User ID:", "ユーザー ID:"),
		}},
		{hServiceInfo, []field{f("ServiceName", plain, lServiceName...), f("ServiceSid", sid, lServiceID...)}},
		kerberosNetwork,
		{hAdditional, []field{
			f("TicketOptions", hex, lTicketOptions...),
			f("Status", hex, "Result Code:", "結果コード:"),
			f("TicketEncryptionType", hex, lTicketEncType...),
			f("PreAuthType", plain, lPreAuthType...),
		}},
		{hCertificateInfo, nil}, // ends Additional Information; certificate fields are not read
	},
	// A Kerberos service ticket was requested.
	4769: {
		{hAccountInfo, []field{
			f("TargetUserName", plain, lAccountName...),
			f("TargetDomainName", plain, lAccountDomain...),
			f("LogonGuid", plain, lLogonGUID...),
		}},
		{hServiceInfo, []field{f("ServiceName", plain, lServiceName...), f("ServiceSid", sid, lServiceID...)}},
		kerberosNetwork,
		{hAdditional, []field{
			f("TicketOptions", hex, lTicketOptions...),
			f("TicketEncryptionType", hex, lTicketEncType...),
			f("Status", hex, lFailureCode...),
			f("TransmittedServices", plain, lTransited...),
		}},
	},
	// Kerberos pre-authentication failed.
	4771: {
		{hAccountInfo, []field{f("TargetSid", sid, lSecurityID...), f("TargetUserName", plain, lAccountName...)}},
		{hServiceInfo, []field{f("ServiceName", plain, lServiceName...)}},
		kerberosNetwork,
		{hAdditional, []field{
			f("TicketOptions", hex, lTicketOptions...),
			f("Status", hex, lFailureCode...),
			f("PreAuthType", plain, lPreAuthType...),
		}},
		{hCertificateInfo, nil},
	},
	// The computer attempted to validate the credentials for an account.
	4776: {{nil, []field{
		f("PackageName", plain, "Authentication Package:", "認証パッケージ:"),
		f("TargetUserName", plain, "Logon Account:", "ログオン アカウント:"),
		f("Workstation", plain, "Source Workstation:", "ソース ワークステーション:"),
		f("Status", hex, "Error Code:", "エラー コード:"),
	}}},
	// A session was reconnected to a Window Station.
	4778: sessionLayout,
	// A session was disconnected from a Window Station.
	4779: sessionLayout,
	// The workstation was locked.
	4800: workstationLayout,
	// The workstation was unlocked.
	4801: workstationLayout,
}

var sessionLayout = []section{
	{hSubject, account("", "AccountName", "AccountDomain", "LogonID")},
	{hSession, []field{f("SessionName", plain, "Session Name:", "セッション名:")}},
	{hAdditional, []field{
		f("ClientName", plain, "Client Name:", "クライアント名:"),
		f("ClientAddress", plain, lClientAddress...),
	}},
}

var workstationLayout = []section{
	{hSubject, append(subjectAsTarget[:4:4], f("SessionId", plain, "Session ID:", "セッション ID:"))},
}

// failureReasonCodes maps the English text of a 4625 failure reason back to
// the message reference EventData holds ("%%2313").
var failureReasonCodes = func() map[string]string {
	m := make(map[string]string, len(failureReasons))
	for code, text := range failureReasons {
		m[text] = "%%" + code
	}
	return m
}()

// snareEventData reads the EventData of a Security event from its rendered
// message, or returns nil for an event id without a layout.
func snareEventData(id uint32, msg string) []Pair {
	layout, ok := snareLayouts[id]
	if !ok {
		return nil
	}
	lines := splitRendered(msg)
	var (
		out     []Pair
		current *section
	)
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if s := sectionOf(layout, line); s != nil {
			current = s
			continue
		}
		fd, rest := fieldOf(layout, current, line)
		if fd == nil {
			continue
		}
		value := strings.TrimSpace(rest)
		if value == "" && i+1 < len(lines) && isValueLine(layout, lines[i+1]) {
			i++
			value = lines[i]
		}
		if fd.kind == list && value != "" {
			items := []string{value}
			for i+1 < len(lines) && isListItem(lines[i+1]) && isValueLine(layout, lines[i+1]) {
				i++
				items = append(items, lines[i])
			}
			value = strings.Join(items, "\n\t\t\t")
		}
		if v, ok := dataValue(fd.kind, value); ok && !hasPair(out, fd.name) {
			out = append(out, Pair{Name: fd.name, Value: v})
		}
	}
	return out
}

// splitRendered splits a rendered message into its lines. Snare replaces
// each tab, CR and LF of the message with a space, so a line end becomes a
// run of two or more spaces (CR LF, then the tab that indents the next
// line), while a label and its value are apart by one to three. A run of
// white space breaks a line when it is two characters or longer or holds a
// line end; a value then stands alone on the line after its label, which
// snareEventData takes into account.
func splitRendered(msg string) []string {
	var lines []string
	start, i := 0, 0
	for i < len(msg) {
		if !isSpace(msg[i]) {
			i++
			continue
		}
		j := i
		brk := false
		for j < len(msg) && isSpace(msg[j]) {
			if msg[j] == '\n' || msg[j] == '\r' {
				brk = true
			}
			j++
		}
		if brk || j-i >= 2 {
			if i > start {
				lines = append(lines, msg[start:i])
			}
			start = j
		}
		i = j
	}
	if start < len(msg) {
		lines = append(lines, msg[start:])
	}
	return lines
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// sectionOf returns the section whose header the line is.
func sectionOf(layout []section, line string) *section {
	for i := range layout {
		for _, h := range layout[i].headers {
			if line == h {
				return &layout[i]
			}
		}
	}
	return nil
}

// fieldOf returns the field whose label starts the line, from the current
// section or else the top level, and the text after the label. The longest
// label wins.
func fieldOf(layout []section, current *section, line string) (*field, string) {
	var best *field
	n := 0
	match := func(fs []field) {
		for i := range fs {
			for _, l := range fs[i].labels {
				if len(l) > n && strings.HasPrefix(line, l) {
					best, n = &fs[i], len(l)
				}
			}
		}
	}
	if current != nil {
		match(current.fields)
	}
	if best == nil {
		for i := range layout {
			if layout[i].headers == nil {
				match(layout[i].fields)
			}
		}
	}
	if best == nil {
		return nil, ""
	}
	return best, line[n:]
}

// isValueLine reports whether a line after an empty label is that label's
// value: not a header or label of the layout, nor a label of its own.
func isValueLine(layout []section, line string) bool {
	if strings.HasSuffix(line, ":") {
		return false
	}
	for i := range layout {
		for _, h := range layout[i].headers {
			if line == h {
				return false
			}
		}
		for _, fd := range layout[i].fields {
			for _, l := range fd.labels {
				if strings.HasPrefix(line, l) {
					return false
				}
			}
		}
	}
	return true
}

// isListItem reports a line that can be one more item of a list value
// (a privilege name such as "SeBackupPrivilege"): one word without a colon.
func isListItem(line string) bool {
	return !strings.ContainsAny(line, " :")
}

// dataValue turns a rendered value into the EventData value, or reports
// that it cannot be read faithfully.
func dataValue(kind valueKind, v string) (string, bool) {
	if v == "" || strings.HasPrefix(v, "<") && strings.HasSuffix(v, ">") {
		return "", false // empty, or a message-table placeholder such as "<value not set>"
	}
	switch kind {
	case sid:
		if !strings.HasPrefix(v, "S-1-") || strings.ContainsAny(v, " \\") {
			return "", false // "NULL SID" or a name the renderer resolved
		}
	case hex:
		if len(v) > 2 && (v[:2] == "0x" || v[:2] == "0X") {
			return strings.ToLower(v), true
		}
	case reason:
		code, ok := failureReasonCodes[v]
		return code, ok
	}
	return v, true
}

func hasPair(pairs []Pair, name string) bool {
	for _, p := range pairs {
		if p.Name == name {
			return true
		}
	}
	return false
}
