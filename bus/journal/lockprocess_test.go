package journal_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/bus/journal"
)

// lockEnv switches the test binary into the child of
// TestConsumerLockAcrossProcesses; its value is the journal path.
const lockEnv = "MAMORI_JOURNAL_LOCK_CHILD"

// TestConsumerLockAcrossProcesses checks that a second process cannot
// consume a journal another process consumes, gets a clear error, and may
// still publish, and that the consumer sees what it published by polling.
func TestConsumerLockAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	ctx := testCtx(t)
	j, path := openTemp(t, journal.Options{PollInterval: 10 * time.Millisecond})
	require.NoError(t, j.EnsureTopic(ctx, bus.TopicConfig{Name: "t", Partitions: 1}))
	c, err := j.Subscribe(ctx, "g", "t")
	require.NoError(t, err)

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestConsumerLockChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), lockEnv+"="+path)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "subscribe: locked: journal: consumed by another process: lock "+path+".g.lock is held by process "+strconv.Itoa(os.Getpid()))
	require.Contains(t, string(out), "other group: ok", "another group may be consumed by another process")
	require.Contains(t, string(out), "publish: ok")

	got := fetchN(t, ctx, c, 1)
	require.Equal(t, "from the child", string(got[0].Value))
}

// TestConsumerLockChild is the child of TestConsumerLockAcrossProcesses; it
// does nothing in a normal run.
func TestConsumerLockChild(t *testing.T) {
	path := os.Getenv(lockEnv)
	if path == "" {
		t.Skip("helper process of TestConsumerLockAcrossProcesses")
	}
	ctx := context.Background()
	j, err := journal.Open(path, journal.Options{})
	require.NoError(t, err)
	defer func() { require.NoError(t, j.Close()) }()

	_, err = j.Subscribe(ctx, "g", "t")
	switch {
	case errors.Is(err, journal.ErrLocked):
		fmt.Println("subscribe: locked:", strings.TrimSpace(err.Error()))
	default:
		fmt.Println("subscribe: unexpected:", err)
	}
	if other, err := j.Subscribe(ctx, "h", "t"); err == nil {
		fmt.Println("other group: ok")
		other.Close()
	} else {
		fmt.Println("other group:", err)
	}
	err = j.Publish(ctx, bus.Record{Topic: "t", Value: []byte("from the child")})
	if err == nil {
		fmt.Println("publish: ok")
	} else {
		fmt.Println("publish:", err)
	}
}
