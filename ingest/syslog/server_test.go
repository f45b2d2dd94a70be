package syslog_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/ingest"
	"github.com/mamori-soc/mamori/ingest/syslog"
	"github.com/mamori-soc/mamori/internal/fakebus"
	"github.com/mamori-soc/mamori/internal/metrictest"
	"github.com/mamori-soc/mamori/internal/testpki"
)

func header(t *testing.T, r bus.Record, key string) string {
	t.Helper()
	v, ok := r.Header(key)
	require.True(t, ok, "header %s missing", key)
	return v
}

func dialTCP(t *testing.T, addr net.Addr) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", addr.String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c.(*net.TCPConn)
}

func TestUDPPublishesEachDatagramExactly(t *testing.T) {
	p := &fakebus.Producer{}
	cfg := quickBatch()
	cfg.Listeners = []syslog.ListenerConfig{{Name: "edge-udp", Protocol: syslog.ProtocolUDP}}
	s := start(t, cfg, p)

	c, err := net.Dial("udp", s.addrs[0].String())
	require.NoError(t, err)
	defer c.Close()
	msgs := []string{
		"<34>1 2025-11-26T14:00:00.000+09:00 host su - ID47 - 'su root' failed for tanaka",
		"<13>Nov 26 14:00:00 host app: BSD style, with a trailing newline\n",
		"<13>1 - - - - - - \xe3\x83\xad\xe3\x82\xb0\x00binary is kept",
	}
	for _, m := range msgs {
		_, err := c.Write([]byte(m))
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return p.Count() == len(msgs) }, wait, tick)
	require.Equal(t, msgs, p.Values(), "datagrams are published byte for byte")
	for _, r := range p.Records() {
		require.Equal(t, bus.TopicRawSyslog, r.Topic)
		require.Equal(t, "127.0.0.1", string(r.Key))
		require.Equal(t, "edge-udp", header(t, r, bus.HeaderReceiver))
		require.Equal(t, "udp", header(t, r, bus.HeaderTransport))
		require.Equal(t, "syslog", header(t, r, bus.HeaderFormat))
		require.Equal(t, c.LocalAddr().String(), header(t, r, bus.HeaderPeer))
		m, err := ingest.Meta(&r)
		require.NoError(t, err)
		require.WithinDuration(t, time.Now(), m.Received, time.Hour)
	}
	require.Equal(t, 3.0, metrictest.Value(t, s.reg, "mamori_ingest_received_records_total", "listener", "edge-udp"))
	require.Eventually(t, func() bool {
		return metrictest.Value(t, s.reg, "mamori_ingest_sent_records_total", "listener", "edge-udp") == 3
	}, wait, tick)
}

func TestUDPOversizeDatagramIsTruncatedAndMarked(t *testing.T) {
	p := &fakebus.Producer{}
	cfg := quickBatch()
	cfg.Listeners = []syslog.ListenerConfig{{Name: "u", Protocol: syslog.ProtocolUDP, MaxMessageSize: 1024}}
	s := start(t, cfg, p)
	c, err := net.Dial("udp", s.addrs[0].String())
	require.NoError(t, err)
	defer c.Close()
	big := append([]byte("<13>1 - - - - - - "), bytes.Repeat([]byte("z"), 5000)...)
	_, err = c.Write(big)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return p.Count() == 1 }, wait, tick)
	r := p.Records()[0]
	require.Equal(t, big[:1024], r.Value)
	require.Equal(t, strconv.Itoa(len(big)), header(t, r, bus.HeaderTruncated))
	require.Equal(t, 1.0, metrictest.Value(t, s.reg, "mamori_ingest_truncated_records_total", "listener", "u"))
	require.Equal(t, float64(len(big)-1024), metrictest.Value(t, s.reg, "mamori_ingest_dropped_bytes_total", "listener", "u", "reason", "oversize"))
}

