package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/store/esstore"
)

// endToEndES measures the distributed pipeline: syslog over TCP into
// `mamori run` (edge, parse and index stages) on the real Kafka broker and the
// real search node of deploy/local, until every event is searchable there.
// The broker must be fresh (no records in mamori.raw.syslog): the stages'
// consumer groups would otherwise parse the backlog too.
func endToEndES(dir string, n int) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	root, err := repoRoot()
	if err != nil {
		return err
	}
	broker, err := findBroker(root)
	if err != nil {
		return err
	}
	searchDir := filepath.Join(localDir(root), "search")
	esURL, err := os.ReadFile(filepath.Join(searchDir, "url"))
	if err != nil {
		return errors.New("e2e-es: no search node: start one with deploy/local/search up")
	}
	kc := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 10 * time.Second}
	if ends, err := endOffsetsOnce(ctx, kc, bus.TopicRawSyslog, 1); err == nil {
		for _, e := range ends {
			if e > 0 {
				return fmt.Errorf("e2e-es: %s already holds records on %s: use a fresh broker (MAMORI_LOCAL_DIR=/var/tmp/bench deploy/local/kafka up)", bus.TopicRawSyslog, broker)
			}
		}
	}
	bin := filepath.Join(dir, "mamori")
	if out, err := exec.Command("go", "build", "-o", bin, filepath.Join(root, "cmd", "mamori")).CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v: %s", err, out)
	}
	_, stream, err := ekTraffic(n, "octet-counting")
	if err != nil {
		return err
	}
	namespace := "bench" + strconv.FormatInt(time.Now().Unix(), 10)
	cfgPath := filepath.Join(dir, "mamori-es.yaml")
	cfg := fmt.Sprintf(`data_dir: %s
log: {level: info, format: json}
bus:
  kafka: {brokers: [%q], partitions: %d}
store:
  elasticsearch: {addresses: [%q], compat: opensearch, namespace: %s, replicas: 0}
ingest:
  syslog:
    listeners: [{name: tcp, protocol: tcp, address: "127.0.0.1:0"}]
stages:
  parse: {workers: 2}
  index: {workers: 2, batch_size: 5000}
api: {listen: ""}
`, filepath.Join(dir, "data"), broker, *ekPartitions, strings.TrimSpace(string(esURL)), namespace)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	addrc := make(chan string, 1)
	p, err := startProc(exec.Command(bin, "run", "-c", cfgPath), listenerReady(addrc))
	if err != nil {
		return err
	}
	defer p.stop()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(60 * time.Second):
		return fmt.Errorf("mamori did not start:\n%s", p.output())
	}
	es, err := esstore.Open(ctx, esstore.Options{Addresses: []string{strings.TrimSpace(string(esURL))}, Compat: esstore.OpenSearch, Namespace: namespace, Replicas: 0, ReadOnly: true})
	if err != nil {
		return err
	}
	defer es.Close()

	pids := map[string]int{"mamori": p.cmd.Process.Pid, "broker": pidFile(filepath.Join(localDir(root), "kafka", "pid")), "search node": pidFile(filepath.Join(searchDir, "pid"))}
	cpu0 := map[string]time.Duration{}
	for name, pid := range pids {
		cpu0[name], _ = procCPU(pid)
	}
	busy0, _ := machineCPU()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	start := time.Now()
	w := bufio.NewWriterSize(conn, 256<<10)
	if _, err := w.Write(stream); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	sent := time.Since(start)
	conn.Close()
	var stored int64
	for stored < int64(n) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Since(start) > 30*time.Minute {
			return fmt.Errorf("only %d of %d events searchable after 30 minutes", stored, n)
		}
		time.Sleep(100 * time.Millisecond)
		if stored, err = es.Count(ctx, store.Query{Collection: store.Events}); err != nil {
			return err
		}
	}
	wall := time.Since(start)
	busy1, _ := machineCPU()
	fmt.Printf("## Syslog over TCP to searchable in Elasticsearch (Kafka + search node)\n\n")
	fmt.Printf("%d events (%.1f MB, octet-counting) over one TCP connection into `mamori run` (edge, parse, index) on Kafka %s (%d partitions) and the OpenSearch 2.19.6 node of deploy/local; parse and index 2 workers each, index batches of 5,000, refresh every second.\n\n", n, float64(len(stream))/1e6, broker, *ekPartitions)
	fmt.Printf("| events | sent in s | searchable after s | **events/s** | mamori CPU s | broker CPU s | search node CPU s | machine busy CPU s |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	cpu := func(name string) string {
		c, err := procCPU(pids[name])
		if err != nil || pids[name] == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.2f", (c - cpu0[name]).Seconds())
	}
	fmt.Printf("| %d | %.2f | %.2f | **%.0f** | %s | %s | %s | %.2f |\n", n, sent.Seconds(), wall.Seconds(), float64(n)/wall.Seconds(), cpu("mamori"), cpu("broker"), cpu("search node"), (busy1 - busy0).Seconds())
	return nil
}

func pidFile(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}
