// Package sqlitestore is the embedded document store: it implements
// store.Store on one SQLite database file (modernc.org/sqlite, pure Go, WAL)
// with one table per collection, expression indexes on the event catalogue's
// hot fields, an FTS5 index of the analysed text fields, and a compiler from
// planned KQL conditions (kql.Cond) to SQL with bound parameters.
package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/store"
)

var _ store.Store = (*Store)(nil)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// Readers is the number of connections that serve searches concurrently
	// with the one writer (default 4).
	Readers int
	// CacheMiB is the page cache of each connection in MiB (default 64).
	CacheMiB int
	// MmapBytes is how much of the database file reader connections read
	// through a memory map (default 64 GiB: all of it, on 64-bit systems).
	MmapBytes int64
	// FullSync makes every commit durable against power loss
	// (synchronous=FULL). The default, synchronous=NORMAL in WAL mode, is
	// durable against a crash of the process but may lose the last commits
	// on power loss.
	FullSync bool
}

// Store is the embedded document store. It is safe for concurrent use: one
// writer connection serialises Index, Update and DeleteBefore while a pool of
// reader connections serves searches from WAL snapshots.
type Store struct {
	w, r *sql.DB

	mu    sync.Mutex
	colls map[string]*collection

	// unanalysed counts documents written since the planner's statistics
	// were last refreshed.
	unanalysed atomic.Int64
}

// analyseEvery is how many written documents trigger PRAGMA optimize, which
// refreshes sqlite_stat1 (sampled, see analysis_limit) so the planner knows
// how selective each hot field's index is.
const analyseEvery = 200_000

// wrote notes n written documents and refreshes the statistics when due.
func (s *Store) wrote(ctx context.Context, n int) {
	if s.unanalysed.Add(int64(n)) < analyseEvery {
		return
	}
	s.unanalysed.Store(0)
	// Statistics only steer plans: a failure here is not the caller's.
	_, _ = s.w.ExecContext(ctx, "PRAGMA optimize")
}

// connector opens connections through a driver private to one Store, so the
// store's SQL functions are registered without process-global state.
type connector struct {
	drv *sqlite.Driver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.drv }

// Open opens or creates the store in the database file at path.
func Open(path string, opts Options) (*Store, error) {
	if opts.Readers <= 0 {
		opts.Readers = 4
	}
	if opts.CacheMiB <= 0 {
		opts.CacheMiB = 64
	}
	if opts.MmapBytes <= 0 {
		opts.MmapBytes = 64 << 30
	}
	if strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == "" || path == ":memory:" {
		return nil, fmt.Errorf("sqlitestore: open %q: want a plain file path", path)
	}
	drv := &sqlite.Driver{}
	if err := registerFuncs(drv); err != nil {
		return nil, err
	}
	sync := "NORMAL"
	if opts.FullSync {
		sync = "FULL"
	}
	q := url.Values{}
	q.Add("_pragma", "page_size(8192)") // before the first table: fewer, larger WAL frames
	q.Add("_pragma", "busy_timeout(30000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", fmt.Sprintf("cache_size(%d)", -opts.CacheMiB*1024))
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "foreign_keys(0)")
	// Checkpoint every 64 MiB of WAL rather than 4 MiB: fewer fsyncs, and
	// index pages changed by several batches reach the database file once.
	q.Add("_pragma", "wal_autocheckpoint(8192)")
	q.Add("_pragma", "analysis_limit(1000)")
	// Read pages through a memory map rather than a read(2) per page.
	q.Add("_pragma", fmt.Sprintf("mmap_size(%d)", opts.MmapBytes))
	wq := url.Values{"_txlock": {"immediate"}}
	for k, v := range q {
		wq[k] = append([]string(nil), v...)
	}
	// The writer writes through the WAL: a memory map only costs it.
	wq["_pragma"] = append(wq["_pragma"], "mmap_size(0)")
	w := sql.OpenDB(connector{drv: drv, dsn: path + "?" + wq.Encode()})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	s := &Store{w: w, colls: map[string]*collection{}}
	if err := s.init(); err != nil {
		_ = w.Close()
		return nil, err
	}
	rq := url.Values{}
	for k, v := range q {
		rq[k] = append([]string(nil), v...)
	}
	rq.Add("_pragma", "query_only(1)")
	r := sql.OpenDB(connector{drv: drv, dsn: path + "?" + rq.Encode()})
	r.SetMaxOpenConns(opts.Readers)
	r.SetMaxIdleConns(opts.Readers)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	s.r = r
	return s, nil
}

// Close releases the store.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

const catalogTable = "mamori_collections"

// init creates the catalog of collections and brings every collection's
// indexes up to date with the event catalogue.
func (s *Store) init() error {
	ctx := context.Background()
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+catalogTable+` (name TEXT PRIMARY KEY) WITHOUT ROWID`); err != nil {
		return fmt.Errorf("sqlitestore: create catalog: %w", classify(err))
	}
	rows, err := s.w.QueryContext(ctx, `SELECT name FROM `+catalogTable)
	if err != nil {
		return fmt.Errorf("sqlitestore: read catalog: %w", classify(err))
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return fmt.Errorf("sqlitestore: read catalog: %w", classify(err))
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlitestore: read catalog: %w", classify(err))
	}
	for _, n := range names {
		if _, err := s.create(ctx, n); err != nil {
			return err
		}
	}
	if _, err := s.w.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		return fmt.Errorf("sqlitestore: optimize: %w", classify(err))
	}
	return nil
}

