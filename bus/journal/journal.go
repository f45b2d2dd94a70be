// Package journal is the embedded bus: a durable, partitioned record journal
// in one SQLite file (WAL mode, modernc.org/sqlite), with Kafka's topic,
// offset, key-placement, consumer-group and retention semantics, so that
// `mamori run` needs no broker.
//
// # Processes
//
// One process consumes each consumer group: the first Subscribe of a group
// takes an exclusive lock on the file "<path>.<group>.lock" beside the
// database and holds it until Close; a Subscribe to the same group in any
// other process (or another Journal on the same path) fails with ErrLocked.
// The members of a group are coordinated in memory by that process. Other
// groups may be consumed by other processes at the same time (so `mamori dlq
// replay` runs beside `mamori run`).
// Other processes (CLI tools) may Open the same journal to Publish, Read,
// EnsureTopic and Partitions at the same time: SQLite serialises the writers
// (busy_timeout), offsets are assigned inside the write transaction, and the
// consuming process notices their records by polling (Options.PollInterval).
// A Seek from a process that does not hold the lock only updates the stored
// group position; live members in the consuming process keep their
// in-memory positions until they rejoin.
//
// # Durability
//
// Publish, Commit and Seek return after their transaction committed. With
// SyncFull (the default, PRAGMA synchronous=FULL) the WAL is fsynced on every
// commit, so an acknowledged record survives kill -9 and power loss. With
// SyncNormal it survives kill -9; a power loss may drop the last commits but
// never corrupts the file.
//
// # Consumer groups
//
// The members of a group share the partitions of the topics they subscribe
// to: sorted by topic and partition and dealt round-robin to the members in
// join order (Kafka's RoundRobinAssignor). Every join and leave reassigns
// them; a member keeps its in-memory fetch position on the partitions it
// keeps, and a partition that moves starts at the group's committed offset,
// so its uncommitted records are delivered again (at least once). A group
// without a committed offset starts at the oldest retained record. A
// committed offset never moves backwards, except by Seek.
//
// # Storage
//
// Tables topics, partitions (the next offset and the retained bytes of
// each), records (primary key topic, part, off) and group_offsets. Offsets
// are assigned from partitions.next_offset inside the publishing
// transaction, so they stay dense and are never reused, even after
// retention deleted every record. Retention deletes only the oldest records
// of a partition (a prefix), in short transactions. Record times are stored
// in milliseconds since the epoch, UTC, as Kafka stores them.
package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mamori-soc/mamori/bus"
)

var _ bus.Bus = (*Journal)(nil)

// ErrLocked: another process (or another Journal on the same path) consumes
// this journal; only one may. Publish and Read still work.
var ErrLocked = errors.New("journal: consumed by another process")

// SyncMode says when a commit reaches stable storage.
type SyncMode int

const (
	// SyncFull fsyncs the WAL on every commit (PRAGMA synchronous=FULL): an
	// acknowledged Publish survives kill -9 and power loss. The default.
	SyncFull SyncMode = iota
	// SyncNormal fsyncs only at checkpoints (PRAGMA synchronous=NORMAL): an
	// acknowledged Publish survives kill -9; a power loss may lose the last
	// commits, never the file's consistency.
	SyncNormal
)

// String returns the SQLite name of the mode.
func (m SyncMode) String() string {
	switch m {
	case SyncFull:
		return "FULL"
	case SyncNormal:
		return "NORMAL"
	default:
		return fmt.Sprintf("SyncMode(%d)", int(m))
	}
}

