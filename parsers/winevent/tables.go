package winevent

// The lookup tables of Winlogbeat's Security module (the ingest pipeline
// x-pack/winlogbeat/module/security/ingest/security.yml of elastic/beats),
// for the events this package maps. Their values are Winlogbeat's, so that
// dashboards, rules and saved searches written for Winlogbeat data match.

// categorisation is event.category, event.type and event.action of one event id.
type categorisation struct {
	category []string
	typ      []string
	action   string
}

// securityActions holds the Security events Winlogbeat categorises among
// those this package maps. 4800 and 4801 (workstation locked and unlocked)
// are not in Winlogbeat's table: like Winlogbeat, they keep the rendered
// task name as event.action and get no category.
var securityActions = map[uint32]categorisation{
	4624: {[]string{"authentication"}, []string{"start"}, "logged-in"},
	4625: {[]string{"authentication"}, []string{"start"}, "logon-failed"},
	4634: {[]string{"authentication"}, []string{"end"}, "logged-out"},
	4647: {[]string{"authentication"}, []string{"end"}, "logged-out"},
	4648: {[]string{"authentication"}, []string{"start"}, "logged-in-explicit"},
	4672: {[]string{"iam"}, []string{"admin"}, "logged-in-special"},
	4720: {[]string{"iam"}, []string{"user", "creation"}, "added-user-account"},
	4722: {[]string{"iam"}, []string{"user", "change"}, "enabled-user-account"},
	4723: {[]string{"iam"}, []string{"user", "change"}, "changed-password"},
	4724: {[]string{"iam"}, []string{"user", "change"}, "reset-password"},
	4725: {[]string{"iam"}, []string{"user", "deletion"}, "disabled-user-account"},
	4726: {[]string{"iam"}, []string{"user", "deletion"}, "deleted-user-account"},
	4738: {[]string{"iam"}, []string{"user", "change"}, "modified-user-account"},
	4740: {[]string{"iam"}, []string{"user", "change"}, "locked-out-user-account"},
	4767: {[]string{"iam"}, []string{"user", "change"}, "unlocked-user-account"},
	4768: {[]string{"authentication"}, []string{"start"}, "kerberos-authentication-ticket-requested"},
	4769: {[]string{"authentication"}, []string{"start"}, "kerberos-service-ticket-requested"},
	4770: {[]string{"authentication"}, []string{"start"}, "kerberos-service-ticket-renewed"},
	4771: {[]string{"authentication"}, []string{"start"}, "kerberos-preauth-failed"},
	4776: {[]string{"authentication"}, []string{"start"}, "credential-validated"},
	4778: {[]string{"authentication", "session"}, []string{"start"}, "session-reconnected"},
	4779: {[]string{"authentication", "session"}, []string{"end"}, "session-disconnected"},
}

// logonTypes names the LogonType values (winlog.logon.type).
var logonTypes = map[string]string{
	"2":  "Interactive",
	"3":  "Network",
	"4":  "Batch",
	"5":  "Service",
	"7":  "Unlock",
	"8":  "NetworkCleartext",
	"9":  "NewCredentials",
	"10": "RemoteInteractive",
	"11": "CachedInteractive",
}

// ntStatus describes the Status and SubStatus codes of 4625 and 4776
// (winlog.logon.failure.status and sub_status), keyed in lower case.
var ntStatus = map[string]string{
	"0xc000005e": "There are currently no logon servers available to service the logon request.",
	"0xc0000064": "User logon with misspelled or bad user account",
	"0xc000006a": "User logon with misspelled or bad password",
	"0xc000006d": "This is either due to a bad username or authentication information",
	"0xc000006e": "Unknown user name or bad password.",
	"0xc000006f": "User logon outside authorized hours",
	"0xc0000070": "User logon from unauthorized workstation",
	"0xc0000071": "User logon with expired password",
	"0xc0000072": "User logon to account disabled by administrator",
	"0xc00000dc": "Indicates the Sam Server was in the wrong state to perform the desired operation.",
	"0xc0000133": "Clocks between DC and other computer too far out of sync",
	"0xc000015b": "The user has not been granted the requested logon type (aka logon right) at this machine",
	"0xc000018c": "The logon request failed because the trust relationship between the primary domain and the trusted domain failed.",
	"0xc0000192": "An attempt was made to logon, but the Netlogon service was not started.",
	"0xc0000193": "User logon with expired account",
	"0xc0000224": "User is required to change password at next logon",
	"0xc0000225": "Evidently a bug in Windows and not a risk",
	"0xc0000234": "User logon with account locked",
	"0xc00002ee": "Failure Reason: An Error occurred during Logon",
	"0xc0000413": "Logon Failure: The machine you are logging onto is protected by an authentication firewall. The specified account is not allowed to authenticate to the machine.",
	"0xc0000371": "The local account store does not contain secret material for the specified account",
	"0x0":        "Status OK.",
}

