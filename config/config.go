// Package config loads Mamori's one YAML configuration file: strict decoding
// that rejects unknown keys, defaults, environment overrides (MAMORI_<KEY>,
// for example MAMORI_API_LISTEN) and validation whose errors name the key and
// the fix. config.example.yaml at the repository root documents every key.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/notify"
	"github.com/mamori-soc/mamori/casework/sla"
	"github.com/mamori-soc/mamori/directory"
	"github.com/mamori-soc/mamori/ingest/httpin"
	"github.com/mamori-soc/mamori/ingest/syslog"
	"github.com/mamori-soc/mamori/kql"
	psyslog "github.com/mamori-soc/mamori/parsers/syslog"
	"github.com/mamori-soc/mamori/parsers/winevent"
	"github.com/mamori-soc/mamori/sessions"
)

// Config is the whole configuration.
type Config struct {
	// DataDir holds the embedded journal and store.
	DataDir string `yaml:"data_dir"`
	// Timezone shows times and resolves dates written without a zone.
	Timezone  string    `yaml:"timezone"`
	Log       Log       `yaml:"log"`
	Bus       Bus       `yaml:"bus"`
	Store     Store     `yaml:"store"`
	Ingest    Ingest    `yaml:"ingest"`
	Parse     Parsers   `yaml:"parse"`
	Stages    Stages    `yaml:"stages"`
	Retention Retention `yaml:"retention"`
	API       API       `yaml:"api"`
	Directory Directory `yaml:"directory"`
	Sessions  Sessions  `yaml:"sessions"`
	// Calendar is the business calendar: hours, Japanese public holidays,
	// closures. Detection rules (off hours) and SLA clocks run on it. Its
	// location defaults to Timezone.
	Calendar   calendar.Config `yaml:"calendar"`
	Detections Detections      `yaml:"detections"`
	Casework   Casework        `yaml:"casework"`

	loc *time.Location
}

// Log configures Mamori's own logs.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Bus selects and configures the message bus: Kafka when brokers are
// configured, the embedded journal otherwise.
type Bus struct {
	Embedded Journal `yaml:"embedded"`
	Kafka    Kafka   `yaml:"kafka"`
}

// Kafka configures the Apache Kafka bus.
type Kafka struct {
	// Brokers are bootstrap addresses (host:port); empty uses the embedded
	// journal.
	Brokers []string `yaml:"brokers"`
	// ClientID is sent to the brokers.
	ClientID string `yaml:"client_id"`
	// Partitions of each topic Mamori creates: the most workers a stage can
	// spread over, across all Mamori processes.
	Partitions int `yaml:"partitions"`
	// ReplicationFactor of created topics (3 in production clusters).
	ReplicationFactor int `yaml:"replication_factor"`
	// Compression of produced batches: none, lz4 or zstd.
	Compression string `yaml:"compression"`
	// Namespace, when set, prefixes Mamori's topics and consumer groups
	// ("test.mamori.events"), so deployments can share a cluster.
	Namespace string `yaml:"namespace"`
	// TLS to the brokers; leave ca_file empty to trust the system roots.
	TLS KafkaTLS `yaml:"tls"`
}

// KafkaTLS configures TLS to the brokers.
type KafkaTLS struct {
	Enabled    bool   `yaml:"enabled"`
	CAFile     string `yaml:"ca_file"`
	CertFile   string `yaml:"cert_file"`
	KeyFile    string `yaml:"key_file"`
	ServerName string `yaml:"server_name"`
}

// Journal configures the embedded bus.
type Journal struct {
	// Sync is "full" (survives power loss) or "normal" (survives a crash of
	// Mamori, not of the machine).
	Sync string `yaml:"sync"`
	// Partitions per topic created by Mamori.
	Partitions int `yaml:"partitions"`
}

// Store selects and configures the document store: Elasticsearch when
// addresses are configured, the embedded SQLite store otherwise.
type Store struct {
	Embedded      EmbeddedStore `yaml:"embedded"`
	Elasticsearch Elasticsearch `yaml:"elasticsearch"`
}

