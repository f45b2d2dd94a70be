//go:build integration

package esstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/store/esstore"
	"github.com/mamori-soc/mamori/store/storetest"
	"github.com/mamori-soc/mamori/textan"
)

// node finds the search node: $MAMORI_ELASTICSEARCH_URL (with
// $MAMORI_ELASTICSEARCH_COMPAT), else the file deploy/local/search up writes
// (an OpenSearch node). No node is a failure, not a skip.
func node(t *testing.T) (addr, compat string) {
	t.Helper()
	if v := strings.TrimSpace(os.Getenv("MAMORI_ELASTICSEARCH_URL")); v != "" {
		compat = os.Getenv("MAMORI_ELASTICSEARCH_COMPAT")
		if compat == "" {
			compat = esstore.Elasticsearch
		}
		return v, compat
	}
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "repository root (go.mod) not found")
		dir = parent
	}
	data, err := os.ReadFile(filepath.Join(dir, ".local", "search", "url"))
	if err != nil {
		t.Fatalf("no search node: set MAMORI_ELASTICSEARCH_URL or run deploy/local/search up (%v)", err)
	}
	return strings.TrimSpace(string(data)), esstore.OpenSearch
}

func open(t *testing.T) *esstore.Store {
	t.Helper()
	addr, compat := node(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := esstore.Open(ctx, esstore.Options{
		Addresses: []string{addr}, Compat: compat, Namespace: "test",
		Replicas: 0, Refresh: "true",
	})
	require.NoError(t, err)
	return s
}

func TestConformance(t *testing.T) {
	var except map[string]string
	if os.Getenv("MAMORI_ELASTICSEARCH_LOCAL_ES8") != "" {
		// deploy/local/elasticsearch: genuine Elasticsearch 8 server code,
		// but Elastic does not publish the data-streams and reindex modules
		// to Maven Central, so the node has no _data_stream or
		// _delete_by_query API (see deploy/local/README.md).
		except = map[string]string{"DeleteBefore": "the local Elasticsearch 8 node has no data-streams and reindex modules"}
	}
	storetest.RunExcept(t, func(t *testing.T) store.Store { return open(t) }, except)
}

// TestAnalyzerAgreesWithTextan runs the node's message analyzer on text that
// exercises every rule of package textan (Japanese, half- and full-width
// forms, voiced marks, combining accents, enclosed and squared characters,
// addresses, paths) and requires textan's very tokens.
func TestAnalyzerAgreesWithTextan(t *testing.T) {
	addr, _ := node(t)
	s := open(t)
	defer s.Close()
	ctx := context.Background()
	coll := fmt.Sprintf("analyzer_%d", time.Now().UnixNano())
	// An updatable document creates a plain index (_analyze does not take
	// data streams).
	_, err := s.Update(ctx, coll, store.Doc{ID: "x", Source: json.RawMessage(`{"@timestamp":"2026-03-01T00:00:00Z"}`)})
	require.NoError(t, err)
	texts := []string{
		"Failed password for invalid user admin from 203.0.113.5 port 52122 ssh2",
		"ユーザー「田中 太郎」のログオンに失敗しました（パスワード誤り）",
		"ｶﾞｲﾄﾞ ﾃﾞｰﾀﾍﾞｰｽ ﾊﾟｽﾜｰﾄﾞ ｶﾅ-PC03",  // half-width katakana with voiced marks
		"ＨＥＡＲＴＢＥＡＴ １２３ ＡＢＣ－ｘｙｚ",           // full-width Latin and digits
		"cafe\u0301 CAFÉ naïve Ǆemal ǅ ǆ", // combining accent, title case
		"は\u309Aス か\u3099 パスワード",          // kana with combining marks
		"㈱山田商事 ㍻31年 ① ② ⑩ № ℡ ﬁle ㎏ ㌔",
		`C:\Windows\System32\cmd.exe /c "whoami" user@example.jp https://例え.jp/パス?q=1`,
		"İstanbul ΣΊΣΥΦΟΣ Straße ǈ x²+y³ ½",
		"漢字かなカナ混じりの文、ｱｲｳｴｵ。ー～〜ヴ ヶ 々 〆",
		"tab\tnew\nline\u3000ideographic space\u00a0nbsp",
		"emoji 🔥 mixed🔥text 𠮷野家 𩸽",
	}
	for _, text := range texts {
		var r struct {
			Tokens []struct {
				Token string `json:"token"`
			} `json:"tokens"`
		}
		body, err := json.Marshal(map[string]any{"analyzer": "mamori_text", "text": text})
		require.NoError(t, err)
		resp, err := http.Post(addr+"/mamori_"+coll+"-test/_analyze", "application/json", bytes.NewReader(body))
		require.NoError(t, err)
		require.Equal(t, 200, resp.StatusCode)
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
		resp.Body.Close()
		got := []string{}
		for _, tok := range r.Tokens {
			got = append(got, tok.Token)
		}
		want := append([]string{}, textan.Tokens(text)...)
		require.Equal(t, want, got, "text %q", text)
	}
}

// TestRetentionDropsBackingIndices rolls a data stream over (as Maintain
// does on OpenSearch) and checks that DeleteBefore drops the old backing
// index whole and deletes the rest by query.
func TestRetentionDropsBackingIndices(t *testing.T) {
	addr, compat := node(t)
	if compat != esstore.OpenSearch {
		t.Skip("Maintain only rolls over on OpenSearch; ILM does it on Elasticsearch")
	}
	ctx := context.Background()
	s, err := esstore.Open(ctx, esstore.Options{Addresses: []string{addr}, Compat: compat, Namespace: "test", Replicas: 0, Refresh: "true", Rollover: time.Second})
	require.NoError(t, err)
	defer s.Close()
	coll := fmt.Sprintf("retention_%d", time.Now().UnixNano())
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	docAt := func(id string, ts time.Time) store.Doc {
		return store.Doc{ID: id, Source: json.RawMessage(`{"@timestamp":"` + ts.Format(time.RFC3339Nano) + `"}`)}
	}
	_, err = s.Index(ctx, coll, []store.Doc{docAt("a1", base), docAt("a2", base.Add(time.Hour))})
	require.NoError(t, err)
	time.Sleep(1100 * time.Millisecond)
	require.NoError(t, s.Maintain(ctx))
	_, err = s.Index(ctx, coll, []store.Doc{docAt("b1", base.Add(2*time.Hour)), docAt("b2", base.Add(5*time.Hour))})
	require.NoError(t, err)

	backing := func() []string {
		resp, err := http.Get(addr + "/_data_stream/logs-mamori_" + coll + "-test")
		require.NoError(t, err)
		defer resp.Body.Close()
		var r struct {
			DataStreams []struct {
				Indices []struct {
					Name string `json:"index_name"`
				} `json:"indices"`
			} `json:"data_streams"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
		require.Len(t, r.DataStreams, 1)
		var names []string
		for _, ix := range r.DataStreams[0].Indices {
			names = append(names, ix.Name)
		}
		return names
	}
	require.Len(t, backing(), 2, "Maintain rolled the stream over")

	n, err := s.DeleteBefore(ctx, coll, base.Add(3*time.Hour))
	require.NoError(t, err)
	require.EqualValues(t, 3, n, "a1 and a2 with their index, b1 by query")
	require.Len(t, backing(), 1, "the old backing index is gone")
	res, err := s.Search(ctx, store.SearchRequest{Query: store.Query{Collection: coll}})
	require.NoError(t, err)
	require.Len(t, res.Hits, 1)
	require.Equal(t, "b2", res.Hits[0].ID)
}

// TestMappingConflictFailsAlone: a document the node refuses (a value where
// the mapping has an object) fails alone, with the node's reason, and
// wraps store.ErrBadDocument so the pipeline sends it to the dead-letter
// topic; the rest of the batch is stored.
func TestMappingConflictFailsAlone(t *testing.T) {
	s := open(t)
	defer s.Close()
	ctx := context.Background()
	coll := fmt.Sprintf("conflict_%d", time.Now().UnixNano())
	res, err := s.Index(ctx, coll, []store.Doc{
		{ID: "objfirst", Source: json.RawMessage(`{"@timestamp":"2026-03-01T00:00:00Z","labels":{"site":{"name":"本庁"}}}`)},
	})
	require.NoError(t, err)
	require.NoError(t, res[0].Err)
	res, err = s.Index(ctx, coll, []store.Doc{
		{ID: "scalar", Source: json.RawMessage(`{"@timestamp":"2026-03-01T00:00:01Z","labels":{"site":"本庁"}}`)},
		{ID: "ok", Source: json.RawMessage(`{"@timestamp":"2026-03-01T00:00:02Z","labels":{"site":{"name":"支所"}}}`)},
		{ID: "port", Source: json.RawMessage(`{"@timestamp":"2026-03-01T00:00:03Z","source":{"port":"abc"}}`)},
	})
	require.NoError(t, err)
	require.ErrorIs(t, res[0].Err, store.ErrBadDocument)
	require.Contains(t, res[0].Err.Error(), "labels.site")
	require.NoError(t, res[1].Err)
	require.NoError(t, res[2].Err, "a malformed typed value is kept, not indexed (ignore_malformed), as the embedded store does")
	n, err := s.Count(ctx, store.Query{Collection: coll})
	require.NoError(t, err)
	require.EqualValues(t, 3, n)
}
