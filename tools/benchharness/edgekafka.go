package main

// The edge-kafka suite: Mamori's syslog edge (`mamori run --stages ingest`)
// and Debian's rsyslog (imtcp + omkafka) forwarding the same syslog traffic
// over TCP into the same Kafka broker, one after the other in the same run,
// each measured by wall time and by the CPU time of its own process.
//
//	deploy/local/rsyslog-kafka-install   # apt-get install rsyslog rsyslog-kafka, once
//	deploy/local/kafka up
//	go run ./tools/benchharness -suite edge-kafka -events 500000 -rounds 2
//	deploy/local/kafka down

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // as in cmd/mamori: the edge child must run like the real binary

	"github.com/segmentio/kafka-go"

	"github.com/mamori-soc/mamori/app"
	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/bus/kafkabus"
	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/demo"
)

var (
	ekBrokers      = flag.String("brokers", "", "edge-kafka: Kafka bootstrap `host:port` (default: $MAMORI_KAFKA_BOOTSTRAP, else the address deploy/local/kafka up wrote to .local/kafka/bootstrap)")
	ekRounds       = flag.Int("rounds", 1, "edge-kafka: rounds; each measures every receiver once, the order alternating between rounds")
	ekOnly         = flag.String("only", "mamori,rsyslog", "edge-kafka: receivers to measure, in the first round's order")
	ekPartitions   = flag.Int("partitions", 6, "edge-kafka: bus.kafka.partitions for Mamori; the rsyslog topic gets as many partitions as mamori.raw.syslog has")
	ekFraming      = flag.String("framing", "octet-counting", "edge-kafka: TCP framing of the generated traffic: octet-counting or lf")
	ekRsyslogTopic = flag.String("rsyslog-topic", "bench.rsyslog", "edge-kafka: topic rsyslog's omkafka writes to")
	ekRsyslogd     = flag.String("rsyslogd", "rsyslogd", "edge-kafka: the rsyslogd `program`")
	ekEdgeProfile  = flag.String("edge-cpuprofile", "", "edge-kafka: run Mamori's edge as this harness binary in a child process (the same code as mamori run --stages ingest) and write the child's CPU profile to this `file`")
	ekCompression  = flag.String("mamori-compression", "lz4", "edge-kafka: bus.kafka.compression for Mamori (lz4, zstd or none); rsyslog always uses lz4")
	ekBatch        = flag.String("mamori-batch", "", "edge-kafka: ingest.syslog.batch settings for Mamori as a YAML flow mapping, e.g. 'max_records: 5000, max_bytes: 4MiB' (default: the product's defaults)")
	ekEdgeChild    = flag.String("edge-child", "", "internal: run Mamori's ingest stage with this configuration `file` until SIGTERM (used by -edge-cpuprofile)")
)

const omkafkaSO = "/usr/lib/x86_64-linux-gnu/rsyslog/omkafka.so"

// ekResult is one receiver's measurement.
type ekResult struct {
	name         string
	round        int
	sent         time.Duration // the sender wrote every message
	wall         time.Duration // first byte sent to all N records in the topic
	cpu          time.Duration // utime+stime of the receiver's process over wall
	brokerCPU    time.Duration // the same for the broker JVM (0: unknown)
	machineCPU   time.Duration // busy CPU of the whole machine over wall (every process: sender, broker, others)
	steal        time.Duration // CPU the hypervisor took over wall
	diskBytes    int64         // growth of the topic's log segments on the broker (0: unknown)
	partitions   []int         // partitions that received records
	startOffsets []int64       // end offsets before the run
	check        string        // what the sample check found
	extra        string        // receiver-specific notes (rsyslog's counters)
}

