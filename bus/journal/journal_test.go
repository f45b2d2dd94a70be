package journal_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/bus/bustest"
	"github.com/mamori-soc/mamori/bus/journal"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func openAt(t *testing.T, path string, opts journal.Options) *journal.Journal {
	t.Helper()
	j, err := journal.Open(path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, j.Close()) })
	return j
}

func openTemp(t *testing.T, opts journal.Options) (*journal.Journal, string) {
	path := filepath.Join(t.TempDir(), "bus.db")
	return openAt(t, path, opts), path
}

func TestConformance(t *testing.T) {
	bustest.Run(t, func(t *testing.T) bus.Bus {
		// No polling: a consumer must be woken by the publishes of its own
		// process, or the suite hangs.
		j, _ := openTemp(t, journal.Options{PollInterval: -1})
		return j
	})
}

func TestConformanceSyncNormal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite again")
	}
	bustest.Run(t, func(t *testing.T) bus.Bus {
		j, _ := openTemp(t, journal.Options{Sync: journal.SyncNormal, DefaultPartitions: 2})
		return j
	})
}

func values(recs []bus.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Value)
	}
	return out
}

func offsets(recs []bus.Record) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.Offset
	}
	return out
}

func publishN(t *testing.T, ctx context.Context, j bus.Bus, topic string, from, to int, at time.Time) {
	t.Helper()
	var recs []bus.Record
	for i := from; i < to; i++ {
		recs = append(recs, bus.Record{Topic: topic, Value: []byte(strconv.Itoa(i)), Time: at})
	}
	require.NoError(t, j.Publish(ctx, recs...))
}

func readAll(t *testing.T, ctx context.Context, j bus.Bus, topic string, p int) []bus.Record {
	t.Helper()
	recs, err := j.Read(ctx, topic, p, bus.OffsetOldest, 1_000_000)
	require.NoError(t, err)
	return recs
}

func fetchN(t *testing.T, ctx context.Context, c bus.Consumer, n int) []bus.Record {
	t.Helper()
	var out []bus.Record
	for len(out) < n {
		recs, err := c.Fetch(ctx, n-len(out))
		require.NoError(t, err)
		out = append(out, recs...)
	}
	return out
}

func TestRetentionByTime(t *testing.T) {
	ctx := testCtx(t)
	j, _ := openTemp(t, journal.Options{SweepInterval: -1})
	require.NoError(t, j.EnsureTopic(ctx, bus.TopicConfig{Name: "old", Partitions: 1, Retention: time.Hour}))
	require.NoError(t, j.EnsureTopic(ctx, bus.TopicConfig{Name: "forever", Partitions: 1}))

	publishN(t, ctx, j, "old", 0, 10, time.Now().Add(-2*time.Hour))
	publishN(t, ctx, j, "old", 10, 15, time.Time{})
	publishN(t, ctx, j, "forever", 0, 10, time.Now().Add(-2*time.Hour))

	n, err := j.Sweep(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 10, n)
	got := readAll(t, ctx, j, "old", 0)
	require.Equal(t, []int64{10, 11, 12, 13, 14}, offsets(got))
	require.Len(t, readAll(t, ctx, j, "forever", 0), 10, "a topic without retention keeps everything")

	// A new group starts at the oldest retained record.
	c, err := j.Subscribe(ctx, "g", "old")
	require.NoError(t, err)
	require.Equal(t, []int64{10, 11, 12, 13, 14}, offsets(fetchN(t, ctx, c, 5)))
	require.NoError(t, c.Close())

	// Everything expires; offsets are never reused.
	require.NoError(t, j.EnsureTopic(ctx, bus.TopicConfig{Name: "old", Retention: time.Millisecond}))
	publishN(t, ctx, j, "old", 15, 16, time.Now().Add(-time.Hour))
	n, err = j.Sweep(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 6, n)
	require.Empty(t, readAll(t, ctx, j, "old", 0))
	publishN(t, ctx, j, "old", 16, 17, time.Time{})
	require.Equal(t, []int64{16}, offsets(readAll(t, ctx, j, "old", 0)))
}

