package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/store"
)

// deleteBatch is how many documents DeleteBefore removes per transaction,
// so that a large purge never holds the write lock for long.
const deleteBatch = 5000

// Index stores documents by id in one transaction. It is idempotent: a
// document whose id is already stored is left as it is. A document that is
// not a JSON object or lacks an RFC 3339 @timestamp gets a result wrapping
// store.ErrBadDocument; the others are stored.
func (s *Store) Index(ctx context.Context, collection string, docs []store.Doc) ([]store.IndexResult, error) {
	c, err := s.create(ctx, collection)
	if err != nil {
		return nil, err
	}
	res := make([]store.IndexResult, len(docs))
	ps := make([]parsed, len(docs))
	good := make([]bool, len(docs))
	for i, d := range docs {
		res[i].ID = d.ID
		if d.ID == "" {
			res[i].Err = fmt.Errorf("sqlitestore: index %s: %w: empty id", c.name, store.ErrBadDocument)
			continue
		}
		p, err := c.parseDoc(d.Source)
		if err != nil {
			res[i].Err = fmt.Errorf("sqlitestore: index %s/%s: %w", c.name, d.ID, err)
			continue
		}
		ps[i], good[i] = p, true
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		return c.insert(ctx, tx, docs, ps, good)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: index %s: %w", c.name, err)
	}
	s.wrote(ctx, len(docs))
	return res, nil
}

// insertChunk is how many rows one INSERT statement carries: few statements
// per batch keep the per-statement cost (and FTS5's flush of pending terms
// at every statement savepoint) off the per-document path.
const insertChunk = 100

// insert stores the good documents that are not stored yet: the rows first,
// in multi-row statements, then their text in as few FTS statements.
func (c *collection) insert(ctx context.Context, tx *sql.Tx, docs []store.Doc, ps []parsed, good []bool) error {
	var todo []int
	first := map[string]int{} // id -> index of its first good document
	for i, d := range docs {
		if !good[i] {
			continue
		}
		if _, dup := first[d.ID]; dup {
			continue
		}
		first[d.ID] = i
		todo = append(todo, i)
	}
	type textRow struct {
		rowid int64
		text  []string
	}
	var texts []textRow
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	for len(todo) > 0 {
		n := min(len(todo), insertChunk)
		chunk := todo[:n]
		todo = todo[n:]
		st := stmts[n]
		if st == nil {
			var b strings.Builder
			b.WriteString("INSERT INTO " + c.table + " (id, ts, version, src, doc) VALUES ")
			for j := range n {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(?, ?, 1, ?, jsonb(?))")
			}
			b.WriteString(" ON CONFLICT (id) DO NOTHING RETURNING id, rowid")
			var err error
			if st, err = tx.PrepareContext(ctx, b.String()); err != nil {
				return err
			}
			stmts[n] = st
		}
		a := make([]any, 0, 4*n)
		for _, i := range chunk {
			a = append(a, docs[i].ID, ps[i].ts, keepSource(docs[i].Source), string(docs[i].Source))
		}
		rows, err := st.QueryContext(ctx, a...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			var rowid int64
			if err := rows.Scan(&id, &rowid); err != nil {
				rows.Close()
				return err
			}
			if i, ok := first[id]; ok && hasText(ps[i].text) {
				texts = append(texts, textRow{rowid, ps[i].text})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	cols := make([]string, len(c.textFields))
	for i, f := range c.textFields {
		cols[i] = c.textCols[f]
	}
	per := len(cols) + 1
	for len(texts) > 0 {
		n := min(len(texts), insertChunk)
		var b strings.Builder
		b.WriteString("INSERT INTO " + c.fts + " (rowid, " + strings.Join(cols, ", ") + ") VALUES ")
		a := make([]any, 0, n*per)
		for j, t := range texts[:n] {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for k := range per {
				if k > 0 {
					b.WriteString(", ")
				}
				b.WriteString("?")
			}
			b.WriteString(")")
			a = append(a, t.rowid)
			for _, x := range t.text {
				a = append(a, x)
			}
		}
		if _, err := tx.ExecContext(ctx, b.String(), a...); err != nil {
			return err
		}
		texts = texts[n:]
	}
	return nil
}

// keepSource returns the document text to keep beside its JSONB form, or
// nil when json(jsonb(text)) gives the text back byte for byte, which is the
// case for valid JSON without whitespace between tokens (JSONB keeps strings
// and numbers as written).
func keepSource(src []byte) any {
	in := false
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return string(src)
		}
	}
	return nil
}

func hasText(text []string) bool {
	for _, t := range text {
		if t != "" {
			return true
		}
	}
	return false
}

// write runs fn in a transaction of the writer connection.
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return classify(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return classify(err)
	}
	return classify(tx.Commit())
}

