package kafkabus

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{Brokers: []string{"127.0.0.1:9092"}}.withDefaults()
	require.Equal(t, "mamori", c.ClientID)
	require.Equal(t, 1, c.DefaultPartitions)
	require.Equal(t, 1, c.ReplicationFactor)
	require.Equal(t, CompressionLZ4, c.Compression)
	require.Equal(t, 4<<20, c.MaxMessageBytes)
	require.NotNil(t, c.Logger)
	require.NoError(t, Config{Brokers: []string{"127.0.0.1:9092"}}.Validate())
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Brokers: []string{"k1:9092", "k2:9092"}}
	for _, tc := range []struct {
		name string
		mut  func(*Config)
		want string
	}{
		{"no brokers", func(c *Config) { c.Brokers = nil }, "at least one"},
		{"broker without port", func(c *Config) { c.Brokers = []string{"k1"} }, "not host:port"},
		{"broker without host", func(c *Config) { c.Brokers = []string{":9092"} }, "not host:port"},
		{"negative partitions", func(c *Config) { c.DefaultPartitions = -1 }, "default partitions"},
		{"negative replication", func(c *Config) { c.ReplicationFactor = -3 }, "replication factor"},
		{"unknown compression", func(c *Config) { c.Compression = "gzip" }, "compression"},
		{"negative max message", func(c *Config) { c.MaxMessageBytes = -1 }, "max message bytes"},
		{"negative dial timeout", func(c *Config) { c.DialTimeout = -1 }, "dial timeout"},
		{"missing CA file", func(c *Config) { c.TLS = &TLSConfig{CAFile: "/nonexistent/ca.pem"} }, "ca file"},
		{"cert without key", func(c *Config) { c.TLS = &TLSConfig{CertFile: "/x/cert.pem"} }, "go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mut(&c)
			err := c.Validate()
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			_, err = Open(context.Background(), c)
			require.Error(t, err, "Open validates too")
		})
	}
	for _, comp := range []string{"", "none", "lz4", "zstd", "LZ4"} {
		c := ok
		c.Compression = comp
		require.NoError(t, c.Validate(), "compression %q", comp)
	}
	// Every problem is reported at once.
	err := Config{Compression: "snappy", ReplicationFactor: -1}.Validate()
	require.ErrorContains(t, err, "brokers")
	require.ErrorContains(t, err, "compression")
	require.ErrorContains(t, err, "replication factor")
}

func TestCodec(t *testing.T) {
	c, err := codec("none")
	require.NoError(t, err)
	require.Equal(t, kafka.Compression(0), c)
	c, err = codec("lz4")
	require.NoError(t, err)
	require.Equal(t, kafka.Lz4, c)
	require.NotNil(t, c.Codec(), "lz4 codec is linked in")
	c, err = codec("zstd")
	require.NoError(t, err)
	require.Equal(t, kafka.Zstd, c)
	require.NotNil(t, c.Codec(), "zstd codec is linked in")
}

// writePEMs writes a self-signed CA-capable certificate and its key.
func writePEMs(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kafkabus-test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600))
	return certFile, keyFile
}

func TestTLSConfig(t *testing.T) {
	cert, key := writePEMs(t)
	tc := &TLSConfig{CAFile: cert, CertFile: cert, KeyFile: key, ServerName: "kafka.example"}
	cfg, err := tc.load()
	require.NoError(t, err)
	require.NotNil(t, cfg.RootCAs)
	require.Len(t, cfg.Certificates, 1)
	require.Equal(t, "kafka.example", cfg.ServerName)
	require.NoError(t, Config{Brokers: []string{"k:9093"}, TLS: tc}.Validate())

	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	_, err = (&TLSConfig{CAFile: notPEM}).load()
	require.ErrorContains(t, err, "no PEM certificate")
	_, err = (&TLSConfig{CertFile: cert, KeyFile: cert}).load()
	require.ErrorContains(t, err, "client certificate")
}

func TestValidTopic(t *testing.T) {
	for _, bad := range []string{"", ".", "..", "has space", "slash/topic", "ü-umlaut", strings.Repeat("x", 250)} {
		require.Error(t, validTopic(bad), "%q", bad)
	}
	for _, good := range []string{"mamori.events", "a", "A-b_c.9", strings.Repeat("y", 249)} {
		require.NoError(t, validTopic(good), "%q", good)
	}
}

func TestRetentionConfigs(t *testing.T) {
	require.Equal(t, [][2]string{{"retention.ms", "-1"}, {"retention.bytes", "-1"}}, retentionConfigs(bus.TopicConfig{}))
	require.Equal(t, [][2]string{{"retention.ms", "259200000"}, {"retention.bytes", "1073741824"}},
		retentionConfigs(bus.TopicConfig{Retention: 72 * time.Hour, RetentionBytes: 1 << 30}))
}

func TestClassify(t *testing.T) {
	require.NoError(t, classify(nil))
	require.ErrorIs(t, classify(fmt.Errorf("x: %w", kafka.UnknownTopicOrPartition)), bus.ErrUnknownTopic)
	require.ErrorIs(t, classify(kafka.LeaderNotAvailable), bus.ErrUnavailable)
	require.ErrorIs(t, classify(fmt.Errorf("dial: %w", syscall.ECONNREFUSED)), bus.ErrUnavailable)
	require.ErrorIs(t, classify(kafka.WriteErrors{nil, kafka.UnknownTopicOrPartition}), bus.ErrUnknownTopic)
	require.ErrorIs(t, classify(context.Canceled), context.Canceled)
	other := errors.New("other")
	require.Equal(t, other, classify(other))
}

func TestOpenUnreachableIsUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Port 1 on loopback: connection refused, no broker needed.
	_, err := Open(ctx, Config{Brokers: []string{"127.0.0.1:1"}, DialTimeout: 2 * time.Second})
	require.ErrorIs(t, err, bus.ErrUnavailable)
}
