package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"math"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/store"
)

const (
	defaultSize  = 100
	maxSize      = 10000
	exportPage   = 1000
	defaultTerms = 10
)

// filter compiles the query's time range and condition. frac, when
// positive, estimates the fraction of documents in the time range.
func (c *collection) filter(q store.Query, a *args, frac float64) (string, error) {
	var parts []string
	if !q.From.IsZero() || !q.To.IsZero() {
		b := &kql.Between{Field: timeFieldOf(q), Type: event.Date, LoIncl: true}
		if !q.From.IsZero() {
			b.Lo = q.From.UTC()
		}
		if !q.To.IsZero() {
			b.Hi = q.To.UTC()
		}
		k := &compiler{c: c, args: a, timeFrac: frac}
		s, err := k.cond(b)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	s, err := c.where(q.Filter, a)
	if err != nil {
		return "", err
	}
	return strings.Join(append(parts, s), " AND "), nil
}

// timeFraction estimates the fraction of a collection's documents that lie
// in the query's time range from the oldest and newest @timestamp (two
// index lookups), or returns 0 when it cannot.
func (s *Store) timeFraction(ctx context.Context, c *collection, q store.Query) float64 {
	if timeFieldOf(q) != timeField || (q.From.IsZero() && q.To.IsZero()) {
		return 0
	}
	var lo, hi sql.NullInt64
	if err := s.r.QueryRowContext(ctx, "SELECT (SELECT min(ts) FROM "+c.table+"), (SELECT max(ts) FROM "+c.table+")").Scan(&lo, &hi); err != nil || !lo.Valid {
		return 0
	}
	from, to := float64(lo.Int64), float64(hi.Int64)+1
	if !q.From.IsZero() {
		from = math.Max(from, float64(q.From.UnixNano()))
	}
	if !q.To.IsZero() {
		to = math.Min(to, float64(q.To.UnixNano()))
	}
	return math.Min(1, math.Max(1e-6, (to-from)/(float64(hi.Int64)+1-float64(lo.Int64))))
}

func timeFieldOf(q store.Query) string {
	if q.TimeField == "" {
		return timeField
	}
	return q.TimeField
}

// sortKind says how a sort value travels between SQL and Hit.Sort.
type sortKind int

const (
	sortAny  sortKind = iota // as SQLite returns it (text or number)
	sortTime                 // ns in SQL, time.Time in Hit.Sort
	sortIP                   // 16-byte key in SQL, canonical text in Hit.Sort
)

type sortKey struct {
	expr     string
	desc     bool
	kind     sortKind
	nullable bool
}

// sortKeys returns the ORDER BY keys of a request, ending with the id.
func (c *collection) sortKeys(req store.SearchRequest, a *args) ([]sortKey, error) {
	sorts := req.Sort
	if len(sorts) == 0 {
		sorts = []store.SortField{{Field: timeFieldOf(req.Query), Desc: true}}
	}
	keys := make([]sortKey, 0, len(sorts)+1)
	k := &compiler{c: c, args: a}
	for _, s := range sorts {
		key, err := k.sortKey(s)
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	return append(keys, sortKey{expr: "d.id", desc: sorts[0].Desc}), nil
}

func (k *compiler) sortKey(s store.SortField) (sortKey, error) {
	if s.Field == timeField {
		return sortKey{expr: "d.ts", desc: s.Desc, kind: sortTime}, nil
	}
	f, err := k.field(s.Field)
	if err != nil {
		return sortKey{}, err
	}
	typ := event.TypeOf(s.Field)
	key := sortKey{desc: s.Desc, nullable: true}
	if f.scalar != "" {
		switch typ {
		case event.Date:
			key.expr, key.kind = fnTime+"("+f.scalar+")", sortTime
		case event.IP:
			key.expr, key.kind = fnIPKey+"("+f.scalar+")", sortIP
			if e, ok := k.c.hot[s.Field]; ok {
				key.expr = e
			}
		case event.Long, event.Double:
			key.expr = "(CASE WHEN " + f.typeOf + " IN ('integer', 'real') THEN " + f.scalar + " END)"
		case event.Boolean:
			key.expr = "(CASE " + f.typeOf + " WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)"
		default:
			key.expr = f.scalar
		}
		return key, nil
	}
	// Multi-valued or dynamic: the least value ascending, the greatest
	// descending, as Elasticsearch does.
	agg := "min"
	if s.Desc {
		agg = "max"
	}
	val := keywordText
	switch typ {
	case event.Date:
		val, key.kind = fnTime+"(j.atom)", sortTime
	case event.IP:
		val, key.kind = fnIPKey+"(j.atom)", sortIP
	case event.Long, event.Double:
		val = "(CASE WHEN j.type IN ('integer', 'real') THEN j.atom END)"
	}
	path, err := k.pathExpr(s.Field)
	if err != nil {
		return sortKey{}, err
	}
	key.expr = "(SELECT " + agg + "(" + val + ") FROM json_each(d.doc, " + path +
		") j WHERE (j.key IS NULL OR typeof(j.key) = 'integer') AND j.type NOT IN ('null', 'array', 'object'))"
	return key, nil
}

// sqlValue converts a SearchAfter value to the SQL value of its key.
func (key sortKey) sqlValue(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			v = i
		} else if f, err := n.Float64(); err == nil {
			v = f
		} else {
			return nil, badQuery("search_after: bad number %q", n)
		}
	}
	switch key.kind {
	case sortTime:
		switch x := v.(type) {
		case time.Time:
			ns, _ := timeBound("search_after", x)
			return ns, nil
		case string:
			ns, ok := parseTime(x)
			if !ok {
				return nil, badQuery("search_after: %q is not an RFC 3339 time", x)
			}
			return ns, nil
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		case float64:
			return int64(x), nil
		}
		return nil, badQuery("search_after: want a time, got %T", v)
	case sortIP:
		switch x := v.(type) {
		case string:
			a, err := netip.ParseAddr(x)
			if err != nil {
				return nil, badQuery("search_after: %q is not an IP address", x)
			}
			return ipKey(a), nil
		case netip.Addr:
			return ipKey(x), nil
		}
		return nil, badQuery("search_after: want an IP address, got %T", v)
	}
	switch x := v.(type) {
	case string, int64, float64, []byte:
		return x, nil
	case int:
		return int64(x), nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	}
	return nil, badQuery("search_after: unsupported value %T", v)
}

