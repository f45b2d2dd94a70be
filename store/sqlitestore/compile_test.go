package sqlitestore

import (
	"context"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/store"
)

// compileDocs exercise the compiler's corners: arrays and scalars, numbers
// and booleans in keyword fields, nested and dotted layouts, IPv4, IPv6 and
// IPv4-mapped addresses, GLOB metacharacters.
var compileDocs = map[string]string{
	"a": `{"@timestamp":"2026-03-01T00:00:00Z","host":{"name":"web01","ip":["10.0.0.1","2001:db8::1"]},"source":{"ip":"10.1.2.3","port":22},"tags":["x","y"],"user":{"name":"O'Brien"},"n":5,"f":1.5,"b":true,"winlog.event_data.LogonType":"3","message":"Failed password for root"}`,
	"b": `{"@timestamp":"2026-03-01T00:00:01Z","host":{"name":"web02","ip":"::ffff:10.0.0.2"},"source":{"ip":"2001:db8::5"},"tags":"x","user":{"name":"a*b?[c]"},"n":"5","f":1e6,"b":"true","winlog":{"event_data":{"LogonType":10}},"message":"password accepted"}`,
	"c": `{"@timestamp":"2026-03-01T00:00:02Z","host":{"name":"db01"},"source":{"ip":"::ffff:10.1.9.9"},"tags":[],"user":{"name":""},"n":[4,5.0],"f":"1e+06","b":false,"obj":{"k":"5"},"message":""}`,
	"d": `{"@timestamp":"2026-03-01T00:00:03Z","event":{"severity":3,"created":"2026-03-01T09:00:00+09:00"},"n":null,"tags":[["x"]]}`,
}

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "t.db"), Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestCompile(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	var docs []store.Doc
	for id, src := range compileDocs {
		docs = append(docs, store.Doc{ID: id, Source: json.RawMessage(src)})
	}
	res, err := s.Index(ctx, "c", docs)
	require.NoError(t, err)
	for _, r := range res {
		require.NoError(t, r.Err)
	}
	kw := func(f, v string) kql.Cond { return &kql.Equals{Field: f, Type: event.Keyword, Value: v} }
	ip := func(f, p string) kql.Cond { return &kql.InPrefix{Field: f, Prefix: netip.MustParsePrefix(p)} }
	ts := func(s string) time.Time {
		x, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return x
	}
	cases := []struct {
		name string
		cond kql.Cond
		want []string
	}{
		{"everything", &kql.Everything{}, []string{"a", "b", "c", "d"}},
		{"nothing", &kql.Nothing{}, nil},
		{"keyword core", kw("host.name", "web01"), []string{"a"}},
		{"keyword quote", kw("user.name", "O'Brien"), []string{"a"}},
		{"keyword case-sensitive", kw("host.name", "WEB01"), nil},
		{"multi array or scalar", kw("tags", "x"), []string{"a", "b"}},
		{"nested array never matches", kw("tags", "[\"x\"]"), nil},
		{"dynamic number by canonical text", kw("n", "5"), []string{"a", "b", "c"}},
		{"dynamic number not by other spelling", kw("n", "5.0"), nil},
		{"dynamic float canonical", kw("f", "1e+06"), []string{"b", "c"}},
		{"dynamic float not as integer", kw("f", "1000000"), nil},
		{"dynamic float 1.5", kw("f", "1.5"), []string{"a"}},
		{"dynamic bool", kw("b", "true"), []string{"a", "b"}},
		{"dynamic bool false", kw("b", "false"), []string{"c"}},
		{"dynamic dotted or nested", kw("winlog.event_data.LogonType", "3"), []string{"a"}},
		{"dynamic nested number", kw("winlog.event_data.LogonType", "10"), []string{"b"}},
		{"object members never match", kw("obj", "5"), nil},
		{"long", &kql.Equals{Field: "event.severity", Type: event.Long, Value: int64(3)}, []string{"d"}},
		{"long range", &kql.Between{Field: "event.severity", Type: event.Long, Lo: int64(3), LoIncl: true}, []string{"d"}},
		{"long range exclusive", &kql.Between{Field: "event.severity", Type: event.Long, Lo: int64(3)}, nil},
		{"port", &kql.Equals{Field: "source.port", Type: event.Long, Value: int64(22)}, []string{"a"}},
		{"glob", &kql.Glob{Field: "host.name", Parts: []string{"web", ""}}, []string{"a", "b"}},
		{"glob suffix", &kql.Glob{Field: "host.name", Parts: []string{"", "01"}}, []string{"a", "c"}},
		{"glob metacharacters literal", &kql.Glob{Field: "user.name", Parts: []string{"a*b?[c", ""}}, []string{"b"}},
		{"glob star is not any", &kql.Glob{Field: "user.name", Parts: []string{"a*", "]"}}, []string{"b"}},
		{"glob dynamic number", &kql.Glob{Field: "n", Parts: []string{"", "5"}}, []string{"a", "b", "c"}},
		{"glob case-sensitive", &kql.Glob{Field: "host.name", Parts: []string{"WEB", ""}}, nil},
		{"phrase", &kql.Phrase{Fields: []string{"message"}, Tokens: []string{"failed", "password"}}, []string{"a"}},
		{"phrase order", &kql.Phrase{Fields: []string{"message"}, Tokens: []string{"password", "failed"}}, nil},
		{"phrase prefix", &kql.Phrase{Fields: []string{"message"}, Tokens: []string{"password", "acc"}, Prefix: true}, []string{"b"}},
		{"phrase no prefix", &kql.Phrase{Fields: []string{"message"}, Tokens: []string{"password", "acc"}}, nil},
		{"phrase quote in token", &kql.Phrase{Fields: []string{"message"}, Tokens: []string{`pass"word`}}, nil},
		{"phrase outside FTS", &kql.Phrase{Fields: []string{"user.name"}, Tokens: []string{"o", "brien"}}, []string{"a"}},
		{"ipv4 cidr", ip("source.ip", "10.0.0.0/8"), []string{"a", "c"}},
		{"ipv4 single", ip("source.ip", "10.1.9.9/32"), []string{"c"}},
		{"mapped prefix is ipv4", ip("source.ip", "::ffff:10.1.0.0/112"), []string{"a", "c"}},
		{"ipv6 cidr", ip("source.ip", "2001:db8::/32"), []string{"b"}},
		{"ipv6 all excludes ipv4", ip("source.ip", "::/0"), []string{"b"}},
		{"ip multi", ip("host.ip", "10.0.0.0/30"), []string{"a", "b"}},
		{"ip equals", &kql.Equals{Field: "host.ip", Type: event.IP, Value: netip.MustParseAddr("2001:db8:0::1")}, []string{"a"}},
		{"ip range", &kql.Between{Field: "source.ip", Type: event.IP, Lo: netip.MustParseAddr("10.1.2.3"), Hi: netip.MustParseAddr("10.1.9.9"), LoIncl: true}, []string{"a"}},
		{"date field other zone", &kql.Between{Field: "event.created", Type: event.Date, Lo: ts("2026-03-01T00:00:00Z"), LoIncl: true, Hi: ts("2026-03-01T00:00:01Z")}, []string{"d"}},
		{"timestamp range", &kql.Between{Field: "@timestamp", Type: event.Date, Lo: ts("2026-03-01T00:00:01Z"), Hi: ts("2026-03-01T00:00:03Z"), LoIncl: true}, []string{"b", "c"}},
		{"keyword range bytewise", &kql.Between{Field: "host.name", Type: event.Keyword, Lo: "web", HiIncl: true, Hi: "web01"}, []string{"a"}},
		{"present", &kql.Present{Field: "user.name"}, []string{"a", "b"}},
		{"present multi empty array", &kql.Present{Field: "tags"}, []string{"a", "b"}},
		{"present null", &kql.Present{Field: "n"}, []string{"a", "b", "c"}},
		{"present object", &kql.Present{Field: "obj"}, nil},
		{"negate includes missing", &kql.Negate{Cond: kw("host.name", "web01")}, []string{"b", "c", "d"}},
		{"negate dynamic", &kql.Negate{Cond: kw("n", "5")}, []string{"d"}},
		{"negate phrase", &kql.Negate{Cond: &kql.Phrase{Fields: []string{"message"}, Tokens: []string{"password"}}}, []string{"c", "d"}},
		{"all of", &kql.AllOf{Conds: []kql.Cond{kw("tags", "x"), &kql.Negate{Cond: kw("host.name", "web02")}}}, []string{"a"}},
		{"any of", &kql.AnyOf{Conds: []kql.Cond{kw("host.name", "db01"), ip("source.ip", "2001:db8::/32")}}, []string{"b", "c"}},
		{"empty any of", &kql.AnyOf{}, nil},
		{"empty all of", &kql.AllOf{}, []string{"a", "b", "c", "d"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.Search(ctx, store.SearchRequest{Query: store.Query{Collection: "c", Filter: tc.cond}})
			require.NoError(t, err)
			var got []string
			for _, h := range res.Hits {
				got = append(got, h.ID)
			}
			slices.Sort(got)
			require.Equal(t, tc.want, got)
			n, err := s.Count(ctx, store.Query{Collection: "c", Filter: tc.cond})
			require.NoError(t, err)
			require.EqualValues(t, len(tc.want), n)
		})
	}
}

