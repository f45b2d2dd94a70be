package native

import (
	"cmp"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"slices"
	"strings"
	"time"
)

// DefaultMaxGroups bounds the entities one state tracks when
// Options.MaxGroups is zero.
const DefaultMaxGroups = 100_000

// table is a map of tracked entities bounded to max entries: over the
// bound, the entries with the oldest last event time (ties: the smallest
// key) are evicted until a tenth of the bound is free again, so eviction is
// amortised and depends only on the table's content (a restored state
// evicts the same entries).
type table[V any] struct {
	m    map[string]V
	max  int
	last func(V) int64 // last event time, Unix nanoseconds
}

func newTable[V any](max int, last func(V) int64) table[V] {
	return table[V]{m: map[string]V{}, max: max, last: last}
}

// put stores v under k and evicts the oldest entries if the table is over
// its bound.
func (t *table[V]) put(k string, v V) {
	t.m[k] = v
	if len(t.m) > t.max {
		t.evict(t.max - t.max/10)
	}
}

// sweep drops the entries idle for longer than idle before the watermark
// wm, at most once per max(idle, 1 minute) of event time since *swept.
func (t *table[V]) sweep(swept *int64, wm int64, idle time.Duration) {
	if wm-*swept < int64(max(idle, time.Minute)) {
		return
	}
	*swept = wm
	for k, v := range t.m {
		if t.last(v) < wm-int64(idle) {
			delete(t.m, k)
		}
	}
}

// evict keeps the keep entries with the newest last event time.
func (t *table[V]) evict(keep int) {
	type kv struct {
		k    string
		last int64
	}
	all := make([]kv, 0, len(t.m))
	for k, v := range t.m {
		all = append(all, kv{k, t.last(v)})
	}
	slices.SortFunc(all, func(a, b kv) int {
		if c := cmp.Compare(a.last, b.last); c != 0 {
			return c
		}
		return strings.Compare(a.k, b.k)
	})
	for _, e := range all[:max(0, len(all)-keep)] {
		delete(t.m, e.k)
	}
}

// sortedKeys returns the keys in order, for snapshots that do not depend
// on map iteration order.
func (t *table[V]) sortedKeys() []string {
	keys := make([]string, 0, len(t.m))
	for k := range t.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// joinKey encodes a group key as one map key, unambiguously: each value is
// preceded by its length.
func joinKey(key []string) string {
	var b []byte
	for _, k := range key {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
	}
	return string(b)
}

// splitKey decodes joinKey.
func splitKey(s string) []string {
	out := []string{}
	b := []byte(s)
	for len(b) > 0 {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return out
		}
		out = append(out, string(b[w:w+int(n)]))
		b = b[w+int(n):]
	}
	return out
}

var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// syntheticID returns a deterministic event id for a summary hit (anomaly,
// absence), so that a hit re-emitted after a restore or in a replay is
// recognised by the alert aggregator.
func syntheticID(kind, rule string, key []string, at time.Time) string {
	h := sha256.New()
	h.Write([]byte("mamori.native." + kind + "\x00" + rule + "\x00" + joinKey(key)))
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(at.UnixNano()))
	h.Write(ts[:])
	return idEncoding.EncodeToString(h.Sum(nil)[:20])
}

// nanos and fromNanos convert event times to and from Unix nanoseconds (in
// UTC), the form states keep them in.
func nanos(t time.Time) int64     { return t.UnixNano() }
func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }
