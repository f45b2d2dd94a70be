package sessions

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
)

// The fast decoder reads the goldens of the winevent parser exactly as the
// full event codec does.
func TestDecodeFastAgreesWithEventCodec(t *testing.T) {
	files, err := filepath.Glob("../parsers/winevent/testdata/*/*/expected.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	fast := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		var slow event.Event
		if event.Unmarshal(src, &slow) != nil {
			continue
		}
		want, wantOK := fromEvent(f, &slow)
		var e event.Event
		if decodeFast(src, &e) {
			fast++
			got, ok := fromEvent(f, &e)
			require.Equal(t, wantOK, ok, f)
			require.Equal(t, want, got, f)
		}
	}
	require.Greater(t, fast, 20, "the goldens take the fast path")
}

// A document with winlog nested (as Winlogbeat writes it to Kafka) is read
// by the full codec.
func TestDecodeNestedWinlog(t *testing.T) {
	src := []byte(`{"@timestamp":"2025-01-15T00:12:34Z","event":{"code":"4624","outcome":"success"},"host":{"name":"PC01"},
	  "user":{"name":"田中"},"winlog":{"logon":{"id":"0x3e7","type":"Interactive"},"event_data":{"TargetLogonId":"0x8A3F21C","LogonType":2}}}`)
	var e event.Event
	require.False(t, decodeFast(src, &e))
	r, ok, err := decode("x", src)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, kindLogon, r.kind)
	require.Equal(t, "0x8a3f21c", r.logonID, "canonical lower-case hex, not the subject's 0x3e7")
	require.Equal(t, Interactive, r.logonType)
	require.Equal(t, "田中", r.user.Name)
}

func TestCanonicalID(t *testing.T) {
	for in, want := range map[string]string{"0x8A3F21C": "0x8a3f21c", "0x0008a3f21c": "0x8a3f21c", " 0x3e7 ": "0x3e7", "-": "", "": "", "abc-1": "abc-1"} {
		require.Equal(t, want, canonicalID(in), in)
	}
}