// Elasticsearch configures the Elasticsearch (or OpenSearch) store.
type Elasticsearch struct {
	// Addresses are node URLs (https://host:9200); empty uses the embedded
	// store.
	Addresses []string `yaml:"addresses"`
	// Compat is "elasticsearch" (8.x: ILM, point in time) or "opensearch"
	// (2.x: Mamori's own retention sweeper, OpenSearch's point in time).
	Compat string `yaml:"compat"`
	// Username for basic authentication; the password comes from
	// PasswordFile or the environment variable MAMORI_ELASTICSEARCH_PASSWORD,
	// never from this file.
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	// APIKeyFile holds an Elasticsearch API key (the base64 "id:key"
	// form), instead of a username and password; or set
	// MAMORI_ELASTICSEARCH_API_KEY.
	APIKeyFile string `yaml:"api_key_file"`
	// CAFile is the PEM bundle that signs the nodes' certificates (empty:
	// the system roots).
	CAFile string `yaml:"ca_file"`
	// Namespace is the last part of data stream names,
	// logs-mamori.<dataset>-<namespace>.
	Namespace string `yaml:"namespace"`
	// Shards and Replicas of each new backing index.
	Shards   int `yaml:"shards"`
	Replicas int `yaml:"replicas"`
	// Rollover starts a new backing index after this age (ILM on
	// Elasticsearch).
	Rollover Duration `yaml:"rollover"`
	// Refresh after each bulk request: "" (no: documents become searchable
	// within the refresh interval, about a second), "wait_for" or "true".
	Refresh string `yaml:"refresh"`
}

// EmbeddedStore configures the SQLite store.
type EmbeddedStore struct{}

// Ingest configures the edges.
type Ingest struct {
	Syslog syslog.Config `yaml:"syslog"`
	HTTP   httpin.Config `yaml:"http"`
}

// Parsers configures the parse stage's parsers.
type Parsers struct {
	// Syslog's location defaults to the top-level timezone.
	Syslog psyslog.Config `yaml:"syslog"`
	// Topics are Kafka topics other shippers write to, read by the parse
	// stage with the named format.
	Topics []ForeignTopic `yaml:"topics"`
}

// ForeignTopic is a Kafka topic another shipper (Winlogbeat, Elastic Agent,
// NXLog) writes to.
type ForeignTopic struct {
	Topic  string `yaml:"topic"`
	Format string `yaml:"format"`
}

// Formats are the record formats the parse stage has parsers for.
var Formats = []string{syslog.Format, winevent.FormatXML, winevent.FormatWinlogbeat, winevent.FormatNXLog, winevent.FormatSnare}

// Stages sizes the stages.
type Stages struct {
	Parse StageConfig `yaml:"parse"`
	Index StageConfig `yaml:"index"`
	// Detect sizes both steps of the detect stage (select and correlate).
	Detect StageConfig `yaml:"detect"`
}

// StageConfig sizes one stage.
type StageConfig struct {
	Workers   int `yaml:"workers"`
	BatchSize int `yaml:"batch_size"`
}

// Retention says how long data is kept.
type Retention struct {
	Raw    Duration `yaml:"raw"`
	Events Duration `yaml:"events"`
	DLQ    Duration `yaml:"dlq"`
}

// API configures the HTTP server (JSON API, metrics, health).
type API struct {
	// Listen is host:port; empty disables the server.
	Listen string `yaml:"listen"`
	TLS    TLS    `yaml:"tls"`
	// Tokens allowed on /api/v1. Only the SHA-256 of each token is kept.
	Tokens []Token `yaml:"tokens"`
}

// TLS names a certificate and key in PEM files.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Token is one API bearer token.
type Token struct {
	Name   string `yaml:"name"`
	Role   string `yaml:"role"`   // viewer, analyst or admin
	SHA256 string `yaml:"sha256"` // hex SHA-256 of the token
}

// Sessions configures logon sessions built from Windows logon and logoff
// events (mamori sessions, GET /api/v1/sessions).
type Sessions struct {
	// MaxDuration ends a session whose logoff was never seen.
	MaxDuration Duration `yaml:"max_duration"`
	// Types are the logon types listed unless a query names others, as
	// the --types flag takes them.
	Types string `yaml:"types"`
}

// Defaults returns the session defaults (valid after Validate).
func (s Sessions) Defaults() sessions.Defaults {
	types, err := sessions.ParseTypes(s.Types)
	if err != nil {
		types = nil // Validate reported it; fall back to the built-in default
	}
	return sessions.Defaults{MaxDuration: time.Duration(s.MaxDuration), Types: types}
}