// hitValue converts an SQL sort value to its Hit.Sort form.
func (key sortKey) hitValue(v any) any {
	switch key.kind {
	case sortTime:
		if ns, ok := v.(int64); ok {
			return time.Unix(0, ns).UTC()
		}
	case sortIP:
		if b, ok := v.([]byte); ok && len(b) == 16 {
			return netip.AddrFrom16([16]byte(b)).Unmap().String()
		}
	}
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}

// after compiles search_after into a keyset condition.
func after(keys []sortKey, values []any, a *args) (string, error) {
	if len(values) != len(keys) {
		return "", badQuery("search_after has %d values, the sort has %d (the last is the id)", len(values), len(keys))
	}
	vals := make([]any, len(values))
	for i, v := range values {
		x, err := keys[i].sqlValue(v)
		if err != nil {
			return "", err
		}
		vals[i] = x
	}
	var ors []string
	for i, key := range keys {
		if vals[i] == nil { // nulls sort last: nothing comes after but more nulls
			continue
		}
		var ands []string
		for m := 0; m < i; m++ {
			if vals[m] == nil {
				ands = append(ands, keys[m].expr+" IS NULL")
			} else {
				ands = append(ands, keys[m].expr+" = "+a.bind(vals[m]))
			}
		}
		op := " > "
		if key.desc {
			op = " < "
		}
		cmp := key.expr + op + a.bind(vals[i])
		if key.nullable {
			cmp = "(" + cmp + " OR " + key.expr + " IS NULL)"
		}
		ands = append(ands, cmp)
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	if len(ors) == 0 {
		return "0", nil
	}
	s := "(" + strings.Join(ors, " OR ") + ")"
	// A redundant bound on a non-null first key lets an index range start
	// at the cursor.
	if !keys[0].nullable && vals[0] != nil {
		op := " >= "
		if keys[0].desc {
			op = " <= "
		}
		s = "(" + keys[0].expr + op + a.bind(vals[0]) + " AND " + s + ")"
	}
	return s, nil
}

func orderBy(keys []sortKey) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		dir := " ASC"
		if k.desc {
			dir = " DESC"
		}
		if k.nullable {
			dir += " NULLS LAST"
		}
		parts[i] = k.expr + dir
	}
	return strings.Join(parts, ", ")
}

