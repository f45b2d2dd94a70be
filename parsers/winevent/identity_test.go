package winevent_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

func TestIdentity(t *testing.T) {
	at := time.Date(2026, 11, 26, 1, 2, 3, 456_000_000, time.UTC)
	mk := func(record string, ts time.Time) *event.Event {
		e := &event.Event{Timestamp: ts, Fields: map[string]any{"winlog.channel": "Security", "winlog.computer_name": "FS01.city.example.lg.jp"}}
		if record != "" {
			e.Fields["winlog.record_id"] = record
		}
		return e
	}
	a, ok := winevent.Identity(mk("5512087", at))
	require.True(t, ok)
	b, _ := winevent.Identity(mk("5512087", at.Truncate(time.Second)))
	require.Equal(t, a, b, "formats that carry less precision are the same event")
	c, _ := winevent.Identity(mk("5512088", at))
	require.NotEqual(t, a, c)
	d, _ := winevent.Identity(mk("5512087", at.Add(48*time.Hour)))
	require.NotEqual(t, a, d, "a record number reused after the log was cleared is another event")
	_, ok = winevent.Identity(mk("", at))
	require.False(t, ok, "no record id (Snare): no identity")
	_, ok = winevent.Identity(&event.Event{Timestamp: at, Fields: map[string]any{"message": "syslog"}})
	require.False(t, ok)
}
