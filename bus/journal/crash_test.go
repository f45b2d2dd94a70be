package journal_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/bus/journal"
)

// crashEnv switches the test binary into the crash child (see
// TestCrashChild): its value is the journal path.
const crashEnv = "MAMORI_JOURNAL_CRASH_CHILD"

const crashTopic = "crash"

// TestCrashDurability runs a child process that publishes batches in a loop
// and prints the last sequence number of each acknowledged batch, SIGKILLs
// it at random points several times, and checks after each kill that every
// acknowledged record is present, in order, exactly once, and that no batch
// is torn.
func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 1))

	acked := int64(-1)
	const rounds = 8
	for round := 0; round < rounds; round++ {
		killAfter := 1 + rnd.IntN(25) // acknowledgements to wait for
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+path, fmt.Sprintf("MAMORI_CRASH_SEED=%d", rnd.Uint64()))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }) // if a check fails first

		sc := bufio.NewScanner(out)
		acks := 0
		for acks < killAfter && sc.Scan() {
			line, ok := strings.CutPrefix(sc.Text(), "ack ")
			if !ok {
				continue
			}
			n, err := strconv.ParseInt(line, 10, 64)
			require.NoError(t, err)
			require.Greater(t, n, acked, "acknowledgements increase")
			acked = n
			acks++
		}
		// Land the kill at a random point of the batches that follow; the
		// delay only spreads the moment, nothing depends on it.
		time.Sleep(time.Duration(rnd.IntN(3000)) * time.Microsecond)
		require.NoError(t, cmd.Process.Kill()) // SIGKILL
		_ = cmd.Wait()
		require.Equal(t, killAfter, acks, "child ended early: %s", stderr.String())

		verifyCrashJournal(t, path, acked)
	}
}

// verifyCrashJournal checks the journal after a kill.
func verifyCrashJournal(t *testing.T, path string, acked int64) {
	t.Helper()
	ctx := testCtx(t)

	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	var check string
	require.NoError(t, db.QueryRow("PRAGMA integrity_check").Scan(&check))
	require.NoError(t, db.Close())
	require.Equal(t, "ok", check)

	j, err := journal.Open(path, journal.Options{SweepInterval: -1})
	require.NoError(t, err)
	defer func() { require.NoError(t, j.Close()) }()
	recs, err := j.Read(ctx, crashTopic, 0, bus.OffsetOldest, 10_000_000)
	require.NoError(t, err)
	require.Greater(t, int64(len(recs)), acked, "every acknowledged record survives (last acknowledged %d)", acked)

	batch := ""
	want := 0
	inBatch := 0
	for i, r := range recs {
		seq, err := strconv.ParseInt(string(r.Value), 10, 64)
		require.NoError(t, err)
		require.EqualValues(t, i, seq, "records in order, no gaps, no duplicates")
		require.EqualValues(t, i, r.Offset)
		id, _ := r.Header("batch")
		if id != batch {
			require.Equal(t, want, inBatch, "batch %s is whole", batch)
			batch = id
			n, _ := r.Header("n")
			want, err = strconv.Atoi(n)
			require.NoError(t, err)
			inBatch = 0
		}
		inBatch++
	}
	require.Equal(t, want, inBatch, "the last batch %s is whole", batch)
}

// TestCrashChild is the child process of TestCrashDurability; it does
// nothing in a normal run.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("helper process of TestCrashDurability")
	}
	seed, _ := strconv.ParseUint(os.Getenv("MAMORI_CRASH_SEED"), 10, 64)
	rnd := rand.New(rand.NewPCG(seed, 2))
	ctx := context.Background()
	j, err := journal.Open(path, journal.Options{Sync: journal.SyncFull})
	require.NoError(t, err)
	require.NoError(t, j.EnsureTopic(ctx, bus.TopicConfig{Name: crashTopic, Partitions: 1}))

	// Continue after the last stored record.
	next := int64(0)
	from := bus.OffsetOldest
	for {
		recs, err := j.Read(ctx, crashTopic, 0, from, 10_000)
		require.NoError(t, err)
		if len(recs) == 0 {
			break
		}
		last := recs[len(recs)-1]
		next, err = strconv.ParseInt(string(last.Value), 10, 64)
		require.NoError(t, err)
		next++
		from = last.Offset + 1
	}

	payload := bytes.Repeat([]byte("x"), 200)
	for b := 0; ; b++ {
		n := 1 + rnd.IntN(300)
		id := fmt.Sprintf("%d-%d", os.Getpid(), b)
		recs := make([]bus.Record, n)
		for i := range recs {
			recs[i] = bus.Record{
				Topic:   crashTopic,
				Key:     []byte("same-key"),
				Value:   strconv.AppendInt(nil, next+int64(i), 10),
				Headers: []bus.Header{{Key: "batch", Value: []byte(id)}, {Key: "n", Value: []byte(strconv.Itoa(n))}, {Key: "pad", Value: payload}},
			}
		}
		require.NoError(t, j.Publish(ctx, recs...))
		next += int64(n)
		// Unbuffered: the parent sees the acknowledgement at once.
		_, err := fmt.Fprintf(os.Stdout, "ack %d\n", next-1)
		require.NoError(t, err)
	}
}
