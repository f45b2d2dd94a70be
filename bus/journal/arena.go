package journal

import "github.com/mamori-soc/mamori/bus"

// arena carves the byte slices and headers of fetched records out of shared
// chunks, so a fetched batch costs a few allocations instead of several per
// record. A record keeps its chunk alive; records of one batch are usually
// dropped together.
type arena struct {
	buf     []byte
	headers []bus.Header
}

const (
	arenaChunk   = 64 << 10
	arenaMaxCopy = arenaChunk / 4 // larger values get their own allocation
	headerChunk  = 256
)

// bytes returns a copy of b (nil for nil), capped so that appending to it
// cannot overwrite a neighbour.
func (a *arena) bytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	n := len(b)
	if n > arenaMaxCopy {
		out := make([]byte, n)
		copy(out, b)
		return out
	}
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, arenaChunk)
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return a.buf[start:len(a.buf):len(a.buf)]
}

// headerSlice returns an empty header slice with room for n headers.
func (a *arena) headerSlice(n int) []bus.Header {
	if n > headerChunk/4 {
		return make([]bus.Header, 0, n)
	}
	if cap(a.headers)-len(a.headers) < n {
		a.headers = make([]bus.Header, 0, headerChunk)
	}
	start := len(a.headers)
	a.headers = a.headers[:start+n]
	return a.headers[start : start : start+n]
}

// knownKeys are header keys decoded without allocating a string.
var knownKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		bus.HeaderReceived, bus.HeaderReceiver, bus.HeaderPeer, bus.HeaderTransport, bus.HeaderFormat,
		bus.HeaderError, bus.HeaderStage, bus.HeaderSourceTopic, bus.HeaderSourceOffset, bus.HeaderFailedAt,
	} {
		m[k] = k
	}
	return m
}()

func headerKey(b []byte) string {
	if k, ok := knownKeys[string(b)]; ok {
		return k
	}
	return string(b)
}