func TestUDPDropsAreCountedWhenTheQueueIsFull(t *testing.T) {
	gate := make(chan struct{})
	p := &fakebus.Producer{Gate: gate}
	cfg := quickBatch()
	cfg.Batch.MaxRecords, cfg.Batch.QueueRecords = 1, 1
	cfg.Listeners = []syslog.ListenerConfig{{Name: "u", Protocol: syslog.ProtocolUDP}}
	s := start(t, cfg, p)
	c, err := net.Dial("udp", s.addrs[0].String())
	require.NoError(t, err)
	defer c.Close()

	const n = 20
	for i := range n {
		_, err := fmt.Fprintf(c, "<13>1 - - - - - - datagram %d", i)
		require.NoError(t, err)
	}
	// One record is held (in flight to the stalled bus); the reader never
	// waits, so the other 19 are dropped and counted.
	require.Eventually(t, func() bool {
		return metrictest.Value(t, s.reg, "mamori_ingest_received_records_total", "listener", "u") == n
	}, wait, tick)
	require.Equal(t, float64(n-1), metrictest.Value(t, s.reg, "mamori_ingest_dropped_records_total", "listener", "u", "reason", "queue_full"))
	require.Equal(t, 1.0, metrictest.Value(t, s.reg, "mamori_ingest_queue_records", "listener", "u"))
	close(gate)
	require.Eventually(t, func() bool { return p.Count() == 1 }, wait, tick)
	require.Equal(t, []string{"<13>1 - - - - - - datagram 0"}, p.Values())
}

func TestTCPBothFramingsMixedInOneConnection(t *testing.T) {
	p := &fakebus.Producer{}
	cfg := quickBatch()
	cfg.Listeners = []syslog.ListenerConfig{{Name: "t", Protocol: syslog.ProtocolTCP}}
	s := start(t, cfg, p)
	c := dialTCP(t, s.addrs[0])
	octet := func(m string) string { return fmt.Sprintf("%d %s", len(m), m) }
	stream := "" +
		octet("<13>1 - h app - - - octet\ncounted") + // an LF inside an octet-counted frame is data
		"<13>1 - h app - - - lf framed\n" +
		"<13>1 - h app - - - crlf framed\r\n" +
		"<13>1 - h app - - - nul framed\x00" +
		"\n" + // an empty frame is skipped
		octet("<13>Nov 26 00:00:00 x") +
		"<13>last, undelimited"
	_, err := io.WriteString(c, stream)
	require.NoError(t, err)
	require.NoError(t, c.CloseWrite())
	want := []string{
		"<13>1 - h app - - - octet\ncounted",
		"<13>1 - h app - - - lf framed",
		"<13>1 - h app - - - crlf framed",
		"<13>1 - h app - - - nul framed",
		"<13>Nov 26 00:00:00 x",
		"<13>last, undelimited",
	}
	require.Eventually(t, func() bool { return p.Count() == len(want) }, wait, tick)
	require.Equal(t, want, p.Values())
	r := p.Records()[0]
	require.Equal(t, "tcp", header(t, r, bus.HeaderTransport))
	require.Equal(t, c.LocalAddr().String(), header(t, r, bus.HeaderPeer))
}

func TestTCPNonTransparentFramingTakesDigitsAsData(t *testing.T) {
	p := &fakebus.Producer{}
	cfg := quickBatch()
	cfg.Listeners = []syslog.ListenerConfig{{Name: "t", Protocol: syslog.ProtocolTCP, Framing: syslog.FramingNonTransparent}}
	s := start(t, cfg, p)
	c := dialTCP(t, s.addrs[0])
	_, err := io.WriteString(c, "12 monkeys\n<13>x\n")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return p.Count() == 2 }, wait, tick)
	require.Equal(t, []string{"12 monkeys", "<13>x"}, p.Values())
}