// edgeKafka runs the suite.
func edgeKafka(dir string, n int) error {
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
	receivers := strings.Split(*ekOnly, ",")
	for _, r := range receivers {
		if r != "mamori" && r != "rsyslog" {
			return fmt.Errorf("-only: %q is not mamori or rsyslog", r)
		}
	}
	rsyslogVersion := "not measured"
	if slices.Contains(receivers, "rsyslog") {
		if rsyslogVersion, err = checkRsyslog(); err != nil {
			return err
		}
	}
	if *ekFraming != "octet-counting" && *ekFraming != "lf" {
		return fmt.Errorf("-framing: %q is not octet-counting or lf", *ekFraming)
	}

	kb, err := kafkabus.Open(ctx, kafkabus.Config{Brokers: []string{broker}, ClientID: "benchharness"})
	if err != nil {
		return err
	}
	defer kb.Close()
	kc := &kafka.Client{Addr: kafka.TCP(broker), Timeout: 10 * time.Second}
	localKafka := filepath.Join(localDir(root), "kafka")
	brokerPID := 0
	if b, err := os.ReadFile(filepath.Join(localKafka, "bootstrap")); err == nil && strings.TrimSpace(string(b)) == broker {
		if p, err := os.ReadFile(filepath.Join(localKafka, "pid")); err == nil {
			brokerPID, _ = strconv.Atoi(strings.TrimSpace(string(p)))
		}
	}
	brokerData := ""
	if brokerPID != 0 {
		brokerData = brokerLogDir(filepath.Join(localKafka, "conf", "server.properties"))
	}

	// The traffic: n distinct messages from the demo generator, framed once.
	msgs, stream, err := ekTraffic(n, *ekFraming)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "edge-kafka: %d messages, %.1f MB framed (%s), broker %s\n", n, float64(len(stream))/1e6, *ekFraming, broker)

	// Mamori: the real binary, or this harness as the edge when profiling.
	mamoriBin := ""
	if slices.Contains(receivers, "mamori") && *ekEdgeProfile == "" {
		mamoriBin = filepath.Join(dir, "mamori")
		fmt.Fprintln(os.Stderr, "edge-kafka: go build -o", mamoriBin, "./cmd/mamori")
		build := exec.CommandContext(ctx, "go", "build", "-o", mamoriBin, "./cmd/mamori")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/mamori: %w\n%s", err, out)
		}
	}

	var results []ekResult
	for round := 1; round <= *ekRounds; round++ {
		order := slices.Clone(receivers)
		if round%2 == 0 {
			slices.Reverse(order)
		}
		for _, name := range order {
			var res ekResult
			var err error
			switch name {
			case "mamori":
				res, err = runMamori(ctx, dir, mamoriBin, broker, kb, kc, msgs, stream, brokerPID, brokerData)
			case "rsyslog":
				res, err = runRsyslog(ctx, dir, broker, kb, kc, msgs, stream, brokerPID, brokerData)
			}
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", name, round, err)
			}
			res.round = round
			fmt.Fprintf(os.Stderr, "edge-kafka: round %d %s: %s wall, %s CPU, %.0f events/CPU-s\n",
				round, name, res.wall.Round(time.Millisecond), res.cpu.Round(10*time.Millisecond), float64(n)/res.cpu.Seconds())
			results = append(results, res)
		}
	}

	fmt.Printf("## Syslog edge into Kafka: Mamori vs rsyslog (omkafka)\n\n")
	fmt.Printf("machine: %d cores (%s), %s, kafka-go %s, %s, librdkafka %s, Apache Kafka %s (broker %s)\n\n",
		runtime.NumCPU(), cpuModel(), runtime.Version(), modVersion("github.com/segmentio/kafka-go"),
		rsyslogVersion, dpkgVersion("librdkafka1"), kafkaVersion(localKafka), broker)
	fmt.Printf("%d events (%.1f MB framed, %s), one TCP connection, acks=all. Mamori: bus.kafka.compression %s, ingest.syslog.batch {%s}; rsyslog: lz4.\n\n",
		n, float64(len(stream))/1e6, *ekFraming, *ekCompression, *ekBatch)
	fmt.Printf("| round | receiver | events | sent in s | wall s | events/s | CPU s | events per CPU-second | broker CPU s | broker bytes/event | machine busy CPU s (steal) |\n")
	fmt.Printf("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		fmt.Printf("| %d | %s | %d | %.2f | %.2f | %.0f | %.2f | **%.0f** | %s | %s | %.2f (%.2f) |\n", r.round, r.name, n,
			r.sent.Seconds(), r.wall.Seconds(), float64(n)/r.wall.Seconds(), r.cpu.Seconds(), float64(n)/r.cpu.Seconds(),
			optSeconds(r.brokerCPU), optPerEvent(r.diskBytes, n), r.machineCPU.Seconds(), r.steal.Seconds())
	}
	fmt.Println()
	fmt.Printf("CPU s: user+system time of the receiver's process (all threads, /proc/PID/stat) from the first byte sent until the topic's end offsets had grown by %d. Machine busy CPU: every process on the machine over the same time (the sender, the broker and anything else running).\n", n)
	fmt.Println()
	for _, r := range results {
		fmt.Printf("- round %d %s: partitions %v; %s", r.round, r.name, r.partitions, r.check)
		if r.extra != "" {
			fmt.Printf("; %s", r.extra)
		}
		fmt.Println()
	}
	fmt.Println()
	return nil
}

