package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// sweepChunk bounds the records one retention transaction deletes, so
// publishers never wait long for the write lock.
const sweepChunk = 5000

func (j *Journal) sweepLoop() {
	defer j.bg.Done()
	t := time.NewTicker(j.opts.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-j.ctx.Done():
			return
		case <-t.C:
		}
		if _, err := j.Sweep(j.ctx); err != nil && j.ctx.Err() == nil {
			j.log.Warn("retention sweep failed", "err", err)
		}
	}
}

// Sweep applies retention now: in every partition of a topic with a
// retention it deletes the records older than Retention and the oldest
// records beyond RetentionBytes. Only a prefix of a partition is ever
// deleted, and offsets are never reused. It returns how many records it
// deleted. The background sweep calls it every Options.SweepInterval.
func (j *Journal) Sweep(ctx context.Context) (int64, error) {
	type part struct {
		topic                  string
		part                   int
		retMS, retBytes, bytes int64
		next                   int64
	}
	var parts []part
	err := func() error {
		rows, err := j.rdb.QueryContext(ctx, `SELECT t.name, p.part, t.retention_ms, t.retention_bytes, p.bytes, p.next_offset
			FROM topics t JOIN partitions p ON p.topic = t.name
			WHERE t.retention_ms > 0 OR t.retention_bytes > 0 ORDER BY t.name, p.part`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p part
			if err := rows.Scan(&p.topic, &p.part, &p.retMS, &p.retBytes, &p.bytes, &p.next); err != nil {
				return err
			}
			parts = append(parts, p)
		}
		return rows.Err()
	}()
	if err != nil {
		return 0, ctxErr(ctx, j.dbErr("retention sweep", err))
	}

	var total int64
	now := time.Now().UnixMilli()
	for _, p := range parts {
		cut := int64(-1) // delete every record with an offset below cut
		if p.retMS > 0 {
			var first int64
			err := j.rdb.QueryRowContext(ctx, `SELECT off FROM records WHERE topic = ? AND part = ? AND ts >= ? ORDER BY off LIMIT 1`,
				p.topic, p.part, now-p.retMS).Scan(&first)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				cut = p.next // everything expired
			case err != nil:
				return total, ctxErr(ctx, j.dbErr("retention sweep", err))
			default:
				cut = first
			}
		}
		if p.retBytes > 0 && p.bytes > p.retBytes {
			c, err := j.bytesCut(ctx, tp{p.topic, p.part}, p.bytes-p.retBytes)
			if err != nil {
				return total, ctxErr(ctx, j.dbErr("retention sweep", err))
			}
			cut = max(cut, c)
		}
		if cut <= 0 {
			continue
		}
		n, err := j.deleteBefore(ctx, tp{p.topic, p.part}, cut)
		total += n
		if err != nil {
			return total, err
		}
		if n > 0 {
			j.log.Info("retention deleted records", "topic", p.topic, "partition", p.part, "records", n, "before_offset", cut)
		}
	}
	return total, nil
}

// bytesCut returns the offset before which the oldest records add up to at
// least excess bytes.
func (j *Journal) bytesCut(ctx context.Context, at tp, excess int64) (int64, error) {
	rows, err := j.rdb.QueryContext(ctx, `SELECT off, `+sizeExpr+` FROM records WHERE topic = ? AND part = ? ORDER BY off`,
		at.topic, at.part)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var acc, cut int64
	for rows.Next() {
		var off, size int64
		if err := rows.Scan(&off, &size); err != nil {
			return 0, err
		}
		acc += size
		cut = off + 1
		if acc >= excess {
			break
		}
	}
	return cut, rows.Err()
}

// deleteBefore deletes the records of a partition below offset cut, in
// transactions of at most sweepChunk records, keeping partitions.bytes.
func (j *Journal) deleteBefore(ctx context.Context, at tp, cut int64) (int64, error) {
	var total int64
	for {
		var n int64
		done := false
		op := fmt.Sprintf("retention sweep %s/%d", at.topic, at.part)
		err := j.writeTx(ctx, op, func(tx *sql.Tx) error {
			low, err := lowestOffset(ctx, tx, at)
			if err != nil {
				return err
			}
			if !low.Valid || low.Int64 >= cut {
				done = true
				return nil
			}
			upto := min(cut, low.Int64+sweepChunk)
			var size int64
			if err := tx.QueryRowContext(ctx, `SELECT ifnull(sum(`+sizeExpr+`), 0) FROM records WHERE topic = ? AND part = ? AND off < ?`,
				at.topic, at.part, upto).Scan(&size); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM records WHERE topic = ? AND part = ? AND off < ?`, at.topic, at.part, upto)
			if err != nil {
				return err
			}
			if n, err = res.RowsAffected(); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE partitions SET bytes = max(0, bytes - ?) WHERE topic = ? AND part = ?`,
				size, at.topic, at.part); err != nil {
				return err
			}
			done = upto >= cut
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if done {
			return total, nil
		}
	}
}

// lowestOffset returns the offset of the oldest record of a partition, if
// any.
func lowestOffset(ctx context.Context, tx *sql.Tx, at tp) (sql.NullInt64, error) {
	var low sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT min(off) FROM records WHERE topic = ? AND part = ?`, at.topic, at.part).Scan(&low)
	return low, err
}