// Detections configures the detect stage: which rules run and how long
// stateful rules wait for late events.
type Detections struct {
	// Builtin runs Mamori's built-in rule pack (default true).
	Builtin *bool `yaml:"builtin"`
	// RulesDir holds the organisation's own rules, native and Sigma side
	// by side (relative paths are relative to the configuration file).
	RulesDir string `yaml:"rules_dir"`
	// Disabled lists rule ids that do not run.
	Disabled []string `yaml:"disabled"`
	// Exceptions are KQL queries: events matching one never alert.
	Exceptions []string `yaml:"exceptions"`
	// AllowedLateness is how long, in event time, stateful rules wait for
	// events that arrive out of order (default 1m).
	AllowedLateness Duration `yaml:"allowed_lateness"`
}

// Casework configures cases (role casework): how alerts become cases and
// the runbooks attached to them.
type Casework struct {
	// RunbooksDir holds Markdown runbooks named after a rule id or a case
	// type (relative paths are relative to the configuration file).
	RunbooksDir string `yaml:"runbooks_dir"`
	// AlertWindow groups alerts of one rule about one entity into one case
	// (default 24h).
	AlertWindow Duration `yaml:"alert_window"`
	// CaseTypes gives the case type of a rule's alerts by rule id (default
	// security_incident), such as failure for a rule that watches for
	// devices or log sources going down.
	CaseTypes map[string]string `yaml:"case_types"`
	// Duties are the periodic duties opened as cases when their periods
	// begin (daily_report each business day, weekly_security_report each
	// Monday, the monthly ones on the 1st, sla_review each half year).
	// Absent: all of them; [] for none.
	Duties []string `yaml:"duties"`
	// SweepInterval is how often the SLA watcher and the log-retrieval
	// fulfiller go over open cases (default 1m).
	SweepInterval Duration `yaml:"sweep_interval"`
	// ClocksFile replaces the default SLA clocks (the seed's table,
	// casework/sla/defaults.yaml; `mamori config clocks` prints them) with
	// the clocks of a YAML file of the same form.
	ClocksFile string `yaml:"clocks_file"`
	// Notify is the e-mail relay and the webhooks notifications go through
	// (none configured: notices are only recorded on the cases).
	Notify notify.Config `yaml:"notify"`
	// SLANotices says who hears of SLA warnings and breaches.
	SLANotices Notices `yaml:"sla_notices"`
	// LogRetrieval configures the automatic fulfilment of log-retrieval
	// requests (SLA item 11).
	LogRetrieval LogRetrieval `yaml:"log_retrieval"`
}

// Notices are the recipients of a kind of notification: e-mail addresses
// and/or one configured webhook, in one language (ja or en, default ja).
type Notices struct {
	To      []string `yaml:"to"`
	Webhook string   `yaml:"webhook"`
	Lang    string   `yaml:"lang"`
}

// LogRetrieval configures log-retrieval requests. Exports are written under
// Dir, one folder per case, and downloaded through the API by the requester
// (the token named as the case's reporter) or a token of AllowedRole.
type LogRetrieval struct {
	// Dir holds the exports (default DATA_DIR/exports). Processes running
	// the casework and api roles must see the same directory.
	Dir string `yaml:"dir"`
	// MaxEvents refuses larger exports; the requester narrows the request
	// (default 10,000,000).
	MaxEvents int64 `yaml:"max_events"`
	// AllowedRole may download every export: analyst or admin (default
	// admin). Requesters always may download their own.
	AllowedRole string `yaml:"allowed_role"`
	// Lang is the language of the delivery notice (ja or en, default ja).
	Lang string `yaml:"lang"`
}

// BuiltinEnabled reports whether the built-in pack runs.
func (d Detections) BuiltinEnabled() bool { return d.Builtin == nil || *d.Builtin }