func TestTCPPartialWritesAcrossSegments(t *testing.T) {
	p := &fakebus.Producer{}
	cfg := quickBatch()
	cfg.Listeners = []syslog.ListenerConfig{{Name: "t", Protocol: syslog.ProtocolTCP}}
	s := start(t, cfg, p)
	c := dialTCP(t, s.addrs[0])
	require.NoError(t, c.SetNoDelay(true))

	var stream []byte
	var want []string
	for i := range 200 {
		m := fmt.Sprintf("<14>1 2025-11-26T00:00:00Z host app %d - - message number %d %s", i, i, strings.Repeat("p", i%37))
		want = append(want, m)
		if i%2 == 0 {
			stream = fmt.Appendf(stream, "%d %s", len(m), m)
		} else {
			stream = append(append(stream, m...), '\n')
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for len(stream) > 0 {
		k := min(len(stream), 1+rng.IntN(9)) // splits counts, spaces and messages
		_, err := c.Write(stream[:k])
		require.NoError(t, err)
		stream = stream[k:]
	}
	require.Eventually(t, func() bool { return p.Count() == len(want) }, wait, tick)
	require.Equal(t, want, p.Values())
}

func TestTCPOversizeMessageIsCutAndTheStreamContinues(t *testing.T) {
	for _, framing := range []string{"octet-counting", "non-transparent"} {
		t.Run(framing, func(t *testing.T) {
			p := &fakebus.Producer{}
			cfg := quickBatch()
			cfg.Listeners = []syslog.ListenerConfig{{Name: "t", Protocol: syslog.ProtocolTCP}} // auto, 64 KiB
			s := start(t, cfg, p)
			c := dialTCP(t, s.addrs[0])

			const size = 200 << 10
			big := append([]byte("<13>1 - h app - - - "), bytes.Repeat([]byte("A"), size-20)...)
			require.Len(t, big, size)
			w := bufio.NewWriter(c)
			for _, m := range [][]byte{big, []byte("<13>1 - h app - - - after")} {
				if framing == "octet-counting" {
					fmt.Fprintf(w, "%d %s", len(m), m)
				} else {
					fmt.Fprintf(w, "%s\n", m)
				}
			}
			require.NoError(t, w.Flush())
			require.Eventually(t, func() bool { return p.Count() == 2 }, wait, tick)
			recs := p.Records()
			require.Equal(t, big[:64<<10], recs[0].Value)
			require.Equal(t, strconv.Itoa(size), header(t, recs[0], bus.HeaderTruncated))
			meta, err := ingest.Meta(&recs[0])
			require.NoError(t, err)
			require.EqualValues(t, size, meta.Truncated)
			require.Equal(t, "<13>1 - h app - - - after", string(recs[1].Value))
			_, truncated := recs[1].Header(bus.HeaderTruncated)
			require.False(t, truncated)
			require.Equal(t, 1.0, metrictest.Value(t, s.reg, "mamori_ingest_truncated_records_total", "listener", "t"))
		})
	}
}

func TestTCPManyConcurrentConnections(t *testing.T) {
	p := &fakebus.Producer{}
	cfg := quickBatch()
	cfg.Listeners = []syslog.ListenerConfig{{Name: "t", Protocol: syslog.ProtocolTCP}}
	s := start(t, cfg, p)
	const conns, each = 40, 100
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			c, err := net.Dial("tcp", s.addrs[0].String())
			if !assertNoError(t, err) {
				return
			}
			defer c.Close()
			w := bufio.NewWriter(c)
			for j := range each {
				m := fmt.Sprintf("<13>1 - h app - - - conn=%d seq=%d", i, j)
				if j%2 == 0 {
					fmt.Fprintf(w, "%d %s", len(m), m)
				} else {
					fmt.Fprintf(w, "%s\n", m)
				}
			}
			assertNoError(t, w.Flush())
		})
	}
	wg.Wait()
	require.Eventually(t, func() bool { return p.Count() == conns*each }, wait, tick)
	// Each connection's messages arrive in the order sent.
	next := map[int]int{}
	peers := map[int]string{}
	for _, r := range p.Records() {
		var conn, seq int
		_, err := fmt.Sscanf(string(r.Value), "<13>1 - h app - - - conn=%d seq=%d", &conn, &seq)
		require.NoError(t, err)
		require.Equal(t, next[conn], seq, "connection %d out of order", conn)
		next[conn]++
		peer := header(t, r, bus.HeaderPeer)
		if old, ok := peers[conn]; ok {
			require.Equal(t, old, peer)
		}
		peers[conn] = peer
	}
	require.Len(t, peers, conns)
	require.Eventually(t, func() bool {
		return metrictest.Value(t, s.reg, "mamori_ingest_connections", "listener", "t") == 0
	}, wait, tick)
}

func assertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}

