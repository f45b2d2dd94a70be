package native

import (
	"math"
	"time"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/detections"
)

// anomalyTTL is how long a group without events is kept (and its silence
// reported bucket by bucket) before it is forgotten.
const anomalyTTL = 7 * 24 * time.Hour

const week = 7 * 24 * time.Hour

// anomaly is the anomaly kind: per-group event counts per bucket compared
// with the group's baseline for the bucket's slot of the week.
//
// Buckets are aligned to the Unix epoch, as the detect stage's summaries
// are. A bucket's slot is its start's time of the week in the calendar's
// location, in steps of max(bucket, 1h): 168 slots for hourly buckets. The
// baseline of a slot is the running mean of the counts of the group's
// closed buckets in that slot, empty buckets counting as 0, over the last
// 4 weeks at most (once a slot has 4 weeks of samples each new sample
// weighs a quarter, an exponentially weighted mean). Every closed bucket
// updates the baseline, anomalous or not.
//
// A bucket closes when the watermark reaches its end or an observation of a
// later bucket arrives; observations of a bucket already closed (late) are
// dropped. Once a group is `learning` past its first bucket and the slot
// has a sample, a closed bucket is a hit when its count > spike × mean and
// count >= min_count (kind spike), or when count < silence × mean and mean
// >= min_count (kind silence). Hit.Event is the group's summary event
// (group-by fields, @timestamp = bucket start) with FieldAnomalyExpected,
// FieldAnomalyObserved, FieldAnomalyKind and a deterministic event id;
// First and Last are the bucket's start and end; Count is the bucket's count
// (at least 1).
//
// A group costs about 6 bytes per slot (1 KB for hourly buckets). Groups
// without events for 7 days are dropped, and at most Options.MaxGroups
// groups are kept, the ones idle the longest evicted first.
type anomaly struct {
	base
	cal       *calendar.Calendar
	bucket    time.Duration
	slotLen   time.Duration
	slots     int
	learning  time.Duration
	spike     float64 // 0: no spike alerts
	silence   float64 // 0: no silence alerts
	minCount  int64
	maxWeight uint16 // samples after which the mean is exponentially weighted
}

var (
	_ detections.Stateful   = (*anomaly)(nil)
	_ detections.Summarizer = (*anomaly)(nil)
)

// Anomaly defaults.
const (
	DefaultAnomalyBucket   = time.Hour
	DefaultAnomalyLearning = 14 * 24 * time.Hour
	DefaultAnomalyMinCount = 10
)

func newAnomaly(s *anomalySpec, b base, cal *calendar.Calendar) (*anomaly, error) {
	if err := checkFields("anomaly.group_by", s.GroupBy); err != nil {
		return nil, err
	}
	d := &anomaly{cal: cal, bucket: DefaultAnomalyBucket, learning: DefaultAnomalyLearning, minCount: DefaultAnomalyMinCount}
	if s.Bucket != nil {
		d.bucket = time.Duration(*s.Bucket)
		if d.bucket < time.Minute || (24*time.Hour)%d.bucket != 0 {
			return nil, errAt("anomaly.bucket", "%s: want a span from 1m to 24h that divides a day (1m, 5m, 15m, 1h, 6h...)", d.bucket)
		}
	}
	if s.Learning != nil {
		if *s.Learning < 0 {
			return nil, errAt("anomaly.learning", "want a duration >= 0")
		}
		d.learning = time.Duration(*s.Learning)
	}
	if s.Spike != nil {
		if !(*s.Spike > 1) || math.IsInf(*s.Spike, 0) {
			return nil, errAt("anomaly.spike", "%v: want a factor > 1", *s.Spike)
		}
		d.spike = *s.Spike
	}
	if s.Silence != nil {
		if !(*s.Silence > 0 && *s.Silence < 1) {
			return nil, errAt("anomaly.silence", "%v: want a factor between 0 and 1", *s.Silence)
		}
		d.silence = *s.Silence
	}
	if d.spike == 0 && d.silence == 0 {
		return nil, errAt("anomaly", "set spike (such as 3), silence (such as 0.1) or both")
	}
	if s.MinCount != nil {
		if *s.MinCount < 1 {
			return nil, errAt("anomaly.min_count", "%d: want an integer >= 1", *s.MinCount)
		}
		d.minCount = int64(*s.MinCount)
	}
	d.slotLen = max(d.bucket, time.Hour)
	d.slots = int(week / d.slotLen)
	d.maxWeight = uint16(4 * (d.slotLen / d.bucket))
	b.groupBy = s.GroupBy
	d.base = b
	return d, nil
}

// Bucket is the rule's bucket: the state needs only each bucket's count.
func (d *anomaly) Bucket() time.Duration { return d.bucket }

// slot returns the slot of the week of a bucket start.
func (d *anomaly) slot(start int64) int {
	t := fromNanos(start).In(d.cal.Location())
	h, m, s := t.Clock()
	sec := time.Duration(int(t.Weekday())*86400+h*3600+m*60+s) * time.Second
	return int(sec/d.slotLen) % d.slots
}