func optSeconds(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", d.Seconds())
}

func optPerEvent(b int64, n int) string {
	if b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f", float64(b)/float64(n))
}

// ekTraffic generates n distinct demo messages and the TCP stream carrying
// them.
func ekTraffic(n int, framing string) ([][]byte, []byte, error) {
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		return nil, nil, err
	}
	gen := demo.NewGenerator(3, loc)
	base := time.Now().Add(-time.Hour)
	msgs := make([][]byte, n)
	var stream []byte
	for i := range n {
		m := gen.Next(base.Add(time.Duration(i) * time.Millisecond)).Line
		if bytes.ContainsAny(m, "\n\x00") {
			return nil, nil, fmt.Errorf("generated message %d contains LF or NUL: %q", i, m)
		}
		msgs[i] = m
		if framing == "lf" {
			stream = append(append(stream, m...), '\n')
		} else {
			stream = append(strconv.AppendInt(stream, int64(len(m)), 10), ' ')
			stream = append(stream, m...)
		}
	}
	return msgs, stream, nil
}

// proc is a receiver process with its stderr kept.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	logs bytes.Buffer
	// onLine, when set, sees every stderr line.
	onLine func(string)
}

func startProc(cmd *exec.Cmd, onLine func(string)) (*proc, error) {
	p := &proc{cmd: cmd, done: make(chan struct{}), onLine: onLine}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.logs.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if p.onLine != nil {
				p.onLine(sc.Text())
			}
		}
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.logs.String()
	if len(s) > 4000 {
		s = "..." + s[len(s)-4000:]
	}
	return s
}

// listenerReady returns a log-line handler that sends the address of the
// first "listener ready" line of Mamori's JSON log to addr.
func listenerReady(addr chan<- string) func(string) {
	return func(line string) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "listener ready" {
			if a, ok := rec["address"].(string); ok {
				select {
				case addr <- a:
				default:
				}
			}
		}
	}
}