func TestTCPBackPressureStopsReadingInsteadOfDropping(t *testing.T) {
	gate := make(chan struct{})
	p := &fakebus.Producer{Gate: gate}
	cfg := quickBatch()
	cfg.Batch.MaxRecords, cfg.Batch.QueueRecords = 1, 2
	cfg.Listeners = []syslog.ListenerConfig{{Name: "t", Protocol: syslog.ProtocolTCP}}
	s := start(t, cfg, p)
	c := dialTCP(t, s.addrs[0])

	const n = 300
	wrote := make(chan error, 1)
	go func() {
		w := bufio.NewWriter(c)
		for i := range n {
			fmt.Fprintf(w, "<13>1 - h app - - - %d\n", i)
		}
		wrote <- w.Flush()
	}()
	// The bus is stalled: two records are held, the reader waits with the
	// third, and reads nothing more.
	require.Eventually(t, func() bool {
		return metrictest.Value(t, s.reg, "mamori_ingest_received_records_total", "listener", "t") == 3
	}, wait, tick)
	require.Equal(t, 2.0, metrictest.Value(t, s.reg, "mamori_ingest_queue_records", "listener", "t"))
	require.LessOrEqual(t, metrictest.Value(t, s.reg, "mamori_ingest_received_records_total", "listener", "t"), 3.0)

	close(gate)
	require.NoError(t, <-wrote)
	require.Eventually(t, func() bool { return p.Count() == n }, wait, tick)
	for i, v := range p.Values() {
		require.Equal(t, fmt.Sprintf("<13>1 - h app - - - %d", i), v)
	}
	require.Zero(t, metrictest.Value(t, s.reg, "mamori_ingest_dropped_records_total", "listener", "t", "reason", "queue_full"))
}

func TestTCPPublishRetriesAfterBusFailures(t *testing.T) {
	p := &fakebus.Producer{Failures: 4}
	cfg := quickBatch()
	cfg.Listeners = []syslog.ListenerConfig{{Name: "t", Protocol: syslog.ProtocolTCP}}
	s := start(t, cfg, p)
	c := dialTCP(t, s.addrs[0])
	_, err := io.WriteString(c, "<13>a\n<13>b\n")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return p.Count() == 2 }, wait, tick)
	require.Equal(t, []string{"<13>a", "<13>b"}, p.Values())
	require.GreaterOrEqual(t, metrictest.Value(t, s.reg, "mamori_ingest_errors_total", "listener", "t", "type", "publish"), 4.0)
}

func TestTCPFramingErrorClosesTheConnection(t *testing.T) {
	p := &fakebus.Producer{}
	cfg := quickBatch()
	cfg.Listeners = []syslog.ListenerConfig{{Name: "t", Protocol: syslog.ProtocolTCP, Framing: syslog.FramingOctetCounting}}
	s := start(t, cfg, p)
	c := dialTCP(t, s.addrs[0])
	_, err := io.WriteString(c, "6 <13>ok<13>not counted\n")
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(wait)))
	_, err = c.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF, "the server closes the connection")
	require.Eventually(t, func() bool { return p.Count() == 1 }, wait, tick)
	require.Equal(t, []string{"<13>ok"}, p.Values())
	require.Equal(t, 1.0, metrictest.Value(t, s.reg, "mamori_ingest_errors_total", "listener", "t", "type", "framing"))
}

func TestTCPMaxConnections(t *testing.T) {
	p := &fakebus.Producer{}
	cfg := quickBatch()
	cfg.Listeners = []syslog.ListenerConfig{{Name: "t", Protocol: syslog.ProtocolTCP, MaxConnections: 2}}
	s := start(t, cfg, p)
	for i := range 2 {
		c := dialTCP(t, s.addrs[0])
		fmt.Fprintf(c, "<13>held %d\n", i)
	}
	require.Eventually(t, func() bool { return p.Count() == 2 }, wait, tick)
	extra := dialTCP(t, s.addrs[0])
	require.NoError(t, extra.SetReadDeadline(time.Now().Add(wait)))
	_, err := extra.Read(make([]byte, 1))
	require.Error(t, err, "the third connection is closed at once")
	require.Equal(t, 1.0, metrictest.Value(t, s.reg, "mamori_ingest_connections_rejected_total", "listener", "t"))
	require.Equal(t, 2.0, metrictest.Value(t, s.reg, "mamori_ingest_connections", "listener", "t"))
}

func TestTCPIdleConnectionIsClosed(t *testing.T) {
	p := &fakebus.Producer{}
	cfg := quickBatch()
	cfg.Listeners = []syslog.ListenerConfig{{Name: "t", Protocol: syslog.ProtocolTCP, IdleTimeout: 20 * time.Millisecond}}
	s := start(t, cfg, p)
	c := dialTCP(t, s.addrs[0])
	_, err := io.WriteString(c, "<13>then silence\n")
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(wait)))
	_, err = c.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, []string{"<13>then silence"}, p.Values())
}