func (c *collection) prepareFTSInsert(ctx context.Context, tx *sql.Tx) (*sql.Stmt, error) {
	cols := make([]string, len(c.textFields))
	params := make([]string, len(c.textFields))
	for i, f := range c.textFields {
		cols[i] = c.textCols[f]
		params[i] = "?" + strconv.Itoa(i+2)
	}
	return tx.PrepareContext(ctx, "INSERT INTO "+c.fts+" (rowid, "+strings.Join(cols, ", ")+") VALUES (?1, "+strings.Join(params, ", ")+")")
}

// insertText adds a document's analysed text to the FTS index, if it has any.
func (c *collection) insertText(ctx context.Context, fts *sql.Stmt, rowid int64, text []string) error {
	args := make([]any, 0, len(text)+1)
	args = append(args, rowid)
	empty := true
	for _, t := range text {
		args = append(args, t)
		empty = empty && t == ""
	}
	if empty {
		return nil
	}
	_, err := fts.ExecContext(ctx, args...)
	return err
}

// Update writes a document if its stored version still equals doc.Version
// (zero: it must not exist yet); otherwise it returns store.ErrConflict.
func (s *Store) Update(ctx context.Context, collection string, doc store.Doc) (store.Version, error) {
	c, err := s.create(ctx, collection)
	if err != nil {
		return store.Version{}, err
	}
	if doc.ID == "" {
		return store.Version{}, fmt.Errorf("sqlitestore: update %s: %w: empty id", c.name, store.ErrBadDocument)
	}
	p, err := c.parseDoc(doc.Source)
	if err != nil {
		return store.Version{}, fmt.Errorf("sqlitestore: update %s/%s: %w", c.name, doc.ID, err)
	}
	var version int64
	conflict := false
	err = s.write(ctx, func(tx *sql.Tx) error {
		var rowid int64
		var err error
		if doc.Version == (store.Version{}) {
			version = 1
			err = tx.QueryRowContext(ctx, "INSERT INTO "+c.table+" (id, ts, version, src, doc) VALUES (?1, ?2, 1, ?4, jsonb(?3)) ON CONFLICT (id) DO NOTHING RETURNING rowid",
				doc.ID, p.ts, string(doc.Source), keepSource(doc.Source)).Scan(&rowid)
		} else {
			if doc.Version.PrimaryTerm != 0 {
				conflict = true
				return nil
			}
			err = tx.QueryRowContext(ctx, "UPDATE "+c.table+" SET ts = ?2, version = version + 1, src = ?5, doc = jsonb(?3) WHERE id = ?1 AND version = ?4 RETURNING rowid, version",
				doc.ID, p.ts, string(doc.Source), doc.Version.SeqNo, keepSource(doc.Source)).Scan(&rowid, &version)
			if err == nil {
				_, err = tx.ExecContext(ctx, "DELETE FROM "+c.fts+" WHERE rowid = ?1", rowid)
			}
		}
		if errors.Is(err, sql.ErrNoRows) {
			conflict = true
			return nil
		}
		if err != nil {
			return err
		}
		fts, err := c.prepareFTSInsert(ctx, tx)
		if err != nil {
			return err
		}
		defer fts.Close()
		return c.insertText(ctx, fts, rowid, p.text)
	})
	if err != nil {
		return store.Version{}, fmt.Errorf("sqlitestore: update %s/%s: %w", c.name, doc.ID, err)
	}
	if conflict {
		return store.Version{}, fmt.Errorf("sqlitestore: update %s/%s at version %d: %w", c.name, doc.ID, doc.Version.SeqNo, store.ErrConflict)
	}
	return store.Version{SeqNo: version}, nil
}

// DeleteBefore removes documents whose @timestamp is before t, with their
// text index entries, a batch per transaction, and returns how many it
// removed.
func (s *Store) DeleteBefore(ctx context.Context, collection string, t time.Time) (int64, error) {
	c, err := s.lookup(ctx, collection)
	if err != nil || c == nil {
		return 0, err
	}
	ns, ok := timeNanos(t)
	if !ok {
		b, _ := timeBound("before", t)
		ns = b.(int64)
	}
	var total int64
	for {
		var n int64
		err := s.write(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, "SELECT rowid FROM "+c.table+" WHERE ts < ?1 ORDER BY ts LIMIT ?2", ns, deleteBatch)
			if err != nil {
				return err
			}
			var ids []int64
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				ids = append(ids, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if len(ids) == 0 {
				return nil
			}
			list, _ := json.Marshal(ids)
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+c.fts+" WHERE rowid IN (SELECT value FROM json_each(?1))", string(list)); err != nil {
				return err
			}
			r, err := tx.ExecContext(ctx, "DELETE FROM "+c.table+" WHERE rowid IN (SELECT value FROM json_each(?1))", string(list))
			if err != nil {
				return err
			}
			n, err = r.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("sqlitestore: delete from %s before %s: %w", c.name, t.Format(time.RFC3339), err)
		}
		total += n
		if n < deleteBatch {
			return total, nil
		}
	}
}
