package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mamori-soc/mamori/bus"
)

// partBatch is the part of one Publish call that lands in one partition.
type partBatch struct {
	at    tp
	idx   []int // indexes of its records in the call, in order
	bytes int64
	base  int64 // offset of its first record
}

// Publish appends the records in one transaction and returns after it
// committed. Offsets are assigned per partition in the order given; a keyed
// record goes to bus.PartitionFor(key, n), unkeyed records round-robin.
// Either every record is stored or none is.
func (j *Journal) Publish(ctx context.Context, records ...bus.Record) error {
	if len(records) == 0 {
		if j.isClosed() {
			return fmt.Errorf("journal: publish: %w", bus.ErrClosed)
		}
		return nil
	}

	// Resolve each distinct topic once and count its unkeyed records.
	type topicInfo struct {
		parts   int
		unkeyed int
		rr      int
	}
	topics := make(map[string]*topicInfo, 1)
	var last *topicInfo
	lastName := ""
	for i := range records {
		name := records[i].Topic
		ti := last
		if last == nil || name != lastName {
			ti = topics[name]
			if ti == nil {
				n, err := j.partitions(ctx, name)
				if err != nil {
					return err
				}
				ti = &topicInfo{parts: n}
				topics[name] = ti
			}
			last, lastName = ti, name
		}
		if len(records[i].Key) == 0 {
			ti.unkeyed++
		}
	}
	j.mu.Lock()
	for name, ti := range topics {
		if ti.unkeyed > 0 {
			ti.rr = j.rr[name]
			j.rr[name] = (ti.rr + ti.unkeyed) % ti.parts
		}
	}
	j.mu.Unlock()

	// Place the records and group them by partition.
	var (
		headers = make([][]byte, len(records))
		batches []*partBatch
		byTP    = make(map[tp]*partBatch)
	)
	last, lastName = nil, ""
	for i := range records {
		r := &records[i]
		ti := last
		if last == nil || r.Topic != lastName {
			ti = topics[r.Topic]
			last, lastName = ti, r.Topic
		}
		var p int
		if len(r.Key) > 0 {
			p = bus.PartitionFor(r.Key, ti.parts)
		} else {
			p = ti.rr
			ti.rr = (ti.rr + 1) % ti.parts
		}
		at := tp{r.Topic, p}
		pb := byTP[at]
		if pb == nil {
			pb = &partBatch{at: at}
			byTP[at] = pb
			batches = append(batches, pb)
		}
		headers[i] = encodeHeaders(r.Headers)
		pb.idx = append(pb.idx, i)
		pb.bytes += int64(len(r.Key) + len(r.Value) + len(headers[i]))
	}

	now := time.Now().UnixMilli()
	err := j.writeTx(ctx, "publish", func(tx *sql.Tx) error {
		bump := tx.StmtContext(ctx, j.st.bumpNext)
		for _, pb := range batches {
			var next int64
			n := int64(len(pb.idx))
			err := bump.QueryRowContext(ctx, n, pb.bytes, pb.at.topic, pb.at.part).Scan(&next)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("topic %q partition %d has no row in partitions: %w", pb.at.topic, pb.at.part, bus.ErrUnknownTopic)
			}
			if err != nil {
				return err
			}
			pb.base = next - n
		}
		// Partition by partition: appending a run of records to the end of
		// one partition's key range splits fewer b-tree pages than
		// interleaving partitions.
		ins := make([]*sql.Stmt, len(j.st.insert))
		for i, st := range j.st.insert {
			ins[i] = tx.StmtContext(ctx, st)
		}
		args := make([]any, 0, 7<<(insertSizes-1))
		var nowArg any = now // boxed once, as are topic and partition below
		for _, pb := range batches {
			topicArg, partArg := any(pb.at.topic), any(pb.at.part)
			off := pb.base
			for rest := pb.idx; len(rest) > 0; {
				size := insertSizes - 1
				for 1<<size > len(rest) {
					size--
				}
				args = args[:0]
				for _, i := range rest[:1<<size] {
					r := &records[i]
					ts := nowArg
					if !r.Time.IsZero() {
						ts = r.Time.UnixMilli()
					}
					var key []byte
					if len(r.Key) > 0 {
						key = r.Key
					}
					value := r.Value
					if value == nil {
						value = []byte{}
					}
					args = append(args, topicArg, partArg, off, key, value, headers[i], ts)
					off++
				}
				if _, err := ins[size].ExecContext(ctx, args...); err != nil {
					return err
				}
				rest = rest[1<<size:]
			}
		}
		return nil
	})
	if err != nil {
		return err
	}

	j.mu.Lock()
	for _, pb := range batches {
		if end := pb.base + int64(len(pb.idx)); end > j.hw[pb.at] {
			j.hw[pb.at] = end
		}
	}
	j.broadcast()
	j.mu.Unlock()
	return nil
}
