// Package bustest is the conformance suite of package bus. Every Bus
// implementation (the embedded journal, Kafka) calls Run from its tests, so
// the stages see the same semantics from each.
//
// The suite creates its own uniquely named topics and groups in every
// subtest and never deletes them, so it can run against a shared broker. It
// asserts on outcomes, never on timing: every wait is bounded only by
// Timeout, which is generous enough for consumer-group joins on a real
// broker.
package bustest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
)

// Timeout bounds each subtest.
var Timeout = 3 * time.Minute

// LargeValueSize is the size of the large value the suite round-trips. A
// Kafka topic needs max.message.bytes (and the broker message.max.bytes and
// replica.fetch.max.bytes) above it.
const LargeValueSize = 1 << 20

// Run runs the conformance suite. open is called by each subtest and returns
// a ready Bus; it registers the Bus's Close with t.Cleanup. Subtests may
// close a Bus themselves first, so Close must be idempotent, and they use a
// Bus from several goroutines at once.
func Run(t *testing.T, open func(t *testing.T) bus.Bus) {
	tests := []struct {
		name string
		fn   func(t *testing.T, ctx context.Context, open func(t *testing.T) bus.Bus)
	}{
		{"PublishReadOrderPerPartition", testPublishReadOrder},
		{"SameKeySamePartition", testSameKeySamePartition},
		{"UnkeyedRecordsSpread", testUnkeyedSpread},
		{"HeadersAndBinaryValues", testHeadersAndBinary},
		{"GroupResumesAfterCommit", testGroupResumes},
		{"UncommittedRedelivered", testUncommittedRedelivered},
		{"CommitNeverMovesBackwards", testCommitMonotonic},
		{"CommitOfUnassignedPartitionIgnored", testCommitUnassigned},
		{"TwoMembersShareWork", testTwoMembers},
		{"TwoGroupsEachGetAll", testTwoGroups},
		{"SeekReplay", testSeekReplay},
		{"FetchHonoursCancellation", testFetchCancel},
		{"UnknownTopic", testUnknownTopic},
		{"EnsureTopicIdempotent", testEnsureTopic},
		{"ConcurrentPublishAndConsume", testConcurrency},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), Timeout)
			defer cancel()
			tc.fn(t, ctx, open)
		})
	}
}

// uniqueName returns a valid topic or group name unique to this subtest.
func uniqueName(t *testing.T, kind string) string {
	var rnd [6]byte
	_, err := rand.Read(rnd[:])
	require.NoError(t, err)
	base := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '-'
	}, t.Name())
	if len(base) > 180 {
		base = base[len(base)-180:]
	}
	return fmt.Sprintf("bustest.%s.%s.%s", kind, base, hex.EncodeToString(rnd[:]))
}

func newTopic(t *testing.T, ctx context.Context, b bus.Bus, partitions int) string {
	name := uniqueName(t, "topic")
	require.NoError(t, b.EnsureTopic(ctx, bus.TopicConfig{Name: name, Partitions: partitions}))
	return name
}

func value(i int) []byte { return []byte(fmt.Sprintf("v-%06d", i)) }

