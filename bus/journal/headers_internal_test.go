package journal

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
)

func TestHeadersRoundTrip(t *testing.T) {
	var a arena
	require.Nil(t, encodeHeaders(nil))
	hs, err := decodeHeaders(nil, &a)
	require.NoError(t, err)
	require.Nil(t, hs)

	in := []bus.Header{
		{Key: bus.HeaderPeer, Value: []byte("192.0.2.1:514")},
		{Key: "dup", Value: []byte{0}},
		{Key: "dup", Value: nil},
		{Key: "", Value: bytes.Repeat([]byte{0xff}, 70_000)},
	}
	out, err := decodeHeaders(encodeHeaders(in), &a)
	require.NoError(t, err)
	require.Len(t, out, len(in))
	for i := range in {
		require.Equal(t, in[i].Key, out[i].Key)
		require.True(t, bytes.Equal(in[i].Value, out[i].Value))
	}
	out[1].Value = append(out[1].Value, 'x') // capped: must not clobber the next value
	require.Empty(t, out[2].Value)
}

func FuzzDecodeHeaders(f *testing.F) {
	f.Add(encodeHeaders([]bus.Header{{Key: "a", Value: []byte("b")}, {Key: "c"}}))
	f.Add([]byte{headersV1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{headersV1, 1, 5, 'a'})
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, b []byte) {
		var a arena
		hs, err := decodeHeaders(b, &a)
		if err != nil {
			return
		}
		// Whatever decodes survives a re-encoding.
		again, err := decodeHeaders(encodeHeaders(hs), &a)
		require.NoError(t, err)
		require.Len(t, again, len(hs))
		for i := range hs {
			require.Equal(t, hs[i].Key, again[i].Key)
			require.True(t, bytes.Equal(hs[i].Value, again[i].Value))
		}
	})
}
