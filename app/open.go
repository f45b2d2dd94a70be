// Package app assembles a running Mamori from its configuration: it opens
// the bus and the store the configuration selects, creates the topics, and
// runs the edges, the stages, the retention sweeper and the HTTP server until
// it is stopped. The command line only parses flags and calls into app.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/bus/journal"
	"github.com/mamori-soc/mamori/bus/kafkabus"
	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/internal/secret"
	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/store/esstore"
	"github.com/mamori-soc/mamori/store/sqlitestore"
)

// JournalPath and StorePath are where the embedded bus and store live.
func JournalPath(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "journal.db") }

// StorePath is the embedded store's database file.
func StorePath(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "store.db") }

// OpenBus opens the configured bus: Kafka when brokers are configured, the
// embedded journal otherwise.
func OpenBus(ctx context.Context, cfg *config.Config, log *slog.Logger) (bus.Bus, error) {
	if k := cfg.Bus.Kafka; len(k.Brokers) > 0 {
		kc := kafkabus.Config{
			Brokers: k.Brokers, ClientID: k.ClientID, DefaultPartitions: k.Partitions,
			ReplicationFactor: k.ReplicationFactor, Compression: k.Compression, Logger: log.With("bus", "kafka"),
		}
		if k.TLS.Enabled {
			kc.TLS = &kafkabus.TLSConfig{CAFile: k.TLS.CAFile, CertFile: k.TLS.CertFile, KeyFile: k.TLS.KeyFile, ServerName: k.TLS.ServerName}
		}
		b, err := kafkabus.Open(ctx, kc)
		if err != nil {
			return nil, fmt.Errorf("bus.kafka: %w", err)
		}
		return bus.Namespaced(b, k.Namespace), nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	sync := journal.SyncFull
	if cfg.Bus.Embedded.Sync == "normal" {
		sync = journal.SyncNormal
	}
	j, err := journal.Open(JournalPath(cfg), journal.Options{
		Sync:              sync,
		DefaultPartitions: cfg.Bus.Embedded.Partitions,
		Logger:            log,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: %w", err)
	}
	return j, nil
}

// OpenStore opens the configured store: Elasticsearch when addresses are
// configured, the embedded SQLite store otherwise. A process that only reads
// (writes is false) leaves Elasticsearch's templates to the writers.
func OpenStore(ctx context.Context, cfg *config.Config, log *slog.Logger, writes bool) (store.Store, error) {
	if es := cfg.Store.Elasticsearch; len(es.Addresses) > 0 {
		opts, err := elasticsearchOptions(cfg)
		if err != nil {
			return nil, err
		}
		opts.Log = log.With("store", "elasticsearch")
		opts.ReadOnly = !writes
		s, err := esstore.Open(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("store.elasticsearch: %w", err)
		}
		return s, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	s, err := sqlitestore.Open(StorePath(cfg), sqlitestore.Options{})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return s, nil
}

// elasticsearchOptions reads the Elasticsearch settings and secrets: the
// password and API key come from files or the environment, never from the
// configuration file itself.
func elasticsearchOptions(cfg *config.Config) (esstore.Options, error) {
	es := cfg.Store.Elasticsearch
	opts := esstore.Options{
		Addresses: es.Addresses, Compat: es.Compat, Username: es.Username, Namespace: es.Namespace,
		Shards: es.Shards, Replicas: es.Replicas, Rollover: time.Duration(es.Rollover),
		Retention: time.Duration(cfg.Retention.Events), Refresh: es.Refresh,
	}
	var err error
	if opts.Password, err = secret.Read(es.PasswordFile, "MAMORI_ELASTICSEARCH_PASSWORD"); err != nil {
		return opts, fmt.Errorf("store.elasticsearch.password_file: %w", err)
	}
	if opts.APIKey, err = secret.Read(es.APIKeyFile, "MAMORI_ELASTICSEARCH_API_KEY"); err != nil {
		return opts, fmt.Errorf("store.elasticsearch.api_key_file: %w", err)
	}
	if es.CAFile != "" {
		if opts.CACert, err = os.ReadFile(es.CAFile); err != nil {
			return opts, fmt.Errorf("store.elasticsearch.ca_file: %w", err)
		}
	}
	return opts, nil
}

// Topics returns the topics Mamori uses, with their configured retention.
func Topics(cfg *config.Config) []bus.TopicConfig {
	p := cfg.Bus.Embedded.Partitions
	if len(cfg.Bus.Kafka.Brokers) > 0 {
		p = cfg.Bus.Kafka.Partitions
	}
	topics := []bus.TopicConfig{
		{Name: bus.TopicRawSyslog, Partitions: p, Retention: time.Duration(cfg.Retention.Raw)},
		{Name: bus.TopicRawWinlog, Partitions: p, Retention: time.Duration(cfg.Retention.Raw)},
		{Name: bus.TopicEvents, Partitions: p, Retention: time.Duration(cfg.Retention.Raw)},
		{Name: detections.TopicMatches, Partitions: p, Retention: time.Duration(cfg.Retention.Raw)},
		{Name: bus.TopicAlerts, Partitions: p, Retention: time.Duration(cfg.Retention.Raw)},
		{Name: bus.TopicDLQ, Partitions: 1, Retention: time.Duration(cfg.Retention.DLQ)},
	}
	// Other shippers' topics: created when missing, so the parse stage can
	// join before the first shipper connects; existing ones are left as
	// their owners configured them.
	for _, t := range cfg.Parse.Topics {
		topics = append(topics, bus.TopicConfig{Name: t.Topic, Partitions: p, Retention: time.Duration(cfg.Retention.Raw)})
	}
	return topics
}

// EnsureTopics creates the topics that are missing.
func EnsureTopics(ctx context.Context, b bus.Bus, cfg *config.Config) error {
	for _, t := range Topics(cfg) {
		if err := b.EnsureTopic(ctx, t); err != nil {
			return fmt.Errorf("topic %s: %w", t.Name, err)
		}
	}
	return nil
}

// Logger builds Mamori's logger from the configuration.
func Logger(cfg *config.Config, w *os.File) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