// stop sends SIGTERM and waits, then kills.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// runMamori measures `mamori run --stages ingest` (or this harness as the
// edge child when profiling).
func runMamori(ctx context.Context, dir, bin, broker string, kb *kafkabus.Bus, kc *kafka.Client, msgs [][]byte, stream []byte, brokerPID int, brokerData string) (ekResult, error) {
	res := ekResult{name: "Mamori (`mamori run --stages ingest`)"}
	work, err := os.MkdirTemp(dir, "mamori-")
	if err != nil {
		return res, err
	}
	cfgPath := filepath.Join(work, "mamori.yaml")
	cfg := fmt.Sprintf(`data_dir: %s
log: {level: info, format: json}
bus:
  kafka: {brokers: [%q], partitions: %d, compression: %s}
ingest:
  syslog:
    listeners: [{name: tcp, protocol: tcp, address: "127.0.0.1:0"}]
    batch: {%s}
api: {listen: ""}
`, filepath.Join(work, "data"), broker, *ekPartitions, *ekCompression, *ekBatch)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return res, err
	}
	var cmd *exec.Cmd
	if *ekEdgeProfile != "" {
		self, err := os.Executable()
		if err != nil {
			return res, err
		}
		prof, err := filepath.Abs(*ekEdgeProfile)
		if err != nil {
			return res, err
		}
		cmd = exec.Command(self, "-edge-child", cfgPath, "-cpuprofile", prof)
		res.name = "Mamori (edge in the harness binary, CPU profile on)"
	} else {
		cmd = exec.Command(bin, "run", "-c", cfgPath, "--stages", "ingest")
	}
	addr := make(chan string, 1)
	p, err := startProc(cmd, listenerReady(addr))
	if err != nil {
		return res, err
	}
	defer p.stop()
	var tcp string
	select {
	case tcp = <-addr:
	case <-p.done:
		return res, fmt.Errorf("mamori exited before listening:\n%s", p.output())
	case <-time.After(2 * time.Minute):
		return res, fmt.Errorf("mamori not listening after 2 minutes:\n%s", p.output())
	case <-ctx.Done():
		return res, ctx.Err()
	}
	parts, err := kb.Partitions(ctx, bus.TopicRawSyslog)
	if err != nil {
		return res, err
	}
	if err := measure(ctx, &res, kb, kc, bus.TopicRawSyslog, parts, p, tcp, msgs, stream, brokerPID, brokerData); err != nil {
		return res, err
	}
	// What Mamori wrote: the records' keys, values and headers.
	recs, _ := sampleRecords(ctx, kb, bus.TopicRawSyslog, res.partitions, res.startOffsets, 1)
	if len(recs) == 1 {
		res.extra = fmt.Sprintf("each record carries key %q and %d headers (%d bytes of headers on the first)", recs[0].Key, len(recs[0].Headers), headerBytes(recs[0]))
	}
	return res, nil
}