// Search returns one page of documents matching the request. Total is
// exact up to store.TotalHitsLimit (see store.SearchResult).
func (s *Store) Search(ctx context.Context, req store.SearchRequest) (*store.SearchResult, error) {
	return s.search(ctx, req, true)
}

func (s *Store) search(ctx context.Context, req store.SearchRequest, total bool) (*store.SearchResult, error) {
	size := req.Size
	switch {
	case size == 0:
		size = defaultSize
	case size < 0 || size > maxSize:
		return nil, badQuery("size %d: want 1 to %d", size, maxSize)
	}
	c, err := s.lookup(ctx, req.Collection)
	if err != nil {
		return nil, err
	}
	res := &store.SearchResult{Hits: []store.Hit{}}
	if c == nil {
		return res, nil
	}
	frac := s.timeFraction(ctx, c, req.Query)
	query, a, keys, err := c.searchSQL(req, size, frac)
	if err != nil {
		return nil, err
	}

	// Read the page and the total from one snapshot.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: search %s: %w", c.name, classify(err))
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, query, a...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: search %s: %w", c.name, classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		var version int64
		var doc string
		vals := make([]any, len(keys))
		dest := []any{&version, &doc}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("sqlitestore: search %s: %w", c.name, classify(err))
		}
		hit := store.Hit{Doc: store.Doc{Source: json.RawMessage(doc), Version: store.Version{SeqNo: version}}}
		for i, k := range keys {
			hit.Sort = append(hit.Sort, k.hitValue(vals[i]))
		}
		hit.ID = hit.Sort[len(hit.Sort)-1].(string)
		res.Hits = append(res.Hits, hit)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: search %s: %w", c.name, classify(err))
	}
	rows.Close()
	if !total {
		return res, nil
	}
	count, b, err := c.totalSQL(req.Query, frac)
	if err != nil {
		return nil, err
	}
	if err := tx.QueryRowContext(ctx, count, b...).Scan(&res.Total); err != nil {
		return nil, fmt.Errorf("sqlitestore: search %s: count: %w", c.name, classify(err))
	}
	if res.Total > store.TotalHitsLimit {
		res.Total, res.TotalCapped = store.TotalHitsLimit, true
	}
	return res, nil
}

// totalSQL returns the statement counting the matches of a query up to one
// more than store.TotalHitsLimit.
func (c *collection) totalSQL(q store.Query, frac float64) (string, args, error) {
	var a args
	where, err := c.filter(q, &a, frac)
	if err != nil {
		return "", nil, err
	}
	return "SELECT count(*) FROM (SELECT 1 FROM " + c.table + " d WHERE " + where + " LIMIT " + a.bind(store.TotalHitsLimit+1) + ")", a, nil
}

// searchSQL returns the statement of one page of a search.
func (c *collection) searchSQL(req store.SearchRequest, size int, frac float64) (string, args, []sortKey, error) {
	var a args
	where, err := c.filter(req.Query, &a, frac)
	if err != nil {
		return "", nil, nil, err
	}
	keys, err := c.sortKeys(req, &a)
	if err != nil {
		return "", nil, nil, err
	}
	if req.SearchAfter != nil {
		cond, err := after(keys, req.SearchAfter, &a)
		if err != nil {
			return "", nil, nil, err
		}
		where += " AND " + cond
	}
	exprs := make([]string, len(keys))
	for i, k := range keys {
		exprs[i] = k.expr
	}
	query := "SELECT d.version, coalesce(d.src, json(d.doc)), " + strings.Join(exprs, ", ") + " FROM " + c.table + " d WHERE " + where +
		" ORDER BY " + orderBy(keys) + " LIMIT " + a.bind(size)
	return query, a, keys, nil
}