func TestCompileBindsValues(t *testing.T) {
	c, err := describe("events")
	require.NoError(t, err)
	evil := `x'); DROP TABLE docs_events; --`
	cond := &kql.AllOf{Conds: []kql.Cond{
		&kql.Equals{Field: "host.name", Type: event.Keyword, Value: evil},
		&kql.Equals{Field: "winlog." + "x", Type: event.Keyword, Value: evil},
		&kql.Glob{Field: "user.name", Parts: []string{evil, ""}},
		&kql.Phrase{Fields: []string{"message"}, Tokens: []string{evil}},
	}}
	var a args
	sql, err := c.where(cond, &a)
	require.NoError(t, err)
	require.NotContains(t, sql, "DROP")
	require.Contains(t, a, evil)

	_, err = c.where(&kql.Equals{Field: `a"b`, Type: event.Keyword, Value: "x"}, &a)
	require.ErrorIs(t, err, store.ErrBadQuery)
	_, err = c.where(&kql.Equals{Field: "event.severity", Type: event.Long, Value: "three"}, &a)
	require.ErrorIs(t, err, store.ErrBadQuery)
	_, err = c.where(&kql.Between{Field: "b", Type: event.Boolean, Lo: false}, &a)
	require.ErrorIs(t, err, store.ErrBadQuery)
}

