package kql_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/kql/kqltest"
)

func plan(t *testing.T, query string, opts kql.Options) kql.Cond {
	t.Helper()
	n, err := kql.Parse(query)
	require.NoError(t, err, "query %q", query)
	c, err := kql.Plan(n, opts)
	require.NoError(t, err, "query %q", query)
	return c
}

func TestPlan(t *testing.T) {
	opts := kqltest.Options()
	tokyo := opts.Location
	at := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, tokyo).UTC()
	}
	msg := []string{"message"}
	tests := []struct {
		query string
		want  kql.Cond
	}{
		{"", &kql.Everything{}},
		{"user.name:tanaka", &kql.Equals{Field: "user.name", Type: event.Keyword, Value: "tanaka"}},
		{"winlog.event_id:4625", &kql.Equals{Field: "winlog.event_id", Type: event.Keyword, Value: "4625"}},
		{"host.name:web-*", &kql.Glob{Field: "host.name", Parts: []string{"web-", ""}}},
		{"host.name >= m", &kql.Between{Field: "host.name", Type: event.Keyword, Lo: "m", LoIncl: true}},
		{"user.name:*", &kql.Present{Field: "user.name"}},
		{"not user.name:x", &kql.Negate{Cond: &kql.Equals{Field: "user.name", Type: event.Keyword, Value: "x"}}},
		{"a:1 and (b:2 or *)", &kql.AllOf{Conds: []kql.Cond{
			&kql.Equals{Field: "a", Type: event.Keyword, Value: "1"},
			&kql.AnyOf{Conds: []kql.Cond{&kql.Equals{Field: "b", Type: event.Keyword, Value: "2"}, &kql.Everything{}}},
		}}},

		// Text.
		{`message:"Failed Password"`, &kql.Phrase{Fields: msg, Tokens: []string{"failed", "password"}}},
		{`message:Failed Password`, &kql.AllOf{Conds: []kql.Cond{
			&kql.Phrase{Fields: msg, Tokens: []string{"failed"}},
			&kql.Phrase{Fields: msg, Tokens: []string{"password"}},
		}}},
		{`message:203.0.113.5`, &kql.Phrase{Fields: msg, Tokens: []string{"203", "0", "113", "5"}}},
		{`message:ログイン失敗`, &kql.Phrase{Fields: msg, Tokens: []string{"ロ", "グ", "イ", "ン", "失", "敗"}}},
		{`message:Fail*`, &kql.Phrase{Fields: msg, Tokens: []string{"fail"}, Prefix: true}},
		{`message:foo-ba*`, &kql.Phrase{Fields: msg, Tokens: []string{"foo", "ba"}, Prefix: true}},
		{`message:"🚨"`, &kql.Nothing{}},
		{`message:🚨 ok`, &kql.Phrase{Fields: msg, Tokens: []string{"ok"}}},
		{`message:-*`, &kql.Nothing{}},
		{`tanaka`, &kql.Phrase{Fields: msg, Tokens: []string{"tanaka"}}},

		// IP.
		{`source.ip:10.1.2.3`, &kql.InPrefix{Field: "source.ip", Prefix: netip.MustParsePrefix("10.1.2.3/32")}},
		{`source.ip:10.1.2.3/8`, &kql.InPrefix{Field: "source.ip", Prefix: netip.MustParsePrefix("10.0.0.0/8")}},
		{`source.ip:"::ffff:10.1.2.3"`, &kql.InPrefix{Field: "source.ip", Prefix: netip.MustParsePrefix("10.1.2.3/32")}},
		{`source.ip:"::ffff:10.0.0.0/104"`, &kql.InPrefix{Field: "source.ip", Prefix: netip.MustParsePrefix("10.0.0.0/8")}},
		{`source.ip:"fe80::1%eth0"`, &kql.InPrefix{Field: "source.ip", Prefix: netip.MustParsePrefix("fe80::1/128")}},
		{`source.ip < "::ffff:10.0.0.1"`, &kql.Between{Field: "source.ip", Type: event.IP, Hi: netip.MustParseAddr("10.0.0.1")}},

		// Long.
		{`event.severity:5`, &kql.Equals{Field: "event.severity", Type: event.Long, Value: int64(5)}},
		{`event.severity:5.0`, &kql.Equals{Field: "event.severity", Type: event.Long, Value: int64(5)}},
		{`event.severity:1e3`, &kql.Equals{Field: "event.severity", Type: event.Long, Value: int64(1000)}},
		{`event.severity:-9223372036854775808`, &kql.Equals{Field: "event.severity", Type: event.Long, Value: int64(-1 << 63)}},
		{`event.severity > 5`, &kql.Between{Field: "event.severity", Type: event.Long, Lo: int64(5)}},
		{`event.severity <= 5`, &kql.Between{Field: "event.severity", Type: event.Long, Hi: int64(5), HiIncl: true}},

		// Dates: a period [start, end) by precision; ranges round like Elasticsearch.
		{`@timestamp:2026`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 1, 1, 0, 0, 0, 0), Hi: at(2027, 1, 1, 0, 0, 0, 0), LoIncl: true}},
		{`@timestamp:2026-02`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 2, 1, 0, 0, 0, 0), Hi: at(2026, 3, 1, 0, 0, 0, 0), LoIncl: true}},
		{`@timestamp:2026-03-10`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 3, 10, 0, 0, 0, 0), Hi: at(2026, 3, 11, 0, 0, 0, 0), LoIncl: true}},
		{`@timestamp:2026-03-10T09`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 3, 10, 9, 0, 0, 0), Hi: at(2026, 3, 10, 10, 0, 0, 0), LoIncl: true}},
		{`@timestamp:"2026-03-10T09:30"`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 3, 10, 9, 30, 0, 0), Hi: at(2026, 3, 10, 9, 31, 0, 0), LoIncl: true}},
		{`@timestamp:"2026-03-10T09:30:15"`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 3, 10, 9, 30, 15, 0), Hi: at(2026, 3, 10, 9, 30, 16, 0), LoIncl: true}},
		{`@timestamp:"2026-03-10T09:30:15.25"`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 3, 10, 9, 30, 15, 250e6), Hi: at(2026, 3, 10, 9, 30, 15, 260e6), LoIncl: true}},
		{`@timestamp:"2026-03-10T00:30:15,123456789Z"`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: time.Date(2026, 3, 10, 0, 30, 15, 123456789, time.UTC), Hi: time.Date(2026, 3, 10, 0, 30, 15, 123456790, time.UTC), LoIncl: true}},
		{`@timestamp:"2026-03-10T09:30:15-0130"`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: time.Date(2026, 3, 10, 11, 0, 15, 0, time.UTC), Hi: time.Date(2026, 3, 10, 11, 0, 16, 0, time.UTC), LoIncl: true}},
		{`@timestamp:"2026-03-10T09+05"`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: time.Date(2026, 3, 10, 4, 0, 0, 0, time.UTC), Hi: time.Date(2026, 3, 10, 5, 0, 0, 0, time.UTC), LoIncl: true}},
		{`@timestamp >= 2026-03-10`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 3, 10, 0, 0, 0, 0), LoIncl: true}},
		{`@timestamp > 2026-03-10`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 3, 11, 0, 0, 0, 0), LoIncl: true}},
		{`@timestamp < 2026-03-10`, &kql.Between{Field: "@timestamp", Type: event.Date, Hi: at(2026, 3, 10, 0, 0, 0, 0)}},
		{`@timestamp <= 2026-03-10`, &kql.Between{Field: "@timestamp", Type: event.Date, Hi: at(2026, 3, 11, 0, 0, 0, 0)}},
		{`@timestamp:now`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 3, 10, 12, 0, 0, 0), Hi: at(2026, 3, 10, 12, 0, 0, 0), LoIncl: true, HiIncl: true}},
		{`@timestamp > now`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 3, 10, 12, 0, 0, 0)}},
		{`@timestamp <= now`, &kql.Between{Field: "@timestamp", Type: event.Date, Hi: at(2026, 3, 10, 12, 0, 0, 0), HiIncl: true}},
		{`@timestamp >= now-15m`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 3, 10, 11, 45, 0, 0), LoIncl: true}},
		{`@timestamp >= now+1h`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 3, 10, 13, 0, 0, 0), LoIncl: true}},
		{`@timestamp >= now-7d`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 3, 3, 12, 0, 0, 0), LoIncl: true}},
		{`@timestamp >= now-2w`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 2, 24, 12, 0, 0, 0), LoIncl: true}},
		{`@timestamp >= now-30s`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 3, 10, 11, 59, 30, 0), LoIncl: true}},
		{`@timestamp >= now-1M/M`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 2, 1, 0, 0, 0, 0), LoIncl: true}},
		{`@timestamp:now/w`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 3, 9, 0, 0, 0, 0), Hi: at(2026, 3, 16, 0, 0, 0, 0), LoIncl: true}},
		{`@timestamp < now/y`, &kql.Between{Field: "@timestamp", Type: event.Date, Hi: at(2026, 1, 1, 0, 0, 0, 0)}},
		{`@timestamp <= now-1d/d`, &kql.Between{Field: "@timestamp", Type: event.Date, Hi: at(2026, 3, 10, 0, 0, 0, 0)}},
		{`@timestamp > now-1h/h`, &kql.Between{Field: "@timestamp", Type: event.Date, Lo: at(2026, 3, 10, 12, 0, 0, 0), LoIncl: true}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			require.Equal(t, tc.want, plan(t, tc.query, opts))
		})
	}
}

