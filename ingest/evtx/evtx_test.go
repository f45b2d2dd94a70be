package evtx

import (
	"bytes"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

var update = flag.Bool("update", false, "rewrite testdata/security.evtx from the fixture definition")

const fixturePath = "testdata/security.evtx"

// TestFixtureIsUpToDate checks that the committed fixture is what the
// writer produces from fixture_test.go (run with -update to rewrite it).
func TestFixtureIsUpToDate(t *testing.T) {
	want := writeFile(systemTemplate, fixtureRecords())
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(fixturePath), 0o755))
		require.NoError(t, os.WriteFile(fixturePath, want, 0o644))
	}
	got, err := os.ReadFile(fixturePath)
	require.NoError(t, err)
	require.Equal(t, want, got, "testdata/security.evtx is stale: go test ./ingest/evtx -run TestFixtureIsUpToDate -update")
	require.Len(t, got, FileHeaderSize+ChunkSize)
}

type walked struct {
	recs     []Record
	problems []Problem
}

func walk(t *testing.T, data []byte) (*File, walked) {
	t.Helper()
	f, err := Open(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	var w walked
	require.NoError(t, f.Walk(func(r Record) error {
		r.XML = bytes.Clone(r.XML)
		w.recs = append(w.recs, r)
		return nil
	}, func(p Problem) error {
		p.Raw = bytes.Clone(p.Raw)
		w.problems = append(w.problems, p)
		return nil
	}))
	return f, w
}

func fixture(t *testing.T) []byte {
	data, err := os.ReadFile(fixturePath)
	require.NoError(t, err)
	return data
}

func TestFixtureReadsBackAsWritten(t *testing.T) {
	f, w := walk(t, fixture(t))
	require.Empty(t, f.Warnings)
	require.Empty(t, w.problems)
	require.Equal(t, Header{MajorVersion: 3, MinorVersion: 1, Chunks: 1, NextRecordID: 20317}, f.Header)
	want := wantRecords()
	require.Len(t, w.recs, len(want))
	require.Equal(t, want4624XML, string(w.recs[0].XML))
	for i, r := range w.recs {
		got, err := winevent.ParseXML(r.XML)
		require.NoError(t, err, "record %d: %s", i, r.XML)
		require.Equal(t, want[i], got, "record %d: %s", i, r.XML)
		require.Equal(t, want[i].RecordID, r.ID, "record header id")
		require.Equal(t, 0, r.Chunk)
		require.Greater(t, r.Offset, int64(FileHeaderSize+chunkHeaderSize-1))
	}
	require.Equal(t, fixtureBase.Add(3000000), w.recs[0].Written.Add(2000000))
}

// TestRoundTripThroughECS: a converted record maps to ECS like forwarded XML.
func TestRoundTripThroughECS(t *testing.T) {
	_, w := walk(t, fixture(t))
	var p winevent.Parser
	e := &event.Event{}
	require.NoError(t, p.Parse(w.recs[0].XML, parsers.Meta{}, e))
	v, ok := e.Get("user.name")
	require.True(t, ok)
	require.Equal(t, "田中", v)
	require.Equal(t, string(w.recs[0].XML), e.Event.Original)
}

func TestDamage(t *testing.T) {
	good := fixture(t)
	le := binary.LittleEndian
	firstRec := FileHeaderSize + chunkHeaderSize
	secondRec := firstRec + int(le.Uint32(good[firstRec+4:]))

	t.Run("file header checksum", func(t *testing.T) {
		d := bytes.Clone(good)
		d[24]++ // next record id
		f, w := walk(t, d)
		require.Len(t, f.Warnings, 1)
		require.ErrorContains(t, f.Warnings[0], "file header checksum")
		require.Len(t, w.recs, 6, "records are still read")
	})
	t.Run("record data checksum", func(t *testing.T) {
		d := bytes.Clone(good)
		// Inside the first record's TargetUserName value: 田 becomes 由.
		i := bytes.Index(d, utf16le("田中", false))
		require.Positive(t, i)
		d[i] = 0x31
		_, w := walk(t, d)
		require.Len(t, w.problems, 1)
		require.Equal(t, ChecksumMismatch, w.problems[0].Kind)
		require.ErrorContains(t, w.problems[0], "event records checksum")
		require.Len(t, w.recs, 6)
	})
	t.Run("broken binary XML loses one record", func(t *testing.T) {
		d := bytes.Clone(good)
		d[firstRec+recordHeaderSize] = 0x77 // not a fragment header token
		_, w := walk(t, d)
		var lost []Problem
		for _, p := range w.problems {
			if p.Kind == RecordLost {
				lost = append(lost, p)
			}
		}
		require.Len(t, lost, 1)
		require.Equal(t, uint64(20311), lost[0].ID)
		require.Equal(t, int64(firstRec), lost[0].Offset)
		require.Equal(t, d[firstRec:secondRec], lost[0].Raw)
		require.Len(t, w.recs, 5)
	})
	t.Run("bad record size loses the rest of the chunk", func(t *testing.T) {
		d := bytes.Clone(good)
		le.PutUint32(d[secondRec+4:], 0xffff)
		_, w := walk(t, d)
		require.Len(t, w.recs, 1)
		var kinds []ProblemKind
		for _, p := range w.problems {
			kinds = append(kinds, p.Kind)
		}
		require.Contains(t, kinds, ChunkLost)
	})
	t.Run("bad chunk signature", func(t *testing.T) {
		d := bytes.Clone(good)
		d[FileHeaderSize] = 'X'
		_, w := walk(t, d)
		require.Empty(t, w.recs)
		require.Len(t, w.problems, 1)
		require.Equal(t, ChunkLost, w.problems[0].Kind)
		require.ErrorContains(t, w.problems[0], "bad chunk signature")
	})
	t.Run("truncated file", func(t *testing.T) {
		d := good[:len(good)-1000]
		_, w := walk(t, d)
		require.Empty(t, w.recs)
		require.Len(t, w.problems, 1)
		require.ErrorContains(t, w.problems[0], "truncated")
	})
	t.Run("not evtx", func(t *testing.T) {
		_, err := Open(bytes.NewReader([]byte("<Event/>")), 8)
		require.ErrorIs(t, err, ErrNotEVTX)
		require.False(t, Detect([]byte("<Event/>")))
		require.True(t, Detect(good))
	})
	t.Run("self-referencing template does not overflow the stack", func(t *testing.T) {
		d := bytes.Clone(good)
		// Point the first record's template definition data offset at the
		// template instance token itself.
		ti := firstRec + recordHeaderSize + 4
		require.Equal(t, byte(0x0c), d[ti])
		le.PutUint32(d[ti+6:], uint32(ti-FileHeaderSize))
		_, w := walk(t, d)
		require.NotEmpty(t, w.problems)
	})
}

func TestUTF16StringsKeepsEmptyItems(t *testing.T) {
	require.Equal(t, []string{"", "a", "", "田中"}, utf16Strings(append(append(utf16le("", true), utf16le("a", true)...), append(utf16le("", true), utf16le("田中", true)...)...)))
}
