// Package builtin is Mamori's own detection rule pack: native rules for
// logons at night and on closed days, password guessing and spraying,
// leavers' accounts, privileged logons off hours, lockout storms, first-seen
// logon sources, short-lived accounts, SSH password guessing, unusual
// volume and silent log sources, each with its test file.
//
// The rules are data, embedded from the rules directory: windows/ for
// Windows Security events, linux/ for syslog, hosts/ for rules over every
// source. Each rule NAME.yaml has its tests in NAME.test.yaml next to it
// (package detections/ruletest). Load them with package detections/ruleset
// (ruleset.Load(builtin.FS(), opts)), alone or next to users' own rules.
package builtin

import (
	"embed"
	"io/fs"
)

//go:embed rules
var rules embed.FS

// FS returns the rule pack, rooted at the rules directory: its top level
// holds windows/, linux/ and hosts/ with the rule files and their test
// files.
func FS() fs.FS {
	sub, err := fs.Sub(rules, "rules")
	if err != nil { // "rules" is a valid path: cannot happen
		panic(err)
	}
	return sub
}