// floor returns the start of the bucket holding t.
func (d *anomaly) floor(t int64) int64 {
	b := int64(d.bucket)
	f := t / b * b
	if f > t {
		f -= b
	}
	return f
}

// NewState returns an empty anomaly state.
func (d *anomaly) NewState() detections.State {
	return &anomalyState{d: d, groups: newTable(d.max, func(g *anGroup) int64 { return g.Last })}
}

type anomalyState struct {
	d      *anomaly
	groups table[*anGroup]
	closed int64 // buckets starting before this are closed for every group
}

// anGroup is one group: its open bucket and its baseline.
type anGroup struct {
	First int64     `json:"first"` // first bucket start
	Cur   int64     `json:"cur"`   // open bucket start
	Count int64     `json:"count"` // events in the open bucket
	Last  int64     `json:"last"`  // last event time
	Mean  []float32 `json:"mean"`  // per slot
	N     []uint16  `json:"n"`     // samples per slot, up to maxWeight
}

func (s *anomalyState) Len() int { return len(s.groups.m) }

func (s *anomalyState) Observe(o detections.Observation) []detections.Hit {
	d := s.d
	t := nanos(o.Last)
	b := d.floor(t)
	k := joinKey(o.Key)
	g := s.groups.m[k]
	if g == nil {
		g = &anGroup{First: b, Cur: b, Last: t, Mean: make([]float32, d.slots), N: make([]uint16, d.slots)}
		s.groups.put(k, g)
	}
	if b < g.Cur {
		return nil // late: its bucket is closed
	}
	hits := s.closeUntil(o.Key, g, b)
	g.Count += max(o.Count, 1)
	g.Last = max(g.Last, t)
	return hits
}

// closeUntil closes the group's buckets that start before end.
func (s *anomalyState) closeUntil(key []string, g *anGroup, end int64) []detections.Hit {
	d := s.d
	var hits []detections.Hit
	if gap := end - g.Cur; gap > int64(anomalyTTL) {
		// Silent for longer than the TTL: the buckets in between count as
		// empty, and only the last TTL of them is reported.
		for g.Cur < end-int64(anomalyTTL) {
			d.learn(g, g.Cur, 0)
			g.Cur += int64(d.bucket)
			g.Count = 0
		}
	}
	for g.Cur < end {
		if h, ok := d.check(key, g); ok {
			hits = append(hits, h)
		}
		d.learn(g, g.Cur, g.Count)
		g.Cur += int64(d.bucket)
		g.Count = 0
	}
	return hits
}

// check compares the open bucket with its baseline.
func (d *anomaly) check(key []string, g *anGroup) (detections.Hit, bool) {
	i := d.slot(g.Cur)
	if g.Cur-g.First < int64(d.learning) || g.N[i] == 0 {
		return detections.Hit{}, false
	}
	mean, n := float64(g.Mean[i]), g.Count
	var kind string
	switch {
	case d.spike > 0 && float64(n) > d.spike*mean && n >= d.minCount:
		kind = "spike"
	case d.silence > 0 && float64(n) < d.silence*mean && mean >= float64(d.minCount):
		kind = "silence"
	default:
		return detections.Hit{}, false
	}
	start := fromNanos(g.Cur)
	e := d.summaryEvent(key, start)
	e.Event.ID = syntheticID(KindAnomaly+"."+kind, d.rule, key, start)
	if e.Fields == nil {
		e.Fields = map[string]any{}
	}
	e.Fields[FieldAnomalyExpected] = mean
	e.Fields[FieldAnomalyObserved] = n
	e.Fields[FieldAnomalyKind] = kind
	return detections.Hit{Event: e, First: start, Last: start.Add(d.bucket), Count: int(max(n, 1))}, true
}

// learn adds a closed bucket's count to its slot's baseline.
func (d *anomaly) learn(g *anGroup, start, count int64) {
	i := d.slot(start)
	if g.N[i] < d.maxWeight {
		g.N[i]++
	}
	g.Mean[i] += (float32(count) - g.Mean[i]) / float32(g.N[i])
}

func (s *anomalyState) Advance(watermark time.Time) []detections.Hit {
	d := s.d
	end := d.floor(nanos(watermark)) // buckets starting before end are over
	if end <= s.closed {
		return nil
	}
	s.closed = end
	var hits []detections.Hit
	for _, k := range s.groups.sortedKeys() {
		g := s.groups.m[k]
		if g.Last < end-int64(anomalyTTL) {
			delete(s.groups.m, k)
			continue
		}
		hits = append(hits, s.closeUntil(splitKey(k), g, end)...)
	}
	return hits
}

func (s *anomalyState) Snapshot() ([]byte, error) {
	return marshalTable(KindAnomaly, &s.groups, 0, &s.closed)
}

func (s *anomalyState) Restore(data []byte) error {
	_, closed, err := unmarshalTable(KindAnomaly, data, &s.groups)
	if err != nil {
		return err
	}
	for k, g := range s.groups.m {
		if g == nil || len(g.Mean) != s.d.slots || len(g.N) != s.d.slots {
			delete(s.groups.m, k) // another bucket size: learn again
		}
	}
	if closed != nil {
		s.closed = *closed
	}
	return nil
}
