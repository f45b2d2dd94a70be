package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/bus"
)

// group is one consumer group's live membership. Guarded by Journal.mu.
type group struct {
	name    string
	members []*consumer // in join order
	gen     int64       // bumped on every rebalance
	owner   map[tp]*consumer
}

// consumer is one member of a group. Its mutable state is guarded by
// Journal.mu.
type consumer struct {
	j      *Journal
	g      *group
	id     int64
	topics []string // sorted, distinct

	closed bool
	gen    int64         // group generation pos reflects
	pos    map[tp]int64  // fetch position per assigned partition; -1: not loaded
	order  []tp          // assigned partitions, sorted
	start  int           // partition Fetch starts at, rotated for fairness
	stop   chan struct{} // closed by Close
}

var _ bus.Consumer = (*consumer)(nil)

// Subscribe joins the group on the topics. The first Subscribe of a group in
// a Journal takes that group's consumer lock; ErrLocked when another process
// consumes the same group.
// Partitions are shared round-robin among the members subscribed to each
// topic, in join order; every join and leave reassigns them.
func (j *Journal) Subscribe(ctx context.Context, name string, topics ...string) (bus.Consumer, error) {
	if name == "" {
		return nil, errors.New("journal: subscribe: empty group name")
	}
	if len(topics) == 0 {
		return nil, fmt.Errorf("journal: subscribe %s: no topics", name)
	}
	ts := slices.Clone(topics)
	slices.Sort(ts)
	ts = slices.Compact(ts)
	for _, t := range ts {
		if _, err := j.partitions(ctx, t); err != nil {
			return nil, err
		}
	}
	if err := j.acquireLock(name); err != nil {
		return nil, err
	}
	if err := j.loadHighWater(ctx, ts); err != nil {
		return nil, err
	}

	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil, fmt.Errorf("journal: subscribe %s: %w", name, bus.ErrClosed)
	}
	if !j.polling && j.opts.PollInterval > 0 {
		// Under j.mu, after the closed check: Close waits for it.
		j.polling = true
		j.bg.Add(1)
		go j.pollLoop()
	}
	g := j.groups[name]
	if g == nil {
		g = &group{name: name}
		j.groups[name] = g
	}
	j.memberSeq++
	c := &consumer{j: j, g: g, id: j.memberSeq, topics: ts, gen: -1, pos: map[tp]int64{}, stop: make(chan struct{})}
	g.members = append(g.members, c)
	j.rebalance(g)
	j.log.Debug("consumer joined", "group", name, "member", c.id, "topics", strings.Join(ts, ","), "members", len(g.members))
	return c, nil
}

func (j *Journal) acquireLock(group string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return fmt.Errorf("journal: subscribe: %w", bus.ErrClosed)
	}
	if j.locks[group] != nil {
		return nil
	}
	l, err := lockFile(lockPath(j.path, group))
	if err != nil {
		return err
	}
	if j.locks == nil {
		j.locks = map[string]*fileLock{}
	}
	j.locks[group] = l
	return nil
}

