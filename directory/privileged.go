package directory

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// DefaultPrivilegedGroups are the groups whose members administer the
// domain, matched by well-known SID or RID so that renamed or localised
// groups (a Japanese "Domain Admins") still match.
var DefaultPrivilegedGroups = []string{
	"Domain Admins", "Enterprise Admins", "Schema Admins", "Administrators",
	"Account Operators", "Backup Operators", "Server Operators", "Print Operators",
}

// wellKnownGroups maps a well-known group name (lower case) to its SID: a
// full builtin SID (S-1-5-32-...), or "-RID" for a group relative to a
// domain SID (S-1-5-21-...-RID).
var wellKnownGroups = map[string]string{
	"domain admins":               "-512",
	"schema admins":               "-518",
	"enterprise admins":           "-519",
	"group policy creator owners": "-520",
	"key admins":                  "-526",
	"enterprise key admins":       "-527",
	"administrators":              "S-1-5-32-544",
	"account operators":           "S-1-5-32-548",
	"server operators":            "S-1-5-32-549",
	"print operators":             "S-1-5-32-550",
	"backup operators":            "S-1-5-32-551",
}

var sidPattern = regexp.MustCompile(`^S-1-\d+(-\d+)+$`)

// Privileged decides which groups are privileged. Build it with
// NewPrivileged.
type Privileged struct {
	sids    map[string]bool // exact SIDs
	rids    map[string]bool // "-512": any domain's group with that RID
	dns     map[string]bool // lower-cased DNs
	names   map[string]bool // lower-cased sAMAccountNames
	entries []string
}

// NewPrivileged reads the privileged_groups setting (nil or empty: the
// defaults). Each entry is a well-known group name (Domain Admins,
// Administrators, ...: matched by SID, whatever the group is called in this
// directory), a SID (S-1-5-21-...-1105), a DN (CN=Tier0,OU=Groups,DC=...), or
// any other group's sAMAccountName (matched case-insensitively).
func NewPrivileged(entries []string) (*Privileged, error) {
	if len(entries) == 0 {
		entries = DefaultPrivilegedGroups
	}
	p := &Privileged{sids: map[string]bool{}, rids: map[string]bool{}, dns: map[string]bool{}, names: map[string]bool{},
		entries: append([]string(nil), entries...)}
	for i, e := range entries {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
			return nil, fmt.Errorf("%w: privileged_groups[%d]: empty", ErrConfig, i)
		case strings.HasPrefix(strings.ToUpper(e), "S-1-"):
			if !sidPattern.MatchString(strings.ToUpper(e)) {
				return nil, fmt.Errorf("%w: privileged_groups[%d]: %q is not a SID such as S-1-5-32-544", ErrConfig, i, e)
			}
			p.sids[strings.ToUpper(e)] = true
		case strings.Contains(e, "="):
			p.dns[strings.ToLower(e)] = true
		default:
			if sid, ok := wellKnownGroups[strings.ToLower(e)]; ok {
				if strings.HasPrefix(sid, "-") {
					p.rids[sid] = true
				} else {
					p.sids[sid] = true
				}
				continue
			}
			p.names[strings.ToLower(e)] = true
		}
	}
	return p, nil
}

// Entries returns the setting the matcher was built from.
func (p *Privileged) Entries() []string { return append([]string(nil), p.entries...) }

// Is reports whether g is a privileged group.
func (p *Privileged) Is(g *Group) bool {
	if g.SID != "" {
		if p.sids[g.SID] {
			return true
		}
		if strings.HasPrefix(g.SID, "S-1-5-21-") {
			if i := strings.LastIndexByte(g.SID, '-'); i > 0 && p.rids[g.SID[i:]] {
				return true
			}
		}
	}
	return p.dns[strings.ToLower(g.DN)] || p.names[strings.ToLower(g.SAMAccountName)]
}

// Groups returns the privileged groups of a snapshot by lower-cased DN, with
// their names.
func (p *Privileged) Groups(s *Snapshot) map[string]string {
	out := map[string]string{}
	for i := range s.Groups {
		if g := &s.Groups[i]; p.Is(g) {
			out[strings.ToLower(g.DN)] = g.SAMAccountName
		}
	}
	return out
}

// reached returns the names of the privileged groups among dns (an
// account's groups, nesting included), sorted.
func reached(dns []string, privileged map[string]string) []string {
	var out []string
	for _, dn := range dns {
		if name, ok := privileged[strings.ToLower(dn)]; ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