func seqOf(t *testing.T, r bus.Record) int {
	s, ok := strings.CutPrefix(string(r.Value), "v-")
	require.True(t, ok, "unexpected value %q", r.Value)
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// publishSeq publishes values from..to-1, batch per call, keyed by key(i)
// (nil: unkeyed), and returns the records as sent.
func publishSeq(t *testing.T, ctx context.Context, b bus.Bus, topic string, from, to, batch int, key func(i int) []byte) {
	for i := from; i < to; i += batch {
		var recs []bus.Record
		for k := i; k < min(i+batch, to); k++ {
			r := bus.Record{Topic: topic, Value: value(k)}
			if key != nil {
				r.Key = key(k)
			}
			recs = append(recs, r)
		}
		require.NoError(t, b.Publish(ctx, recs...))
	}
}

// readAll reads a whole partition with Read.
func readAll(t *testing.T, ctx context.Context, b bus.Bus, topic string, partition int) []bus.Record {
	var out []bus.Record
	next := bus.OffsetOldest
	for {
		recs, err := b.Read(ctx, topic, partition, next, 500)
		require.NoError(t, err)
		if len(recs) == 0 {
			return out
		}
		out = append(out, recs...)
		next = recs[len(recs)-1].Offset + 1
	}
}

// consume fetches until it has n records (Fetch may return fewer per call),
// committing each batch when commit is set.
func consume(t *testing.T, ctx context.Context, c bus.Consumer, n int, commit bool) []bus.Record {
	var out []bus.Record
	for len(out) < n {
		recs, err := c.Fetch(ctx, n-len(out))
		require.NoError(t, err, "fetch after %d of %d records", len(out), n)
		require.LessOrEqual(t, len(recs), n-len(out), "Fetch returned more than max")
		if commit && len(recs) > 0 {
			require.NoError(t, c.Commit(ctx, recs...))
		}
		out = append(out, recs...)
	}
	return out
}

func subscribe(t *testing.T, ctx context.Context, b bus.Bus, group string, topics ...string) bus.Consumer {
	c, err := b.Subscribe(ctx, group, topics...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// keysCovering returns k keys per partition, so every partition gets records.
func keysCovering(partitions, k int) [][]byte {
	count := make([]int, partitions)
	var keys [][]byte
	for i := 0; len(keys) < partitions*k; i++ {
		key := []byte(fmt.Sprintf("host-%d", i))
		p := bus.PartitionFor(key, partitions)
		if count[p] < k {
			count[p]++
			keys = append(keys, key)
		}
	}
	return keys
}

func testPublishReadOrder(t *testing.T, ctx context.Context, open func(t *testing.T) bus.Bus) {
	b := open(t)
	const parts, n = 3, 300
	topic := newTopic(t, ctx, b, parts)
	key := func(i int) []byte { return []byte(fmt.Sprintf("key-%d", i%17)) }
	before := time.Now().Add(-time.Minute)
	publishSeq(t, ctx, b, topic, 0, n, 100, key)

	total := 0
	for p := 0; p < parts; p++ {
		recs := readAll(t, ctx, b, topic, p)
		total += len(recs)
		lastSeq := map[string]int{}
		for i, r := range recs {
			require.Equal(t, topic, r.Topic)
			require.Equal(t, p, r.Partition)
			if i > 0 {
				require.Greater(t, r.Offset, recs[i-1].Offset, "offsets increase within a partition")
			}
			require.True(t, r.Time.After(before), "the bus stamps a time")
			seq := seqOf(t, r)
			if prev, ok := lastSeq[string(r.Key)]; ok {
				require.Greater(t, seq, prev, "per-key order is kept")
			}
			lastSeq[string(r.Key)] = seq
			require.Equal(t, string(key(seq)), string(r.Key))
		}
		if len(recs) > 0 {
			// Read from the middle starts there.
			mid := recs[len(recs)/2]
			got, err := b.Read(ctx, topic, p, mid.Offset, 1)
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.Equal(t, mid.Offset, got[0].Offset)
			require.Equal(t, mid.Value, got[0].Value)
		}
	}
	require.Equal(t, n, total)
}

func testSameKeySamePartition(t *testing.T, ctx context.Context, open func(t *testing.T) bus.Bus) {
	b := open(t)
	const parts = 4
	topic := newTopic(t, ctx, b, parts)
	keys := keysCovering(parts, 5)
	publishSeq(t, ctx, b, topic, 0, len(keys)*5, 7, func(i int) []byte { return keys[i%len(keys)] })

	where := map[string]int{}
	count := 0
	for p := 0; p < parts; p++ {
		recs := readAll(t, ctx, b, topic, p)
		require.NotEmpty(t, recs, "partition %d", p)
		for _, r := range recs {
			count++
			k := string(r.Key)
			if q, ok := where[k]; ok {
				require.Equal(t, q, p, "key %s in two partitions", k)
			}
			where[k] = p
			require.Equal(t, bus.PartitionFor(r.Key, parts), p, "key %s placed as Kafka's Java client places it", k)
		}
	}
	require.Equal(t, len(keys)*5, count)
}

func testUnkeyedSpread(t *testing.T, ctx context.Context, open func(t *testing.T) bus.Bus) {
	b := open(t)
	const parts = 3
	topic := newTopic(t, ctx, b, parts)
	publishSeq(t, ctx, b, topic, 0, 90, 9, nil)
	used, total := 0, 0
	for p := 0; p < parts; p++ {
		recs := readAll(t, ctx, b, topic, p)
		total += len(recs)
		if len(recs) > 0 {
			used++
		}
	}
	require.Equal(t, 90, total)
	require.Greater(t, used, 1, "unkeyed records are spread over partitions")
}

func sameBytes(t *testing.T, want, got []byte, msg string) {
	t.Helper()
	require.True(t, bytes.Equal(want, got), "%s: want %d bytes %q, got %d bytes %q", msg, len(want), trunc(want), len(got), trunc(got))
}

func trunc(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

func testHeadersAndBinary(t *testing.T, ctx context.Context, open func(t *testing.T) bus.Bus) {
	b := open(t)
	topic := newTopic(t, ctx, b, 1)
	large := make([]byte, LargeValueSize)
	_, err := rand.Read(large)
	require.NoError(t, err)
	large[0], large[len(large)/2], large[len(large)-1] = 0, 0, 0
	at := time.Date(2025, 4, 1, 9, 30, 15, 123_456_789, time.FixedZone("JST", 9*3600))

	sent := []bus.Record{
		{
			Topic: topic,
			Key:   []byte{0, 0xff, 0, 'k'},
			Value: []byte{0, 0, 1, 0, 0xff, 0},
			Headers: []bus.Header{
				{Key: "a", Value: []byte("1")},
				{Key: "a", Value: []byte("2")},
				{Key: "bin", Value: []byte{0, 1, 0, 255}},
				{Key: "empty", Value: []byte{}},
				{Key: bus.HeaderPeer, Value: []byte("192.0.2.7:514")},
				{Key: "ラベル", Value: []byte("日本語の値")},
			},
			Time: at,
		},
		{Topic: topic, Key: []byte("empty-value"), Value: []byte{}},
		{Topic: topic, Value: []byte("no key, no headers")},
		{Topic: topic, Key: []byte("large"), Value: large, Headers: []bus.Header{{Key: "size", Value: []byte("1MiB")}}},
	}
	require.NoError(t, b.Publish(ctx, sent...))

	got := readAll(t, ctx, b, topic, 0)
	require.Len(t, got, len(sent))
	for i, r := range got {
		w := sent[i]
		if i == 2 {
			require.Empty(t, r.Key, "unkeyed record")
		} else {
			sameBytes(t, w.Key, r.Key, fmt.Sprintf("record %d key", i))
		}
		sameBytes(t, w.Value, r.Value, fmt.Sprintf("record %d value", i))
		require.Len(t, r.Headers, len(w.Headers), "record %d headers", i)
		for k, h := range w.Headers {
			require.Equal(t, h.Key, r.Headers[k].Key, "record %d header %d key (order and repeats kept)", i, k)
			sameBytes(t, h.Value, r.Headers[k].Value, fmt.Sprintf("record %d header %q", i, h.Key))
		}
	}
	require.True(t, got[0].Time.Equal(at.Truncate(time.Millisecond)), "producer time kept to the millisecond: got %s", got[0].Time)
	v, ok := got[0].Header("a")
	require.True(t, ok)
	require.Equal(t, "1", v)
	v, ok = got[0].Header(bus.HeaderPeer)
	require.True(t, ok)
	require.Equal(t, "192.0.2.7:514", v)
}

func testGroupResumes(t *testing.T, ctx context.Context, open func(t *testing.T) bus.Bus) {
	b := open(t)
	topic := newTopic(t, ctx, b, 1)
	group := uniqueName(t, "group")
	publishSeq(t, ctx, b, topic, 0, 10, 10, nil)

	c := subscribe(t, ctx, b, group, topic)
	first := consume(t, ctx, c, 6, false)
	require.Equal(t, 0, seqOf(t, first[0]), "a new group starts at the oldest record")
	require.NoError(t, c.Commit(ctx, first[5]))
	require.NoError(t, c.Close())

	c = subscribe(t, ctx, b, group, topic)
	rest := consume(t, ctx, c, 4, true)
	require.Equal(t, first[5].Offset+1, rest[0].Offset, "resumes after the last committed offset")
	for i, r := range rest {
		require.Equal(t, 6+i, seqOf(t, r))
	}
	require.NoError(t, c.Close())
}

func testUncommittedRedelivered(t *testing.T, ctx context.Context, open func(t *testing.T) bus.Bus) {
	b := open(t)
	topic := newTopic(t, ctx, b, 1)
	group := uniqueName(t, "group")
	publishSeq(t, ctx, b, topic, 0, 5, 5, nil)

	c := subscribe(t, ctx, b, group, topic)
	all := consume(t, ctx, c, 5, false)
	require.NoError(t, c.Commit(ctx, all[1]))
	require.NoError(t, c.Close())

	c = subscribe(t, ctx, b, group, topic)
	again := consume(t, ctx, c, 3, false)
	for i, r := range again {
		require.Equal(t, all[2+i].Offset, r.Offset, "uncommitted records come again")
		sameBytes(t, all[2+i].Value, r.Value, "redelivered value")
	}
}

func testCommitMonotonic(t *testing.T, ctx context.Context, open func(t *testing.T) bus.Bus) {
	b := open(t)
	topic := newTopic(t, ctx, b, 1)
	group := uniqueName(t, "group")
	publishSeq(t, ctx, b, topic, 0, 8, 8, nil)

	c := subscribe(t, ctx, b, group, topic)
	recs := consume(t, ctx, c, 8, false)
	require.NoError(t, c.Commit(ctx, recs[5]))
	require.NoError(t, c.Commit(ctx, recs[2]), "an older commit is not an error")
	require.NoError(t, c.Commit(ctx, recs[3], recs[1])) // the highest of a call counts
	require.NoError(t, c.Close())

	c = subscribe(t, ctx, b, group, topic)
	rest := consume(t, ctx, c, 2, false)
	require.Equal(t, recs[6].Offset, rest[0].Offset, "the highest committed offset wins")
}

func testCommitUnassigned(t *testing.T, ctx context.Context, open func(t *testing.T) bus.Bus) {
	b := open(t)
	mine := newTopic(t, ctx, b, 1)
	other := newTopic(t, ctx, b, 1)
	group := uniqueName(t, "group")
	publishSeq(t, ctx, b, mine, 0, 3, 3, nil)
	publishSeq(t, ctx, b, other, 0, 3, 3, nil)
	foreign := readAll(t, ctx, b, other, 0)
	require.Len(t, foreign, 3)

	c := subscribe(t, ctx, b, group, mine)
	recs := consume(t, ctx, c, 3, true)
	require.Len(t, recs, 3)
	require.NoError(t, c.Commit(ctx, foreign[2]), "committing a partition not assigned is not an error")
	require.NoError(t, c.Close())

	c = subscribe(t, ctx, b, group, other)
	got := consume(t, ctx, c, 3, false)
	require.Equal(t, foreign[0].Offset, got[0].Offset, "...and has no effect")
}

// memberBatch is what one member fetched.
type memberBatch struct {
	member int
	recs   []bus.Record
	err    error
}

// runMember fetches and commits until ctx ends, reporting every batch.
func runMember(ctx context.Context, id int, c bus.Consumer, out chan<- memberBatch, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		recs, err := c.Fetch(ctx, 100)
		if err != nil {
			if ctx.Err() == nil {
				out <- memberBatch{member: id, err: err}
			}
			return
		}
		if err := c.Commit(ctx, recs...); err != nil {
			if ctx.Err() == nil {
				out <- memberBatch{member: id, err: err}
			}
			return
		}
		select {
		case out <- memberBatch{member: id, recs: recs}:
		case <-ctx.Done():
			return
		}
	}
}

func testTwoMembers(t *testing.T, ctx context.Context, open func(t *testing.T) bus.Bus) {
	b := open(t)
	const parts = 4
	topic := newTopic(t, ctx, b, parts)
	group := uniqueName(t, "group")
	keys := keysCovering(parts, 3)
	key := func(i int) []byte { return keys[i%len(keys)] }

	mctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	out := make(chan memberBatch)
	for id := 0; id < 2; id++ {
		c := subscribe(t, ctx, b, group, topic)
		wg.Add(1)
		go runMember(mctx, id, c, out, &wg)
	}
	defer func() { stop(); wg.Wait() }()

	// Warm up until both members hold partitions and the group is stable.
	const warm = 200
	publishSeq(t, ctx, b, topic, 0, warm, 20, key)
	seen := map[int]bool{}
	perMember := [2]int{}
	for len(seen) < warm || perMember[0] == 0 || perMember[1] == 0 {
		if len(seen) == warm {
			// A member may have joined after the warm-up records were
			// taken; feed more until both hold partitions.
			publishSeq(t, ctx, b, topic, 1_000_000+perMember[0]+perMember[1], 1_000_000+perMember[0]+perMember[1]+len(keys), len(keys), key)
		}
		var mb memberBatch
		select {
		case mb = <-out:
		case <-ctx.Done():
			require.FailNow(t, "warm-up did not finish", "seen %d of %d, per member %v", len(seen), warm, perMember)
		}
		require.NoError(t, mb.err)
		for _, r := range mb.recs {
			if s := seqOf(t, r); s < warm {
				seen[s] = true
			}
		}
		perMember[mb.member] += len(mb.recs)
	}

	// Steady state: every record processed exactly once, each partition by
	// one member.
	const from, to = 2_000_000, 2_000_600
	publishSeq(t, ctx, b, topic, from, to, 50, key)
	count := map[int]int{}
	owner := map[int]int{}
	for len(count) < to-from {
		var mb memberBatch
		select {
		case mb = <-out:
		case <-ctx.Done():
			require.FailNow(t, "steady state did not finish", "seen %d of %d", len(count), to-from)
		}
		require.NoError(t, mb.err)
		for _, r := range mb.recs {
			s := seqOf(t, r)
			if s < from {
				continue
			}
			count[s]++
			if o, ok := owner[r.Partition]; ok {
				require.Equal(t, o, mb.member, "partition %d consumed by both members", r.Partition)
			}
			owner[r.Partition] = mb.member
		}
	}
	for s, n := range count {
		require.Equal(t, 1, n, "record %d processed %d times", s, n)
	}
	require.Len(t, owner, parts)
}

func testTwoGroups(t *testing.T, ctx context.Context, open func(t *testing.T) bus.Bus) {
	b := open(t)
	topic := newTopic(t, ctx, b, 3)
	const n = 60
	publishSeq(t, ctx, b, topic, 0, n, 15, func(i int) []byte { return []byte(strconv.Itoa(i)) })
	for g := 0; g < 2; g++ {
		c := subscribe(t, ctx, b, uniqueName(t, fmt.Sprintf("group%d", g)), topic)
		seen := map[int]bool{}
		for _, r := range consume(t, ctx, c, n, true) {
			seen[seqOf(t, r)] = true
		}
		require.Len(t, seen, n, "group %d gets every record", g)
	}
}

func testSeekReplay(t *testing.T, ctx context.Context, open func(t *testing.T) bus.Bus) {
	b := open(t)
	topic := newTopic(t, ctx, b, 1)
	group := uniqueName(t, "group")
	publishSeq(t, ctx, b, topic, 0, 10, 10, nil)

	c := subscribe(t, ctx, b, group, topic)
	all := consume(t, ctx, c, 10, true)
	require.NoError(t, c.Close())

	require.NoError(t, b.Seek(ctx, group, topic, 0, bus.OffsetOldest))
	c = subscribe(t, ctx, b, group, topic)
	replay := consume(t, ctx, c, 10, true)
	for i := range all {
		require.Equal(t, all[i].Offset, replay[i].Offset, "replay from the oldest record")
	}
	require.NoError(t, c.Close())

	require.NoError(t, b.Seek(ctx, group, topic, 0, all[6].Offset))
	c = subscribe(t, ctx, b, group, topic)
	rest := consume(t, ctx, c, 4, true)
	for i, r := range rest {
		require.Equal(t, all[6+i].Offset, r.Offset, "replay from a given offset")
	}
	require.NoError(t, c.Close())
}

func testFetchCancel(t *testing.T, ctx context.Context, open func(t *testing.T) bus.Bus) {
	b := open(t)
	topic := newTopic(t, ctx, b, 2)
	c := subscribe(t, ctx, b, uniqueName(t, "group"), topic)

	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := c.Fetch(fctx, 10)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-ctx.Done():
		require.FailNow(t, "Fetch did not return after its context was cancelled")
	}

	dctx, dcancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer dcancel()
	_, err := c.Fetch(dctx, 10)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	// The consumer still works after a cancelled Fetch.
	publishSeq(t, ctx, b, topic, 0, 4, 4, nil)
	got := consume(t, ctx, c, 4, true)
	require.Len(t, got, 4)
}

func testUnknownTopic(t *testing.T, ctx context.Context, open func(t *testing.T) bus.Bus) {
	b := open(t)
	missing := uniqueName(t, "missing")
	err := b.Publish(ctx, bus.Record{Topic: missing, Value: []byte("x")})
	require.ErrorIs(t, err, bus.ErrUnknownTopic)
	_, err = b.Subscribe(ctx, uniqueName(t, "group"), missing)
	require.ErrorIs(t, err, bus.ErrUnknownTopic)
	_, err = b.Partitions(ctx, missing)
	require.ErrorIs(t, err, bus.ErrUnknownTopic)
	_, err = b.Read(ctx, missing, 0, 0, 10)
	require.ErrorIs(t, err, bus.ErrUnknownTopic)

	// A batch that names an unknown topic fails.
	known := newTopic(t, ctx, b, 1)
	err = b.Publish(ctx, bus.Record{Topic: known, Value: []byte("a")}, bus.Record{Topic: missing, Value: []byte("b")})
	require.ErrorIs(t, err, bus.ErrUnknownTopic)
}

func testEnsureTopic(t *testing.T, ctx context.Context, open func(t *testing.T) bus.Bus) {
	b := open(t)
	name := uniqueName(t, "topic")
	require.NoError(t, b.EnsureTopic(ctx, bus.TopicConfig{Name: name, Partitions: 3}))
	publishSeq(t, ctx, b, name, 0, 6, 6, nil)
	require.NoError(t, b.EnsureTopic(ctx, bus.TopicConfig{Name: name, Partitions: 3}))
	require.NoError(t, b.EnsureTopic(ctx, bus.TopicConfig{Name: name, Partitions: 5, Retention: 72 * time.Hour, RetentionBytes: 1 << 30}),
		"an existing topic keeps its partitions and takes the new retention")
	n, err := b.Partitions(ctx, name)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	total := 0
	for p := 0; p < n; p++ {
		total += len(readAll(t, ctx, b, name, p))
	}
	require.Equal(t, 6, total, "records survive EnsureTopic")

	dflt := uniqueName(t, "topic")
	require.NoError(t, b.EnsureTopic(ctx, bus.TopicConfig{Name: dflt}))
	n, err = b.Partitions(ctx, dflt)
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, 1)

	for _, bad := range []string{"", ".", "..", "has space", "slash/topic", "ü-umlaut", strings.Repeat("x", 250)} {
		require.Error(t, b.EnsureTopic(ctx, bus.TopicConfig{Name: bad, Partitions: 1}), "invalid name %q", bad)
	}
	long := uniqueName(t, "long")
	long += strings.Repeat("y", 249-len(long))
	require.NoError(t, b.EnsureTopic(ctx, bus.TopicConfig{Name: long, Partitions: 1}), "249 characters of [a-zA-Z0-9._-] is valid")
}

func testConcurrency(t *testing.T, ctx context.Context, open func(t *testing.T) bus.Bus) {
	b := open(t)
	const parts, producers, per = 4, 4, 250
	topic := newTopic(t, ctx, b, parts)
	group := uniqueName(t, "group")

	mctx, stop := context.WithCancel(ctx)
	var mwg sync.WaitGroup
	out := make(chan memberBatch)
	for id := 0; id < 2; id++ {
		c := subscribe(t, ctx, b, group, topic)
		mwg.Add(1)
		go runMember(mctx, id, c, out, &mwg)
	}
	defer func() { stop(); mwg.Wait() }()

	perr := make(chan error, producers)
	for p := 0; p < producers; p++ {
		go func() {
			for i := p * per; i < (p+1)*per; i += 10 {
				var recs []bus.Record
				for k := i; k < i+10; k++ {
					r := bus.Record{Topic: topic, Value: value(k)}
					if k%2 == 0 {
						r.Key = []byte(fmt.Sprintf("k%d", k%13))
					}
					recs = append(recs, r)
				}
				if err := b.Publish(ctx, recs...); err != nil {
					perr <- err
					return
				}
			}
			perr <- nil
		}()
	}
	seen := map[int]bool{}
	done := 0
	for len(seen) < producers*per || done < producers {
		select {
		case err := <-perr:
			require.NoError(t, err)
			done++
		case mb := <-out:
			require.NoError(t, mb.err)
			for _, r := range mb.recs {
				seen[seqOf(t, r)] = true
			}
		case <-ctx.Done():
			require.FailNow(t, "concurrent consumption did not finish", "seen %d of %d", len(seen), producers*per)
		}
	}

	// Per partition, offsets and per-key order hold under concurrency.
	total := 0
	for p := 0; p < parts; p++ {
		recs := readAll(t, ctx, b, topic, p)
		total += len(recs)
		for i := 1; i < len(recs); i++ {
			require.Greater(t, recs[i].Offset, recs[i-1].Offset)
		}
	}
	require.Equal(t, producers*per, total)
}

func testClosed(t *testing.T, ctx context.Context, open func(t *testing.T) bus.Bus) {
	b := open(t)
	topic := newTopic(t, ctx, b, 1)

	c := subscribe(t, ctx, b, uniqueName(t, "group"), topic)
	require.NoError(t, c.Close())
	_, err := c.Fetch(ctx, 1)
	require.ErrorIs(t, err, bus.ErrClosed, "Fetch after the consumer's Close")
	require.NoError(t, c.Close(), "consumer Close is idempotent")

	c = subscribe(t, ctx, b, uniqueName(t, "group"), topic)
	fetched := make(chan error, 1)
	go func() {
		_, err := c.Fetch(ctx, 1)
		fetched <- err
	}()
	require.NoError(t, b.Close())
	select {
	case err := <-fetched:
		require.ErrorIs(t, err, bus.ErrClosed, "a waiting Fetch fails when the bus closes")
	case <-ctx.Done():
		require.FailNow(t, "Fetch did not return after the bus closed")
	}
	_, err = c.Fetch(ctx, 1)
	require.ErrorIs(t, err, bus.ErrClosed)
	err = b.Publish(ctx, bus.Record{Topic: topic, Value: []byte("late")})
	require.ErrorIs(t, err, bus.ErrClosed)
	require.NoError(t, b.Close(), "Close is idempotent")
}