// Options configure a Journal. Zero values take the defaults.
type Options struct {
	// Sync is the durability of a commit; default SyncFull.
	Sync SyncMode
	// PollInterval is how often a consuming Journal looks for records that
	// other processes published; default 250ms, negative disables polling.
	PollInterval time.Duration
	// SweepInterval is how often records beyond their topic's retention are
	// deleted; default 1 minute, negative disables the background sweep
	// (Sweep still works).
	SweepInterval time.Duration
	// DefaultPartitions is the partition count of a topic created with
	// TopicConfig.Partitions 0; default 1.
	DefaultPartitions int
	// BusyTimeout bounds how long a statement waits for another process's
	// write lock before failing with bus.ErrUnavailable; default 10s.
	BusyTimeout time.Duration
	// Logger receives operational messages; default discards them.
	Logger *slog.Logger
}

func (o *Options) withDefaults() (Options, error) {
	out := *o
	switch out.Sync {
	case SyncFull, SyncNormal:
	default:
		return out, fmt.Errorf("journal: options: unknown sync mode %d (use SyncFull or SyncNormal)", int(out.Sync))
	}
	if out.PollInterval == 0 {
		out.PollInterval = 250 * time.Millisecond
	}
	if out.SweepInterval == 0 {
		out.SweepInterval = time.Minute
	}
	if out.DefaultPartitions == 0 {
		out.DefaultPartitions = 1
	}
	if out.DefaultPartitions < 0 || out.DefaultPartitions > maxPartitions {
		return out, fmt.Errorf("journal: options: default partitions %d out of range 1..%d", out.DefaultPartitions, maxPartitions)
	}
	if out.BusyTimeout == 0 {
		out.BusyTimeout = 10 * time.Second
	}
	if out.BusyTimeout < 0 {
		return out, fmt.Errorf("journal: options: negative busy timeout %s", out.BusyTimeout)
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	return out, nil
}

const (
	maxPartitions   = 10000
	maxTopicNameLen = 249
	// schemaVersion is stored in PRAGMA user_version.
	schemaVersion = 1
	// applicationID marks the file as a Mamori journal ("MMJ1").
	applicationID = 0x4d4d4a31
	// readConns bounds the reader pool (Fetch, Read, polling).
	readConns = 8
)

const schema = `
CREATE TABLE IF NOT EXISTS topics (
	name            TEXT PRIMARY KEY,
	partitions      INTEGER NOT NULL,
	retention_ms    INTEGER NOT NULL DEFAULT 0,
	retention_bytes INTEGER NOT NULL DEFAULT 0,
	created_ms      INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS partitions (
	topic       TEXT    NOT NULL,
	part        INTEGER NOT NULL,
	next_offset INTEGER NOT NULL, -- next offset to assign; never decreases
	bytes       INTEGER NOT NULL, -- key+value+headers bytes retained
	PRIMARY KEY (topic, part)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
	topic   TEXT    NOT NULL,
	part    INTEGER NOT NULL,
	off     INTEGER NOT NULL,
	key     BLOB,
	value   BLOB,
	headers BLOB,             -- see headers.go
	ts      INTEGER NOT NULL, -- record time, ms since the epoch
	PRIMARY KEY (topic, part, off)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_offsets (
	grp         TEXT    NOT NULL,
	topic       TEXT    NOT NULL,
	part        INTEGER NOT NULL,
	next_offset INTEGER NOT NULL, -- offset the group resumes at
	PRIMARY KEY (grp, topic, part)
) STRICT, WITHOUT ROWID;
`

// sizeExpr is the retained size of a record, as counted in partitions.bytes.
const sizeExpr = `ifnull(length(key),0)+ifnull(length(value),0)+ifnull(length(headers),0)`

// tp names one partition of a topic.
type tp struct {
	topic string
	part  int
}

// Journal is a bus.Bus stored in one SQLite database. It is safe for
// concurrent use.
type Journal struct {
	path string
	opts Options
	log  *slog.Logger

	wdb *sql.DB // one connection, BEGIN IMMEDIATE: the only writer of this process
	rdb *sql.DB // readers
	st  stmts

	// wmu serialises write transactions and guards the writer's statements.
	wmu sync.Mutex

	// ctx is cancelled by Close; background work runs under it.
	ctx    context.Context
	cancel context.CancelFunc
	bg     sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	meta      map[string]int // topic -> partitions, for topics seen (never deleted)
	rr        map[string]int // topic -> round-robin counter for unkeyed records
	hw        map[tp]int64   // next offset known to be committed, per partition
	wake      chan struct{}  // closed and replaced on every change consumers wait for
	groups    map[string]*group
	memberSeq int64                // numbers members, for logs
	locks     map[string]*fileLock // consumer locks by group, taken by the first Subscribe
	polling   bool                 // the poller runs
}

type stmts struct {
	// writer
	bumpNext *sql.Stmt
	insert   [insertSizes]*sql.Stmt // insert[i] inserts 1<<i rows
	commit   *sql.Stmt
	seek     *sql.Stmt
	// readers
	fetch     *sql.Stmt
	committed *sql.Stmt
}

// Records are inserted by multi-row INSERTs of 1, 2, 4, ... 32 rows.
const insertSizes = 6

// insertSQL returns an INSERT of n records. (Numbered parameters shared
// by the rows, for topic and partition, measured slower: the driver looks
// their names up on every bind.)
func insertSQL(n int) string {
	return "INSERT OR FAIL INTO records (topic, part, off, key, value, headers, ts) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", n), ", ")
}

