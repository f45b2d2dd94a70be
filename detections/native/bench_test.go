package native_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/mamori-soc/mamori/detections"
)

// benchGroups is the number of tracked entities of the memory benchmarks.
const benchGroups = 100_000

// observeAll feeds n events from fill into a fresh state of the rule and
// returns the heap bytes the state holds per tracked entity.
func bytesPerEntity(b *testing.B, r *detections.Rule, n int, fill func(i int) *detections.Observation) float64 {
	det := r.Detector.(detections.Stateful)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	st := det.NewState()
	for i := range n {
		st.Observe(*fill(i))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / float64(st.Len())
	if st.Len() != benchGroups {
		b.Fatalf("tracked %d entities, want %d", st.Len(), benchGroups)
	}
	runtime.KeepAlive(st)
	return per
}

func observation(r *detections.Rule, id, code, user, src string, at time.Time) *detections.Observation {
	e := logon(id, code, user, src, at)
	return &detections.Observation{Key: r.Detector.(detections.Stateful).GroupKey(e), Event: e, Count: 1, First: at, Last: at}
}

// BenchmarkThresholdMemory reports the bytes a threshold state holds per
// group: 100,000 users with 3 failed logons each (below the count of 10),
// 32-character event ids.
func BenchmarkThresholdMemory(b *testing.B) {
	r := parse(b, "kind: threshold\nquery: 'event.code:4625'\nthreshold: {group_by: [user.name], window: 1h, count: 10}\n")
	var per float64
	for b.Loop() {
		per = bytesPerEntity(b, r, 3*benchGroups, func(i int) *detections.Observation {
			g := i % benchGroups
			return observation(r, fmt.Sprintf("%032d", i), "4625", fmt.Sprintf("user%06d", g), "10.0.0.1", t0.Add(time.Duration(i)*time.Millisecond))
		})
	}
	b.ReportMetric(per, "B/entity")
}

// BenchmarkNewTermsMemory reports the bytes a new_terms state holds per
// term: 100,000 (user, source address) pairs.
func BenchmarkNewTermsMemory(b *testing.B) {
	r := parse(b, "kind: new_terms\nquery: 'event.code:4624'\nnew_terms: {group_by: [user.name], fields: [source.ip], history: 30d}\n")
	var per float64
	for b.Loop() {
		per = bytesPerEntity(b, r, benchGroups, func(i int) *detections.Observation {
			return observation(r, fmt.Sprintf("%032d", i), "4624", fmt.Sprintf("user%06d", i/10), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), t0.Add(time.Duration(i)*time.Millisecond))
		})
	}
	b.ReportMetric(per, "B/entity")
}

// BenchmarkThresholdObserve measures one observation of a threshold state
// with 10,000 active groups.
func BenchmarkThresholdObserve(b *testing.B) {
	r := parse(b, "kind: threshold\nquery: 'event.code:4625'\nthreshold: {group_by: [user.name], window: 5m, count: 10}\n")
	st := r.Detector.(detections.Stateful).NewState()
	obs := make([]*detections.Observation, 10_000)
	for i := range obs {
		obs[i] = observation(r, fmt.Sprintf("%032d", i), "4625", fmt.Sprintf("user%06d", i), "10.0.0.1", t0)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		o := obs[i%len(obs)]
		o.Last = t0.Add(time.Duration(i) * time.Millisecond)
		st.Observe(*o)
	}
}