func TestTLSWithClientCertificates(t *testing.T) {
	ca := testpki.New(t, "mamori syslog", "router-1")
	p := &fakebus.Producer{}
	cfg := quickBatch()
	cfg.Listeners = []syslog.ListenerConfig{
		{Name: "tls-required", Protocol: syslog.ProtocolTLS, TLS: &syslog.TLSConfig{CertFile: ca.CertFile, KeyFile: ca.KeyFile, ClientCAFile: ca.CAFile}},
		{Name: "tls-auto", Protocol: syslog.ProtocolTLS, Framing: syslog.FramingAuto, TLS: &syslog.TLSConfig{CertFile: ca.CertFile, KeyFile: ca.KeyFile}},
	}
	s := start(t, cfg, p)
	dial := func(addr net.Addr, conf *tls.Config) (*tls.Conn, error) {
		conf.RootCAs = ca.Pool
		c, err := tls.Dial("tcp", addr.String(), conf)
		if err == nil {
			t.Cleanup(func() { _ = c.Close() })
		}
		return c, err
	}
	// refused reports the server's refusal, which TLS 1.3 delivers only on
	// the client's first read; the server never writes otherwise.
	refused := func(addr net.Addr, conf *tls.Config) error {
		c, err := dial(addr, conf)
		if err != nil {
			return err
		}
		require.NoError(t, c.SetReadDeadline(time.Now().Add(wait)))
		_, err = c.Read(make([]byte, 1))
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return nil
		}
		return err
	}

	// Without a client certificate the required listener refuses.
	require.Error(t, refused(s.addrs[0], &tls.Config{}))
	require.Eventually(t, func() bool {
		return metrictest.Value(t, s.reg, "mamori_ingest_errors_total", "listener", "tls-required", "type", "handshake") == 1
	}, wait, tick)

	// TLS 1.1 is refused everywhere.
	require.Error(t, refused(s.addrs[1], &tls.Config{MaxVersion: tls.VersionTLS11}))

	c, err := dial(s.addrs[0], &tls.Config{Certificates: []tls.Certificate{ca.Client}})
	require.NoError(t, err)
	m := "<165>1 2025-11-26T14:00:00.000+09:00 router-1 sshd 42 ID1 - accepted over TLS"
	_, err = fmt.Fprintf(c, "%d %s", len(m), m)
	require.NoError(t, err)

	c2, err := dial(s.addrs[1], &tls.Config{})
	require.NoError(t, err)
	_, err = fmt.Fprintf(c2, "%d %s<13>lf over tls\n", len(m), m)
	require.NoError(t, err)

	require.Eventually(t, func() bool { return p.Count() == 3 }, wait, tick)
	byListener := map[string][]string{}
	for _, r := range p.Records() {
		require.Equal(t, "tls", header(t, r, bus.HeaderTransport))
		l := header(t, r, bus.HeaderReceiver)
		byListener[l] = append(byListener[l], string(r.Value))
	}
	require.Equal(t, []string{m}, byListener["tls-required"])
	require.Equal(t, []string{m, "<13>lf over tls"}, byListener["tls-auto"])
}

func TestGracefulShutdownPublishesEverythingReceived(t *testing.T) {
	p := &fakebus.Producer{}
	cfg := quickBatch()
	cfg.Batch.MaxWait = time.Hour // records sit in the queue until shutdown
	cfg.Listeners = []syslog.ListenerConfig{
		{Name: "t", Protocol: syslog.ProtocolTCP},
		{Name: "u", Protocol: syslog.ProtocolUDP},
	}
	s := start(t, cfg, p)
	c := dialTCP(t, s.addrs[0])
	for i := range 50 {
		fmt.Fprintf(c, "<13>tcp %d\n", i)
	}
	u, err := net.Dial("udp", s.addrs[1].String())
	require.NoError(t, err)
	defer u.Close()
	for i := range 10 {
		fmt.Fprintf(u, "<13>udp %d", i)
	}
	require.Eventually(t, func() bool {
		return metrictest.Value(t, s.reg, "mamori_ingest_received_records_total", "listener", "t") == 50 &&
			metrictest.Value(t, s.reg, "mamori_ingest_received_records_total", "listener", "u") == 10
	}, wait, tick)
	require.Zero(t, p.Count())

	require.NoError(t, s.stop(t))
	require.Equal(t, 60, p.Count())
	_, err = net.Dial("tcp", s.addrs[0].String())
	require.Error(t, err, "no longer accepting")
}