func headerBytes(r bus.Record) int {
	n := 0
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

// runRsyslog measures rsyslogd with imtcp and omkafka.
func runRsyslog(ctx context.Context, dir, broker string, kb *kafkabus.Bus, kc *kafka.Client, msgs [][]byte, stream []byte, brokerPID int, brokerData string) (ekResult, error) {
	res := ekResult{name: "rsyslog (imtcp → omkafka)"}
	topic := *ekRsyslogTopic
	// As many partitions as Mamori's topic, so both producers see the same
	// layout (and, with the same key and partitioner, pick the same one).
	parts, err := kb.Partitions(ctx, bus.TopicRawSyslog)
	if err != nil {
		parts = *ekPartitions
	}
	if have, err := kb.Partitions(ctx, topic); err == nil && have != parts {
		if _, err := kc.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{topic}}); err != nil {
			return res, fmt.Errorf("delete %s (%d partitions, want %d): %w", topic, have, parts, err)
		}
		time.Sleep(2 * time.Second)
	}
	if err := kb.EnsureTopic(ctx, bus.TopicConfig{Name: topic, Partitions: parts, Retention: 24 * time.Hour}); err != nil {
		return res, err
	}
	work, err := os.MkdirTemp(dir, "rsyslog-")
	if err != nil {
		return res, err
	}
	portFile := filepath.Join(work, "imtcp.port")
	stats := filepath.Join(work, "impstats.json")
	conf := filepath.Join(work, "rsyslog.conf")
	support := "on"
	if *ekFraming == "lf" {
		support = "off"
	}
	text := fmt.Sprintf(`# Written by tools/benchharness -suite edge-kafka.
global(workDirectory=%[1]q maxMessageSize="64k" net.enableDNS="off")
module(load="impstats" interval="5" format="json" resetCounters="off" log.syslog="off" log.file=%[2]q)
module(load="imtcp")
module(load="omkafka")

# The main queue holds 100,000 messages; when it is full imtcp waits
# (timeoutEnqueue of 10 minutes) instead of discarding, and nothing is
# discarded by severity: every message is forwarded, as with Mamori.
main_queue(queue.type="FixedArray" queue.size="100000" queue.timeoutEnqueue="600000"
           queue.discardSeverity="8")

# Forward the message byte for byte (rawmsg), keyed by the sender's IP as
# Mamori keys its records, with Kafka's Java partitioner (Mamori: murmur2).
template(name="raw" type="string" string="%%rawmsg%%")
template(name="peer" type="string" string="%%fromhost-ip%%")

ruleset(name="bench") {
  action(type="omkafka" broker=[%[3]q] topic=%[4]q template="raw"
         key="peer" dynakey="on" partitions.auto="on"
         confParam=["compression.codec=lz4"]
         topicConfParam=["acks=all", "partitioner=murmur2_random"]
         action.resumeRetryCount="-1")
}

input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName=%[5]q
      ruleset="bench" supportOctetCountedFraming=%[6]q)
`, work, stats, broker, topic, portFile, support)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return res, err
	}
	cmd := exec.Command(*ekRsyslogd, "-n", "-f", conf, "-i", filepath.Join(work, "rsyslogd.pid"))
	// The simulated hosts are in Japan and their RFC 3164 timestamps carry no
	// zone: rsyslog reads them in its local zone and omkafka sends them as
	// the Kafka timestamp. Read as UTC they lie hours in the future, and
	// Kafka 4 rejects timestamps more than an hour ahead
	// (log.message.timestamp.after.max.ms), so run it in Japan time as a
	// Japanese site would.
	cmd.Env = append(os.Environ(), "TZ=Asia/Tokyo")
	p, err := startProc(cmd, nil)
	if err != nil {
		return res, err
	}
	defer p.stop()
	var port string
	for deadline := time.Now().Add(30 * time.Second); port == ""; {
		if b, err := os.ReadFile(portFile); err == nil && len(bytes.TrimSpace(b)) > 0 {
			port = strings.TrimSpace(string(b))
			break
		}
		select {
		case <-p.done:
			return res, fmt.Errorf("rsyslogd exited before listening:\n%s", p.output())
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("rsyslogd not listening after 30 s:\n%s", p.output())
		}
	}
	// omkafka connects to the broker on its first message; give it the
	// moment Mamori also had (its topics were checked before it listened).
	time.Sleep(time.Second)
	if err := measure(ctx, &res, kb, kc, topic, parts, p, net.JoinHostPort("127.0.0.1", port), msgs, stream, brokerPID, brokerData); err != nil {
		return res, err
	}
	p.stop()
	res.extra = rsyslogCounters(stats, p.output())
	return res, nil
}

// rsyslogCounters summarises the last impstats report of the main queue and
// omkafka, and rsyslog's own error messages (on its stderr in -n mode).
func rsyslogCounters(stats, output string) string {
	b, err := os.ReadFile(stats)
	if err != nil {
		return "no impstats"
	}
	last := map[string]map[string]any{}
	for _, line := range strings.Split(string(b), "\n") {
		var rec map[string]any
		if i := strings.IndexByte(line, '{'); i >= 0 && json.Unmarshal([]byte(line[i:]), &rec) == nil {
			if name, ok := rec["name"].(string); ok {
				last[name] = rec
			}
		}
	}
	var out []string
	if q := last["main Q"]; q != nil {
		out = append(out, fmt.Sprintf("main queue max size %v, discarded full %v / nf %v", q["maxqsize"], q["discarded.full"], q["discarded.nf"]))
	}
	if k := last["omkafka"]; k != nil {
		out = append(out, fmt.Sprintf("omkafka (last impstats report, every 5 s) submitted %v, acked %v, failures %v, max outq %v", k["submitted"], k["acked"], k["failures"], k["maxoutqsize"]))
	}
	var errs []string
	for _, line := range strings.Split(output, "\n") {
		if l := strings.ToLower(line); strings.Contains(l, "error") || strings.Contains(l, "fail") {
			errs = append(errs, line)
		}
	}
	if len(errs) > 0 {
		out = append(out, fmt.Sprintf("%d error lines from rsyslogd, the first: %s", len(errs), errs[0]))
	}
	return strings.Join(out, "; ")
}

