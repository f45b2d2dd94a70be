package sigma_test

import (
	"fmt"
	"os"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/sigma"
	"github.com/mamori-soc/mamori/event"
)

// streamCases returns the correlation cases of the conformance suite that
// have a stream.
func streamCases(t testing.TB) []struct {
	name   string
	files  map[string]string
	stream []streamEvent
} {
	data, err := os.ReadFile("testdata/conformance/correlations.yaml")
	require.NoError(t, err)
	var s suite
	require.NoError(t, yaml.Unmarshal(data, &s))
	var out []struct {
		name   string
		files  map[string]string
		stream []streamEvent
	}
	for _, c := range s.Cases {
		if c.Stream != nil {
			out = append(out, struct {
				name   string
				files  map[string]string
				stream []streamEvent
			}{c.Name, c.Files, c.Stream})
		}
	}
	require.NotEmpty(t, out)
	return out
}

func loadRules(t testing.TB, files map[string]string, cfg *sigma.Config) []*detections.Rule {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	rules, errs := sigma.Detections(fsys, cfg)
	require.Empty(t, errs)
	return rules
}

// run drives the events, snapshotting every state after event cut and
// restoring it into a fresh state (cut < 0: never).
func run(t testing.TB, rules []*detections.Rule, events []*event.Event, cut int) []wantHit {
	t.Helper()
	d := newDriver(rules)
	for i, e := range events {
		d.observe(e)
		d.advance(e.Timestamp)
		if i == cut {
			for _, r := range rules {
				s := d.states[r.ID]
				if s == nil {
					continue
				}
				data, err := s.Snapshot()
				require.NoError(t, err)
				fresh := r.Detector.(detections.Stateful).NewState()
				require.NoError(t, fresh.Restore(data))
				again, err := fresh.Snapshot()
				require.NoError(t, err)
				require.JSONEq(t, string(data), string(again))
				d.states[r.ID] = fresh
			}
		}
	}
	d.advance(base.Add(1000 * time.Hour))
	return d.hits
}

// TestSnapshotRestoreAnywhere checks that snapshotting and restoring the
// states after any event of any conformance stream gives the same hits.
func TestSnapshotRestoreAnywhere(t *testing.T) {
	for _, c := range streamCases(t) {
		t.Run(c.name, func(t *testing.T) {
			rules := loadRules(t, c.files, nil)
			events := streamEvents(t, c.stream)
			want := run(t, rules, events, -1)
			for cut := range events {
				require.Equal(t, want, run(t, rules, events, cut), "restored after event %d", cut)
			}
		})
	}
}

func TestRestoreRejectsBadSnapshots(t *testing.T) {
	rules := loadRules(t, map[string]string{"fail.yml": failRule, "corr.yml": countRule(2, "5m")}, nil)
	corr := rules[0].Detector.(detections.Stateful)
	for _, bad := range []string{`nope`, `{"v":2,"groups":[]}`, `{"v":1,"groups":[{"key":["a","b"]}]}`} {
		require.ErrorIs(t, corr.NewState().Restore([]byte(bad)), sigma.ErrSnapshot, bad)
	}
}

const failRule = `
title: Failed logon
id: f0000000-0000-4000-8000-000000000001
name: failed_logon
logsource: {product: windows, service: security}
detection: {sel: {EventID: 4625}, condition: sel}
`

func countRule(n int, span string) string {
	return fmt.Sprintf(`
title: Brute force
id: c0000000-0000-4000-8000-000000000001
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: %s
  condition: {gte: %d}
`, span, n)
}

func failure(id, user string, at time.Duration) *event.Event {
	return &event.Event{
		Timestamp: base.Add(at),
		Event:     event.Meta{ID: id},
		Fields: map[string]any{
			"winlog.channel": "Security", "winlog.event_id": int64(4625),
			"winlog.event_data.TargetUserName": user,
		},
	}
}

// TestMaxGroups checks that a state keeps at most MaxGroups groups, and
// that a group forgotten for the bound starts again from nothing.
func TestMaxGroups(t *testing.T) {
	events := []*event.Event{failure("a1", "alice", 0)}
	for i := range 30 {
		events = append(events, failure(fmt.Sprintf("u%02d", i), fmt.Sprintf("user%02d", i), time.Duration(i+1)*time.Second))
	}
	events = append(events, failure("a2", "alice", time.Minute))

	for _, tc := range []struct {
		max  int
		hits []wantHit
	}{
		{max: 10, hits: nil},
		{max: 100, hits: []wantHit{{Rule: "c0000000-0000-4000-8000-000000000001", Count: 2, IDs: []string{"a1", "a2"}}}},
	} {
		rules := loadRules(t, map[string]string{"fail.yml": failRule, "corr.yml": countRule(2, "1h")}, &sigma.Config{MaxGroups: tc.max})
		d := newDriver(rules)
		for _, e := range events {
			d.observe(e)
			d.advance(e.Timestamp)
			if s := d.states[rules[0].ID]; s != nil {
				require.LessOrEqual(t, s.Len(), tc.max)
			}
		}
		require.Equal(t, tc.hits, d.hits, "max %d", tc.max)
	}
}

// TestMaxGroupEvents checks that a group over its bound still fires as the
// condition says, and that the state forgets events past the timespan.
func TestMaxGroupEvents(t *testing.T) {
	rules := loadRules(t, map[string]string{"fail.yml": failRule, "corr.yml": countRule(3, "1h")}, &sigma.Config{MaxGroupEvents: 4})
	d := newDriver(rules)
	for i := range 10 {
		d.observe(failure(fmt.Sprintf("e%d", i), "alice", time.Duration(i)*time.Minute))
	}
	require.Len(t, d.hits, 8)
	require.Equal(t, wantHit{Rule: "c0000000-0000-4000-8000-000000000001", Count: 3, IDs: []string{"e0", "e1", "e2"}}, d.hits[0])
	require.Equal(t, wantHit{Rule: "c0000000-0000-4000-8000-000000000001", Count: 1, IDs: []string{"e9"}}, d.hits[7])
	s := d.states[rules[0].ID]
	require.Equal(t, 1, s.Len())
	require.Empty(t, s.Advance(base.Add(3*time.Hour)))
	require.Equal(t, 0, s.Len())

	_, errs := sigma.Detections(fstest.MapFS{
		"fail.yml": {Data: []byte(failRule)}, "corr.yml": {Data: []byte(countRule(4, "1h"))},
	}, &sigma.Config{MaxGroupEvents: 4})
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], sigma.ErrUnsupported)
}

// TestLateEvents checks that observations out of event-time order (late
// ones) neither crash nor corrupt the state: an event within the timespan
// still counts, one older than the timespan behind the watermark is
// ignored.
func TestLateEvents(t *testing.T) {
	rules := loadRules(t, map[string]string{"fail.yml": failRule, "corr.yml": countRule(2, "5m")}, nil)
	d := newDriver(rules)
	d.observe(failure("e1", "alice", 10*time.Minute))
	d.advance(base.Add(10 * time.Minute))
	d.observe(failure("old", "alice", 0)) // 10m late: ignored
	require.Empty(t, d.hits)
	d.observe(failure("e0", "alice", 7*time.Minute)) // late, within the timespan
	require.Equal(t, []wantHit{{Rule: "c0000000-0000-4000-8000-000000000001", Count: 2, IDs: []string{"e0", "e1"}}}, d.hits)
	d.observe(failure("e2", "alice", 11*time.Minute))
	require.Equal(t, wantHit{Rule: "c0000000-0000-4000-8000-000000000001", Count: 1, IDs: []string{"e2"}}, d.hits[1])
}