func TestPlanOptions(t *testing.T) {
	// Defaults: UTC, now, message.
	c := plan(t, "@timestamp:2026-03-10 and foo", kql.Options{})
	all := c.(*kql.AllOf)
	day := all.Conds[0].(*kql.Between)
	require.Equal(t, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), day.Lo)
	require.Equal(t, []string{"message"}, all.Conds[1].(*kql.Phrase).Fields)

	before := time.Now()
	c = plan(t, "@timestamp >= now", kql.Options{})
	lo := c.(*kql.Between).Lo.(time.Time)
	require.False(t, lo.Before(before.Truncate(time.Second)))
	require.Equal(t, time.UTC, lo.Location())

	// Free text searches every text field; the option is copied.
	fields := []string{"message", "event.original"}
	c = plan(t, "tanaka", kql.Options{TextFields: fields})
	fields[0] = "changed"
	require.Equal(t, []string{"message", "event.original"}, c.(*kql.Phrase).Fields)
}

func TestPlanErrors(t *testing.T) {
	tests := []struct{ query, want string }{
		{`event.severity:high`, `kql: long field event.severity: "high" is not a number at position 1`},
		{`event.severity:9223372036854775808`, `kql: long field event.severity: "9223372036854775808" is out of range for a long at position 1`},
		{`event.severity:0x10`, `kql: long field event.severity: "0x10" is not a number at position 1`},
		{`event.severity:NaN`, `kql: long field event.severity: "NaN" is not a number at position 1`},
		{`event.severity:""`, `kql: long field event.severity: "" is not a number at position 1`},
		{`a:1 and event.severity > 1.5`, `kql: long field event.severity: "1.5" has a fraction, but long fields hold whole numbers at position 9`},
		{`source.ip:10.0.0.*`, `kql: ip field source.ip: "10.0.0.*" has a wildcard, which only keyword and text fields support at position 1 (use a CIDR block like 10.0.0.0/16)`},
		{`source.ip:"10.0.0.0/8 "`, `kql: ip field source.ip: "10.0.0.0/8 " is not an IP address or CIDR block at position 1`},
		{`message:*fail`, `kql: text field message: wildcard "*fail" is not supported at position 1 (on text a wildcard may only end a single word, like "fail*"; use a keyword field for other patterns)`},
		{`message:*`, ``}, // exists
		{`message:a*b*`, `kql: text field message: wildcard "a*b*" is not supported at position 1`},
		{`x and *fail`, `kql: free text: wildcard "*fail" is not supported at position 7`},
		{`message >= a`, `kql: text field message: "a" cannot be a range bound: text fields have no order at position 1 (use a keyword field for ranges on strings)`},
		{`@timestamp:tomorrow`, `kql: date field @timestamp: "tomorrow" is not a date at position 1 (write a date like 2026-01-02`},
		{`@timestamp:2026-1-02`, `is not a date`},
		{`@timestamp:2026-01-02Z`, `is not a date`},
		{`@timestamp:"2026-01-02T24:00:00"`, `is not a date`},
		{`@timestamp:"2026-01-02T03:04:05.1234567890"`, `is not a date`},
		{`@timestamp:"2026-01-02T03:04:05+19:00"`, `is not a date`},
		{`@timestamp:now-1`, `is not a date`},
		{`@timestamp:now-d`, `is not a date`},
		{`@timestamp:now/d-1d`, `is not a date`},
		{`@timestamp:now-99999999d`, `is not a date`},
		{`@timestamp:2026*`, `kql: date field @timestamp: "2026*" has a wildcard, which only keyword and text fields support at position 1 (use a range like @timestamp >= ...)`},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			n, err := kql.Parse(tc.query)
			require.NoError(t, err)
			_, err = kql.Plan(n, kqltest.Options())
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			var kerr *kql.Error
			require.ErrorAs(t, err, &kerr)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}
