package ingest_test

import (
	"errors"
	"net"
	"net/netip"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/ingest"
)

// steppingClock returns the readings in order, then the last one forever.
func steppingClock(readings ...time.Time) func() time.Time {
	var mu sync.Mutex
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := readings[0]
		if len(readings) > 1 {
			readings = readings[1:]
		}
		return t
	}
}

func TestStampHeadersAndKey(t *testing.T) {
	at := time.Date(2025, 11, 26, 14, 0, 0, 120000000, time.FixedZone("JST", 9*3600))
	s := ingest.NewStamper(ingest.StamperConfig{
		Topic: bus.TopicRawSyslog, Receiver: "edge-1", Transport: "tcp", Format: "syslog", Now: steppingClock(at),
	})
	r := s.Stamp(ingest.NewPeer(netip.MustParseAddrPort("[::ffff:192.0.2.7]:51400")), []byte("<13>1 - - - - - - hi"), 20)

	require.Equal(t, bus.TopicRawSyslog, r.Topic)
	require.Equal(t, "192.0.2.7", string(r.Key), "key is the peer IP, IPv4-mapped addresses unmapped")
	require.Equal(t, "<13>1 - - - - - - hi", string(r.Value))
	h := func(k string) string { v, ok := r.Header(k); require.True(t, ok, k); return v }
	require.Equal(t, "2025-11-26T05:00:00.120000000Z", h(bus.HeaderReceived), "UTC, nine fractional digits")
	require.Equal(t, "edge-1", h(bus.HeaderReceiver))
	require.Equal(t, "192.0.2.7:51400", h(bus.HeaderPeer))
	require.Equal(t, "tcp", h(bus.HeaderTransport))
	require.Equal(t, "syslog", h(bus.HeaderFormat))
	_, truncated := r.Header(bus.HeaderTruncated)
	require.False(t, truncated)
	require.True(t, r.Time.Equal(at))

	m, err := ingest.Meta(&r)
	require.NoError(t, err)
	require.True(t, m.Received.Equal(at))
	require.Equal(t, "edge-1", m.Receiver)
	require.Equal(t, "192.0.2.7:51400", m.Peer)
	require.Equal(t, "tcp", m.Transport)
	require.Zero(t, m.Truncated)
}

func TestStampTruncated(t *testing.T) {
	s := ingest.NewStamper(ingest.StamperConfig{Receiver: "u", Transport: "udp", Format: "syslog"})
	r := s.Stamp(ingest.NewPeer(netip.MustParseAddrPort("[2001:db8::1]:514")), []byte("abc"), 204800)
	v, ok := r.Header(bus.HeaderTruncated)
	require.True(t, ok)
	require.Equal(t, "204800", v)
	require.Equal(t, "2001:db8::1", string(r.Key))
	m, err := ingest.Meta(&r)
	require.NoError(t, err)
	require.EqualValues(t, 204800, m.Truncated)
	require.Equal(t, "[2001:db8::1]:514", m.Peer)
}

func TestStampIsStrictlyIncreasingWhenTheClockRepeatsOrStepsBack(t *testing.T) {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := ingest.NewStamper(ingest.StamperConfig{Receiver: "r", Now: steppingClock(
		base, base, base, base.Add(-time.Hour), base.Add(time.Second), base.Add(time.Second),
	)})
	peer := ingest.NewPeer(netip.MustParseAddrPort("10.0.0.1:1"))
	var got []string
	ids := map[string]bool{}
	for range 6 {
		r := s.Stamp(peer, []byte("same message"), 12)
		v, _ := r.Header(bus.HeaderReceived)
		got = append(got, v)
		ids[event.ID(event.Source{Receiver: "r", Peer: peer.String(), Received: v}, r.Value)] = true
	}
	require.Equal(t, []string{
		"2025-01-01T00:00:00.000000000Z",
		"2025-01-01T00:00:00.000000001Z",
		"2025-01-01T00:00:00.000000002Z",
		"2025-01-01T00:00:00.000000003Z", // the clock stepped back an hour
		"2025-01-01T00:00:01.000000000Z",
		"2025-01-01T00:00:01.000000001Z",
	}, got)
	require.Len(t, ids, 6, "identical messages get distinct event ids")
}

func TestStampConcurrentStampsAreDistinct(t *testing.T) {
	fixed := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := ingest.NewStamper(ingest.StamperConfig{Now: func() time.Time { return fixed }})
	const n, workers = 500, 8
	var mu sync.Mutex
	var all []string
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var mine []string
			for range n {
				r := s.Stamp(ingest.NewPeer(netip.MustParseAddrPort("10.0.0.1:1")), nil, 0)
				v, _ := r.Header(bus.HeaderReceived)
				mine = append(mine, v)
			}
			require.True(t, sort.StringsAreSorted(mine))
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, v := range all {
		require.False(t, seen[v], "duplicate stamp %s", v)
		seen[v] = true
	}
}

func TestMetaRejectsBadHeaders(t *testing.T) {
	r := bus.Record{}
	_, err := ingest.Meta(&r)
	require.Error(t, err)
	r.SetHeader(bus.HeaderReceived, "yesterday")
	_, err = ingest.Meta(&r)
	require.Error(t, err)
	r.SetHeader(bus.HeaderReceived, "2025-01-01T00:00:00.000000000Z")
	r.SetHeader(bus.HeaderTruncated, "-5")
	_, err = ingest.Meta(&r)
	require.Error(t, err)
}

func TestUDPDropsCountsWhatTheKernelDropped(t *testing.T) {
	rx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer rx.Close()
	before, err := ingest.UDPDrops(rx)
	if err != nil {
		require.ErrorIs(t, err, ingest.ErrNotSupported)
		t.Skip("kernel drop counts not available here:", err)
	}
	require.NoError(t, rx.SetReadBuffer(1)) // the kernel's minimum
	if n, err := ingest.ReceiveBufferSize(rx); err == nil {
		require.Positive(t, n)
	}
	tx, err := net.DialUDP("udp", nil, rx.LocalAddr().(*net.UDPAddr))
	require.NoError(t, err)
	defer tx.Close()
	payload := make([]byte, 1024)
	// Nobody reads rx: after the first few datagrams the kernel drops.
	require.Eventually(t, func() bool {
		for range 100 {
			_, err := tx.Write(payload)
			if err != nil && !errors.Is(err, syscall.ECONNREFUSED) {
				require.NoError(t, err)
			}
		}
		after, err := ingest.UDPDrops(rx)
		require.NoError(t, err)
		return after > before
	}, 30*time.Second, 10*time.Millisecond)
}

func TestStampReceivedMatchesTheLayout(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2025, 2, 3, 4, 5, 6, 7, time.FixedZone("JST", 9*3600)),
		time.Date(2200, 1, 1, 0, 0, 0, 1000, time.UTC), // int64 nanoseconds reach 2262
		time.Unix(0, 1),
	} {
		s := ingest.NewStamper(ingest.StamperConfig{Now: func() time.Time { return at }})
		r := s.Stamp(ingest.NewPeer(netip.MustParseAddrPort("10.0.0.1:1")), nil, 0)
		v, _ := r.Header(bus.HeaderReceived)
		require.Equal(t, at.UTC().Format(ingest.ReceivedLayout), v)
		parsed, err := time.Parse(time.RFC3339Nano, v)
		require.NoError(t, err)
		require.True(t, parsed.Equal(at))
	}
}
