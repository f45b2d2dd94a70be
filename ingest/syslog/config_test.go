package syslog_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/ingest"
	"github.com/mamori-soc/mamori/ingest/syslog"
)

// TestConfigBadFiles loads every testdata/config/bad-*.yaml; each must fail
// with ingest.ErrInvalidConfig and an error containing every line of the
// paired .err file (the key and the fix).
func TestConfigBadFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/config/bad-*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			in, err := os.ReadFile(f)
			require.NoError(t, err)
			want, err := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".err")
			require.NoError(t, err)
			_, err = syslog.LoadBytes(in)
			require.ErrorIs(t, err, ingest.ErrInvalidConfig)
			for _, line := range strings.Split(strings.TrimSpace(string(want)), "\n") {
				require.Contains(t, err.Error(), line)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := syslog.LoadBytes([]byte("listeners:\n  - {}\n  - {protocol: tcp, address: '127.0.0.1:0'}\n  - {protocol: tls, tls: {cert_file: c, key_file: k, client_ca_file: ca}}\n"))
	require.NoError(t, err)
	udp, tcp, tls := c.Listeners[0], c.Listeners[1], c.Listeners[2]
	require.Equal(t, "syslog-udp", udp.Name)
	require.Equal(t, syslog.ProtocolUDP, udp.Protocol)
	require.Equal(t, "127.0.0.1:5514", udp.Address, "loopback unless told otherwise")
	require.Equal(t, ingest.ByteSize(64<<10), udp.MaxMessageSize)
	require.Equal(t, ingest.ByteSize(4<<20), udp.ReadBufferSize)
	require.Equal(t, syslog.FramingAuto, tcp.Framing)
	require.Equal(t, 512, tcp.MaxConnections)
	require.Zero(t, tcp.IdleTimeout)
	require.Equal(t, "127.0.0.1:6514", tls.Address)
	require.Equal(t, syslog.FramingOctetCounting, tls.Framing, "RFC 5425")
	require.Equal(t, syslog.ClientAuthRequired, tls.TLS.ClientAuth, "required once client CAs are given")
	require.Equal(t, "1.2", tls.TLS.MinVersion)
	require.Equal(t, 10*time.Second, c.ShutdownTimeout)
	require.Equal(t, 500, c.Batch.MaxRecords)
}

func TestConfigSampleLoads(t *testing.T) {
	c, err := syslog.LoadBytes([]byte(syslog.SampleConfig))
	require.NoError(t, err)
	require.Len(t, c.Listeners, 3)
	require.Equal(t, syslog.ClientAuthNone, c.Listeners[2].TLS.ClientAuth)
}

func TestConfigEmptyDocumentNeedsAListener(t *testing.T) {
	_, err := syslog.LoadBytes(nil)
	require.ErrorIs(t, err, ingest.ErrInvalidConfig)
	require.ErrorContains(t, err, "listeners: no listener")
}