func TestShutdownReportsWhatItCouldNotPublish(t *testing.T) {
	p := &fakebus.Producer{Failures: 1 << 30}
	cfg := quickBatch()
	cfg.ShutdownTimeout = 50 * time.Millisecond
	cfg.Listeners = []syslog.ListenerConfig{{Name: "t", Protocol: syslog.ProtocolTCP}}
	s := start(t, cfg, p)
	c := dialTCP(t, s.addrs[0])
	_, err := io.WriteString(c, "<13>a\n<13>b\n<13>c\n")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return metrictest.Value(t, s.reg, "mamori_ingest_received_records_total", "listener", "t") == 3
	}, wait, tick)
	err = s.stop(t)
	require.ErrorIs(t, err, ingest.ErrAbandoned)
	require.ErrorContains(t, err, `listener "t"`)
	require.Equal(t, 3.0, metrictest.Value(t, s.reg, "mamori_ingest_dropped_records_total", "listener", "t", "reason", "shutdown"))
}

func TestListenReportsAnAddressInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	cfg := quickBatch()
	cfg.Listeners = []syslog.ListenerConfig{
		{Name: "ok", Protocol: syslog.ProtocolUDP, Address: "127.0.0.1:0"},
		{Name: "clash", Protocol: syslog.ProtocolTCP, Address: taken.Addr().String()},
	}
	srv, err := syslog.New(cfg, &fakebus.Producer{}, syslog.Options{})
	require.NoError(t, err)
	_, err = srv.Listen()
	require.ErrorContains(t, err, `listener "clash"`)
	require.ErrorContains(t, err, "address already in use")
	require.Error(t, srv.Run(context.Background()))
}

func TestNewRejectsAnInvalidConfig(t *testing.T) {
	_, err := syslog.New(syslog.Config{}, &fakebus.Producer{}, syslog.Options{})
	require.ErrorIs(t, err, ingest.ErrInvalidConfig)
}

// TestRealLogger sends with util-linux logger, the sender most Linux hosts
// have, over UDP, TCP with LF framing and TCP with octet counting.
func TestRealLogger(t *testing.T) {
	path, err := exec.LookPath("logger")
	if err != nil {
		t.Skip("util-linux logger not installed (apt-get install bsdutils): ", err)
	}
	p := &fakebus.Producer{}
	cfg := quickBatch()
	cfg.Listeners = []syslog.ListenerConfig{
		{Name: "u", Protocol: syslog.ProtocolUDP},
		{Name: "t", Protocol: syslog.ProtocolTCP},
	}
	s := start(t, cfg, p)
	port := func(a net.Addr) string { _, p, _ := net.SplitHostPort(a.String()); return p }
	nonce := strconv.FormatInt(time.Now().UnixNano(), 36)
	runs := []struct {
		name, port string
		args       []string
	}{
		{"udp", port(s.addrs[0]), []string{"-d"}},
		{"tcp-lf", port(s.addrs[1]), []string{"-T"}},
		{"tcp-octet", port(s.addrs[1]), []string{"-T", "--octet-count"}},
	}
	for _, r := range runs {
		args := append([]string{"--rfc5424", "-n", "127.0.0.1", "-P", r.port, "-t", "mamori-test", "-p", "auth.warning"}, r.args...)
		args = append(args, fmt.Sprintf("%s %s ログイン失敗 user=tanaka", nonce, r.name))
		out, err := exec.Command(path, args...).CombinedOutput()
		require.NoError(t, err, "logger %s: %s", strings.Join(args, " "), out)
	}
	require.Eventually(t, func() bool { return p.Count() == len(runs) }, wait, tick)
	got := map[string]bus.Record{}
	for _, r := range p.Records() {
		v := string(r.Value)
		for _, run := range runs {
			if strings.HasSuffix(v, nonce+" "+run.name+" ログイン失敗 user=tanaka") {
				got[run.name] = r
			}
		}
	}
	require.Len(t, got, len(runs), "values: %q", p.Values())
	for name, r := range got {
		v := string(r.Value)
		require.True(t, strings.HasPrefix(v, "<36>1 "), "%s: RFC 5424 PRI auth.warning, no framing left: %q", name, v)
		require.Contains(t, v, " mamori-test ")
		require.NotContains(t, v, "\n")
	}
	require.Equal(t, "udp", header(t, got["udp"], bus.HeaderTransport))
	require.Equal(t, "tcp", header(t, got["tcp-octet"], bus.HeaderTransport))
}
