// Package ingest is the machinery every edge shares: it stamps each raw
// record with what the parse stage needs to know about its arrival (Stamper),
// moves records onto the bus in batches with back-pressure and retry
// (Batcher), and exposes the same received/sent/dropped/error metrics for
// every listener (Metrics). Edges themselves live in sub-packages, one per
// protocol (ingest/syslog, ...), and do nothing but frame, stamp and publish.
package ingest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Sentinel errors. Wrapped errors keep them reachable with errors.Is.
var (
	// ErrClosed: the batcher was closed; the record was not accepted. Stop
	// reading and count the record as dropped.
	ErrClosed = errors.New("ingest: batcher closed")
	// ErrAbandoned: Close or Flush ran out of time while records were still
	// not durable; those records are lost (the count is in the message).
	ErrAbandoned = errors.New("ingest: records abandoned before they were durable")
	// ErrInvalidConfig: a configuration value is wrong; the message names
	// the key and the fix.
	ErrInvalidConfig = errors.New("invalid configuration")
)

// ByteSize is a size in bytes that YAML may give as a plain integer (65536)
// or with a binary or decimal unit (64KiB, 1MiB, 512kB, 2MB).
type ByteSize int64

var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"kB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"B", 1},
}

// ParseByteSize parses "65536", "64KiB", "1 MiB", "2MB".
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(t, u.suffix) {
			mult = u.mult
			t = strings.TrimSpace(strings.TrimSuffix(t, u.suffix))
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size: use bytes (65536) or a unit (64KiB, 1MiB)", s)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return ByteSize(n * mult), nil
}

// UnmarshalText implements encoding.TextUnmarshaler (used by YAML decoders).
func (b *ByteSize) UnmarshalText(text []byte) error {
	v, err := ParseByteSize(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// UnmarshalYAML decodes a YAML scalar, naming its line on error.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a size must be a scalar such as 64KiB", n.Line)
	}
	if err := b.UnmarshalText([]byte(n.Value)); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

// MarshalText implements encoding.TextMarshaler, choosing the largest exact
// binary unit.
func (b ByteSize) MarshalText() ([]byte, error) {
	return []byte(b.String()), nil
}

// String returns the size with the largest exact binary unit ("64KiB").
func (b ByteSize) String() string {
	n := int64(b)
	switch {
	case n != 0 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n != 0 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n != 0 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	}
	return strconv.FormatInt(n, 10)
}