// measure sends the stream to addr and waits until topic holds len(msgs)
// more records, timing the wall clock and the CPU of p (and the broker's).
// It fills res.startOffsets, res.partitions and res.check too.
func measure(ctx context.Context, res *ekResult, kb *kafkabus.Bus, kc *kafka.Client, topic string, parts int, p *proc, addr string, msgs [][]byte, stream []byte, brokerPID int, brokerData string) error {
	n := len(msgs)
	before, err := endOffsets(ctx, kc, topic, parts)
	if err != nil {
		return err
	}
	res.startOffsets = before
	disk0 := topicDiskBytes(brokerData, topic)
	pid := p.cmd.Process.Pid
	cpu0, err := procCPU(pid)
	if err != nil {
		return err
	}
	var bcpu0 time.Duration
	if brokerPID != 0 {
		bcpu0, _ = procCPU(brokerPID)
	}
	busy0, steal0 := machineCPU()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	start := time.Now()
	sendErr := make(chan error, 1)
	go func() {
		defer conn.Close()
		for off := 0; off < len(stream); off += 256 << 10 {
			if _, err := conn.Write(stream[off:min(off+256<<10, len(stream))]); err != nil {
				sendErr <- err
				return
			}
		}
		res.sent = time.Since(start)
		sendErr <- nil
	}()
	var got int64
	var after []int64
	for got < int64(n) {
		select {
		case err := <-sendErr:
			if err != nil {
				return fmt.Errorf("send: %w", err)
			}
			sendErr = nil
		case <-p.done:
			return fmt.Errorf("receiver exited during the run:\n%s", p.output())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if after, err = endOffsets(ctx, kc, topic, parts); err != nil {
			return err
		}
		got = 0
		for i := range after {
			got += after[i] - before[i]
		}
		if time.Since(start) > 15*time.Minute {
			return fmt.Errorf("only %d of %d records in %s after 15 minutes:\n%s", got, n, topic, p.output())
		}
	}
	res.wall = time.Since(start)
	cpu1, err := procCPU(pid)
	if err != nil {
		return err
	}
	res.cpu = cpu1 - cpu0
	busy1, steal1 := machineCPU()
	res.machineCPU, res.steal = busy1-busy0, steal1-steal0
	if brokerPID != 0 {
		if bcpu1, err := procCPU(brokerPID); err == nil {
			res.brokerCPU = bcpu1 - bcpu0
		}
	}
	if sendErr != nil {
		if err := <-sendErr; err != nil {
			return fmt.Errorf("send: %w", err)
		}
	}
	// Late duplicates would show here.
	time.Sleep(500 * time.Millisecond)
	if after, err = endOffsets(ctx, kc, topic, parts); err != nil {
		return err
	}
	got = 0
	for i := range after {
		if after[i] > before[i] {
			res.partitions = append(res.partitions, i)
		}
		got += after[i] - before[i]
	}
	if disk0 >= 0 {
		if disk1 := topicDiskBytes(brokerData, topic); disk1 >= 0 {
			res.diskBytes = disk1 - disk0
		}
	}
	res.check = checkSample(ctx, kb, topic, res.partitions, before, msgs)
	if got != int64(n) {
		res.check += fmt.Sprintf("; **%d records for %d messages**", got, n)
	}
	return nil
}

// checkSample reads the first 2,000 new records and compares their values
// with the messages sent: in order when they all went to one partition.
func checkSample(ctx context.Context, kb *kafkabus.Bus, topic string, partitions []int, before []int64, msgs [][]byte) string {
	if len(partitions) == 0 {
		return "no records"
	}
	const sample = 2000
	recs, err := fetch(ctx, kb, topic, partitions[0], before[partitions[0]], sample)
	if err != nil {
		return "sample check failed: " + err.Error()
	}
	inOrder := len(partitions) == 1
	for i, r := range recs {
		if !inOrder || i >= len(msgs) || !bytes.Equal(r.Value, msgs[i]) {
			inOrder = false
			break
		}
	}
	if inOrder {
		return fmt.Sprintf("the first %d records are the messages sent, byte for byte and in order", len(recs))
	}
	set := make(map[string]bool, len(msgs))
	for _, m := range msgs {
		set[string(m)] = true
	}
	for _, r := range recs {
		if !set[string(r.Value)] {
			return fmt.Sprintf("**a record differs from every message sent**: %q", r.Value)
		}
	}
	return fmt.Sprintf("the first %d records of partition %d are messages sent, byte for byte", len(recs), partitions[0])
}

// fetch reads up to max records of one partition from offset.
func fetch(ctx context.Context, kb *kafkabus.Bus, topic string, partition int, offset int64, max int) ([]bus.Record, error) {
	var out []bus.Record
	for len(out) < max {
		recs, err := kb.Read(ctx, topic, partition, offset, max-len(out))
		if err != nil {
			return out, err
		}
		if len(recs) == 0 {
			break
		}
		out = append(out, recs...)
		offset = recs[len(recs)-1].Offset + 1
	}
	return out, nil
}

// sampleRecords reads records through Mamori's own bus (headers included).
func sampleRecords(ctx context.Context, kb *kafkabus.Bus, topic string, partitions []int, before []int64, max int) ([]bus.Record, error) {
	if len(partitions) == 0 {
		return nil, errors.New("no partitions")
	}
	return kb.Read(ctx, topic, partitions[0], before[partitions[0]], max)
}

// endOffsets returns the end offset of every partition, retrying for a
// while: the client's metadata lags a topic just created.
func endOffsets(ctx context.Context, kc *kafka.Client, topic string, parts int) ([]int64, error) {
	var err error
	for deadline := time.Now().Add(15 * time.Second); ; {
		var out []int64
		if out, err = endOffsetsOnce(ctx, kc, topic, parts); err == nil || time.Now().After(deadline) {
			return out, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func endOffsetsOnce(ctx context.Context, kc *kafka.Client, topic string, parts int) ([]int64, error) {
	reqs := make([]kafka.OffsetRequest, parts)
	for i := range reqs {
		reqs[i] = kafka.LastOffsetOf(i)
	}
	res, err := kc.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	out := make([]int64, parts)
	for _, po := range res.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("end offsets of %s[%d]: %w", topic, po.Partition, po.Error)
		}
		if po.Partition < parts {
			out[po.Partition] = po.LastOffset
		}
	}
	return out, nil
}

// procCPU is a process's user+system CPU time (all its threads) from
// /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: fields start after the last ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(utime+stime) * time.Second / time.Duration(clockTicks()), nil
}

var clockTicks = sync.OnceValue(func() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && v > 0 {
			return v
		}
	}
	return 100
})