// Directory configures the scheduled Active Directory sync (role
// "directory"): entity records, change events, enrichment in the parse stage
// and the stale-account report. An empty URL turns it off. The bind password
// is never part of the file: PasswordFile, or the environment variable
// PasswordEnv (default MAMORI_DIRECTORY_PASSWORD).
type Directory struct {
	URL                string   `yaml:"url"`
	StartTLS           bool     `yaml:"start_tls"`
	CAFile             string   `yaml:"ca_file"`
	ServerName         string   `yaml:"server_name"`
	InsecureSkipVerify bool     `yaml:"insecure_skip_verify"`
	BindDN             string   `yaml:"bind_dn"`
	PasswordFile       string   `yaml:"password_file"`
	PasswordEnv        string   `yaml:"password_env"`
	BaseDN             string   `yaml:"base_dn"`
	PageSize           int      `yaml:"page_size"`
	Timeout            Duration `yaml:"timeout"`
	// Interval between syncs (default 1h).
	Interval Duration `yaml:"interval"`
	// PrivilegedGroups are well-known group names (matched by SID), SIDs,
	// DNs or other group names; empty: directory.DefaultPrivilegedGroups.
	PrivilegedGroups []string `yaml:"privileged_groups"`
	// StaleAfter is how long an account may go without a logon before the
	// parse stage marks its events stale (mamori.user.account_state; default
	// 90d, directory.DefaultStaleAfter).
	StaleAfter Duration `yaml:"stale_after"`
}

// Enabled reports whether a directory is configured.
func (d Directory) Enabled() bool { return d.URL != "" }

// LDAP returns the connection settings for directory.New.
func (d Directory) LDAP() directory.Config {
	return directory.Config{
		URL: d.URL, StartTLS: d.StartTLS, CAFile: d.CAFile, ServerName: d.ServerName,
		InsecureSkipVerify: d.InsecureSkipVerify, BindDN: d.BindDN, PasswordFile: d.PasswordFile,
		PasswordEnv: d.PasswordEnv, BaseDN: d.BaseDN, PageSize: uint32(max(d.PageSize, 0)), Timeout: time.Duration(d.Timeout),
	}
}

// Default returns the configuration used when a key is not set.
func Default() *Config {
	return &Config{
		DataDir:  "./data",
		Timezone: "Asia/Tokyo",
		Log:      Log{Level: "info", Format: "text"},
		Bus: Bus{
			Embedded: Journal{Sync: "full", Partitions: 2},
			Kafka:    Kafka{ClientID: "mamori", Partitions: 6, ReplicationFactor: 1, Compression: "lz4"},
		},
		Store: Store{Elasticsearch: Elasticsearch{
			Compat: "elasticsearch", Namespace: "default", Shards: 1, Replicas: 1, Rollover: Duration(24 * time.Hour),
		}},
		Stages: Stages{
			Parse: StageConfig{Workers: 2, BatchSize: 1000},
			Index: StageConfig{Workers: 1, BatchSize: 5000},
			// One worker per process, as for parse: a partition's state is
			// single-threaded, so more workers help only with more partitions.
			Detect: StageConfig{Workers: 1, BatchSize: 1000},
		},
		Detections: Detections{AllowedLateness: Duration(time.Minute)},
		Casework: Casework{
			AlertWindow: Duration(24 * time.Hour), SweepInterval: Duration(time.Minute),
			LogRetrieval: LogRetrieval{MaxEvents: 10_000_000, AllowedRole: "admin"},
		},
		Retention: Retention{
			Raw: Duration(7 * 24 * time.Hour), Events: Duration(90 * 24 * time.Hour), DLQ: Duration(30 * 24 * time.Hour),
		},
		API:      API{Listen: "127.0.0.1:8080"},
		Sessions: Sessions{MaxDuration: Duration(sessions.DefaultMaxDuration), Types: sessions.DefaultTypes.String()},
		Directory: Directory{
			PasswordEnv: directory.DefaultPasswordEnv, PageSize: 500, Timeout: Duration(30 * time.Second),
			Interval: Duration(directory.DefaultInterval), StaleAfter: Duration(directory.DefaultStaleAfter),
		},
	}
}

