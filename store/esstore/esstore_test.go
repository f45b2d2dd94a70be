package esstore

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/textan"
)

func TestWithIDRoundTrip(t *testing.T) {
	for _, src := range []string{
		`{"@timestamp":"2026-03-01T00:00:00Z"}`,
		`{"@timestamp":"2026-03-01T00:00:00Z","message":"ログオン"}`,
		`{}`,
		`{ }`,
	} {
		b := withID([]byte(src), `id"1`)
		require.True(t, json.Valid(b), string(b))
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		require.Equal(t, `id"1`, m[idField])
		back := withoutID(b, `id"1`)
		if strings.TrimSpace(src[1:len(src)-1]) == "" {
			require.Equal(t, "{}", string(back))
			continue
		}
		require.Equal(t, src, string(back))
	}
	// A document written by someone else comes back unchanged.
	require.Equal(t, `{"a":1}`, string(withoutID([]byte(`{"a":1}`), "x")))
}

func TestPrepare(t *testing.T) {
	for src, want := range map[string]string{
		`{"message":"x"}`:                       "no @timestamp",
		`{"@timestamp":"yesterday"}`:            "not an RFC 3339 time",
		`{"@timestamp":"1969-12-31T23:59:59Z"}`: "outside 1970-2262",
		`["@timestamp"]`:                        "not a JSON object",
		`{"@timestamp":"2026-03-01T00:00:00Z",`: "",
	} {
		_, _, err := prepare(store.Doc{ID: "d", Source: json.RawMessage(src)})
		require.ErrorIs(t, err, store.ErrBadDocument, src)
		require.Contains(t, err.Error(), want, src)
	}
	body, dataset, err := prepare(store.Doc{ID: "d", Source: json.RawMessage("{\"@timestamp\":\"2026-03-01T00:00:00Z\",\n \"event\":{\"dataset\":\"system.auth\"}}")})
	require.NoError(t, err)
	require.Equal(t, "system.auth", dataset)
	require.NotContains(t, string(body), "\n", "bulk bodies are one line")
	_, dataset, err = prepare(store.Doc{ID: "d", Source: json.RawMessage(`{"@timestamp":"2026-03-01T00:00:00Z","event.dataset":"fw"}`)})
	require.NoError(t, err)
	require.Equal(t, "fw", dataset)
}

func TestNames(t *testing.T) {
	s := &Store{opts: Options{Namespace: "prod"}}
	require.Equal(t, "logs-mamori.system.auth-prod", s.streamFor(store.Events, "system.auth"))
	require.Equal(t, "logs-mamori.generic-prod", s.streamFor(store.Events, ""))
	require.Equal(t, "logs-mamori.win_security-prod", s.streamFor(store.Events, "Win-Security"))
	require.Equal(t, "logs-mamori_alerts-prod", s.streamFor(store.Alerts, "x"))
	require.Equal(t, "logs-mamori.*-prod,mamori_events-prod", s.targets(store.Events))
	require.Equal(t, "logs-mamori_cases-prod,mamori_cases-prod", s.targets(store.Cases))
}

func TestCompile(t *testing.T) {
	tokens := textan.Tokens("ログオン失敗")
	cases := []struct {
		cond kql.Cond
		want string
	}{
		{nil, `{"match_all":{}}`},
		{&kql.Equals{Field: "user.name", Type: event.Keyword, Value: "田中"}, `{"term":{"user.name":{"value":"田中"}}}`},
		{&kql.Glob{Field: "file.path", Parts: []string{`C:\Win*`, ""}}, `{"wildcard":{"file.path":{"value":"C:\\\\Win\\**"}}}`},
		{&kql.Phrase{Fields: []string{"message"}, Tokens: []string{"failed"}}, `{"term":{"message":{"value":"failed"}}}`},
		{&kql.Phrase{Fields: []string{"message"}, Tokens: []string{"fail"}, Prefix: true}, `{"prefix":{"message":{"value":"fail"}}}`},
		{&kql.Phrase{Fields: []string{"message"}, Tokens: tokens[:2]}, `{"span_near":{"clauses":[{"span_term":{"message":{"value":"ロ"}}},{"span_term":{"message":{"value":"グ"}}}],"in_order":true,"slop":0}}`},
		{&kql.InPrefix{Field: "source.ip", Prefix: netip.MustParsePrefix("::ffff:10.0.0.0/104")}, `{"term":{"source.ip":{"value":"10.0.0.0/8"}}}`},
		{&kql.Present{Field: "user.name"}, `{"range":{"user.name":{"gt":""}}}`},
		{&kql.Present{Field: "source.port"}, `{"exists":{"field":"source.port"}}`},
		{&kql.Between{Field: "@timestamp", Type: event.Date, Lo: time.Date(2026, 3, 1, 0, 0, 0, 5, time.UTC), LoIncl: true},
			`{"range":{"@timestamp":{"format":"strict_date_optional_time_nanos","gte":"2026-03-01T00:00:00.000000005Z"}}}`},
		{&kql.Negate{Cond: &kql.Nothing{}}, `{"bool":{"must_not":[{"match_none":{}}]}}`},
	}
	for _, c := range cases {
		q, err := compile(c.cond)
		require.NoError(t, err)
		b, err := json.Marshal(q)
		require.NoError(t, err)
		require.JSONEq(t, c.want, string(b), "%#v", c.cond)
	}
	_, err := compile(&kql.Equals{Field: "x", Type: event.Keyword, Value: struct{}{}})
	require.True(t, errors.Is(err, store.ErrBadQuery))
}

func TestTokenPatternCoversTextanClasses(t *testing.T) {
	p := tokenPattern()
	require.True(t, strings.HasPrefix(p, `[`))
	require.Contains(t, p, `\p{IsHiragana}`, "hiragana are single tokens")
	require.Contains(t, nfkcRules(), `ｶﾞ => ガ`)
}

func FuzzWithID(f *testing.F) {
	f.Add(`{"@timestamp":"2026-03-01T00:00:00Z"}`, "id")
	f.Add(`{}`, `"`)
	f.Fuzz(func(t *testing.T, src, id string) {
		body, _, err := prepare(store.Doc{ID: id, Source: json.RawMessage(src)})
		if err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("invalid body %q from %q", body, src)
		}
		if !json.Valid(withoutID(body, id)) {
			t.Fatalf("withoutID broke %q", body)
		}
	})
}