// Open opens or creates the journal at path (a file; its directory must
// exist) and starts the retention sweep.
func Open(path string, opts Options) (*Journal, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	j := &Journal{
		path:   abs,
		opts:   o,
		log:    o.Logger.With("journal", abs),
		meta:   make(map[string]int),
		rr:     make(map[string]int),
		hw:     make(map[tp]int64),
		wake:   make(chan struct{}),
		groups: make(map[string]*group),
	}
	j.ctx, j.cancel = context.WithCancel(context.Background())
	if err := j.open(); err != nil {
		j.cancel()
		j.closeDBs()
		return nil, err
	}
	if o.SweepInterval > 0 {
		j.bg.Add(1)
		go j.sweepLoop()
	}
	j.log.Info("journal opened", "sync", o.Sync.String())
	return j, nil
}

func (j *Journal) dsn(write bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", j.opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "synchronous("+j.opts.Sync.String()+")")
	q.Add("_pragma", "foreign_keys(0)")
	if write {
		// Take the write lock at BEGIN: a deferred transaction that upgrades
		// to a writer cannot wait for another process's lock (SQLITE_BUSY).
		q.Set("_txlock", "immediate")
		// Bound the WAL file after checkpoints.
		q.Add("_pragma", "journal_size_limit(67108864)")
	}
	u := url.URL{Scheme: "file", Path: j.path, RawQuery: q.Encode()}
	return u.String()
}