// machineCPU returns the machine's busy CPU time (all but idle and iowait)
// and its steal time, from /proc/stat.
func machineCPU() (busy, steal time.Duration) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0
	}
	var v [8]int64
	for i := range v {
		v[i], _ = strconv.ParseInt(f[i+1], 10, 64)
	}
	// user nice system idle iowait irq softirq steal (guest time is in user)
	tick := time.Second / time.Duration(clockTicks())
	return time.Duration(v[0]+v[1]+v[2]+v[5]+v[6]) * tick, time.Duration(v[7]) * tick
}

// topicDiskBytes sums the log segments of a topic's partitions in the
// broker's log directory; -1 when unknown.
func topicDiskBytes(logDir, topic string) int64 {
	if logDir == "" {
		return -1
	}
	dirs, _ := filepath.Glob(filepath.Join(logDir, topic+"-*"))
	if len(dirs) == 0 {
		return -1
	}
	var total int64
	for _, d := range dirs {
		segs, _ := filepath.Glob(filepath.Join(d, "*.log"))
		for _, s := range segs {
			if fi, err := os.Stat(s); err == nil {
				total += fi.Size()
			}
		}
	}
	return total
}

func brokerLogDir(props string) string {
	b, err := os.ReadFile(props)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "log.dirs="); ok {
			return strings.Split(v, ",")[0]
		}
	}
	return ""
}

