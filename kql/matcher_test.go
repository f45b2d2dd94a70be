package kql_test

import (
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/kql/kqltest"
)

// decodeDocs decodes the fixture documents of the shared table.
func decodeDocs(t testing.TB) ([]string, []*event.Event) {
	t.Helper()
	var ids []string
	var events []*event.Event
	for _, d := range kqltest.Docs() {
		e := new(event.Event)
		require.NoError(t, event.Unmarshal([]byte(d.JSON), e), "document %s", d.ID)
		ids = append(ids, d.ID)
		events = append(events, e)
	}
	return ids, events
}

// TestMatcherConformance runs the shared case table against the in-memory
// matcher.
func TestMatcherConformance(t *testing.T) {
	ids, events := decodeDocs(t)
	kqltest.Run(t, func(t *testing.T, c kql.Cond) []string {
		m := kql.Compile(c)
		var got []string
		for i, e := range events {
			if m.Match(e) {
				got = append(got, ids[i])
			}
		}
		return got
	})
}

// eventWith returns an event with dynamic fields set.
func eventWith(t *testing.T, fields map[string]any) *event.Event {
	t.Helper()
	e := &event.Event{}
	for k, v := range fields {
		require.NoError(t, e.Set(k, v))
	}
	return e
}

func TestCompileConditions(t *testing.T) {
	when := time.Date(2026, 3, 10, 1, 2, 3, 0, time.UTC)
	e := eventWith(t, map[string]any{
		"message":        "Disk /dev/sda1 FULL",
		"event.severity": int64(7),
		"source.ip":      "::ffff:10.1.2.3",
		"host.ip":        []string{"192.0.2.1", "2001:db8::1"},
		"@timestamp":     when,
		"x.int":          int64(42),
		"x.negzero":      math.Copysign(0, -1),
		"x.float":        2.5,
		"x.big":          1e21,
		"x.bool":         false,
		"x.time":         when,
		"x.empty":        "",
		"x.nil":          nil,
		"x.list":         []any{"a", int64(7), []any{"nested"}},
		"x.obj":          map[string]any{},
		"x.ip":           "fe80::1%eth0",
	})
	tests := []struct {
		name string
		cond kql.Cond
		want bool
	}{
		{"nil matches", nil, true},
		{"everything", &kql.Everything{}, true},
		{"nothing", &kql.Nothing{}, false},
		{"empty all", &kql.AllOf{}, true},
		{"empty any", &kql.AnyOf{}, false},
		{"keyword int", &kql.Equals{Field: "x.int", Type: event.Keyword, Value: "42"}, true},
		{"keyword int non-canonical", &kql.Equals{Field: "x.int", Type: event.Keyword, Value: "042"}, false},
		{"keyword float", &kql.Equals{Field: "x.float", Type: event.Keyword, Value: "2.5"}, true},
		{"keyword float exponent", &kql.Equals{Field: "x.big", Type: event.Keyword, Value: "1e+21"}, true},
		{"keyword negative zero", &kql.Equals{Field: "x.negzero", Type: event.Keyword, Value: "-0"}, true},
		{"keyword zero is not negative zero", &kql.Equals{Field: "x.negzero", Type: event.Keyword, Value: "0"}, false},
		{"keyword bool", &kql.Equals{Field: "x.bool", Type: event.Keyword, Value: "false"}, true},
		{"keyword time", &kql.Equals{Field: "x.time", Type: event.Keyword, Value: "2026-03-10T01:02:03Z"}, true},
		{"keyword nested list", &kql.Equals{Field: "x.list", Type: event.Keyword, Value: "nested"}, true},
		{"keyword list number", &kql.Equals{Field: "x.list", Type: event.Keyword, Value: "7"}, true},
		{"keyword object", &kql.Equals{Field: "x.obj", Type: event.Keyword, Value: ""}, false},
		{"glob int", &kql.Glob{Field: "x.int", Parts: []string{"4", ""}}, true},
		{"glob float", &kql.Glob{Field: "x.float", Parts: []string{"", ".5"}}, true},
		{"glob bool", &kql.Glob{Field: "x.bool", Parts: []string{"f", "e"}}, true},
		{"glob time", &kql.Glob{Field: "x.time", Parts: []string{"2026-03-10T", "Z"}}, true},
		{"glob overlapping ends", &kql.Glob{Field: "x.int", Parts: []string{"42", "2"}}, false},
		{"glob middle", &kql.Glob{Field: "message", Parts: []string{"", "/dev/", "1", ""}}, true},
		{"glob middle order", &kql.Glob{Field: "message", Parts: []string{"", "FULL", "Disk", ""}}, false},
		{"glob without parts", &kql.Glob{Field: "message"}, false},
		{"long equals", &kql.Equals{Field: "event.severity", Type: event.Long, Value: int64(7)}, true},
		{"double equals long value", &kql.Equals{Field: "event.severity", Type: event.Double, Value: 7.0}, true},
		{"double equals", &kql.Equals{Field: "x.float", Type: event.Double, Value: 2.5}, true},
		{"long equals float value", &kql.Equals{Field: "x.float", Type: event.Long, Value: int64(2)}, false},
		{"bool equals", &kql.Equals{Field: "x.bool", Type: event.Boolean, Value: false}, true},
		{"bool equals true", &kql.Equals{Field: "x.bool", Type: event.Boolean, Value: true}, false},
		{"ip equals mapped", &kql.Equals{Field: "source.ip", Type: event.IP, Value: netip.MustParseAddr("10.1.2.3")}, true},
		{"ip with zone", &kql.InPrefix{Field: "x.ip", Prefix: netip.MustParsePrefix("fe80::/10")}, true},
		{"ip multi", &kql.InPrefix{Field: "host.ip", Prefix: netip.MustParsePrefix("2001:db8::/32")}, true},
		{"ip invalid prefix", &kql.InPrefix{Field: "host.ip"}, false},
		{"date equals", &kql.Equals{Field: "@timestamp", Type: event.Date, Value: when}, true},
		{"date between", &kql.Between{Field: "@timestamp", Type: event.Date, Lo: when, LoIncl: true, Hi: when.Add(time.Second)}, true},
		{"date between exclusive", &kql.Between{Field: "@timestamp", Type: event.Date, Lo: when}, false},
		{"date between dynamic string", &kql.Between{Field: "x.list", Type: event.Date, Lo: when}, false},
		{"long between float bound", &kql.Between{Field: "event.severity", Type: event.Long, Lo: 6.5, Hi: int64(7), HiIncl: true}, true},
		{"double between long value", &kql.Between{Field: "event.severity", Type: event.Double, Lo: 6.9, Hi: 7.1}, true},
		{"long between exact", &kql.Between{Field: "x.int", Type: event.Long, Lo: int64(42)}, false},
		{"keyword between number text", &kql.Between{Field: "x.int", Type: event.Keyword, Lo: "4", Hi: "5"}, true},
		{"ip between", &kql.Between{Field: "host.ip", Type: event.IP, Lo: netip.MustParseAddr("192.0.2.0"), Hi: netip.MustParseAddr("192.0.2.255")}, true},
		{"ip between mapped bound", &kql.Between{Field: "source.ip", Type: event.IP, Lo: netip.MustParseAddr("::ffff:10.1.2.3"), LoIncl: true}, true},
		{"between wrong bound type", &kql.Between{Field: "event.severity", Type: event.Long, Lo: "7"}, false},
		{"between unknown type", &kql.Between{Field: "event.severity", Type: event.Boolean, Lo: false}, false},
		{"equals unknown value type", &kql.Equals{Field: "event.severity", Type: event.Long, Value: 7}, false},
		{"phrase number", &kql.Phrase{Fields: []string{"x.int"}, Tokens: []string{"42"}}, true},
		{"phrase any field", &kql.Phrase{Fields: []string{"x.empty", "message"}, Tokens: []string{"sda1", "full"}}, true},
		{"phrase prefix", &kql.Phrase{Fields: []string{"message"}, Tokens: []string{"dev", "sd"}, Prefix: true}, true},
		{"phrase without tokens", &kql.Phrase{Fields: []string{"message"}}, false},
		{"present", &kql.Present{Field: "x.bool"}, true},
		{"present empty string", &kql.Present{Field: "x.empty"}, false},
		{"present nil", &kql.Present{Field: "x.nil"}, false},
		{"present object", &kql.Present{Field: "x.obj"}, false},
		{"present missing", &kql.Present{Field: "x.missing"}, false},
		{"negate missing", &kql.Negate{Cond: &kql.Equals{Field: "x.missing", Type: event.Keyword, Value: "a"}}, true},
		{"unknown cond", unknownCond{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, kql.Compile(tc.cond).Match(e))
		})
	}
}