// Count returns the number of documents matching the query.
func (s *Store) Count(ctx context.Context, q store.Query) (int64, error) {
	c, err := s.lookup(ctx, q.Collection)
	if err != nil || c == nil {
		return 0, err
	}
	var a args
	where, err := c.filter(q, &a, s.timeFraction(ctx, c, q))
	if err != nil {
		return 0, err
	}
	var n int64
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM "+c.table+" d WHERE "+where, a...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlitestore: count %s: %w", c.name, classify(err))
	}
	return n, nil
}

// Terms returns the most frequent values of a field among matching
// documents, most frequent first, ties by value. A document counts once per
// distinct value, so multi-valued fields count documents, not values.
func (s *Store) Terms(ctx context.Context, q store.Query, agg store.TermsAgg) ([]store.Bucket, error) {
	size := agg.Size
	if size <= 0 {
		size = defaultTerms
	}
	c, err := s.lookup(ctx, q.Collection)
	if err != nil || c == nil {
		return nil, err
	}
	if agg.Field == "" {
		return nil, badQuery("terms: empty field")
	}
	var a args
	where, err := c.filter(q, &a, s.timeFraction(ctx, c, q))
	if err != nil {
		return nil, err
	}
	k := &compiler{c: c, args: &a}
	f, err := k.field(agg.Field)
	if err != nil {
		return nil, err
	}
	typ := event.TypeOf(agg.Field)
	var inner string
	if f.scalar != "" {
		// The raw value groups and orders; its text is the key.
		inner = "SELECT " + f.scalar + " AS v FROM " + c.table + " d WHERE " + where + " AND " + f.typeOf + " IN ('text', 'integer', 'real', 'true', 'false')"
	} else {
		path, err := k.pathExpr(agg.Field)
		if err != nil {
			return nil, err
		}
		val := keywordText
		if typ != event.Keyword {
			val = "j.atom"
		}
		inner = "SELECT DISTINCT d.rowid, " + val + " AS v FROM " + c.table + " d, json_each(d.doc, " + path + ") j WHERE " + where +
			" AND (j.key IS NULL OR typeof(j.key) = 'integer') AND j.type IN ('text', 'integer', 'real', 'true', 'false')"
	}
	key := "v"
	switch typ {
	case event.IP:
		key = fnIPText + "(" + fnIPKey + "(v))"
	case event.Double:
		key = fnFloatText + "(v)"
	case event.Keyword, event.Text:
		if f.scalar != "" {
			key = "(CASE typeof(v) WHEN 'real' THEN " + fnFloatText + "(v) ELSE CAST(v AS TEXT) END)"
		}
	}
	query := "SELECT " + key + ", count(*) AS n FROM (" + inner + ") WHERE v IS NOT NULL GROUP BY v ORDER BY n DESC, v ASC LIMIT " + a.bind(size)
	rows, err := s.r.QueryContext(ctx, query, a...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: terms %s: %w", c.name, classify(err))
	}
	defer rows.Close()
	var out []store.Bucket
	for rows.Next() {
		var v any
		var n int64
		if err := rows.Scan(&v, &n); err != nil {
			return nil, fmt.Errorf("sqlitestore: terms %s: %w", c.name, classify(err))
		}
		out = append(out, store.Bucket{Key: keyText(v), Count: n})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: terms %s: %w", c.name, classify(err))
	}
	return out, nil
}

func keyText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// floorDiv is the SQL of floor(x / n) for integers.
func floorDiv(x, n string) string {
	return "(CASE WHEN " + x + " >= 0 THEN " + x + " / " + n + " ELSE -((-" + x + " - 1) / " + n + ") - 1 END)"
}

// granule divides every local-midnight-aligned bucket boundary: zone
// offsets are whole quarter hours.
const granule = 15 * time.Minute

