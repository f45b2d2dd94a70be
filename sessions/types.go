package sessions

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// LogonType is the Windows logon type of a 4624 event (LogonType in its
// EventData): 2 interactive, 3 network, 10 remote interactive...
type LogonType int

// Logon types, numbered as Windows numbers them.
const (
	Interactive             LogonType = 2
	Network                 LogonType = 3
	Batch                   LogonType = 4
	Service                 LogonType = 5
	Unlock                  LogonType = 7
	NetworkCleartext        LogonType = 8
	NewCredentials          LogonType = 9
	RemoteInteractive       LogonType = 10
	CachedInteractive       LogonType = 11
	CachedRemoteInteractive LogonType = 12
	CachedUnlock            LogonType = 13
)

// typeNames holds, per logon type, its flag name (snake case) and the name
// Winlogbeat writes in winlog.logon.type.
var typeNames = map[LogonType][2]string{
	Interactive:             {"interactive", "Interactive"},
	Network:                 {"network", "Network"},
	Batch:                   {"batch", "Batch"},
	Service:                 {"service", "Service"},
	Unlock:                  {"unlock", "Unlock"},
	NetworkCleartext:        {"network_cleartext", "NetworkCleartext"},
	NewCredentials:          {"new_credentials", "NewCredentials"},
	RemoteInteractive:       {"remote_interactive", "RemoteInteractive"},
	CachedInteractive:       {"cached_interactive", "CachedInteractive"},
	CachedRemoteInteractive: {"cached_remote_interactive", "CachedRemoteInteractive"},
	CachedUnlock:            {"cached_unlock", "CachedUnlock"},
}

// String returns the Winlogbeat name ("RemoteInteractive"), or the number
// for a type Windows does not document.
func (t LogonType) String() string {
	if n, ok := typeNames[t]; ok {
		return n[1]
	}
	if t == 0 {
		return ""
	}
	return strconv.Itoa(int(t))
}

// DefaultTypes are the logon types a session query covers unless told
// otherwise: the ones where a person sits at the machine or on its desktop
// over RDP. Network logons (type 3: every SMB share access, every LDAP or
// Kerberos-authenticated request) outnumber them by orders of magnitude on
// servers and last milliseconds; service and batch logons are the machine's
// own accounts; unlocks (7) repeat a logon that is already a session. They
// would bury "who was on host Y" under noise, so they are asked for
// explicitly (Types "all" or "network,...").
var DefaultTypes = TypeSet{Interactive, RemoteInteractive, CachedInteractive, CachedRemoteInteractive}

// TypeSet is a set of logon types; nil or empty means every type.
type TypeSet []LogonType

// Has reports whether t is in the set (an empty set has every type).
func (s TypeSet) Has(t LogonType) bool {
	return len(s) == 0 || slices.Contains(s, t)
}

// String writes the set as ParseTypes reads it.
func (s TypeSet) String() string {
	if len(s) == 0 {
		return "all"
	}
	names := make([]string, len(s))
	for i, t := range s {
		if n, ok := typeNames[t]; ok {
			names[i] = n[0]
		} else {
			names[i] = strconv.Itoa(int(t))
		}
	}
	return strings.Join(names, ",")
}

// ParseTypes reads a comma-separated list of logon types: flag names
// ("interactive,remote_interactive"), Winlogbeat names ("RemoteInteractive")
// or numbers ("2,10"); "all" is every type (an empty set), "" or "default"
// is DefaultTypes.
func ParseTypes(s string) (TypeSet, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", "default":
		return slices.Clone(DefaultTypes), nil
	case "all", "*":
		return TypeSet{}, nil
	}
	var out TypeSet
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		t, ok := lookupType(part)
		if !ok {
			return nil, fmt.Errorf("logon type %q: want all, or names from %s, or numbers 2 to 13", part, allTypeNames())
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

func lookupType(s string) (LogonType, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		_, ok := typeNames[LogonType(n)]
		return LogonType(n), ok
	}
	key := strings.ReplaceAll(strings.ToLower(s), "_", "")
	for t, n := range typeNames {
		if strings.ReplaceAll(n[0], "_", "") == key {
			return t, true
		}
	}
	return 0, false
}

func allTypeNames() string {
	ts := make([]LogonType, 0, len(typeNames))
	for t := range typeNames {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return TypeSet(ts).String()
}