func (j *Journal) open() error {
	var err error
	j.wdb, err = sql.Open("sqlite", j.dsn(true))
	if err != nil {
		return fmt.Errorf("journal: open %s: %w", j.path, err)
	}
	j.wdb.SetMaxOpenConns(1)
	j.wdb.SetMaxIdleConns(1)
	j.wdb.SetConnMaxLifetime(0)
	j.wdb.SetConnMaxIdleTime(0)

	ctx := j.ctx
	if err := j.initSchema(ctx); err != nil {
		return err
	}

	j.rdb, err = sql.Open("sqlite", j.dsn(false))
	if err != nil {
		return fmt.Errorf("journal: open %s: %w", j.path, err)
	}
	j.rdb.SetMaxOpenConns(readConns)
	j.rdb.SetMaxIdleConns(readConns)
	j.rdb.SetConnMaxIdleTime(0)
	j.rdb.SetConnMaxLifetime(0)

	prep := func(db *sql.DB, dst **sql.Stmt, q string) {
		if err != nil {
			return
		}
		*dst, err = db.PrepareContext(ctx, q)
		if err != nil {
			err = fmt.Errorf("journal: prepare %q: %w", q, err)
		}
	}
	prep(j.wdb, &j.st.bumpNext, `UPDATE partitions SET next_offset = next_offset + ?, bytes = bytes + ?
		WHERE topic = ? AND part = ? RETURNING next_offset`)
	// OR FAIL rather than the default ABORT: an error fails the whole
	// transaction anyway, and SQLite then keeps no statement journal.
	for i := range j.st.insert {
		prep(j.wdb, &j.st.insert[i], insertSQL(1<<i))
	}
	prep(j.wdb, &j.st.commit, `INSERT INTO group_offsets (grp, topic, part, next_offset) VALUES (?, ?, ?, ?)
		ON CONFLICT (grp, topic, part) DO UPDATE SET next_offset = max(next_offset, excluded.next_offset)`)
	prep(j.wdb, &j.st.seek, `INSERT INTO group_offsets (grp, topic, part, next_offset) VALUES (?, ?, ?, ?)
		ON CONFLICT (grp, topic, part) DO UPDATE SET next_offset = excluded.next_offset`)
	prep(j.rdb, &j.st.fetch, `SELECT off, key, value, headers, ts FROM records
		WHERE topic = ? AND part = ? AND off >= ? ORDER BY off LIMIT ?`)
	prep(j.rdb, &j.st.committed, `SELECT next_offset FROM group_offsets WHERE grp = ? AND topic = ? AND part = ?`)
	return err
}

func (j *Journal) initSchema(ctx context.Context) error {
	conn, err := j.wdb.Conn(ctx)
	if err != nil {
		return j.dbErr("open", err)
	}
	defer conn.Close()
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return j.dbErr("set WAL mode", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal: %s: cannot use WAL mode (got %q)", j.path, mode)
	}
	var appID, version int
	if err := conn.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return j.dbErr("read application_id", err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return j.dbErr("read user_version", err)
	}
	if appID != 0 && appID != applicationID {
		return fmt.Errorf("journal: %s is not a Mamori journal (application_id %#x)", j.path, appID)
	}
	if version > schemaVersion {
		return fmt.Errorf("journal: %s has schema version %d, newer than this program's %d", j.path, version, schemaVersion)
	}
	if appID == applicationID && version == schemaVersion {
		return nil
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return j.dbErr("create schema", err)
	}
	_, err = conn.ExecContext(ctx, schema+
		fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d;", applicationID, schemaVersion))
	if err != nil {
		_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		return j.dbErr("create schema", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		return j.dbErr("create schema", err)
	}
	return nil
}

// dbErr wraps a database error, marking lock timeouts and a full disk as
// bus.ErrUnavailable (back off and retry) and failures after Close as
// bus.ErrClosed.
func (j *Journal) dbErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	j.mu.Lock()
	closed := j.closed
	j.mu.Unlock()
	if closed || errors.Is(err, sql.ErrConnDone) {
		return fmt.Errorf("journal: %s: %w", op, bus.ErrClosed)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL:
			return fmt.Errorf("journal: %s: %w: %w", op, bus.ErrUnavailable, err)
		}
	}
	return fmt.Errorf("journal: %s: %w", op, err)
}

// ctxErr returns ctx's error if it is done: the contract asks for ctx.Err()
// itself, not a wrapped database error.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

// broadcast wakes every waiting Fetch. j.mu must be held.
func (j *Journal) broadcast() {
	close(j.wake)
	j.wake = make(chan struct{})
}

// Close stops background work, fails open consumers with bus.ErrClosed,
// releases the consumer lock and closes the database. It is idempotent.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	j.broadcast()
	j.mu.Unlock()

	j.cancel()
	j.bg.Wait()
	// Wait for a write in progress to finish.
	j.wmu.Lock()
	defer j.wmu.Unlock()

	err := j.closeDBs()
	j.mu.Lock()
	locks := j.locks
	j.locks = nil
	j.mu.Unlock()
	for _, l := range locks {
		err = errors.Join(err, l.release())
	}
	j.log.Info("journal closed")
	return err
}

