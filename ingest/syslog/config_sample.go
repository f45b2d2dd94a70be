package syslog

import _ "embed"

// SampleConfig is a complete configuration with every key explained in full
// sentences, for documentation and `mamori config` output.
//
//go:embed sample.yaml
var SampleConfig string
