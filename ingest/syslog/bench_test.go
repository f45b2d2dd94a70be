package syslog_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/ingest/syslog"
)

// benchStream is n RFC 5424 messages of about 200 bytes in one framing.
func benchStream(n int, octet bool) []byte {
	var buf bytes.Buffer
	for i := range n {
		m := fmt.Sprintf("<38>1 2025-11-26T14:00:%02d.123456+09:00 web-%03d sshd %d - [meta seq=\"%d\"] "+
			"Accepted publickey for tanaka from 192.0.2.%d port %d ssh2: ED25519 SHA256:abcdefghijklmnop",
			i%60, i%100, 1000+i, i, i%250, 40000+i%20000)
		if octet {
			fmt.Fprintf(&buf, "%d %s", len(m), m)
		} else {
			buf.WriteString(m)
			buf.WriteByte('\n')
		}
	}
	return buf.Bytes()
}

func BenchmarkFraming(b *testing.B) {
	const perStream = 1000
	for _, bc := range []struct {
		name    string
		octet   bool
		framing syslog.Framing
	}{
		{"octet", true, syslog.FramingOctetCounting},
		{"lf", false, syslog.FramingNonTransparent},
		{"auto-octet", true, syslog.FramingAuto},
		{"auto-lf", false, syslog.FramingAuto},
	} {
		b.Run(bc.name, func(b *testing.B) {
			stream := benchStream(perStream, bc.octet)
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			r := bytes.NewReader(stream)
			msgs := 0
			for b.Loop() {
				r.Reset(stream)
				sc := syslog.NewScanner(r, bc.framing, 64<<10)
				for sc.Scan() {
					msgs++
				}
				if sc.Err() != nil || msgs%perStream != 0 {
					b.Fatalf("scan: %v after %d", sc.Err(), msgs)
				}
			}
			b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// countingProducer accepts everything and counts it.
type countingProducer struct{ n atomic.Int64 }

func (p *countingProducer) Publish(_ context.Context, recs ...bus.Record) error {
	p.n.Add(int64(len(recs)))
	return nil
}

// BenchmarkTCPIngest measures the edge end to end: TCP senders, framing,
// stamping, batching, to a producer that accepts at once.
func BenchmarkTCPIngest(b *testing.B) {
	for _, conns := range []int{1, 4} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			p := &countingProducer{}
			var cfg syslog.Config
			cfg.Batch.MaxWait = time.Millisecond
			cfg.Listeners = []syslog.ListenerConfig{{Name: "bench", Protocol: syslog.ProtocolTCP, Address: "127.0.0.1:0"}}
			srv, err := syslog.New(cfg, p, syslog.Options{})
			if err != nil {
				b.Fatal(err)
			}
			addrs, err := srv.Listen()
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.Run(ctx) }()
			defer func() {
				cancel()
				<-done
			}()

			msg := benchStream(1, true)
			per := b.N/conns + 1
			total := int64(per * conns)
			b.SetBytes(int64(len(msg)))
			b.ResetTimer()
			var wg sync.WaitGroup
			for range conns {
				wg.Go(func() {
					c, err := net.Dial("tcp", addrs[0].String())
					if err != nil {
						b.Error(err)
						return
					}
					defer c.Close()
					w := bufio.NewWriterSize(c, 64<<10)
					for range per {
						_, _ = w.Write(msg)
					}
					if err := w.Flush(); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
			for p.n.Load() < total {
				time.Sleep(100 * time.Microsecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
