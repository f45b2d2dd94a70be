// Package parsers defines how a raw record becomes a normalised ECS event:
// the Parser contract, the metadata an edge stamps on every raw record, and
// the registry of parsers by format name. Parsers live in sub-packages, one
// per format.
package parsers

import (
	"errors"
	"time"

	"github.com/mamori-soc/mamori/event"
)

// ErrUnparsable marks input a parser cannot turn into an event. The parse
// stage sends such records whole to the dead-letter topic with the error.
var ErrUnparsable = errors.New("unparsable")

// Meta is what the edge recorded about a raw record when it received it.
type Meta struct {
	Received  time.Time // receive time at the edge
	Receiver  string    // listener name
	Peer      string    // sender address (host:port)
	Transport string    // udp, tcp, tls...
	// Truncated is the original size when the edge cut an oversize message
	// to its maximum size; 0 otherwise.
	Truncated int64
}

// Parser turns one raw record into an event. Implementations are safe for
// concurrent use. Parse fills e (which the caller has reset) from raw; the
// caller sets the fields every event shares (event.id, event.created,
// agent.*, log.source.address, network.transport, input.type) afterwards.
// Parse must not retain raw after it returns. An error wraps ErrUnparsable
// and says what is wrong with the input.
type Parser interface {
	Parse(raw []byte, meta Meta, e *event.Event) error
}
