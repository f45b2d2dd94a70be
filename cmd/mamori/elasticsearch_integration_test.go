//go:build integration

package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/store/esstore"
)

// searchURL finds the search node started by deploy/local/search.
func searchURL(t *testing.T) string {
	return localAddress(t, "MAMORI_ELASTICSEARCH_URL", "search", "url")
}

// localService runs a deploy/local script (kafka or search) with arguments.
func localService(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(filepath.Join("..", "..", "deploy", "local", name), args...).CombinedOutput()
	require.NoError(t, err, "deploy/local/%s %v: %s", name, args, out)
}

// TestKafkaElasticsearchOutages runs the pipeline split over two processes
// (syslog edge + parse, and index) joined by the real Kafka broker, into the
// real search node, sends N syslog messages over TCP while the broker is
// restarted once and the search node is stopped for 30 seconds, and then
// requires exactly N stored events, each message once, counted by id.
func TestKafkaElasticsearchOutages(t *testing.T) {
	const n = 100_000
	bootstrap := kafkaBootstrap(t)
	esURL := searchURL(t)
	bin := buildMamori(t)
	run := fmt.Sprint(time.Now().UnixNano())
	namespace := "e2e" + run
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "mamori.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf(`
data_dir: %s
log: {level: info, format: json}
bus:
  kafka: {brokers: [%q], partitions: 3, namespace: %s}
store:
  elasticsearch: {addresses: [%q], compat: opensearch, namespace: %s, replicas: 0}
ingest:
  syslog:
    listeners: [{name: tcp, protocol: tcp, address: "127.0.0.1:0"}]
api: {listen: ""}
`, filepath.Join(dir, "data"), bootstrap, namespace, esURL, namespace)), 0o600))

	edge := start(t, bin, cfgPath, "--stages", "ingest,parse")
	indexer := start(t, bin, cfgPath, "--stages", "index")

	// The sender: N messages over one TCP connection, paced over about a
	// minute so that both outages happen mid-stream.
	sent := make(chan error, 1)
	go func() {
		conn, err := net.Dial("tcp", edge.addr(t, "tcp"))
		if err != nil {
			sent <- err
			return
		}
		defer conn.Close()
		w := bufio.NewWriterSize(conn, 64<<10)
		const chunk = 500
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < n; i++ {
			if i%chunk == 0 && i > 0 {
				if err := w.Flush(); err != nil {
					sent <- err
					return
				}
				<-tick.C
			}
			msg := fmt.Sprintf("<86>1 %s host%02d sshd %d - - outage-%s seq=%d 認証失敗 from 192.0.2.%d",
				time.Now().UTC().Format(time.RFC3339Nano), i%40, 1000+i%7, run, i, i%250)
			if _, err := fmt.Fprintf(w, "%d %s", len(msg), msg); err != nil {
				sent <- err
				return
			}
		}
		sent <- w.Flush()
	}()

	time.Sleep(10 * time.Second)
	t.Log("restarting the Kafka broker")
	localService(t, "kafka", "down", "--keep")
	localService(t, "kafka", "up")
	time.Sleep(5 * time.Second)
	t.Log("stopping the search node for 30 s")
	localService(t, "search", "down", "--keep")
	time.Sleep(30 * time.Second)
	localService(t, "search", "up")
	t.Log("search node back")
	select {
	case err := <-sent:
		require.NoError(t, err, "sending")
	case <-time.After(5 * time.Minute):
		t.Fatal("the sender did not finish")
	}
	t.Log("all messages sent")

	ctx := context.Background()
	s, err := esstore.Open(ctx, esstore.Options{Addresses: []string{esURL}, Compat: esstore.OpenSearch, Namespace: namespace, Replicas: 0, ReadOnly: true})
	require.NoError(t, err)
	defer s.Close()
	n0, err := kql.Parse(`message:"outage-` + run + `"`)
	require.NoError(t, err)
	filter, err := kql.Plan(n0, kql.Options{})
	require.NoError(t, err)
	q := store.Query{Collection: store.Events, Filter: filter}
	deadline := time.Now().Add(5 * time.Minute)
	var count int64
	for time.Now().Before(deadline) {
		if count, err = s.Count(ctx, q); err == nil && count >= n {
			break
		}
		time.Sleep(time.Second)
	}
	require.NoError(t, err)
	require.EqualValues(t, n, count, "stored events")
	// Let any late duplicate land before checking for one.
	time.Sleep(3 * time.Second)

	seq := regexp.MustCompile(`seq=(\d+) `)
	ids := make(map[string]bool, n)
	seqs := make(map[string]bool, n)
	require.NoError(t, s.Export(ctx, store.SearchRequest{Query: q, Size: 5000}, func(h store.Hit) error {
		require.False(t, ids[h.ID], "id %s stored twice", h.ID)
		ids[h.ID] = true
		var d struct{ Message string }
		require.NoError(t, json.Unmarshal(h.Source, &d))
		m := seq.FindStringSubmatch(d.Message)
		require.NotNil(t, m, d.Message)
		require.False(t, seqs[m[1]], "message seq=%s stored twice", m[1])
		seqs[m[1]] = true
		return nil
	}))
	require.Len(t, ids, n, "distinct ids")
	require.Len(t, seqs, n, "distinct messages")
	// The outages were felt (and survived) mid-stream.
	require.Contains(t, indexer.log(), "batch failed; retrying after backoff", "the index stage saw the search node go away")
	require.Contains(t, indexer.log(), "stage recovered")
	edge.stop(t)
	indexer.stop(t)
}