// Load reads a configuration file ("" for defaults only), applies
// environment overrides and validates the result.
func Load(path string) (*Config, error) {
	c := Default()
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		defer f.Close()
		if err := c.decode(f); err != nil {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
		if !filepath.IsAbs(c.DataDir) {
			c.DataDir = filepath.Join(filepath.Dir(path), c.DataDir)
		}
		if d := c.Detections.RulesDir; d != "" && !filepath.IsAbs(d) {
			c.Detections.RulesDir = filepath.Join(filepath.Dir(path), d)
		}
		paths := []*string{&c.Casework.RunbooksDir, &c.Casework.ClocksFile, &c.Casework.LogRetrieval.Dir}
		if sm := c.Casework.Notify.SMTP; sm != nil {
			paths = append(paths, &sm.PasswordFile, &sm.CAFile)
		}
		for i := range c.Casework.Notify.Webhooks {
			paths = append(paths, &c.Casework.Notify.Webhooks[i].SecretFile, &c.Casework.Notify.Webhooks[i].CAFile)
		}
		for _, d := range paths {
			if *d != "" && !filepath.IsAbs(*d) {
				*d = filepath.Join(filepath.Dir(path), *d)
			}
		}
	}
	if err := applyEnv(reflect.ValueOf(c).Elem(), "MAMORI", os.LookupEnv); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Parse decodes and validates a configuration from YAML bytes, without
// environment overrides (for tests and `mamori config check`).
func Parse(data []byte) (*Config, error) {
	c := Default()
	if err := c.decode(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) decode(r io.Reader) error {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// SLAClocks returns the SLA clock definitions: those of casework.clocks_file,
// or the built-in defaults. Every clock must apply to a case type casework
// has.
func (c *Config) SLAClocks() ([]sla.ClockDef, error) {
	defs := sla.Defaults()
	if f := c.Casework.ClocksFile; f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("casework.clocks_file: %w", err)
		}
		if defs, err = sla.Parse(data); err != nil {
			return nil, fmt.Errorf("casework.clocks_file: %s: %w", f, err)
		}
	}
	if err := casework.CheckClocks(defs); err != nil {
		return nil, fmt.Errorf("casework.clocks_file: %w", err)
	}
	return defs, nil
}

// BusinessCalendar returns the business calendar (valid after Validate),
// its zone defaulting to Timezone.
func (c *Config) BusinessCalendar() (*calendar.Calendar, error) {
	cal := c.Calendar
	if cal.Location == "" {
		cal.Location = c.Timezone
	}
	return calendar.New(cal)
}

// Location returns the configured time zone (valid after Validate).
func (c *Config) Location() *time.Location {
	if c.loc == nil {
		return time.UTC
	}
	return c.loc
}

// Validate checks every key and returns all problems, each naming its key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s: "+format, append([]any{key}, args...)...))
	}
	if c.DataDir == "" {
		bad("data_dir", "must name a directory for the embedded journal and store")
	}
	if loc, err := time.LoadLocation(c.Timezone); err != nil {
		bad("timezone", "%q is not an IANA time zone such as \"Asia/Tokyo\"", c.Timezone)
	} else {
		c.loc = loc
	}
	if !oneOf(c.Log.Level, "debug", "info", "warn", "error") {
		bad("log.level", "%q: want debug, info, warn or error", c.Log.Level)
	}
	if !oneOf(c.Log.Format, "text", "json") {
		bad("log.format", "%q: want text or json", c.Log.Format)
	}
	if !oneOf(c.Bus.Embedded.Sync, "full", "normal") {
		bad("bus.embedded.sync", "%q: want full or normal", c.Bus.Embedded.Sync)
	}
	if c.Bus.Embedded.Partitions < 1 || c.Bus.Embedded.Partitions > 64 {
		bad("bus.embedded.partitions", "%d: want 1 to 64", c.Bus.Embedded.Partitions)
	}
	for i, addr := range c.Bus.Kafka.Brokers {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad(fmt.Sprintf("bus.kafka.brokers[%d]", i), "%q is not host:port", addr)
		}
	}
	if c.Bus.Kafka.Partitions < 1 || c.Bus.Kafka.Partitions > 1000 {
		bad("bus.kafka.partitions", "%d: want 1 to 1000", c.Bus.Kafka.Partitions)
	}
	if c.Bus.Kafka.ReplicationFactor < 1 {
		bad("bus.kafka.replication_factor", "%d: want at least 1", c.Bus.Kafka.ReplicationFactor)
	}
	if !oneOf(c.Bus.Kafka.Compression, "none", "lz4", "zstd") {
		bad("bus.kafka.compression", "%q: want none, lz4 or zstd", c.Bus.Kafka.Compression)
	}
	if ns := c.Bus.Kafka.Namespace; ns != "" && !kafkaNamespace.MatchString(ns) {
		bad("bus.kafka.namespace", "%q: want 1 to 40 lower-case letters, digits, '_' or '-'", ns)
	}
	if t := c.Bus.Kafka.TLS; (t.CertFile == "") != (t.KeyFile == "") {
		bad("bus.kafka.tls", "set both cert_file and key_file, or neither")
	}
	es := c.Store.Elasticsearch
	for i, addr := range es.Addresses {
		if u, err := url.Parse(addr); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(fmt.Sprintf("store.elasticsearch.addresses[%d]", i), "%q is not an http or https URL", addr)
		}
	}
	if !oneOf(es.Compat, "elasticsearch", "opensearch") {
		bad("store.elasticsearch.compat", "%q: want elasticsearch or opensearch", es.Compat)
	}
	if !dataStreamPart.MatchString(es.Namespace) {
		bad("store.elasticsearch.namespace", "%q: want lower-case letters, digits and underscores (no dash)", es.Namespace)
	}
	if es.Shards < 1 || es.Shards > 1024 {
		bad("store.elasticsearch.shards", "%d: want 1 to 1024", es.Shards)
	}
	if es.Replicas < 0 || es.Replicas > 16 {
		bad("store.elasticsearch.replicas", "%d: want 0 to 16", es.Replicas)
	}
	if es.Rollover < Duration(time.Hour) {
		bad("store.elasticsearch.rollover", "%s: want at least 1h", time.Duration(es.Rollover))
	}
	if !oneOf(es.Refresh, "", "false", "wait_for", "true") {
		bad("store.elasticsearch.refresh", "%q: want empty, wait_for or true", es.Refresh)
	}
	if es.PasswordFile != "" && es.APIKeyFile != "" {
		bad("store.elasticsearch", "set password_file or api_key_file, not both")
	}
	if len(c.Ingest.Syslog.Listeners) == 0 {
		c.Ingest.Syslog.Listeners = []syslog.ListenerConfig{{Protocol: syslog.ProtocolUDP}, {Protocol: syslog.ProtocolTCP}}
	}
	if b := &c.Ingest.Syslog.Batch; len(c.Bus.Kafka.Brokers) > 0 {
		// Kafka: fewer, larger produce requests (see docs/benchmarks.md).
		if b.MaxRecords == 0 {
			b.MaxRecords = 5000
		}
		if b.MaxBytes == 0 {
			b.MaxBytes = 4 << 20
		}
	}
	c.Ingest.Syslog.ApplyDefaults()
	errs = append(errs, within("ingest.syslog", c.Ingest.Syslog.Validate())...)
	c.Ingest.HTTP.ApplyDefaults()
	errs = append(errs, within("ingest.http", c.Ingest.HTTP.Validate())...)
	if c.Parse.Syslog.Location == "" {
		c.Parse.Syslog.Location = c.Timezone
	}
	if err := c.Parse.Syslog.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("config: parse.syslog: %w", err))
	}
	seen := map[string]bool{}
	for i, t := range c.Parse.Topics {
		key := fmt.Sprintf("parse.topics[%d]", i)
		switch {
		case len(c.Bus.Kafka.Brokers) == 0:
			bad(key, "other shippers' topics need bus.kafka.brokers: the embedded journal receives only from Mamori's own edges")
		case !validTopic(t.Topic):
			bad(key+".topic", "%q: want 1 to 249 letters, digits, '.', '_' or '-'", t.Topic)
		case strings.HasPrefix(t.Topic, "mamori."):
			bad(key+".topic", "%q: mamori.* topics are Mamori's own", t.Topic)
		case seen[t.Topic]:
			bad(key+".topic", "%q is listed twice", t.Topic)
		}
		seen[t.Topic] = true
		if !slices.Contains(Formats, t.Format) {
			bad(key+".format", "%q: want one of %s", t.Format, strings.Join(Formats, ", "))
		}
	}
	for name, s := range map[string]StageConfig{"parse": c.Stages.Parse, "index": c.Stages.Index, "detect": c.Stages.Detect} {
		if s.Workers < 1 || s.Workers > 64 {
			bad("stages."+name+".workers", "%d: want 1 to 64", s.Workers)
		}
		if s.BatchSize < 1 || s.BatchSize > 10000 {
			bad("stages."+name+".batch_size", "%d: want 1 to 10000", s.BatchSize)
		}
	}
	for name, d := range map[string]Duration{"raw": c.Retention.Raw, "events": c.Retention.Events, "dlq": c.Retention.DLQ} {
		if d < 0 {
			bad("retention."+name, "must not be negative (0 keeps data forever)")
		}
	}
	if c.API.Listen != "" {
		if _, _, err := net.SplitHostPort(c.API.Listen); err != nil {
			bad("api.listen", "%q is not host:port", c.API.Listen)
		}
	}
	if (c.API.TLS.CertFile == "") != (c.API.TLS.KeyFile == "") {
		bad("api.tls", "set both cert_file and key_file, or neither")
	}
	names := map[string]bool{}
	for i, t := range c.API.Tokens {
		key := fmt.Sprintf("api.tokens[%d]", i)
		if t.Name == "" || names[t.Name] {
			bad(key+".name", "must be set and unique")
		}
		names[t.Name] = true
		if !oneOf(t.Role, "viewer", "analyst", "admin") {
			bad(key+".role", "%q: want viewer, analyst or admin", t.Role)
		}
		if len(t.SHA256) != 64 || strings.Trim(strings.ToLower(t.SHA256), "0123456789abcdef") != "" {
			bad(key+".sha256", "want the 64 hex digits of the token's SHA-256 (mamori token new prints it)")
		}
	}
	if d := time.Duration(c.Sessions.MaxDuration); d < time.Hour || d > 366*24*time.Hour {
		bad("sessions.max_duration", "%s: want 1h to 366d (default 7d)", d)
	}
	if _, err := sessions.ParseTypes(c.Sessions.Types); err != nil {
		bad("sessions.types", "%v", err)
	}
	cal := c.Calendar
	if cal.Location == "" {
		cal.Location = c.Timezone
	}
	if err := cal.Validate(); err != nil {
		bad("calendar", "%v", err)
	}
	if d := time.Duration(c.Casework.AlertWindow); d < time.Minute || d > 31*24*time.Hour {
		bad("casework.alert_window", "%s: want 1m to 31d (default 24h)", d)
	}
	for _, rule := range slices.Sorted(maps.Keys(c.Casework.CaseTypes)) {
		if t := casework.Type(c.Casework.CaseTypes[rule]); !slices.Contains(casework.Types, t) {
			bad("casework.case_types."+rule, "%q: want one of %v", t, casework.Types)
		}
	}
	for i, d := range c.Casework.Duties {
		if !slices.Contains(casework.Subtypes[casework.Duty], d) {
			bad(fmt.Sprintf("casework.duties[%d]", i), "%q: want one of %v", d, casework.Subtypes[casework.Duty])
		}
	}
	if d := time.Duration(c.Casework.SweepInterval); d < time.Second || d > time.Hour {
		bad("casework.sweep_interval", "%s: want 1s to 1h (default 1m)", d)
	}
	if err := c.Casework.Notify.Validate(); err != nil {
		bad("casework.notify", "%v", err)
	}
	for key, n := range map[string]Notices{"casework.sla_notices": c.Casework.SLANotices} {
		for i, to := range n.To {
			if _, err := mail.ParseAddress(to); err != nil {
				bad(fmt.Sprintf("%s.to[%d]", key, i), "%q: %v", to, err)
			}
		}
		if n.Webhook != "" && !slices.ContainsFunc(c.Casework.Notify.Webhooks, func(w notify.WebhookConfig) bool { return w.Name == n.Webhook }) {
			bad(key+".webhook", "%q: no webhook of that name in casework.notify.webhooks", n.Webhook)
		}
		if len(n.To) > 0 && c.Casework.Notify.SMTP == nil {
			bad(key+".to", "e-mail recipients need casework.notify.smtp")
		}
	}
	for key, l := range map[string]string{"casework.sla_notices.lang": c.Casework.SLANotices.Lang, "casework.log_retrieval.lang": c.Casework.LogRetrieval.Lang} {
		if l != "" && !slices.Contains(notify.Langs, notify.Lang(l)) {
			bad(key, "%q: want ja or en", l)
		}
	}
	if r := c.Casework.LogRetrieval.AllowedRole; r != "analyst" && r != "admin" {
		bad("casework.log_retrieval.allowed_role", "%q: want analyst or admin", r)
	}
	if c.Casework.ClocksFile != "" {
		if _, err := c.SLAClocks(); err != nil {
			bad("casework.clocks_file", "%v", errors.Unwrap(err))
		}
	}
	if n := c.Casework.LogRetrieval.MaxEvents; n < 1 {
		bad("casework.log_retrieval.max_events", "%d: want 1 or more", n)
	}
	if d := time.Duration(c.Detections.AllowedLateness); d < 0 || d > 24*time.Hour {
		bad("detections.allowed_lateness", "%s: want 0s to 24h (default 1m)", d)
	}
	for i, q := range c.Detections.Exceptions {
		if _, err := kql.Parse(q); err != nil {
			bad(fmt.Sprintf("detections.exceptions[%d]", i), "%v", err)
		}
	}
	if d := c.Directory; d.Enabled() {
		ldap := d.LDAP()
		for _, err := range ldap.Problems() {
			errs = append(errs, fmt.Errorf("config: directory.%w", err))
		}
		if d.PageSize < 1 {
			bad("directory.page_size", "%d: want 1 to 1000", d.PageSize)
		}
		if d.Timeout < Duration(time.Second) {
			bad("directory.timeout", "%s: want at least 1s", time.Duration(d.Timeout))
		}
		if d.Interval < Duration(time.Minute) {
			bad("directory.interval", "%s: want at least 1m (default 1h)", time.Duration(d.Interval))
		}
		if d.StaleAfter < Duration(24*time.Hour) {
			bad("directory.stale_after", "%s: want at least 1d (default 90d)", time.Duration(d.StaleAfter))
		}
		if _, err := directory.NewPrivileged(d.PrivilegedGroups); err != nil {
			errs = append(errs, errors.New("config: directory."+strings.TrimPrefix(err.Error(), directory.ErrConfig.Error()+": ")))
		}
		if d.PasswordFile == "" && d.PasswordEnv == "" {
			bad("directory.password_env", "set password_file or password_env: the bind password never goes in this file")
		}
	}
	return errors.Join(errs...)
}

