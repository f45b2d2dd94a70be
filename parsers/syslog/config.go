package syslog

import (
	_ "embed"
	"errors"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// Config configures the syslog parser. Every field's zero value stands for
// its default, so the zero Config is valid; DefaultConfig spells the defaults
// out.
type Config struct {
	// Location is the IANA time zone name applied to timestamps that carry
	// no zone: the RFC 3164 "Mmm dd hh:mm:ss" stamp and zone-less RFC 3339
	// stamps. Empty means "Asia/Tokyo" (Mamori's configuration fills it from
	// the top-level timezone).
	Location string `yaml:"location"`

	// DefaultPriority is the PRI given to messages that arrive without one,
	// as rsyslog does. 1 to 191; 0 means the default, 13 (user.notice).
	// (Priority 0, kern.emerg, cannot be chosen: unlabelled messages must
	// not page anyone as emergencies.)
	DefaultPriority int `yaml:"default_priority"`

	// FutureTolerance is how far past the receive time an RFC 3164 timestamp
	// (which has no year) may lie and still be taken as this year's; a
	// stamp further ahead is dated to the previous year. It absorbs senders
	// whose clocks run ahead (a "Jan  1 00:00:01" message received at
	// 23:59:59 on 31 December belongs to the new year) without moving old,
	// delayed messages into the future. 0 means the default, 168h (7 days);
	// at most 4380h (six months).
	FutureTolerance time.Duration `yaml:"future_tolerance"`
}

// Defaults.
const (
	DefaultLocation        = "Asia/Tokyo"
	DefaultPriorityValue   = 13 // user.notice, as rsyslog
	DefaultFutureTolerance = 7 * 24 * time.Hour
	maxFutureTolerance     = 4380 * time.Hour
)

// DefaultConfig returns the configuration with every default applied.
func DefaultConfig() Config {
	return Config{
		Location:        DefaultLocation,
		DefaultPriority: DefaultPriorityValue,
		FutureTolerance: DefaultFutureTolerance,
	}
}

//go:embed sample.yaml
var sampleConfig string

// SampleConfig returns the documented default configuration in YAML, for
// `mamori config` and the shipped configuration file.
func SampleConfig() string { return sampleConfig }

var configKeys = map[string]bool{"location": true, "default_priority": true, "future_tolerance": true}

// withDefaults returns c with the defaults in place of zero values.
func (c Config) withDefaults() Config {
	if c.Location == "" {
		c.Location = DefaultLocation
	}
	if c.DefaultPriority == 0 {
		c.DefaultPriority = DefaultPriorityValue
	}
	if c.FutureTolerance == 0 {
		c.FutureTolerance = DefaultFutureTolerance
	}
	return c
}

// UnmarshalYAML decodes the configuration strictly (an unknown key is an
// error) and validates it. Keys it does not set stay zero, which stands for
// their defaults.
func (c *Config) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind != yaml.MappingNode {
		return fmt.Errorf("syslog parser config: line %d: want a mapping of keys to values", node.Line)
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		k := node.Content[i]
		if !configKeys[k.Value] {
			return fmt.Errorf("syslog parser config: line %d: unknown key %q (known: location, default_priority, future_tolerance)", k.Line, k.Value)
		}
	}
	type plain Config // no UnmarshalYAML, so no recursion
	var p plain
	if err := node.Decode(&p); err != nil {
		return fmt.Errorf("syslog parser config: %w", err)
	}
	*c = Config(p)
	return c.Validate()
}

// Validate checks the configuration and names the key and the fix in its
// error.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Location != "" { // empty: to be filled in by the embedding configuration
		if _, err := c.location(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.DefaultPriority < 1 || c.DefaultPriority > 191 {
		errs = append(errs, fmt.Errorf("syslog parser config: default_priority %d is out of range: use 1 to 191 (facility*8 + severity), or 0 for the default 13", c.DefaultPriority))
	}
	if c.FutureTolerance < 0 || c.FutureTolerance > maxFutureTolerance {
		errs = append(errs, fmt.Errorf("syslog parser config: future_tolerance %s is out of range: use 0s to %s", c.FutureTolerance, maxFutureTolerance))
	}
	return errors.Join(errs...)
}

func (c Config) location() (*time.Location, error) {
	loc, err := time.LoadLocation(c.Location)
	if err != nil {
		return nil, fmt.Errorf("syslog parser config: location %q: %w (use an IANA zone name such as Asia/Tokyo or UTC; a binary without the system zoneinfo must import time/tzdata)", c.Location, err)
	}
	return loc, nil
}
