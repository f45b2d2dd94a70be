package sla

import _ "embed"

//go:embed defaults.yaml
var defaultsYAML []byte

// DefaultsYAML returns the documented default clock configuration, the
// clocks of the seed's SLA table, for `mamori config` and the shipped
// configuration.
func DefaultsYAML() string { return string(defaultsYAML) }

// Defaults returns the default clock definitions, decoded from
// DefaultsYAML. Each call returns a fresh copy the caller may change. It
// panics if the embedded file is invalid, which the package's tests rule
// out.
func Defaults() []ClockDef {
	defs, err := Parse(defaultsYAML)
	if err != nil {
		panic(err)
	}
	return defs
}
