package detections

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers the correlate step's gauges on reg: the entities its
// states track, the observations that arrived later than the allowed
// lateness, the observations waiting for the watermark, and the watermark
// of each partition it holds (event time, Unix seconds). They are read from
// the state when scraped.
func (c *Correlate) Register(reg prometheus.Registerer) {
	sum := func(f func(p *partition) float64) float64 {
		c.mu.Lock()
		defer c.mu.Unlock()
		total := 0.0
		for _, ps := range c.parts {
			ps.mu.Lock()
			if ps.p != nil {
				total += f(ps.p)
			}
			ps.mu.Unlock()
		}
		return total
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mamori_detect_tracked_entities",
			Help: "Groups, windows, first-seen terms and baselines the stateful rules track in this process.",
		}, func() float64 { return sum(func(p *partition) float64 { return float64(p.tracked()) }) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "mamori_detect_late_observations_total",
			Help: "Matches that arrived after the watermark had passed them (later than detections.allowed_lateness), observed out of order.",
		}, func() float64 { return sum(func(p *partition) float64 { return float64(p.late) }) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mamori_detect_pending_observations",
			Help: "Matches waiting for the watermark before stateful rules observe them.",
		}, func() float64 { return sum(func(p *partition) float64 { return float64(p.pending.Len()) }) }),
		&watermarks{c: c},
	)
}

// watermarks reports each partition's watermark.
type watermarks struct{ c *Correlate }

var watermarkDesc = prometheus.NewDesc("mamori_detect_watermark_seconds",
	"Event time up to which the stateful rules of a partition have observed every match (Unix seconds).",
	[]string{"partition"}, nil)

func (w *watermarks) Describe(ch chan<- *prometheus.Desc) { ch <- watermarkDesc }

func (w *watermarks) Collect(ch chan<- prometheus.Metric) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	for _, pn := range sortedPartitions(w.c.parts) {
		ps := w.c.parts[pn]
		ps.mu.Lock()
		if ps.p != nil && !ps.p.watermark.IsZero() {
			ch <- prometheus.MustNewConstMetric(watermarkDesc, prometheus.GaugeValue,
				float64(ps.p.watermark.UnixNano())/1e9, strconv.Itoa(pn))
		}
		ps.mu.Unlock()
	}
}
