//go:build integration

package main_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestKafkaScaleOut runs the edge and the stages as separate processes
// (`mamori run --stages`), joined only by Kafka.
func TestKafkaScaleOut(t *testing.T) {
	bootstrap := kafkaBootstrap(t)
	bin := buildMamori(t)
	cfgPath := kafkaConfig(t, bootstrap, `[{name: udp, protocol: udp, address: "127.0.0.1:0"}]`)

	edge := start(t, bin, cfgPath, "--stages", "ingest")
	stages := start(t, bin, cfgPath, "--stages", "parse,index")
	run := fmt.Sprint(time.Now().UnixNano())
	udp := edge.addr(t, "udp")
	loggerSend(t, "--rfc3164", "-n", host(udp), "-P", port(udp), "-d", "-t", "scaleout", "scale-out-"+run+" 分散構成")
	docs := waitFor(t, bin, cfgPath, `message:"scale-out-`+run+`"`, 1)
	require.Equal(t, "scaleout", get(docs[0], "process.name"))
	edge.stop(t)
	stages.stop(t)
}

// kafkaConfig writes a configuration with Kafka as the bus, an embedded
// store in a temporary directory and the given syslog listeners (YAML).
func kafkaConfig(t *testing.T, bootstrap, listeners string) string {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "mamori.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf(`
data_dir: %s
log: {level: info, format: json}
bus:
  kafka: {brokers: [%q], partitions: 3, namespace: k%d}
ingest:
  syslog:
    batch: {max_records: 200, max_wait: 50ms}
    listeners: %s
api: {listen: ""}
`, filepath.Join(dir, "data"), bootstrap, time.Now().UnixNano(), listeners)), 0o600))
	return cfgPath
}

// kafkaBootstrap finds the broker started by deploy/local/kafka.
func kafkaBootstrap(t *testing.T) string {
	return localAddress(t, "MAMORI_KAFKA_BOOTSTRAP", "kafka", "bootstrap")
}

// localAddress returns $env, else what deploy/local/<service> up wrote to
// .local/<service>/<file>. No service is a failure, not a skip.
func localAddress(t *testing.T, env, service, file string) string {
	t.Helper()
	if v := os.Getenv(env); v != "" {
		return v
	}
	b, err := os.ReadFile(filepath.Join("..", "..", ".local", service, file))
	require.NoError(t, err, "no %s: set %s or run deploy/local/%s up", service, env, service)
	return strings.TrimSpace(string(b))
}

// TestKafkaPipeline runs mamori with Apache Kafka as its bus: syslog in,
// through Kafka topics and consumer groups, searchable out, and still
// searchable after a restart that rejoins the groups.
func TestKafkaPipeline(t *testing.T) {
	bootstrap := kafkaBootstrap(t)
	bin := buildMamori(t)
	cfgPath := kafkaConfig(t, bootstrap, `[{name: tcp, protocol: tcp, address: "127.0.0.1:0"}, {name: udp, protocol: udp, address: "127.0.0.1:0"}]`)

	run := fmt.Sprint(time.Now().UnixNano())
	m := start(t, bin, cfgPath)
	udp := m.addr(t, "udp")
	loggerSend(t, "--rfc5424", "-n", host(udp), "-P", port(udp), "-d", "-t", "kafkae2e", "kafka-e2e-"+run+" ログオン成功 ユーザー 佐藤")

	conn, err := net.Dial("tcp", m.addr(t, "tcp"))
	require.NoError(t, err)
	w := bufio.NewWriter(conn)
	const n = 2000
	for i := range n {
		msg := fmt.Sprintf("<14>1 %s host%d app - - - kafka-bulk-%s seq=%d", time.Now().UTC().Format(time.RFC3339Nano), i%12, run, i)
		_, err := fmt.Fprintf(w, "%d %s", len(msg), msg)
		require.NoError(t, err)
	}
	require.NoError(t, w.Flush())
	require.NoError(t, conn.Close())

	docs := waitFor(t, bin, cfgPath, `message:"kafka-e2e-`+run+`"`, 1)
	require.Contains(t, get(docs[0], "message"), "ログオン成功 ユーザー 佐藤")
	require.Equal(t, "kafkae2e", get(docs[0], "process.name"))
	bulk := waitFor(t, bin, cfgPath, `message:"kafka-bulk-`+run+`"`, n)
	require.Len(t, bulk, n, "every message through Kafka exactly once")

	m.stop(t)
	m = start(t, bin, cfgPath)
	require.Len(t, waitFor(t, bin, cfgPath, `message:"kafka-bulk-`+run+`"`, n), n, "a restart rejoins the groups without reprocessing into duplicates")
	m.stop(t)
}
