package native_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/native"
)

// FuzzParse checks that Parse never panics, that it returns either a rule
// or an *Error wrapping detections.ErrInvalidRule, and that every rule it
// returns is accepted by the engine and can match an event.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/examples/*.yaml")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(header + "query: 'event.code:4625'\n"))
	f.Add([]byte(header + "kind: threshold\nquery: a\nthreshold: {window: 1d1h, count: 2, distinct: source.ip}\n"))
	f.Add([]byte(header + "kind: off_hours\nquery: a\noff_hours: {night: \"23:00-01:00\"}\n"))
	opts := native.Options{Now: func() time.Time { return fixedNow }}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := native.Parse(data, "fuzz.yaml", opts)
		if err != nil {
			var ne *native.Error
			if r != nil || !errors.As(err, &ne) || !errors.Is(err, detections.ErrInvalidRule) {
				t.Fatalf("error %v (%T) with rule %v", err, err, r)
			}
			return
		}
		if _, err := detections.New([]*detections.Rule{r}, detections.Config{}); err != nil {
			t.Fatalf("engine rejects a parsed rule: %v", err)
		}
		e := logon("e", "4625", "taro", "10.0.0.1", fixedNow)
		if r.Detector.Match(e) {
			if st, ok := r.Detector.(detections.Stateful); ok {
				s := st.NewState()
				s.Observe(detections.Observation{Key: st.GroupKey(e), Event: e, Count: 1, First: e.Timestamp, Last: e.Timestamp})
				s.Advance(fixedNow.Add(time.Hour))
			}
		}
	})
}
