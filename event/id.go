package event

import (
	"crypto/sha256"
	"encoding/base32"
)

// Source identifies where and when a raw record was received. Together with the
// raw bytes it determines the event id, so replaying the same raw record always
// yields the same id and a store that indexes by id never duplicates it.
type Source struct {
	Receiver  string // name of the listener or input
	Peer      string // sender address
	Transport string // udp, tcp, tls, http, kafka, file...
	Received  string // receive time as stamped by the edge (RFC 3339, nanoseconds)
}

var idEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// ID returns the deterministic event id: the first 160 bits of SHA-256 over the
// source identity and the raw bytes, in lower-case base32 (32 characters).
func ID(src Source, raw []byte) string {
	h := sha256.New()
	for _, part := range [...]string{src.Receiver, src.Peer, src.Transport, src.Received} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(raw)
	var sum [sha256.Size]byte
	return idEncoding.EncodeToString(h.Sum(sum[:0])[:20])
}
