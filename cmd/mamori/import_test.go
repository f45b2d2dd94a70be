package main

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/app"
	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/winevent"
	"github.com/mamori-soc/mamori/pipeline"
)

const importXMLEvent = `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>` +
	`<Provider Name='Microsoft-Windows-Security-Auditing' Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/>` +
	`<EventID>4625</EventID><Version>0</Version><Level>0</Level><Task>12544</Task><Opcode>0</Opcode>` +
	`<Keywords>0x8010000000000000</Keywords><TimeCreated SystemTime='2025-02-03T01:02:03.4567890Z'/>` +
	`<EventRecordID>%ID%</EventRecordID><Correlation/><Execution ProcessID='684' ThreadID='700'/>` +
	`<Channel>Security</Channel><Computer>DC01.city.example.lg.jp</Computer><Security/></System><EventData>` +
	`<Data Name='TargetUserName'>山田</Data><Data Name='Status'>0xc000006d</Data><Data Name='SubStatus'>0xc000006a</Data>` +
	`<Data Name='LogonType'>3</Data><Data Name='IpAddress'>198.51.100.7</Data></EventData></Event>`

func utf16LE(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, c := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

// importSetup writes a configuration and the input files: the committed
// EVTX fixture under a name without .evtx (detection is by content) and a
// wevtutil-style UTF-16 XML file with two events.
func importSetup(t *testing.T) (cfgPath, evtxFile, xmlFile string) {
	t.Helper()
	dir := t.TempDir()
	cfgPath = filepath.Join(dir, "mamori.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte("data_dir: "+filepath.Join(dir, "data")+"\n"), 0o600))
	data, err := os.ReadFile(filepath.Join("..", "..", "ingest", "evtx", "testdata", "security.evtx"))
	require.NoError(t, err)
	evtxFile = filepath.Join(dir, "PC-SOUMU-001 Security.bin")
	require.NoError(t, os.WriteFile(evtxFile, data, 0o600))
	xml := strings.ReplaceAll(importXMLEvent, "%ID%", "900") + "\r\n" + strings.ReplaceAll(importXMLEvent, "%ID%", "901") + "\r\n"
	xmlFile = filepath.Join(dir, "dc01.xml")
	require.NoError(t, os.WriteFile(xmlFile, utf16LE(xml), 0o600))
	return cfgPath, evtxFile, xmlFile
}

func readTopic(t *testing.T, cfgPath, topic string) []bus.Record {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load(cfgPath)
	require.NoError(t, err)
	b, err := app.OpenBus(ctx, cfg, app.Logger(cfg, os.Stderr))
	require.NoError(t, err)
	defer b.Close()
	n, err := b.Partitions(ctx, topic)
	require.NoError(t, err)
	var out []bus.Record
	for p := range n {
		recs, err := b.Read(ctx, topic, p, bus.OffsetOldest, 10000)
		require.NoError(t, err)
		out = append(out, recs...)
	}
	return out
}

// captured is a bus.Producer that keeps what is published.
type captured struct{ recs []bus.Record }

func (c *captured) Publish(_ context.Context, recs ...bus.Record) error {
	c.recs = append(c.recs, recs...)
	return nil
}

// eventIDs runs the parse stage over raw records and returns the ids of
// the events it produces, by raw value.
func eventIDs(t *testing.T, raw []bus.Record) map[string]string {
	t.Helper()
	var out captured
	h := pipeline.NewParse(map[string]parsers.Parser{winevent.FormatXML: winevent.NewXMLParser()}, &out, nil, nil)
	require.NoError(t, h.Handle(context.Background(), raw))
	ids := map[string]string{}
	for i, r := range out.recs {
		require.Equal(t, bus.TopicEvents, r.Topic, "record %d was dead-lettered: %v", i, r.Headers)
		id, _ := r.Header(pipeline.HeaderID)
		ids[string(raw[i].Value)] = id
	}
	return ids
}

func TestImportEVTXAndXML(t *testing.T) {
	cfgPath, evtxFile, xmlFile := importSetup(t)
	code, stdout, stderr := runCLI("import", "-c", cfgPath, evtxFile, xmlFile, "--receiver", "forensics-2025-02")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "imported 8 events from 2 files; 0 records dead-lettered")
	require.Regexp(t, `PC-SOUMU-001 Security.bin\s+evtx\s+6\s+0\s+0`, stdout)
	require.Regexp(t, `dc01.xml\s+xml\s+2\s+0\s+0`, stdout)

	raw := readTopic(t, cfgPath, bus.TopicRawWinlog)
	require.Len(t, raw, 8)
	byComputer := map[string]int{}
	for _, r := range raw {
		h := func(k string) string { v, _ := r.Header(k); return v }
		require.Equal(t, "forensics-2025-02", h(bus.HeaderReceiver))
		require.Equal(t, "file", h(bus.HeaderTransport))
		require.Equal(t, "eventxml", h(bus.HeaderFormat))
		rec, err := winevent.ParseXML(r.Value)
		require.NoError(t, err)
		require.Equal(t, rec.Computer, h(bus.HeaderPeer))
		require.Equal(t, rec.Computer, string(r.Key))
		require.Equal(t, rec.TimeCreated.Format("2006-01-02T15:04:05.000000000Z07:00"), h(bus.HeaderReceived))
		byComputer[rec.Computer]++
	}
	require.Equal(t, map[string]int{"PC-SOUMU-001.city.example.lg.jp": 6, "DC01.city.example.lg.jp": 2}, byComputer)

	// The parse stage turns them into events; 田中's logon is there.
	first := eventIDs(t, raw)
	require.Len(t, first, 8)

	// Importing again appends the raw records again, with the same event ids.
	code, _, stderr = runCLI("import", "-c", cfgPath, "--receiver", "forensics-2025-02", evtxFile, xmlFile)
	require.Equal(t, 0, code, stderr)
	raw = readTopic(t, cfgPath, bus.TopicRawWinlog)
	require.Len(t, raw, 16)
	second := eventIDs(t, raw[8:])
	require.Equal(t, first, second, "a re-import must give the same event ids")
}

func TestImportReportsDamage(t *testing.T) {
	cfgPath, evtxFile, xmlFile := importSetup(t)
	// A truncated third event in the XML file, and one record of the EVTX
	// file whose binary XML is broken.
	xml := strings.ReplaceAll(importXMLEvent, "%ID%", "900") + "\r\n" + strings.ReplaceAll(importXMLEvent, "%ID%", "901")[:300]
	require.NoError(t, os.WriteFile(xmlFile, utf16LE(xml), 0o600))
	data, err := os.ReadFile(evtxFile)
	require.NoError(t, err)
	data[4096+512+24] = 0x77
	require.NoError(t, os.WriteFile(evtxFile, data, 0o600))

	code, stdout, stderr := runCLI("import", "-c", cfgPath, evtxFile, xmlFile)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "imported 6 events from 2 files; 1 records dead-lettered")
	require.Contains(t, stdout, "record lost: record 20311 at offset 4608 (0x1200)")
	require.Contains(t, stdout, "the <Event> at line 2, column 1 is truncated or malformed")

	dead := readTopic(t, cfgPath, bus.TopicDLQ)
	require.Len(t, dead, 1)
	why, _ := dead[0].Header(bus.HeaderError)
	require.Contains(t, why, "offset 4608")
	src, _ := dead[0].Header(bus.HeaderSourceTopic)
	require.Equal(t, bus.TopicRawWinlog, src)
	require.Equal(t, data[4608:4608+len(dead[0].Value)], dead[0].Value, "the binary record is kept whole")
}

func TestImportErrors(t *testing.T) {
	cfgPath, _, _ := importSetup(t)
	code, _, stderr := runCLI("import", "-c", cfgPath)
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "usage: mamori import")

	notes := filepath.Join(t.TempDir(), "notes.txt")
	require.NoError(t, os.WriteFile(notes, []byte("just text"), 0o600))
	code, stdout, stderr := runCLI("import", "-c", cfgPath, notes)
	require.Equal(t, 1, code)
	require.Contains(t, stdout, "neither an EVTX file nor Event XML")
	require.Contains(t, stderr, "1 of 1 files could not be imported")

	code, _, stderr = runCLI("import", "-c", cfgPath, filepath.Join(t.TempDir(), "missing.evtx"))
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "no such file")
}