// failureReasons describes the FailureReason message references ("%%2313")
// of 4625 (winlog.logon.failure.reason), from the message table of msobjs.dll.
var failureReasons = map[string]string{
	"2304": "An Error occured during Logon.",
	"2305": "The specified user account has expired.",
	"2306": "The NetLogon component is not active.",
	"2307": "Account locked out.",
	"2308": "The user has not been granted the requested logon type at this machine.",
	"2309": "The specified account's password has expired.",
	"2310": "Account currently disabled.",
	"2311": "Account logon time restriction violation.",
	"2312": "User not allowed to logon at this computer.",
	"2313": "Unknown user name or bad password.",
	"2314": "Domain sid inconsistent.",
	"2315": "Smartcard logon is required and was not used.",
}

// kerberosResults names the Kerberos result codes of 4768 to 4771
// (winlog.event_data.StatusDescription), keyed by the number.
var kerberosResults = map[uint64]string{
	0x0: "KDC_ERR_NONE", 0x1: "KDC_ERR_NAME_EXP", 0x2: "KDC_ERR_SERVICE_EXP",
	0x3: "KDC_ERR_BAD_PVNO", 0x4: "KDC_ERR_C_OLD_MAST_KVNO", 0x5: "KDC_ERR_S_OLD_MAST_KVNO",
	0x6: "KDC_ERR_C_PRINCIPAL_UNKNOWN", 0x7: "KDC_ERR_S_PRINCIPAL_UNKNOWN",
	0x8: "KDC_ERR_PRINCIPAL_NOT_UNIQUE", 0x9: "KDC_ERR_NULL_KEY", 0xA: "KDC_ERR_CANNOT_POSTDATE",
	0xB: "KDC_ERR_NEVER_VALID", 0xC: "KDC_ERR_POLICY", 0xD: "KDC_ERR_BADOPTION",
	0xE: "KDC_ERR_ETYPE_NOTSUPP", 0xF: "KDC_ERR_SUMTYPE_NOSUPP", 0x10: "KDC_ERR_PADATA_TYPE_NOSUPP",
	0x11: "KDC_ERR_TRTYPE_NO_SUPP", 0x12: "KDC_ERR_CLIENT_REVOKED", 0x13: "KDC_ERR_SERVICE_REVOKED",
	0x14: "KDC_ERR_TGT_REVOKED", 0x15: "KDC_ERR_CLIENT_NOTYET", 0x16: "KDC_ERR_SERVICE_NOTYET",
	0x17: "KDC_ERR_KEY_EXPIRED", 0x18: "KDC_ERR_PREAUTH_FAILED", 0x19: "KDC_ERR_PREAUTH_REQUIRED",
	0x1A: "KDC_ERR_SERVER_NOMATCH", 0x1B: "KDC_ERR_MUST_USE_USER2USER",
	0x1F: "KRB_AP_ERR_BAD_INTEGRITY", 0x20: "KRB_AP_ERR_TKT_EXPIRED", 0x21: "KRB_AP_ERR_TKT_NYV",
	0x22: "KRB_AP_ERR_REPEAT", 0x23: "KRB_AP_ERR_NOT_US", 0x24: "KRB_AP_ERR_BADMATCH",
	0x25: "KRB_AP_ERR_SKEW", 0x26: "KRB_AP_ERR_BADADDR", 0x27: "KRB_AP_ERR_BADVERSION",
	0x28: "KRB_AP_ERR_MSG_TYPE", 0x29: "KRB_AP_ERR_MODIFIED", 0x2A: "KRB_AP_ERR_BADORDER",
	0x2C: "KRB_AP_ERR_BADKEYVER", 0x2D: "KRB_AP_ERR_NOKEY", 0x2E: "KRB_AP_ERR_MUT_FAIL",
	0x2F: "KRB_AP_ERR_BADDIRECTION", 0x30: "KRB_AP_ERR_METHOD", 0x31: "KRB_AP_ERR_BADSEQ",
	0x32: "KRB_AP_ERR_INAPP_CKSUM", 0x33: "KRB_AP_PATH_NOT_ACCEPTED", 0x34: "KRB_ERR_RESPONSE_TOO_BIG",
	0x3C: "KRB_ERR_GENERIC", 0x3D: "KRB_ERR_FIELD_TOOLONG", 0x3E: "KDC_ERR_CLIENT_NOT_TRUSTED",
	0x3F: "KDC_ERR_KDC_NOT_TRUSTED", 0x40: "KDC_ERR_INVALID_SIG", 0x41: "KDC_ERR_KEY_TOO_WEAK",
	0x42: "KRB_AP_ERR_USER_TO_USER_REQUIRED", 0x43: "KRB_AP_ERR_NO_TGT", 0x44: "KDC_ERR_WRONG_REALM",
}