func TestGlobPattern(t *testing.T) {
	require.Equal(t, "a[*]b[?]c[[]d]*", globPattern([]string{"a*b?c[d]", ""}))
	require.Equal(t, "*x*", globPattern([]string{"", "x", ""}))
	require.Equal(t, "b", prefixEnd("a"))
	require.Equal(t, "web1", prefixEnd("web0"))
}

// TestPlansUseIndexes checks that the compiled SQL is what the expression
// indexes were built for: a plan that falls back to a scan fails.
func TestPlansUseIndexes(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	_, err := s.Index(ctx, store.Events, []store.Doc{{ID: "a", Source: json.RawMessage(compileDocs["a"])}})
	require.NoError(t, err)
	c, err := s.lookup(ctx, store.Events)
	require.NoError(t, err)
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		cond kql.Cond
		want string
	}{
		{&kql.Equals{Field: "host.hostname", Type: event.Keyword, Value: "web03"}, "USING INDEX docs_events_h_host_hostname (<expr>=? AND ts>? AND ts<?)"},
		{&kql.Equals{Field: "user.name", Type: event.Keyword, Value: "tanaka"}, "USING INDEX docs_events_h_user_name (<expr>=?"},
		{&kql.InPrefix{Field: "source.ip", Prefix: netip.MustParsePrefix("10.0.0.0/8")}, "USING INDEX docs_events_h_source_ip (<expr>>? AND <expr><?)"},
		{&kql.Equals{Field: "source.ip", Type: event.IP, Value: netip.MustParseAddr("10.0.0.1")}, "USING INDEX docs_events_h_source_ip (<expr>=?"},
		{&kql.Glob{Field: "process.name", Parts: []string{"ssh", ""}}, "USING INDEX docs_events_h_process_name (<expr>>? AND <expr><?)"},
		{nil, "USING INDEX docs_events_ts (ts>? AND ts<?)"},
	}
	for _, tc := range cases {
		req := store.SearchRequest{Query: store.Query{Collection: store.Events, Filter: tc.cond, From: from, To: from.Add(time.Hour)}}
		q, a, _, err := c.searchSQL(req, 100, 0.5)
		require.NoError(t, err)
		plan := explain(t, s, q, a)
		require.Contains(t, plan, tc.want, "%s\n%s", q, plan)
		require.NotContains(t, plan, "SCAN d", plan)
		if !strings.Contains(tc.want, "<expr>>?") {
			require.NotContains(t, plan, "TEMP B-TREE FOR ORDER BY", "the index gives the time order")
		}
	}
}
