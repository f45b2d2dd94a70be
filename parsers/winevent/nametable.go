package winevent

import "encoding/binary"

// nameTable finds names in a fixed set, as a read-only map would, in a
// third of the time: an open-addressing table on a hash of the length and
// the first and last eight bytes, which tells apart the EventData names
// ("SubjectUserName", "TargetUserName", "TargetOutboundUserName") that
// share long prefixes or suffixes. Every event looks up each of its
// EventData names, about thirty, so this is on the parsers' hot path.
type nameTable[V any] struct {
	keys []string
	vals []V
	used []bool
	mask uint64
}

// newNameTable returns a table of m's entries.
func newNameTable[V any](m map[string]V) *nameTable[V] {
	size := 16
	for size < 4*len(m) {
		size *= 2
	}
	t := &nameTable[V]{keys: make([]string, size), vals: make([]V, size), used: make([]bool, size), mask: uint64(size - 1)}
	for k, v := range m {
		i := nameHash(k) & t.mask
		for t.used[i] {
			i = (i + 1) & t.mask
		}
		t.keys[i], t.vals[i], t.used[i] = k, v, true
	}
	return t
}

// get returns the value of name and whether the table has it.
func (t *nameTable[V]) get(name string) (V, bool) {
	for i := nameHash(name) & t.mask; t.used[i]; i = (i + 1) & t.mask {
		if t.keys[i] == name {
			return t.vals[i], true
		}
	}
	var zero V
	return zero, false
}

// nameHash hashes a name by its length and its first and last eight bytes.
func nameHash(s string) uint64 {
	n := len(s)
	var a, b uint64
	if n >= 8 {
		a = binary.LittleEndian.Uint64([]byte(s[:8]))
		b = binary.LittleEndian.Uint64([]byte(s[n-8:]))
	} else {
		for i := range n {
			a = a<<8 | uint64(s[i])
		}
	}
	h := (a*0x9E3779B97F4A7C15 ^ b*0xC2B2AE3D27D4EB4F ^ uint64(n)) * 0x165667B19E3779F9
	return h >> 40
}