// ticketEncryptionTypes names TicketEncryptionType values, keyed in lower case.
var ticketEncryptionTypes = map[string]string{
	"0x1":        "DES-CBC-CRC",
	"0x3":        "DES-CBC-MD5",
	"0x11":       "AES128-CTS-HMAC-SHA1-96",
	"0x12":       "AES256-CTS-HMAC-SHA1-96",
	"0x17":       "RC4-HMAC",
	"0x18":       "RC4-HMAC-EXP",
	"0xffffffff": "FAIL",
}

// ticketOptionBits names the Kerberos TicketOptions flags.
var ticketOptionBits = map[uint32]string{
	0x40000000: "Forwardable",
	0x20000000: "Forwarded",
	0x10000000: "Proxiable",
	0x08000000: "Proxy",
	0x04000000: "Allow-postdate",
	0x02000000: "Postdated",
	0x01000000: "Invalid",
	0x00800000: "Renewable",
	0x00400000: "Initial",
	0x00200000: "Pre-authent",
	0x00100000: "Opt-hardware-auth",
	0x00080000: "Transited-policy-checked",
	0x00040000: "Ok-as-delegate",
	0x00020000: "Request-anonymous",
	0x00010000: "Name-canonicalize",
	0x00000020: "Disable-transited-check",
	0x00000010: "Renewable-ok",
	0x00000008: "Enc-tkt-in-skey",
	0x00000002: "Renew",
	0x00000001: "Validate",
}

// uacBits names the userAccountControl flags (NewUacValue of 4720 and 4738).
var uacBits = map[uint32]string{
	0x00000001: "SCRIPT",
	0x00000002: "ACCOUNTDISABLE",
	0x00000008: "HOMEDIR_REQUIRED",
	0x00000010: "LOCKOUT",
	0x00000020: "PASSWD_NOTREQD",
	0x00000040: "PASSWD_CANT_CHANGE",
	0x00000080: "ENCRYPTED_TEXT_PWD_ALLOWED",
	0x00000100: "TEMP_DUPLICATE_ACCOUNT",
	0x00000200: "NORMAL_ACCOUNT",
	0x00000800: "INTERDOMAIN_TRUST_ACCOUNT",
	0x00001000: "WORKSTATION_TRUST_ACCOUNT",
	0x00002000: "SERVER_TRUST_ACCOUNT",
	0x00010000: "DONT_EXPIRE_PASSWORD",
	0x00020000: "MNS_LOGON_ACCOUNT",
	0x00040000: "SMARTCARD_REQUIRED",
	0x00080000: "TRUSTED_FOR_DELEGATION",
	0x00100000: "NOT_DELEGATED",
	0x00200000: "USE_DES_KEY_ONLY",
	0x00400000: "DONT_REQ_PREAUTH",
	0x00800000: "PASSWORD_EXPIRED",
	0x01000000: "TRUSTED_TO_AUTH_FOR_DELEGATION",
	0x04000000: "PARTIAL_SECRETS_ACCOUNT",
}

// levelNames are the standard level names Windows renders when the event
// carries no RenderingInfo (log.level, in lower case as Winlogbeat writes it).
var levelNames = map[uint8]string{
	0: "information", // LogAlways: the Security log's events carry level 0
	1: "critical",
	2: "error",
	3: "warning",
	4: "information",
	5: "verbose",
}

// Keyword bits of the audit outcome (event.outcome).
const (
	keywordAuditFailure = 0x10000000000000
	keywordAuditSuccess = 0x20000000000000
)