// lockPath names a group's lock file: "<journal>.<group>.lock", with any
// character outside [A-Za-z0-9.-] written as "_" and its hex code, so every
// group name is a safe file name and two names never share one.
func lockPath(journal, group string) string {
	var b strings.Builder
	for i := 0; i < len(group); i++ {
		c := group[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return journal + "." + b.String() + ".lock"
}

// loadHighWater reads the next offsets of the topics' partitions into j.hw.
func (j *Journal) loadHighWater(ctx context.Context, topics []string) error {
	for _, t := range topics {
		rows, err := j.rdb.QueryContext(ctx, `SELECT part, next_offset FROM partitions WHERE topic = ?`, t)
		if err != nil {
			return ctxErr(ctx, j.dbErr("subscribe", err))
		}
		hw := map[tp]int64{}
		for rows.Next() {
			var p int
			var next int64
			if err := rows.Scan(&p, &next); err != nil {
				rows.Close()
				return j.dbErr("subscribe", err)
			}
			hw[tp{t, p}] = next
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return ctxErr(ctx, j.dbErr("subscribe", err))
		}
		j.raiseHighWater(hw)
	}
	return nil
}

// raiseHighWater merges known next offsets, waking consumers if any rose.
func (j *Journal) raiseHighWater(hw map[tp]int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	raised := false
	for at, next := range hw {
		if next > j.hw[at] {
			j.hw[at] = next
			raised = true
		}
	}
	if raised {
		j.broadcast()
	}
}

// pollLoop notices records that other processes committed.
func (j *Journal) pollLoop() {
	defer j.bg.Done()
	t := time.NewTicker(j.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-j.ctx.Done():
			return
		case <-t.C:
		}
		hw, err := j.readHighWater(j.ctx)
		if err != nil {
			if j.ctx.Err() == nil {
				j.log.Warn("polling for other writers failed", "err", err)
			}
			continue
		}
		j.raiseHighWater(hw)
	}
}

func (j *Journal) readHighWater(ctx context.Context) (map[tp]int64, error) {
	rows, err := j.rdb.QueryContext(ctx, `SELECT topic, part, next_offset FROM partitions`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	hw := map[tp]int64{}
	for rows.Next() {
		var at tp
		var next int64
		if err := rows.Scan(&at.topic, &at.part, &next); err != nil {
			return nil, err
		}
		hw[at] = next
	}
	return hw, rows.Err()
}

// rebalance reassigns the group's partitions: all partitions of the topics
// its members subscribe to, sorted by topic and partition, dealt round-robin
// to the members (in join order) subscribed to each topic, as Kafka's
// RoundRobinAssignor does. j.mu must be held.
func (j *Journal) rebalance(g *group) {
	g.gen++
	g.owner = map[tp]*consumer{}
	var topics []string
	for _, m := range g.members {
		topics = append(topics, m.topics...)
	}
	slices.Sort(topics)
	topics = slices.Compact(topics)
	next := 0
	for _, t := range topics {
		for p := 0; p < j.meta[t]; p++ {
			for k := 0; k < len(g.members); k++ {
				m := g.members[(next+k)%len(g.members)]
				if _, ok := slices.BinarySearch(m.topics, t); ok {
					g.owner[tp{t, p}] = m
					next = (next + k + 1) % len(g.members)
					break
				}
			}
		}
	}
	j.broadcast()
}

// refresh applies the group's current assignment to c: kept partitions keep
// their fetch positions, new ones start at the committed offset.
// j.mu must be held.
func (c *consumer) refresh() {
	if c.gen == c.g.gen {
		return
	}
	c.gen = c.g.gen
	pos := map[tp]int64{}
	c.order = c.order[:0]
	for at, m := range c.g.owner {
		if m != c {
			continue
		}
		c.order = append(c.order, at)
		if p, ok := c.pos[at]; ok {
			pos[at] = p
		} else {
			pos[at] = -1
		}
	}
	slices.SortFunc(c.order, func(a, b tp) int {
		if n := strings.Compare(a.topic, b.topic); n != 0 {
			return n
		}
		return a.part - b.part
	})
	c.pos = pos
	c.start = 0
}

// errClosed returns the error for a closed consumer or journal, or nil.
// j.mu must be held.
func (c *consumer) errClosed() error {
	if c.j.closed || c.closed {
		return fmt.Errorf("journal: consumer %s: %w", c.g.name, bus.ErrClosed)
	}
	return nil
}

// Fetch blocks until records are available on the member's partitions and
// returns up to max of them, in offset order per partition.
func (c *consumer) Fetch(ctx context.Context, max int) ([]bus.Record, error) {
	if max <= 0 {
		return nil, fmt.Errorf("journal: fetch: max must be positive, got %d", max)
	}
	j := c.j
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		j.mu.Lock()
		if err := c.errClosed(); err != nil {
			j.mu.Unlock()
			return nil, err
		}
		c.refresh()
		gen := c.gen
		wake := j.wake
		var load []tp
		for _, at := range c.order {
			if c.pos[at] < 0 {
				load = append(load, at)
			}
		}
		j.mu.Unlock()

		if len(load) > 0 {
			if err := c.loadPositions(ctx, gen, load); err != nil {
				return nil, err
			}
			continue
		}

		recs, err := c.fetchOnce(ctx, max)
		if err != nil {
			return nil, err
		}
		if len(recs) > 0 {
			return recs, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.stop:
		case <-wake:
		}
	}
}

// loadPositions sets the fetch positions of newly assigned partitions to the
// group's committed offsets.
func (c *consumer) loadPositions(ctx context.Context, gen int64, load []tp) error {
	j := c.j
	got := make(map[tp]int64, len(load))
	for _, at := range load {
		var next int64
		err := j.st.committed.QueryRowContext(ctx, c.g.name, at.topic, at.part).Scan(&next)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			next = 0 // no commit yet: from the oldest retained record
		case err != nil:
			return ctxErr(ctx, j.dbErr("fetch: load committed offset", err))
		}
		got[at] = next
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if c.gen != gen {
		return nil // reassigned meanwhile; the caller starts over
	}
	for at, next := range got {
		if p, ok := c.pos[at]; ok && p < 0 { // a Seek may have set it meanwhile
			c.pos[at] = next
		}
	}
	return nil
}

// fetchOnce reads up to max records from the partitions with records beyond
// the member's positions. It returns none when there is nothing new.
func (c *consumer) fetchOnce(ctx context.Context, max int) ([]bus.Record, error) {
	j := c.j
	type want struct {
		at   tp
		from int64
		hw   int64
	}
	j.mu.Lock()
	gen := c.gen
	var todo []want
	n := len(c.order)
	for k := 0; k < n; k++ {
		at := c.order[(c.start+k)%n]
		if p := c.pos[at]; p >= 0 && p < j.hw[at] {
			todo = append(todo, want{at, p, j.hw[at]})
		}
	}
	if n > 0 {
		c.start = (c.start + 1) % n
	}
	j.mu.Unlock()
	if len(todo) == 0 {
		return nil, nil
	}

	out := make([]bus.Record, 0, min(max, 1024))
	ends := make(map[tp]int64, len(todo)) // new position per partition read
	for _, w := range todo {
		if len(out) >= max {
			break
		}
		before := len(out)
		var err error
		out, err = j.readPartition(ctx, out, w.at, w.from, max-len(out))
		if err != nil {
			return nil, ctxErr(ctx, j.dbErr("fetch", err))
		}
		if len(out) > before {
			ends[w.at] = out[len(out)-1].Offset + 1
		} else {
			// Everything in [from, hw) was deleted by retention.
			ends[w.at] = w.hw
		}
	}

	j.mu.Lock()
	defer j.mu.Unlock()
	if err := c.errClosed(); err != nil {
		return nil, err
	}
	if c.gen != gen {
		// Reassigned meanwhile: keep what still belongs to this member and
		// whose position did not move.
		c.refresh()
	}
	drop := map[tp]bool{}
	for _, w := range todo {
		end, read := ends[w.at]
		if !read {
			continue
		}
		if p, ok := c.pos[w.at]; !ok || p != w.from {
			drop[w.at] = true // moved away, or Seek changed the position
			continue
		}
		c.pos[w.at] = end
	}
	if len(drop) > 0 {
		out = slices.DeleteFunc(out, func(r bus.Record) bool { return drop[tp{r.Topic, r.Partition}] })
	}
	return out, nil
}

// Commit stores, per topic and partition, the offset after the highest given
// record as the group's position, if that partition is assigned to this
// member. A committed position never moves backwards (Seek excepted).
func (c *consumer) Commit(ctx context.Context, records ...bus.Record) error {
	j := c.j
	j.mu.Lock()
	if err := c.errClosed(); err != nil {
		j.mu.Unlock()
		return err
	}
	next := map[tp]int64{}
	var order []tp
	for i := range records {
		at := tp{records[i].Topic, records[i].Partition}
		if c.g.owner[at] != c {
			continue
		}
		off := records[i].Offset + 1
		if cur, ok := next[at]; !ok {
			order = append(order, at)
			next[at] = off
		} else if off > cur {
			next[at] = off
		}
	}
	j.mu.Unlock()
	if len(order) == 0 {
		return nil
	}
	return j.writeTx(ctx, "commit "+c.g.name, func(tx *sql.Tx) error {
		st := tx.StmtContext(ctx, j.st.commit)
		for _, at := range order {
			if _, err := st.ExecContext(ctx, c.g.name, at.topic, at.part, next[at]); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close leaves the group; its partitions go to the remaining members, which
// receive the uncommitted records again.
func (c *consumer) Close() error {
	j := c.j
	j.mu.Lock()
	defer j.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	close(c.stop)
	c.g.members = slices.DeleteFunc(c.g.members, func(m *consumer) bool { return m == c })
	if len(c.g.members) == 0 {
		delete(j.groups, c.g.name)
	} else if !j.closed {
		j.rebalance(c.g)
	}
	j.log.Debug("consumer left", "group", c.g.name, "member", c.id, "members", len(c.g.members))
	return nil
}

// Seek sets the group's committed position on a partition (bus.OffsetOldest:
// the oldest retained record), and moves the fetch position of the live
// member that owns the partition there. An offset beyond the partition's end
// is an error.
func (j *Journal) Seek(ctx context.Context, group, topic string, partition int, offset int64) error {
	if group == "" {
		return errors.New("journal: seek: empty group name")
	}
	if err := j.checkPartition(ctx, topic, partition); err != nil {
		return err
	}
	if offset < 0 && offset != bus.OffsetOldest {
		return fmt.Errorf("journal: seek %s %s/%d: invalid offset %d", group, topic, partition, offset)
	}
	at := tp{topic, partition}
	op := fmt.Sprintf("seek %s %s/%d", group, topic, partition)
	err := j.writeTx(ctx, op, func(tx *sql.Tx) error {
		var next int64
		if err := tx.QueryRowContext(ctx, `SELECT next_offset FROM partitions WHERE topic = ? AND part = ?`,
			topic, partition).Scan(&next); err != nil {
			return err
		}
		if offset == bus.OffsetOldest {
			low, err := lowestOffset(ctx, tx, at)
			if err != nil {
				return err
			}
			offset = next
			if low.Valid {
				offset = low.Int64
			}
		}
		if offset > next {
			return fmt.Errorf("offset %d is beyond the end of the partition (%d)", offset, next)
		}
		_, err := tx.StmtContext(ctx, j.st.seek).ExecContext(ctx, group, topic, partition, offset)
		return err
	})
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if g := j.groups[group]; g != nil {
		for _, m := range g.members {
			m.refresh()
			if _, ok := m.pos[at]; ok {
				m.pos[at] = offset
			}
		}
		j.broadcast()
	}
	j.log.Debug("group position set", "group", group, "topic", topic, "partition", partition, "offset", offset)
	return nil
}
