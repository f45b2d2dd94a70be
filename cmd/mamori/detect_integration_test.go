//go:build integration

package main_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/demo"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/internal/testpki"
)

// detectionStory is the story of package demo told on the latest public
// holiday, and the range that holds it with room on both sides.
type detectionStory struct {
	events   [][]byte
	from, to string
}

func newDetectionStory(t *testing.T) detectionStory {
	t.Helper()
	cal, err := calendar.New(calendar.Config{})
	require.NoError(t, err)
	day := demo.StoryDay(cal, time.Now())
	return detectionStory{
		events: demo.DetectionStory(day),
		from:   day.AddDate(0, 0, -1).Format(time.RFC3339),
		to:     day.AddDate(0, 0, 1).Format(time.RFC3339),
	}
}

// post posts the story to the HTTPS edge in time order, in batches as a
// shipper would.
func (s detectionStory) post(t *testing.T, addr string, pki testpki.PKI, token string) {
	t.Helper()
	for batch := range slices.Chunk(s.events, 50) {
		postIngest(t, addr, pki, token, "winlogbeat", bytes.Join(batch, []byte("\n")), len(batch))
	}
}

// stored waits until every event of the story is searchable.
func (s detectionStory) stored(t *testing.T, bin, cfgPath string) {
	t.Helper()
	require.Len(t, waitForIn(t, bin, cfgPath, `winlog.channel:Security`, len(s.events), s.from, s.to), len(s.events))
}

// waitStoryAlerts polls `mamori alerts` until the story's alerts are there
// with their final counts, then checks that nothing else comes.
func (s detectionStory) waitAlerts(t *testing.T, bin, cfgPath string) {
	t.Helper()
	want := slices.Clone(demo.StoryAlerts)
	sortStory(want)
	var got []demo.StoryAlert
	read := func() []demo.StoryAlert {
		out, err := exec.Command(bin, "alerts", "-c", cfgPath, "--from", s.from, "--to", s.to, "--output", "ndjson", "--size", "1000").Output()
		require.NoError(t, err)
		var list []demo.StoryAlert
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if line == "" {
				continue
			}
			var a event.Event
			require.NoError(t, event.Unmarshal([]byte(line), &a), line)
			list = append(list, demo.StoryAlertOf(&a))
		}
		sortStory(list)
		return list
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if got = read(); slices.Equal(got, want) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	require.Equal(t, want, got, "the story's alerts, exactly")
	// Late stragglers would show within a few seconds of idle progress.
	time.Sleep(3 * time.Second)
	require.Equal(t, want, read(), "and nothing more")
}

// waitCases polls `mamori cases list` until the story's alerts are cases:
// one security incident per alert (each a different rule or entity).
func (s detectionStory) waitCases(t *testing.T, bin, cfgPath string) {
	t.Helper()
	var out []byte
	for range 120 {
		var err error
		out, err = exec.Command(bin, "cases", "list", "-c", cfgPath, "--from", s.from, "--to", s.to, `type:security_incident and status:new`).Output()
		require.NoError(t, err)
		if strings.Contains(string(out), fmt.Sprintf("\n%d of %d cases", len(demo.StoryAlerts), len(demo.StoryAlerts))) {
			require.Contains(t, string(out), "Repeated failed logons for one account: user suzuki")
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("the story's alerts did not become %d cases:\n%s", len(demo.StoryAlerts), out)
}

func sortStory(s []demo.StoryAlert) {
	slices.SortFunc(s, func(a, b demo.StoryAlert) int {
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
	})
}

// TestIntegrationDetections pushes the detection story through the
// embedded pipeline (HTTPS edge, parse, detect, index) and requires exactly
// the story's alerts in the store, searchable with `mamori alerts`.
func TestIntegrationDetections(t *testing.T) {
	bin := buildMamori(t)
	dir := t.TempDir()
	pki := testpki.New(t, "mamori ingest", "wec01")
	ingestToken := "wec-token-" + fmt.Sprint(time.Now().UnixNano())
	cfgPath := filepath.Join(dir, "mamori.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(fmt.Sprintf(`
data_dir: %s
log: {level: info, format: json}
ingest:
  syslog:
    listeners: [{name: udp, protocol: udp, address: "127.0.0.1:0"}]
  http:
    address: "127.0.0.1:0"
    tls: {cert_file: %s, key_file: %s}
    tokens: [{name: wec01, sha256: %s}]
api: {listen: ""}
`, filepath.Join(dir, "data"), pki.CertFile, pki.KeyFile, sha(ingestToken))), 0o600))
	m := start(t, bin, cfgPath)
	s := newDetectionStory(t)
	s.post(t, m.addr(t, "http"), pki, ingestToken)
	s.stored(t, bin, cfgPath)
	s.waitAlerts(t, bin, cfgPath)
	s.waitCases(t, bin, cfgPath)

	// A restart keeps the alerts and raises none again.
	m.stop(t)
	m = start(t, bin, cfgPath)
	s.waitAlerts(t, bin, cfgPath)
	s.waitCases(t, bin, cfgPath)
	m.stop(t)
}

// TestKafkaElasticsearchDetections tells the detection story on Kafka and
// the search node, once with one detect process and once with three (each
// its own consumer-group member: the select step spreads over them, and the
// correlate step's partitions, with their state, move between them as they
// join): both runs store exactly the story's alerts.
func TestKafkaElasticsearchDetections(t *testing.T) {
	bootstrap := kafkaBootstrap(t)
	esURL := searchURL(t)
	bin := buildMamori(t)
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d detect workers", workers), func(t *testing.T) {
			run := fmt.Sprintf("d%d%d", workers, time.Now().UnixNano())
			dir := t.TempDir()
			pki := testpki.New(t, "mamori ingest", "wec01")
			ingestToken := "wec-token-" + run
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
    listeners: [{name: udp, protocol: udp, address: "127.0.0.1:0"}]
  http:
    address: "127.0.0.1:0"
    tls: {cert_file: %s, key_file: %s}
    tokens: [{name: wec01, sha256: %s}]
api: {listen: ""}
`, filepath.Join(dir, "data"), bootstrap, run, esURL, run, pki.CertFile, pki.KeyFile, sha(ingestToken))), 0o600))

			edge := start(t, bin, cfgPath, "--stages", "ingest,parse")
			indexer := start(t, bin, cfgPath, "--stages", "index,casework")
			var detectors []*instance
			for range workers {
				detectors = append(detectors, start(t, bin, cfgPath, "--stages", "detect"))
			}
			s := newDetectionStory(t)
			s.post(t, edge.addr(t, "http"), pki, ingestToken)
			s.stored(t, bin, cfgPath)
			s.waitAlerts(t, bin, cfgPath)
			s.waitCases(t, bin, cfgPath)
			for _, d := range detectors {
				d.stop(t)
			}
			edge.stop(t)
			indexer.stop(t)
		})
	}
}
