package journal

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mamori-soc/mamori/bus"
)

// Headers are stored as one compact blob, NULL when a record has none:
//
//	version byte (1)
//	uvarint count
//	count × (uvarint len(key), key, uvarint len(value), value)
const headersV1 = 1

func encodeHeaders(hs []bus.Header) []byte {
	if len(hs) == 0 {
		return nil
	}
	n := 1 + binary.MaxVarintLen64
	for _, h := range hs {
		n += 2*binary.MaxVarintLen64 + len(h.Key) + len(h.Value)
	}
	b := make([]byte, 0, n)
	b = append(b, headersV1)
	b = binary.AppendUvarint(b, uint64(len(hs)))
	for _, h := range hs {
		b = binary.AppendUvarint(b, uint64(len(h.Key)))
		b = append(b, h.Key...)
		b = binary.AppendUvarint(b, uint64(len(h.Value)))
		b = append(b, h.Value...)
	}
	return b
}

var errBadHeaders = errors.New("corrupt headers")

// decodeHeaders decodes a headers blob, copying the values into a.
func decodeHeaders(b []byte, a *arena) ([]bus.Header, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if b[0] != headersV1 {
		return nil, fmt.Errorf("%w: unknown version %d", errBadHeaders, b[0])
	}
	b = b[1:]
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) { // every header takes at least 2 bytes
		return nil, fmt.Errorf("%w: bad count", errBadHeaders)
	}
	b = b[n:]
	next := func() ([]byte, error) {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return nil, fmt.Errorf("%w: bad length", errBadHeaders)
		}
		v := b[n : n+int(l)]
		b = b[n+int(l):]
		return v, nil
	}
	hs := a.headerSlice(int(count))
	for i := uint64(0); i < count; i++ {
		k, err := next()
		if err != nil {
			return nil, err
		}
		v, err := next()
		if err != nil {
			return nil, err
		}
		hs = append(hs, bus.Header{Key: headerKey(k), Value: a.bytes(v)})
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errBadHeaders, len(b))
	}
	return hs, nil
}