// dataStreamPart is what Elasticsearch allows in the dataset and namespace
// parts of a data stream name.
var dataStreamPart = regexp.MustCompile(`^[a-z0-9_]{1,100}$`)

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// applyEnv overrides scalar keys from environment variables named after their
// YAML path: MAMORI_DATA_DIR, MAMORI_API_LISTEN, MAMORI_INGEST_BATCH_MAX_WAIT.
func applyEnv(v reflect.Value, prefix string, lookup func(string) (string, bool)) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		fv := v.Field(i)
		if s, ok := lookup(name); ok {
			if err := setScalar(fv, s); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			continue
		}
		if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeOf(Secret{}) {
			if err := applyEnv(fv, name, lookup); err != nil {
				return err
			}
		}
	}
	return nil
}

func setScalar(v reflect.Value, s string) error {
	switch v.Interface().(type) {
	case Duration:
		d, err := ParseDuration(s)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(Duration(d)))
		return nil
	case Secret:
		v.Set(reflect.ValueOf(NewSecret(s)))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		v.SetInt(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		v.SetBool(b)
	default:
		return fmt.Errorf("this key cannot be set from the environment; use the file")
	}
	return nil
}

// kafkaNamespace is what bus.kafka.namespace allows.
var kafkaNamespace = regexp.MustCompile(`^[a-z0-9_-]{1,40}$`)

// validTopic reports whether name is a legal Kafka topic name.
func validTopic(name string) bool {
	if name == "" || len(name) > 249 || name == "." || name == ".." {
		return false
	}
	return strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == ""
}

// within prefixes each error a section's Validate joined with the section's
// path, so every line of the report names its full key.
func within(section string, err error) []error {
	if err == nil {
		return nil
	}
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	out := make([]error, len(list))
	for i, e := range list {
		out[i] = fmt.Errorf("config: %s: %w", section, e)
	}
	return out
}
