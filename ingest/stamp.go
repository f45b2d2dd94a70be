package ingest

import (
	"fmt"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/parsers"
)

// ReceivedLayout is the layout of the mamori.received header: RFC 3339 in
// UTC with exactly nine fractional digits, so the strings also sort in time
// order.
const ReceivedLayout = "2006-01-02T15:04:05.000000000Z07:00"

// Stamper builds the raw records of one listener. It is safe for concurrent
// use by all the listener's connections. The header values it shares
// between records (receiver, transport, format, peer) must not be modified.
type Stamper struct {
	topic     string
	receiver  []byte
	transport []byte
	format    []byte
	now       func() time.Time
	last      atomic.Int64 // unix nanoseconds of the last stamp
}

// StamperConfig names what a Stamper writes on every record.
type StamperConfig struct {
	Topic     string // bus topic, for example bus.TopicRawSyslog
	Receiver  string // listener name (mamori.receiver)
	Transport string // udp, tcp, tls... (mamori.transport)
	Format    string // parser hint, for example "syslog" (mamori.format)
	// Now is the clock; nil means time.Now. Tests set it.
	Now func() time.Time
}

// NewStamper returns a Stamper for one listener.
func NewStamper(cfg StamperConfig) *Stamper {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Stamper{
		topic: cfg.Topic, receiver: []byte(cfg.Receiver), transport: []byte(cfg.Transport), format: []byte(cfg.Format), now: now,
	}
}

// Peer is a sender's address in the form records carry it: the record key
// (the IP) and the mamori.peer header (IP and port). A stream edge makes it
// once per connection.
type Peer struct {
	key  []byte
	addr []byte
}

// NewPeer returns the Peer for an address; IPv4-mapped IPv6 addresses are
// unmapped, so one sender has one key whatever socket it reached.
func NewPeer(ap netip.AddrPort) Peer {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	return Peer{key: ap.Addr().AppendTo(nil), addr: ap.AppendTo(nil)}
}

// String returns "ip:port" ("[ip6]:port").
func (p Peer) String() string { return string(p.addr) }

// next returns the receive time: the wall clock, or one nanosecond after
// the previous stamp when the clock did not move forward (same reading, or
// a step back), so stamps are strictly increasing per listener and two
// identical messages from one peer never get the same event id.
func (s *Stamper) next() int64 {
	now := s.now().UnixNano()
	for {
		last := s.last.Load()
		t := now
		if t <= last {
			t = last + 1
		}
		if s.last.CompareAndSwap(last, t) {
			return t
		}
	}
}

// Stamp returns the record for one message. msg must be the message's own
// copy (the record keeps it). size is the message's original size: when
// the edge cut it (size > len(msg)), the record carries bus.HeaderTruncated
// with the original size. The key is the peer's IP address, so one sender's
// messages stay ordered in one partition.
func (s *Stamper) Stamp(peer Peer, msg []byte, size int64) bus.Record {
	ns := s.next()
	n := 5
	if size > int64(len(msg)) {
		n++
	}
	hs := make([]bus.Header, 0, n)
	hs = append(hs,
		bus.Header{Key: bus.HeaderReceived, Value: appendReceived(make([]byte, 0, len(ReceivedLayout)), ns)},
		bus.Header{Key: bus.HeaderReceiver, Value: s.receiver},
		bus.Header{Key: bus.HeaderPeer, Value: peer.addr},
		bus.Header{Key: bus.HeaderTransport, Value: s.transport},
		bus.Header{Key: bus.HeaderFormat, Value: s.format},
	)
	if size > int64(len(msg)) {
		hs = append(hs, bus.Header{Key: bus.HeaderTruncated, Value: strconv.AppendInt(nil, size, 10)})
	}
	return bus.Record{Topic: s.topic, Key: peer.key, Value: msg, Headers: hs, Time: time.Unix(0, ns).UTC()}
}

// appendReceived appends unix nanoseconds in ReceivedLayout, which is what
// time.Time.AppendFormat produces, several times faster.
func appendReceived(b []byte, ns int64) []byte {
	t := time.Unix(0, ns).UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, ReceivedLayout)
	}
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond(), 9)
	return append(b, 'Z')
}

func appendDigits(b []byte, v, width int) []byte {
	var buf [9]byte
	for i := width - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, buf[:width]...)
}

// Meta reads back what a Stamper wrote on a record, in the form the parse
// stage hands to parsers. A missing received time is an error; a missing
// truncation header means the message is whole.
func Meta(rec *bus.Record) (parsers.Meta, error) {
	var m parsers.Meta
	recv, ok := rec.Header(bus.HeaderReceived)
	if !ok {
		return m, fmt.Errorf("ingest: record has no %s header", bus.HeaderReceived)
	}
	t, err := time.Parse(time.RFC3339Nano, recv)
	if err != nil {
		return m, fmt.Errorf("ingest: header %s: %w", bus.HeaderReceived, err)
	}
	m.Received = t
	m.Receiver, _ = rec.Header(bus.HeaderReceiver)
	m.Peer, _ = rec.Header(bus.HeaderPeer)
	m.Transport, _ = rec.Header(bus.HeaderTransport)
	if v, ok := rec.Header(bus.HeaderTruncated); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return m, fmt.Errorf("ingest: header %s: %q is not a size", bus.HeaderTruncated, v)
		}
		m.Truncated = n
	}
	return m, nil
}
