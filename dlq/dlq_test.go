package dlq_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/bus/journal"
	"github.com/mamori-soc/mamori/dlq"
)

func TestWrapKeepsTheRecordWhole(t *testing.T) {
	orig := bus.Record{Topic: bus.TopicRawSyslog, Partition: 1, Offset: 99, Key: []byte("192.0.2.1"),
		Value: []byte("\xff\x00binary"), Headers: []bus.Header{{Key: bus.HeaderReceiver, Value: []byte("udp")}}}
	now := time.Date(2026, 11, 26, 1, 2, 3, 0, time.UTC)
	d := dlq.Wrap(orig, "parse", errors.New("not UTF-8 or Shift_JIS text"), now)
	require.Equal(t, bus.TopicDLQ, d.Topic)
	require.Equal(t, orig.Value, d.Value)

	l := dlq.Describe(d)
	require.Equal(t, "parse", l.Stage)
	require.Equal(t, "not UTF-8 or Shift_JIS text", l.Error)
	require.Equal(t, bus.TopicRawSyslog, l.SourceTopic)
	require.Equal(t, "1/99", l.Source)
	require.Equal(t, now, l.FailedAt)

	back, err := dlq.Unwrap(d)
	require.NoError(t, err)
	require.Equal(t, orig.Topic, back.Topic)
	require.Equal(t, orig.Key, back.Key)
	require.Equal(t, orig.Value, back.Value)
	require.Equal(t, orig.Headers, back.Headers, "replay restores exactly the original headers, so the event id is the same")

	_, err = dlq.Unwrap(bus.Record{Topic: bus.TopicDLQ})
	require.ErrorIs(t, err, dlq.ErrNotDeadLetter)
}

func TestListAndReplay(t *testing.T) {
	ctx := context.Background()
	j, err := journal.Open(filepath.Join(t.TempDir(), "j.db"), journal.Options{PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	defer j.Close()
	for _, topic := range []string{bus.TopicRawSyslog, bus.TopicDLQ} {
		require.NoError(t, j.EnsureTopic(ctx, bus.TopicConfig{Name: topic}))
	}
	now := time.Now()
	var letters []bus.Record
	for _, v := range []string{"one", "two", "three"} {
		letters = append(letters, dlq.Wrap(bus.Record{Topic: bus.TopicRawSyslog, Value: []byte(v)}, "parse", errors.New("bad "+v), now))
	}
	require.NoError(t, j.Publish(ctx, letters...))

	var listed []string
	require.NoError(t, dlq.List(ctx, j, func(r bus.Record) error {
		listed = append(listed, dlq.Describe(r).Error)
		return nil
	}))
	require.Equal(t, []string{"bad one", "bad two", "bad three"}, listed)

	replayed, skipped, err := dlq.Replay(ctx, j, 300*time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, 3, replayed)
	require.Zero(t, skipped)
	raw, err := j.Read(ctx, bus.TopicRawSyslog, 0, bus.OffsetOldest, 10)
	require.NoError(t, err)
	require.Len(t, raw, 3)
	require.Equal(t, "one", string(raw[0].Value))
	_, has := raw[0].Header(bus.HeaderError)
	require.False(t, has, "replayed records carry no DLQ headers")

	replayed, _, err = dlq.Replay(ctx, j, 300*time.Millisecond)
	require.NoError(t, err)
	require.Zero(t, replayed, "each dead letter is replayed once")

	// A record that fails again while a replay runs is a new dead letter:
	// this replay leaves it for the next one instead of looping on it.
	later := dlq.Wrap(bus.Record{Topic: bus.TopicRawSyslog, Value: []byte("again")}, "parse", errors.New("bad again"), time.Now().Add(time.Hour))
	require.NoError(t, j.Publish(ctx, later))
	replayed, _, err = dlq.Replay(ctx, j, 300*time.Millisecond)
	require.NoError(t, err)
	require.Zero(t, replayed)
}