// Histogram returns document counts per interval of the time field, oldest
// first, without empty buckets. Intervals shorter than a day are aligned to
// the Unix epoch; a day or longer to local midnight in agg.Location
// (calendar days across DST changes when the interval is whole days).
func (s *Store) Histogram(ctx context.Context, q store.Query, agg store.HistogramAgg) ([]store.Bucket, error) {
	if agg.Interval <= 0 {
		return nil, badQuery("histogram: interval %v: want a positive duration", agg.Interval)
	}
	loc := agg.Location
	if loc == nil {
		loc = time.UTC
	}
	c, err := s.lookup(ctx, q.Collection)
	if err != nil || c == nil {
		return nil, err
	}
	var a args
	where, err := c.filter(q, &a, s.timeFraction(ctx, c, q))
	if err != nil {
		return nil, err
	}
	tsExpr := "d.ts"
	if tf := timeFieldOf(q); tf != timeField {
		k := &compiler{c: c, args: &a}
		f, err := k.field(tf)
		if err != nil {
			return nil, err
		}
		if f.scalar == "" {
			return nil, badQuery("histogram: time field %s must be a single-valued date field", tf)
		}
		tsExpr = fnTime + "(" + f.scalar + ")"
	}
	local := agg.Interval >= 24*time.Hour && loc != time.UTC
	step := int64(agg.Interval)
	if local {
		step = int64(granule)
		if agg.Interval%granule != 0 {
			step = 1
		}
	}
	bucket := floorDiv(tsExpr, a.bind(step))
	query := "SELECT " + bucket + " AS b, count(*) FROM " + c.table + " d WHERE " + where + " AND " + tsExpr + " IS NOT NULL GROUP BY b ORDER BY b"
	rows, err := s.r.QueryContext(ctx, query, a...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: histogram %s: %w", c.name, classify(err))
	}
	defer rows.Close()
	counts := map[int64]int64{}
	for rows.Next() {
		var b, n int64
		if err := rows.Scan(&b, &n); err != nil {
			return nil, fmt.Errorf("sqlitestore: histogram %s: %w", c.name, classify(err))
		}
		start := b * step
		if local {
			start = localFloor(start, agg.Interval, loc)
		}
		counts[start] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: histogram %s: %w", c.name, classify(err))
	}
	out := make([]store.Bucket, 0, len(counts))
	for start, n := range counts {
		out = append(out, store.Bucket{Time: time.Unix(0, start).In(loc), Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// localFloor returns the start of the bucket holding instant ns: buckets
// are interval-long in local wall-clock time, counted from the epoch.
func localFloor(ns int64, interval time.Duration, loc *time.Location) int64 {
	t := time.Unix(0, ns).In(loc)
	_, off := t.Zone()
	wall := ns + int64(off)*int64(time.Second)
	iv := int64(interval)
	b := wall / iv
	if wall%iv < 0 {
		b--
	}
	w := time.Unix(0, b*iv).UTC()
	start := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), loc)
	return start.UnixNano()
}

// Export calls fn for every matching document in sort order, reading page
// by page (req.Size per page, default 1,000) with search_after.
func (s *Store) Export(ctx context.Context, req store.SearchRequest, fn func(store.Hit) error) error {
	if req.Size == 0 {
		req.Size = exportPage
	}
	for {
		res, err := s.search(ctx, req, false)
		if err != nil {
			return err
		}
		for _, h := range res.Hits {
			if err := fn(h); err != nil {
				return err
			}
		}
		if len(res.Hits) < req.Size {
			return nil
		}
		req.SearchAfter = res.Hits[len(res.Hits)-1].Sort
	}
}

// Get returns one document with its version.
func (s *Store) Get(ctx context.Context, collection, id string) (store.Doc, error) {
	c, err := s.lookup(ctx, collection)
	if err != nil {
		return store.Doc{}, err
	}
	if c == nil {
		return store.Doc{}, fmt.Errorf("sqlitestore: get %s/%s: %w", collection, id, store.ErrNotFound)
	}
	var version int64
	var doc string
	err = s.r.QueryRowContext(ctx, "SELECT version, coalesce(src, json(doc)) FROM "+c.table+" WHERE id = ?1", id).Scan(&version, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Doc{}, fmt.Errorf("sqlitestore: get %s/%s: %w", collection, id, store.ErrNotFound)
	}
	if err != nil {
		return store.Doc{}, fmt.Errorf("sqlitestore: get %s/%s: %w", collection, id, classify(err))
	}
	return store.Doc{ID: id, Source: json.RawMessage(doc), Version: store.Version{SeqNo: version}}, nil
}