type unknownCond struct{ kql.Cond }

// A typical detection rule over a decoded Windows event: the matcher itself
// allocates nothing (reading typed fields through event.Get may box them).
func TestMatchDoesNotAllocate(t *testing.T) {
	n, err := kql.Parse(`winlog.event_id:(4624 or 4625) and winlog.event_data.LogonType:(3 or 10) and not winlog.event_data.TargetUserName:*$ and winlog.channel:Security`)
	require.NoError(t, err)
	c, err := kql.Plan(n, kqltest.Options())
	require.NoError(t, err)
	m := kql.Compile(c)
	_, events := decodeDocs(t)
	e := events[3] // win-4625
	require.True(t, m.Match(e))
	require.Zero(t, testing.AllocsPerRun(100, func() { m.Match(e) }))
}

// A Matcher is shared by detection workers: it must be safe for concurrent
// use (run with -race).
func TestMatcherConcurrentUse(t *testing.T) {
	n, err := kql.Parse(`message:fail* or source.ip:10.0.0.0/8 or winlog.event_id:46*`)
	require.NoError(t, err)
	c, err := kql.Plan(n, kqltest.Options())
	require.NoError(t, err)
	m := kql.Compile(c)
	_, events := decodeDocs(t)
	want := make([]bool, len(events))
	for i, e := range events {
		want[i] = m.Match(e)
	}
	done := make(chan []bool)
	for range 4 {
		go func() {
			got := make([]bool, len(events))
			for range 50 {
				for i, e := range events {
					got[i] = m.Match(e)
				}
			}
			done <- got
		}()
	}
	for range 4 {
		require.Equal(t, want, <-done)
	}
}