func (j *Journal) closeDBs() error {
	var errs []error
	for _, s := range append([]*sql.Stmt{j.st.bumpNext, j.st.commit, j.st.seek, j.st.fetch, j.st.committed}, j.st.insert[:]...) {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	if j.rdb != nil {
		errs = append(errs, j.rdb.Close())
	}
	if j.wdb != nil {
		// Closing the last connection checkpoints the WAL into the database.
		errs = append(errs, j.wdb.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("journal: close %s: %w", j.path, err)
	}
	return nil
}

// isClosed reports whether Close was called.
func (j *Journal) isClosed() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.closed
}

// validTopic applies Kafka's topic name rules.
func validTopic(name string) error {
	if name == "" {
		return errors.New("empty topic name")
	}
	if len(name) > maxTopicNameLen {
		return fmt.Errorf("topic name is %d characters long, more than %d", len(name), maxTopicNameLen)
	}
	if name == "." || name == ".." {
		return fmt.Errorf("topic name %q is not allowed", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic name %q has %q: use only ASCII letters, digits, '.', '_' and '-'", name, c)
		}
	}
	return nil
}

// EnsureTopic creates the topic with its partitions, or updates the
// retention of an existing one (its partition count never changes).
func (j *Journal) EnsureTopic(ctx context.Context, cfg bus.TopicConfig) error {
	if err := validTopic(cfg.Name); err != nil {
		return fmt.Errorf("journal: ensure topic: %w", err)
	}
	parts := cfg.Partitions
	if parts == 0 {
		parts = j.opts.DefaultPartitions
	}
	if parts < 0 || parts > maxPartitions {
		return fmt.Errorf("journal: ensure topic %s: partitions %d out of range 1..%d", cfg.Name, cfg.Partitions, maxPartitions)
	}
	if cfg.Retention < 0 || cfg.RetentionBytes < 0 {
		return fmt.Errorf("journal: ensure topic %s: negative retention", cfg.Name)
	}
	retMS := cfg.Retention.Milliseconds()
	if cfg.Retention > 0 && retMS == 0 {
		retMS = 1
	}
	var n int
	created := false
	err := j.writeTx(ctx, "ensure topic "+cfg.Name, func(tx *sql.Tx) error {
		created = false
		_, err := tx.ExecContext(ctx, `INSERT INTO topics (name, partitions, retention_ms, retention_bytes, created_ms)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET retention_ms = excluded.retention_ms, retention_bytes = excluded.retention_bytes`,
			cfg.Name, parts, retMS, cfg.RetentionBytes, time.Now().UnixMilli())
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT partitions FROM topics WHERE name = ?`, cfg.Name).Scan(&n); err != nil {
			return err
		}
		for p := 0; p < n; p++ {
			res, err := tx.ExecContext(ctx, `INSERT INTO partitions (topic, part, next_offset, bytes) VALUES (?, ?, 0, 0)
				ON CONFLICT DO NOTHING`, cfg.Name, p)
			if err != nil {
				return err
			}
			if k, err := res.RowsAffected(); err == nil && k > 0 {
				created = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case created:
		j.log.Info("topic created", "topic", cfg.Name, "partitions", n, "retention", cfg.Retention, "retention_bytes", cfg.RetentionBytes)
	case n != parts && cfg.Partitions != 0:
		j.log.Warn("topic keeps its partition count", "topic", cfg.Name, "partitions", n, "requested", parts)
	}
	j.mu.Lock()
	j.meta[cfg.Name] = n
	j.mu.Unlock()
	return nil
}

// writeTx runs fn in one write transaction (BEGIN IMMEDIATE) on the writer
// connection and commits it.
func (j *Journal) writeTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	if j.isClosed() {
		return fmt.Errorf("journal: %s: %w", op, bus.ErrClosed)
	}
	tx, err := j.wdb.BeginTx(ctx, nil)
	if err != nil {
		return ctxErr(ctx, j.dbErr(op, err))
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return ctxErr(ctx, j.dbErr(op, err))
	}
	if err := tx.Commit(); err != nil {
		return ctxErr(ctx, j.dbErr(op, err))
	}
	return nil
}

// partitions returns the partition count of a topic, from the cache or the
// database; bus.ErrUnknownTopic when it does not exist.
func (j *Journal) partitions(ctx context.Context, topic string) (int, error) {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return 0, fmt.Errorf("journal: topic %q: %w", topic, bus.ErrClosed)
	}
	n, ok := j.meta[topic]
	j.mu.Unlock()
	if ok {
		return n, nil
	}
	err := j.rdb.QueryRowContext(ctx, `SELECT partitions FROM topics WHERE name = ?`, topic).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("journal: topic %q: %w", topic, bus.ErrUnknownTopic)
	}
	if err != nil {
		return 0, ctxErr(ctx, j.dbErr("look up topic "+topic, err))
	}
	j.mu.Lock()
	j.meta[topic] = n
	j.mu.Unlock()
	return n, nil
}

// Partitions returns the number of partitions of a topic.
func (j *Journal) Partitions(ctx context.Context, topic string) (int, error) {
	return j.partitions(ctx, topic)
}

// checkPartition returns bus.ErrUnknownTopic for a missing topic or
// partition, as Kafka's UNKNOWN_TOPIC_OR_PARTITION.
func (j *Journal) checkPartition(ctx context.Context, topic string, partition int) error {
	n, err := j.partitions(ctx, topic)
	if err != nil {
		return err
	}
	if partition < 0 || partition >= n {
		return fmt.Errorf("journal: topic %q has no partition %d (it has %d): %w", topic, partition, n, bus.ErrUnknownTopic)
	}
	return nil
}

// Read returns up to max records of one partition from offset on (from the
// oldest retained record if offset is older, or is bus.OffsetOldest),
// without blocking and outside any consumer group.
func (j *Journal) Read(ctx context.Context, topic string, partition int, offset int64, max int) ([]bus.Record, error) {
	if err := j.checkPartition(ctx, topic, partition); err != nil {
		return nil, err
	}
	if offset == bus.OffsetOldest {
		offset = 0
	}
	if offset < 0 {
		return nil, fmt.Errorf("journal: read %s/%d: invalid offset %d", topic, partition, offset)
	}
	if max <= 0 {
		return nil, fmt.Errorf("journal: read %s/%d: max must be positive, got %d", topic, partition, max)
	}
	recs, err := j.readPartition(ctx, nil, tp{topic, partition}, offset, max)
	if err != nil {
		return nil, ctxErr(ctx, j.dbErr(fmt.Sprintf("read %s/%d", topic, partition), err))
	}
	return recs, nil
}

// readPartition appends up to max records of one partition from offset on.
func (j *Journal) readPartition(ctx context.Context, dst []bus.Record, at tp, offset int64, max int) ([]bus.Record, error) {
	rows, err := j.st.fetch.QueryContext(ctx, at.topic, at.part, offset, max)
	if err != nil {
		return dst, err
	}
	defer rows.Close()
	var (
		a                 arena
		off, ts           int64
		key, val, headers sql.RawBytes // declared once: Scan makes them escape
	)
	for rows.Next() {
		if err := rows.Scan(&off, &key, &val, &headers, &ts); err != nil {
			return dst, err
		}
		r := bus.Record{Topic: at.topic, Partition: at.part, Offset: off, Key: a.bytes(key), Value: a.bytes(val)}
		if r.Value == nil {
			r.Value = []byte{}
		}
		if r.Headers, err = decodeHeaders(headers, &a); err != nil {
			return dst, fmt.Errorf("record %s/%d@%d: %w", at.topic, at.part, r.Offset, err)
		}
		r.Time = time.UnixMilli(ts).UTC()
		dst = append(dst, r)
	}
	return dst, rows.Err()
}