func TestRetentionByBytes(t *testing.T) {
	ctx := testCtx(t)
	j, path := openTemp(t, journal.Options{SweepInterval: -1})
	require.NoError(t, j.EnsureTopic(ctx, bus.TopicConfig{Name: "capped", Partitions: 2, RetentionBytes: 1000}))
	// 100-byte values, no key, no headers: 100 bytes each; unkeyed records
	// alternate between the two partitions.
	var recs []bus.Record
	for i := 0; i < 100; i++ {
		recs = append(recs, bus.Record{Topic: "capped", Value: fmt.Appendf(nil, "%0100d", i)})
	}
	require.NoError(t, j.Publish(ctx, recs...))
	n, err := j.Sweep(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 80, n)
	for p := 0; p < 2; p++ {
		got := readAll(t, ctx, j, "capped", p)
		require.Equal(t, []int64{40, 41, 42, 43, 44, 45, 46, 47, 48, 49}, offsets(got), "partition %d keeps its newest 1000 bytes", p)
	}
	n, err = j.Sweep(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing more to delete")

	// The byte count survives a reopen and offsets go on.
	require.NoError(t, j.Close())
	j = openAt(t, path, journal.Options{SweepInterval: -1})
	require.NoError(t, j.Publish(ctx, bus.Record{Topic: "capped", Key: []byte("k"), Value: fmt.Appendf(nil, "%099d", 0)}))
	p := bus.PartitionFor([]byte("k"), 2)
	n, err = j.Sweep(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	got := readAll(t, ctx, j, "capped", p)
	require.Len(t, got, 10)
	require.EqualValues(t, 50, got[len(got)-1].Offset)
}

func TestBackgroundSweep(t *testing.T) {
	ctx := testCtx(t)
	j, _ := openTemp(t, journal.Options{SweepInterval: 5 * time.Millisecond})
	require.NoError(t, j.EnsureTopic(ctx, bus.TopicConfig{Name: "t", Retention: time.Minute}))
	publishN(t, ctx, j, "t", 0, 20, time.Now().Add(-time.Hour))
	for len(readAll(t, ctx, j, "t", 0)) > 0 {
		select {
		case <-ctx.Done():
			require.FailNow(t, "the background sweep never ran")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := testCtx(t)
	path := filepath.Join(t.TempDir(), "bus.db")
	j, err := journal.Open(path, journal.Options{})
	require.NoError(t, err)
	require.NoError(t, j.EnsureTopic(ctx, bus.TopicConfig{Name: "t", Partitions: 3, Retention: 24 * time.Hour}))
	var recs []bus.Record
	for i := 0; i < 30; i++ {
		recs = append(recs, bus.Record{Topic: "t", Key: []byte(strconv.Itoa(i % 5)), Value: []byte(strconv.Itoa(i)),
			Headers: []bus.Header{{Key: "h", Value: []byte{0, byte(i)}}}})
	}
	require.NoError(t, j.Publish(ctx, recs...))
	before := map[int][]bus.Record{}
	for p := 0; p < 3; p++ {
		before[p] = readAll(t, ctx, j, "t", p)
	}
	c, err := j.Subscribe(ctx, "g", "t")
	require.NoError(t, err)
	got := fetchN(t, ctx, c, 30)
	committed := map[int]int64{}
	for _, r := range got[:len(got)/2] {
		require.NoError(t, c.Commit(ctx, r))
		committed[r.Partition] = r.Offset + 1
	}
	require.NoError(t, j.Close())
	_, err = c.Fetch(ctx, 1)
	require.ErrorIs(t, err, bus.ErrClosed)

	j = openAt(t, path, journal.Options{})
	n, err := j.Partitions(ctx, "t")
	require.NoError(t, err)
	require.Equal(t, 3, n)
	total := 0
	for p := 0; p < 3; p++ {
		after := readAll(t, ctx, j, "t", p)
		require.Equal(t, before[p], after, "partition %d unchanged", p)
		total += len(after)
	}
	require.Equal(t, 30, total)

	c, err = j.Subscribe(ctx, "g", "t")
	require.NoError(t, err)
	rest := fetchN(t, ctx, c, 30-len(got)/2)
	for _, r := range rest {
		require.GreaterOrEqual(t, r.Offset, committed[r.Partition], "resumes at the committed offset of partition %d", r.Partition)
	}
	// Offsets continue after a reopen.
	require.NoError(t, j.Publish(ctx, bus.Record{Topic: "t", Key: []byte("0"), Value: []byte("new")}))
	p := bus.PartitionFor([]byte("0"), 3)
	all := readAll(t, ctx, j, "t", p)
	require.Equal(t, before[p][len(before[p])-1].Offset+1, all[len(all)-1].Offset)
}

func TestConsumerLock(t *testing.T) {
	ctx := testCtx(t)
	j1, path := openTemp(t, journal.Options{PollInterval: 5 * time.Millisecond})
	require.NoError(t, j1.EnsureTopic(ctx, bus.TopicConfig{Name: "t", Partitions: 2}))
	c1, err := j1.Subscribe(ctx, "g", "t")
	require.NoError(t, err)
	_, err = os.Stat(path + ".g.lock")
	require.NoError(t, err, "the group's lock file sits beside the database")

	// A second handle, as another process would have, may publish and read
	// but not consume the same group; other groups are free.
	j2 := openAt(t, path, journal.Options{})
	_, err = j2.Subscribe(ctx, "g", "t")
	require.ErrorIs(t, err, journal.ErrLocked)
	require.Contains(t, err.Error(), "process "+strconv.Itoa(os.Getpid()), "the error names the holder")
	other, err := j2.Subscribe(ctx, "other", "t")
	require.NoError(t, err)
	require.NoError(t, other.Close())
	require.NoError(t, j2.Publish(ctx, bus.Record{Topic: "t", Value: []byte("from j2")}))

	// The consumer notices the other writer's record by polling.
	got := fetchN(t, ctx, c1, 1)
	require.Equal(t, "from j2", string(got[0].Value))
	require.NoError(t, c1.Commit(ctx, got...))
	total := len(readAll(t, ctx, j2, "t", 0)) + len(readAll(t, ctx, j2, "t", 1))
	require.Equal(t, 1, total)

	// Once the consumer's journal closes, another may consume.
	require.NoError(t, j1.Close())
	c2, err := j2.Subscribe(ctx, "g", "t")
	require.NoError(t, err)
	require.NoError(t, j2.Publish(ctx, bus.Record{Topic: "t", Value: []byte("second")}))
	got = fetchN(t, ctx, c2, 1)
	require.Equal(t, "second", string(got[0].Value), "the committed record is not delivered again")
}

func TestTwoHandlesPublishConcurrently(t *testing.T) {
	ctx := testCtx(t)
	j1, path := openTemp(t, journal.Options{})
	j2 := openAt(t, path, journal.Options{})
	require.NoError(t, j1.EnsureTopic(ctx, bus.TopicConfig{Name: "t", Partitions: 1}))
	errs := make(chan error, 2)
	for w, j := range []*journal.Journal{j1, j2} {
		go func() {
			for i := 0; i < 50; i++ {
				var recs []bus.Record
				for k := 0; k < 10; k++ {
					recs = append(recs, bus.Record{Topic: "t", Value: fmt.Appendf(nil, "%d-%d-%d", w, i, k)})
				}
				if err := j.Publish(ctx, recs...); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
	all := readAll(t, ctx, j1, "t", 0)
	require.Len(t, all, 1000)
	for i, r := range all {
		require.EqualValues(t, i, r.Offset, "offsets are dense and unique across writers")
	}
	// Each call's records are contiguous: a transaction is never interleaved.
	for i := 0; i < len(all); i += 10 {
		var w, b, k int
		_, err := fmt.Sscanf(string(all[i].Value), "%d-%d-%d", &w, &b, &k)
		require.NoError(t, err)
		for x := 1; x < 10; x++ {
			require.Equal(t, fmt.Sprintf("%d-%d-%d", w, b, x), string(all[i+x].Value))
		}
	}
}

func TestRebalance(t *testing.T) {
	ctx := testCtx(t)
	j, _ := openTemp(t, journal.Options{})
	require.NoError(t, j.EnsureTopic(ctx, bus.TopicConfig{Name: "t", Partitions: 4}))
	// Two records per partition.
	for p := 0; p < 4; p++ {
		for k := 0; k < 2; k++ {
			require.NoError(t, j.Publish(ctx, bus.Record{Topic: "t", Key: keyFor(p, 4, k), Value: fmt.Appendf(nil, "p%d-%d", p, k)}))
		}
	}
	a, err := j.Subscribe(ctx, "g", "t")
	require.NoError(t, err)
	got := fetchN(t, ctx, a, 8)
	byPart := map[int][]bus.Record{}
	for _, r := range got {
		byPart[r.Partition] = append(byPart[r.Partition], r)
	}
	require.Len(t, byPart, 4, "a lone member owns every partition")
	// a processed everything but committed only partitions 0 and 1.
	require.NoError(t, a.Commit(ctx, byPart[0][1], byPart[1][1]))

	// b joins: round-robin gives a partitions 0 and 2, b partitions 1 and 3.
	b, err := j.Subscribe(ctx, "g", "t")
	require.NoError(t, err)
	moved := fetchN(t, ctx, b, 2)
	require.Equal(t, []string{"p3-0", "p3-1"}, values(moved), "the uncommitted records of a moved partition are delivered again")
	require.NoError(t, b.Commit(ctx, moved...))
	// a's commit of a partition it lost has no effect and is not an error.
	require.NoError(t, a.Commit(ctx, byPart[3][1]))

	for p := 0; p < 4; p++ {
		require.NoError(t, j.Publish(ctx, bus.Record{Topic: "t", Key: keyFor(p, 4, 0), Value: fmt.Appendf(nil, "p%d-new", p)}))
	}
	ra := fetchN(t, ctx, a, 2)
	rb := fetchN(t, ctx, b, 2)
	require.ElementsMatch(t, []string{"p0-new", "p2-new"}, values(ra), "a keeps its positions on the partitions it kept")
	require.ElementsMatch(t, []string{"p1-new", "p3-new"}, values(rb))
	require.NoError(t, b.Commit(ctx, rb...))

	// b leaves: a takes its partitions back from b's commits.
	require.NoError(t, b.Close())
	require.NoError(t, j.Publish(ctx, bus.Record{Topic: "t", Key: keyFor(1, 4, 0), Value: []byte("p1-last")}))
	back := fetchN(t, ctx, a, 1)
	require.Equal(t, []string{"p1-last"}, values(back))
}

// keyFor returns the k-th key that lands in partition p of n.
func keyFor(p, n, k int) []byte {
	for i := 0; ; i++ {
		key := fmt.Appendf(nil, "key-%d", i)
		if bus.PartitionFor(key, n) == p {
			if k == 0 {
				return key
			}
			k--
		}
	}
}

func TestSeekLiveMember(t *testing.T) {
	ctx := testCtx(t)
	j, _ := openTemp(t, journal.Options{})
	require.NoError(t, j.EnsureTopic(ctx, bus.TopicConfig{Name: "t"}))
	publishN(t, ctx, j, "t", 0, 5, time.Time{})
	c, err := j.Subscribe(ctx, "g", "t")
	require.NoError(t, err)
	recs := fetchN(t, ctx, c, 5)
	require.NoError(t, c.Commit(ctx, recs...))

	require.NoError(t, j.Seek(ctx, "g", "t", 0, 2))
	again := fetchN(t, ctx, c, 3)
	require.Equal(t, []int64{2, 3, 4}, offsets(again), "Seek moves a live member's fetch position")

	require.NoError(t, j.Seek(ctx, "g", "t", 0, 5), "seeking to the end is allowed")
	require.Error(t, j.Seek(ctx, "g", "t", 0, 6), "beyond the end")
	require.Error(t, j.Seek(ctx, "g", "t", 0, -7))
	require.ErrorIs(t, j.Seek(ctx, "g", "t", 1, 0), bus.ErrUnknownTopic, "no such partition")
	require.ErrorIs(t, j.Seek(ctx, "g", "nope", 0, 0), bus.ErrUnknownTopic)
}

func TestOptionsAndFiles(t *testing.T) {
	dir := t.TempDir()
	_, err := journal.Open(filepath.Join(dir, "a.db"), journal.Options{Sync: journal.SyncMode(7)})
	require.Error(t, err)
	_, err = journal.Open(filepath.Join(dir, "missing", "a.db"), journal.Options{})
	require.Error(t, err, "the directory must exist")

	// Another application's SQLite file is refused.
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	require.NoError(t, err)
	_, err = db.Exec("PRAGMA application_id = 42; CREATE TABLE x (y)")
	require.NoError(t, err)
	require.NoError(t, db.Close())
	_, err = journal.Open(other, journal.Options{})
	require.ErrorContains(t, err, "not a Mamori journal")

	// A path with URI-special characters works.
	j, err := journal.Open(filepath.Join(dir, "we?ird #name%20.db"), journal.Options{})
	require.NoError(t, err)
	require.NoError(t, j.EnsureTopic(context.Background(), bus.TopicConfig{Name: "t"}))
	require.NoError(t, j.Close())
	_, err = os.Stat(filepath.Join(dir, "we?ird #name%20.db"))
	require.NoError(t, err)
}