// collection is one collection's table, its FTS table and what the compiler
// needs to know about them.
type collection struct {
	name  string
	table string // quoted identifier of the documents table
	fts   string // quoted identifier of the FTS5 table
	// textFields are the analysed text fields, one FTS column each, in
	// column order.
	textFields []string
	textCols   map[string]string // text field -> quoted FTS column
	// hot maps a field to its indexed expression.
	hot map[string]string
}

var collectionName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,99}$`)

// describe returns the layout of a collection, without touching the database.
func describe(name string) (*collection, error) {
	if !collectionName.MatchString(name) {
		return nil, fmt.Errorf("%w: collection name %q: want lower-case letters, digits, '_', '.', '-' (at most 100)", store.ErrBadQuery, name)
	}
	c := &collection{
		name:     name,
		table:    quoteIdent("docs_" + name),
		fts:      quoteIdent("docs_" + name + "_fts"),
		textCols: map[string]string{},
		hot:      map[string]string{},
	}
	for _, f := range event.Catalogue() {
		switch {
		case f.Type == event.Text:
			c.textFields = append(c.textFields, f.Name)
			c.textCols[f.Name] = quoteIdent(sanitize(f.Name))
		case f.Hot && !f.Multi:
			c.hot[f.Name] = hotExpr(f)
		}
	}
	sort.Strings(c.textFields)
	return c, nil
}

// hotExpr is the indexed expression of a hot field. The compiler emits the
// very same text so that SQLite matches the expression index.
func hotExpr(f *event.Field) string {
	e := "json_extract(doc, " + quoteString(corePath(f.Name)) + ")"
	if f.Type == event.IP {
		e = fnIPKey + "(" + e + ")"
	}
	return e
}

// corePath is the JSON path of a typed core field, which event.Marshal
// writes as nested objects.
func corePath(name string) string {
	var b strings.Builder
	b.WriteString("$")
	for _, seg := range strings.Split(name, ".") {
		b.WriteByte('.')
		if plainSegment.MatchString(seg) {
			b.WriteString(seg)
		} else {
			b.WriteString(`"` + seg + `"`)
		}
	}
	return b.String()
}

var plainSegment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, name)
}

func quoteIdent(s string) string  { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func quoteString(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

// lookup returns the collection, or nil when it does not exist (yet).
func (s *Store) lookup(ctx context.Context, name string) (*collection, error) {
	s.mu.Lock()
	c := s.colls[name]
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	d, err := describe(name)
	if err != nil {
		return nil, err
	}
	// Another Store on the same file may have created it.
	var n int
	err = s.r.QueryRowContext(ctx, `SELECT count(*) FROM `+catalogTable+` WHERE name = ?`, name).Scan(&n)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: look up %s: %w", name, classify(err))
	}
	if n == 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.colls[name]; c != nil {
		return c, nil
	}
	s.colls[name] = d
	return d, nil
}

// create returns the collection, creating its tables and indexes if needed.
func (s *Store) create(ctx context.Context, name string) (*collection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.colls[name]; c != nil {
		return c, nil
	}
	c, err := describe(name)
	if err != nil {
		return nil, err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: create %s: %w", name, classify(err))
	}
	defer tx.Rollback()
	for _, stmt := range c.schema() {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("sqlitestore: create %s: %s: %w", name, stmt, classify(err))
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+catalogTable+`(name) VALUES (?) ON CONFLICT DO NOTHING`, name); err != nil {
		return nil, fmt.Errorf("sqlitestore: create %s: %w", name, classify(err))
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlitestore: create %s: %w", name, classify(err))
	}
	s.colls[name] = c
	return c, nil
}

// schema returns the statements that create the collection's tables and
// indexes; each is idempotent.
//
//	docs_<name>      rowid, id TEXT UNIQUE, ts INTEGER (UTC ns of @timestamp),
//	                 version INTEGER, src TEXT (the document as given, kept
//	                 only when json(doc) would differ from it), doc BLOB (the
//	                 document as SQLite JSONB: filters read it without
//	                 parsing JSON text)
//	..._ts           (ts): time ranges and the default sort
//	..._h_<field>    (expr, ts) WHERE expr IS NOT NULL, per hot field
//	docs_<name>_fts  contentless FTS5 (contentless_delete) of analysed text,
//	                 rowid = documents rowid
func (c *collection) schema() []string {
	base := strings.Trim(c.table, `"`)
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS ` + c.table + ` (
			rowid INTEGER PRIMARY KEY,
			id TEXT NOT NULL UNIQUE,
			ts INTEGER NOT NULL,
			version INTEGER NOT NULL,
			src TEXT,
			doc BLOB NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS ` + quoteIdent(base+"_ts") + ` ON ` + c.table + ` (ts)`,
	}
	fields := make([]string, 0, len(c.hot))
	for f := range c.hot {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		e := c.hot[f]
		stmts = append(stmts, `CREATE INDEX IF NOT EXISTS `+quoteIdent(base+"_h_"+sanitize(f))+` ON `+c.table+
			` (`+e+`, ts) WHERE `+e+` IS NOT NULL`)
	}
	cols := make([]string, len(c.textFields))
	for i, f := range c.textFields {
		cols[i] = c.textCols[f]
	}
	stmts = append(stmts, `CREATE VIRTUAL TABLE IF NOT EXISTS `+c.fts+` USING fts5(`+strings.Join(cols, ", ")+
		`, content='', contentless_delete=1, tokenize='ascii')`,
		// Merge segments in larger steps: less merging per insert, a few
		// more segments per query.
		`INSERT INTO `+c.fts+`(`+c.fts+`, rank) VALUES ('automerge', 8)`)
	return stmts
}

// classify marks errors that mean "the store cannot be used right now".
func classify(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PROTOCOL:
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
	}
	if errors.Is(err, sql.ErrConnDone) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}
