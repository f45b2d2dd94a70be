package config

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written as in Go ("90s", "4h") or in days
// ("30d").
type Duration time.Duration

// UnmarshalYAML parses a duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration back.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// ParseDuration accepts Go durations plus a whole-day form such as "30d".
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration: want a whole number of days such as \"30d\"", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: write it like \"500ms\", \"4h\" or \"30d\"", s)
	}
	return d, nil
}

// Secret holds a credential. It never prints: String, Format, MarshalYAML
// and LogValue all give "[redacted]". Reveal returns the value.
type Secret struct{ v string }

// NewSecret wraps a value.
func NewSecret(v string) Secret { return Secret{v} }

// Reveal returns the secret value.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

// String redacts.
func (s Secret) String() string { return "[redacted]" }

// GoString redacts.
func (s Secret) GoString() string { return "[redacted]" }

// LogValue redacts in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalYAML redacts.
func (s Secret) MarshalYAML() (any, error) { return "[redacted]", nil }

// UnmarshalYAML reads the value.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error { s.v = n.Value; return nil }