// repoRoot is the directory holding Mamori's go.mod, from the working
// directory up.
func repoRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/mamori-soc/mamori\n") {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("edge-kafka: run from inside the Mamori repository (it builds ./cmd/mamori)")
		}
		d = parent
	}
}

func localDir(root string) string {
	if d := os.Getenv("MAMORI_LOCAL_DIR"); d != "" {
		return d
	}
	return filepath.Join(root, ".local")
}

// findBroker returns -brokers, $MAMORI_KAFKA_BOOTSTRAP or the address
// deploy/local/kafka up published.
func findBroker(root string) (string, error) {
	if *ekBrokers != "" {
		return *ekBrokers, nil
	}
	if b := os.Getenv("MAMORI_KAFKA_BOOTSTRAP"); b != "" {
		return b, nil
	}
	b, err := os.ReadFile(filepath.Join(localDir(root), "kafka", "bootstrap"))
	if err != nil {
		return "", errors.New("edge-kafka: no Kafka broker: pass -brokers host:port or start one with deploy/local/kafka up")
	}
	return strings.TrimSpace(string(b)), nil
}

// checkRsyslog finds rsyslogd and omkafka and returns rsyslog's version.
func checkRsyslog() (string, error) {
	if _, err := exec.LookPath(*ekRsyslogd); err != nil {
		if _, err2 := os.Stat("/usr/sbin/rsyslogd"); err2 == nil && *ekRsyslogd == "rsyslogd" {
			*ekRsyslogd = "/usr/sbin/rsyslogd"
		} else {
			return "", fmt.Errorf("edge-kafka: %s not found: run deploy/local/rsyslog-kafka-install (apt-get install -y rsyslog rsyslog-kafka), or -only mamori", *ekRsyslogd)
		}
	}
	if _, err := os.Stat(omkafkaSO); err != nil {
		if m, _ := filepath.Glob("/usr/lib/*/rsyslog/omkafka.so"); len(m) == 0 {
			return "", errors.New("edge-kafka: omkafka.so not found: run deploy/local/rsyslog-kafka-install (apt-get install -y rsyslog-kafka), or -only mamori")
		}
	}
	out, err := exec.Command(*ekRsyslogd, "-v").Output()
	if err != nil {
		return "", fmt.Errorf("%s -v: %w", *ekRsyslogd, err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	if f := strings.Fields(first); len(f) >= 2 {
		return "rsyslog " + f[1], nil
	}
	return strings.TrimSpace(first), nil
}

func dpkgVersion(pkg string) string {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", pkg).Output()
	if err != nil || len(out) == 0 {
		return "unknown"
	}
	return string(out)
}

func modVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "unknown"
}

// kafkaVersion reads the version from the broker jar deploy/local/kafka
// resolved.
func kafkaVersion(localKafka string) string {
	jars, _ := filepath.Glob(filepath.Join(localKafka, "lib", "kafka_2.13-*.jar"))
	for _, j := range jars {
		v := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(j), "kafka_2.13-"), ".jar")
		if !strings.Contains(v, "-") {
			return v
		}
	}
	return "unknown"
}

// runEdgeChild is `mamori run --stages ingest` inside this binary, so that
// -cpuprofile profiles exactly the edge.
func runEdgeChild(cfgPath string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	log := app.Logger(cfg, os.Stderr)
	a, err := app.New(ctx, cfg, log, app.Roles{"ingest": true})
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}
