package syslog

// facilityNames are the RFC 5424 facility keywords, spelled as syslog.conf,
// rsyslog and the ECS example ("local7") spell them. Codes 12 to 15 have no
// keyword in syslog.h; rsyslog's names are used.
var facilityNames = [24]string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

// severityNames are the severity names for log.syslog.severity.name, spelled
// as Filebeat's syslog input and processor spell them (and as the ECS example
// "Error"), so Elastic content that matches on them works unchanged.
var severityNames = [8]string{
	"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug",
}

// levelNames are the lower-case severity names for log.level, as the RFC 5424
// table and the ECS log.level examples write them.
var levelNames = [8]string{
	"emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug",
}
