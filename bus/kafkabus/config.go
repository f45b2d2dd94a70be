package kafkabus

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

// Compression codecs accepted in Config.Compression.
const (
	CompressionNone = "none"
	CompressionLZ4  = "lz4"
	CompressionZstd = "zstd"
)

// TLSConfig points at PEM files for a TLS connection to the brokers.
type TLSConfig struct {
	// CAFile verifies the brokers; empty: the system roots.
	CAFile string
	// CertFile and KeyFile, both or neither: the client certificate.
	CertFile string
	KeyFile  string
	// ServerName overrides the name checked in the broker certificate.
	ServerName string
	// InsecureSkipVerify disables verification (tests only).
	InsecureSkipVerify bool
}

// Config configures the Kafka bus.
type Config struct {
	// Brokers are the bootstrap addresses, host:port.
	Brokers []string
	// ClientID is sent to the brokers; default "mamori".
	ClientID string
	// DefaultPartitions is used by EnsureTopic when TopicConfig.Partitions is 0; default 1.
	DefaultPartitions int
	// ReplicationFactor of created topics; default 1.
	ReplicationFactor int
	// Compression of produced batches: none, lz4 (default) or zstd.
	Compression string
	// MaxMessageBytes bounds one produce request and one fetch; default 4 MiB
	// (the local broker's message.max.bytes).
	MaxMessageBytes int
	// DialTimeout bounds connecting to a broker; default 10s.
	DialTimeout time.Duration
	// TLS enables TLS when non-nil.
	TLS *TLSConfig
	// Logger receives kafka-go's diagnostics; nil discards them.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.ClientID == "" {
		c.ClientID = "mamori"
	}
	if c.DefaultPartitions == 0 {
		c.DefaultPartitions = 1
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = 1
	}
	if c.Compression == "" {
		c.Compression = CompressionLZ4
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = 4 << 20
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every problem in the configuration (after defaults).
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("brokers: at least one is required"))
	}
	for _, b := range c.Brokers {
		host, port, ok := strings.Cut(strings.TrimSpace(b), ":")
		if !ok || host == "" || port == "" {
			errs = append(errs, fmt.Errorf("brokers: %q is not host:port", b))
		}
	}
	if c.DefaultPartitions < 0 {
		errs = append(errs, fmt.Errorf("default partitions: %d is negative", c.DefaultPartitions))
	}
	if c.ReplicationFactor < 0 || c.ReplicationFactor > 32767 {
		errs = append(errs, fmt.Errorf("replication factor: %d out of range", c.ReplicationFactor))
	}
	if _, err := codec(c.Compression); err != nil {
		errs = append(errs, err)
	}
	if c.MaxMessageBytes < 0 {
		errs = append(errs, fmt.Errorf("max message bytes: %d is negative", c.MaxMessageBytes))
	}
	if c.DialTimeout < 0 {
		errs = append(errs, fmt.Errorf("dial timeout: %s is negative", c.DialTimeout))
	}
	if c.TLS != nil {
		if _, err := c.TLS.load(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("kafkabus: invalid config: %w", errors.Join(errs...))
	}
	return nil
}

func codec(name string) (kafka.Compression, error) {
	switch strings.ToLower(name) {
	case CompressionNone:
		return 0, nil
	case CompressionLZ4:
		return kafka.Lz4, nil
	case CompressionZstd:
		return kafka.Zstd, nil
	}
	return 0, fmt.Errorf("compression: %q is not none, lz4 or zstd", name)
}

// load builds the crypto/tls configuration from the files.
func (t *TLSConfig) load() (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // opt-in, documented as tests only
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls: ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: ca file %s: no PEM certificate found", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, errors.New("tls: cert file and key file go together")
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
