package logexport_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/casework/logexport"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/store"
	"github.com/mamori-soc/mamori/store/sqlitestore"
)

// base is the time of the first test event.
var base = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

// testEvent returns the i-th test event: one a minute from base, on three
// hosts, every other one a failed logon, every fifth by 田中.
func testEvent(i int) event.Event {
	e := event.Event{
		Timestamp: base.Add(time.Duration(i) * time.Minute),
		Host:      &event.Host{Name: fmt.Sprintf("pc-%02d", i%3)},
		Source:    &event.Endpoint{IP: fmt.Sprintf("10.0.%d.%d", i/250, i%250+1)},
		User:      &event.User{Name: "suzuki"},
		Tags:      []string{"windows", "security"},
	}
	if i%5 == 0 {
		e.User.Name = "田中"
	}
	if i%2 == 0 {
		e.Event = event.Meta{Code: "4625", Action: "ログオン失敗", Outcome: "failure"}
		e.Message = fmt.Sprintf("ユーザー %s のログオン失敗 #%d", e.User.Name, i)
	} else {
		e.Event = event.Meta{Code: "4624", Action: "logged-in", Outcome: "success"}
		e.Message = fmt.Sprintf("logon #%d, \"interactive\"\nsecond line", i)
	}
	e.Event.ID = fmt.Sprintf("ev-%06d", i)
	return e
}

// openStore returns a store holding events 0 to n-1.
func openStore(tb testing.TB, n int) store.Store {
	tb.Helper()
	s, err := sqlitestore.Open(filepath.Join(tb.TempDir(), "store.db"), sqlitestore.Options{})
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Close() })
	ctx := context.Background()
	for start := 0; start < n; start += 1000 {
		var docs []store.Doc
		for i := start; i < min(start+1000, n); i++ {
			e := testEvent(i)
			src, err := event.Marshal(&e)
			require.NoError(tb, err)
			docs = append(docs, store.Doc{ID: e.Event.ID, Source: src})
		}
		res, err := s.Index(ctx, store.Events, docs)
		require.NoError(tb, err)
		for _, r := range res {
			require.NoError(tb, r.Err)
		}
	}
	return s
}

// wantIDs returns the ids of test events 0 to n-1 that keep selects, in
// time order.
func wantIDs(n int, keep func(i int) bool) []string {
	var ids []string
	for i := range n {
		if keep(i) {
			ids = append(ids, fmt.Sprintf("ev-%06d", i))
		}
	}
	return ids
}

// gunzip returns the uncompressed content of a file.
func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	b, err := io.ReadAll(zr)
	require.NoError(t, err)
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// filtered is a request for the failed logons on pc-01 in the second to
// fourth hour of the test events.
func filtered(format logexport.Format) logexport.Request {
	return logexport.Request{
		Query:  `event.code:4625 and host.name:"pc-01"`,
		From:   base.Add(60 * time.Minute),
		To:     base.Add(240 * time.Minute),
		Format: format,
	}
}

func keepFiltered(i int) bool { return i%2 == 0 && i%3 == 1 && i >= 60 && i < 240 }

func TestNDJSON(t *testing.T) {
	const n = 400
	s := openStore(t, n)
	dir := filepath.Join(t.TempDir(), "export")
	m, err := logexport.Run(context.Background(), s, filtered(logexport.NDJSON), dir, nil)
	require.NoError(t, err)

	want := wantIDs(n, keepFiltered)
	require.NotEmpty(t, want)
	require.Equal(t, int64(len(want)), m.Events)
	require.Equal(t, int64(len(want)), m.Matched)
	require.Equal(t, "events.ndjson.gz", m.File.Name)
	require.Equal(t, []string{"SHA256SUMS", "events.ndjson.gz", "manifest.json"}, listDir(t, dir))

	content := gunzip(t, filepath.Join(dir, m.File.Name))
	require.Equal(t, m.File.ContentSHA256, sum(content))
	require.Equal(t, m.File.ContentSize, int64(len(content)))
	lines := strings.Split(strings.TrimSuffix(string(content), "\n"), "\n")
	var got []string
	for _, line := range lines {
		var e event.Event
		require.NoError(t, event.Unmarshal([]byte(line), &e))
		got = append(got, e.Event.ID)
		// Each line is the stored document, byte for byte.
		var i int
		_, err := fmt.Sscanf(e.Event.ID, "ev-%d", &i)
		require.NoError(t, err)
		orig := testEvent(i)
		src, err := event.Marshal(&orig)
		require.NoError(t, err)
		require.JSONEq(t, string(src), line)
		require.Equal(t, "ログオン失敗", e.Event.Action)
	}
	require.Equal(t, want, got, "events in time order, filtered by query and range")
	require.Contains(t, string(content), "田中")

	require.NoError(t, logexport.Verify(dir))
}

func TestCSV(t *testing.T) {
	const n = 300
	s := openStore(t, n)
	dir := t.TempDir()
	req := logexport.Request{From: base, To: base.Add(24 * time.Hour), Format: logexport.CSV}
	m, err := logexport.Run(context.Background(), s, req, dir, nil)
	require.NoError(t, err)
	require.Equal(t, int64(n), m.Events)
	require.Equal(t, logexport.DefaultFields, m.Request.Fields)
	require.Equal(t, "Asia/Tokyo", m.Request.Location)
	require.True(t, m.Request.BOM)

	content := gunzip(t, filepath.Join(dir, "events.csv.gz"))
	require.True(t, bytes.HasPrefix(content, []byte("\ufeff@timestamp,host.name,")), "BOM, then the header")
	require.Contains(t, string(content), "\r\n", "RFC 4180 line ends")
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(content, []byte("\ufeff"))))
	records, err := r.ReadAll()
	require.NoError(t, err)
	require.Equal(t, logexport.DefaultFields, records[0])
	require.Len(t, records, n+1)
	for i, rec := range records[1:] {
		e := testEvent(i)
		require.Equal(t, []string{
			e.Timestamp.In(time.FixedZone("JST", 9*3600)).Format(time.RFC3339Nano),
			e.Host.Name, e.User.Name, e.Source.IP,
			e.Event.Code, e.Event.Action, e.Event.Outcome,
			// encoding/csv reads CRLF inside a quoted field as LF.
			e.Message,
		}, rec, "record %d", i)
	}
	require.Equal(t, "2026-11-26T09:00:00+09:00", records[1][0])
	require.Equal(t, "田中", records[1][2])
	require.Equal(t, "ログオン失敗", records[1][5])
	require.Equal(t, "logon #1, \"interactive\"\nsecond line", records[2][7])
	require.NoError(t, logexport.Verify(dir))
}

func TestCSVColumnsFilterAndNoBOM(t *testing.T) {
	const n = 400
	s := openStore(t, n)
	dir := t.TempDir()
	req := filtered(logexport.CSV)
	req.Fields = []string{"event.id", "tags", "user.name", "no.such.field"}
	req.Location = time.UTC
	req.NoBOM = true
	m, err := logexport.Run(context.Background(), s, req, dir, nil)
	require.NoError(t, err)
	require.False(t, m.Request.BOM)
	content := gunzip(t, filepath.Join(dir, "events.csv.gz"))
	require.True(t, bytes.HasPrefix(content, []byte("event.id,tags,")))
	records, err := csv.NewReader(bytes.NewReader(content)).ReadAll()
	require.NoError(t, err)
	var ids []string
	for _, rec := range records[1:] {
		ids = append(ids, rec[0])
		require.Equal(t, "windows;security", rec[1], "arrays joined with ;")
		require.Empty(t, rec[3], "an absent field is an empty cell")
	}
	require.Equal(t, wantIDs(n, keepFiltered), ids)
	require.NoError(t, logexport.Verify(dir))
}

func TestEmptyResult(t *testing.T) {
	s := openStore(t, 10)
	for _, f := range []logexport.Format{logexport.NDJSON, logexport.CSV} {
		dir := t.TempDir()
		req := logexport.Request{Query: "user.name:nobody", From: base, To: base.Add(time.Hour), Format: f}
		m, err := logexport.Run(context.Background(), s, req, dir, nil)
		require.NoError(t, err)
		require.Zero(t, m.Events)
		require.NoError(t, logexport.Verify(dir))
	}
}

func TestChecksums(t *testing.T) {
	s := openStore(t, 200)
	dir := t.TempDir()
	req := logexport.Request{Query: "田中", From: base, To: base.Add(24 * time.Hour), Format: logexport.NDJSON}
	m, err := logexport.Run(context.Background(), s, req, dir, nil)
	require.NoError(t, err)
	require.Equal(t, int64(20), m.Events, "free text finds 田中 in the failed logons' messages")

	data, err := os.ReadFile(filepath.Join(dir, m.File.Name))
	require.NoError(t, err)
	require.Equal(t, m.File.SHA256, sum(data))
	require.Equal(t, m.File.Size, int64(len(data)))

	manifest, err := os.ReadFile(filepath.Join(dir, logexport.ManifestFile))
	require.NoError(t, err)
	require.Equal(t, m.Digest(), sum(manifest), "the digest is sha256sum manifest.json")
	read, err := logexport.ReadManifest(dir)
	require.NoError(t, err)
	require.Equal(t, m.Digest(), read.Digest(), "the digest survives a round trip")

	sums, err := os.ReadFile(filepath.Join(dir, logexport.SumsFile))
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("%s  events.ndjson.gz\n%s  manifest.json\n", sum(data), sum(manifest)), string(sums))

	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Log("sha256sum not installed; checked the format only")
	} else {
		cmd := exec.Command("sha256sum", "--strict", "-c", logexport.SumsFile)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Equal(t, "events.ndjson.gz: OK\nmanifest.json: OK\n", string(out))
	}

	c := logexport.NewCustody(m, "yamada@city.example.jp", base, "mamori casework on soc-01")
	require.Equal(t, m.Digest(), c.ManifestSHA256)
	require.Equal(t, m.Finished, c.FulfilledAt)
	require.NoError(t, c.Check(dir))
}

// export returns a fresh, verified NDJSON or CSV export of 300 events.
func export(t *testing.T, s store.Store, f logexport.Format) (string, logexport.Manifest) {
	t.Helper()
	dir := t.TempDir()
	m, err := logexport.Run(context.Background(), s, logexport.Request{From: base, To: base.Add(24 * time.Hour), Format: f}, dir, nil)
	require.NoError(t, err)
	require.NoError(t, logexport.Verify(dir))
	return dir, m
}

func TestTampering(t *testing.T) {
	s := openStore(t, 300)
	edit := func(t *testing.T, path string, change func([]byte) []byte) {
		t.Helper()
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, change(b), 0o600))
	}
	// recompress rewrites the data file with one event changed, compressed
	// again, and returns its new checksums.
	recompress := func(t *testing.T, dir string, m logexport.Manifest) logexport.FileInfo {
		t.Helper()
		content := gunzip(t, filepath.Join(dir, m.File.Name))
		changed := bytes.Replace(content, []byte("#7"), []byte("#8"), 1)
		require.NotEqual(t, content, changed)
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, err := zw.Write(changed)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		require.NoError(t, os.WriteFile(filepath.Join(dir, m.File.Name), buf.Bytes(), 0o600))
		return logexport.FileInfo{Name: m.File.Name, Size: int64(buf.Len()), SHA256: sum(buf.Bytes()),
			ContentSize: int64(len(changed)), ContentSHA256: sum(changed)}
	}
	writeManifest := func(t *testing.T, dir string, m logexport.Manifest) {
		t.Helper()
		b, err := m.Encode()
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, logexport.ManifestFile), b, 0o600))
	}

	for _, f := range []logexport.Format{logexport.NDJSON, logexport.CSV} {
		name := "events." + string(f) + ".gz"
		cases := []struct {
			name   string
			tamper func(t *testing.T, dir string, m logexport.Manifest)
			want   string
		}{
			{"one compressed byte", func(t *testing.T, dir string, m logexport.Manifest) {
				edit(t, filepath.Join(dir, name), func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
			}, name + ": "},
			{"one content byte, recompressed", func(t *testing.T, dir string, m logexport.Manifest) {
				recompress(t, dir, m)
			}, name + ": "},
			{"a byte appended", func(t *testing.T, dir string, m logexport.Manifest) {
				edit(t, filepath.Join(dir, name), func(b []byte) []byte { return append(b, 0) })
			}, name},
			{"data file removed", func(t *testing.T, dir string, m logexport.Manifest) {
				require.NoError(t, os.Remove(filepath.Join(dir, name)))
			}, name},
			{"count edited in the manifest", func(t *testing.T, dir string, m logexport.Manifest) {
				m.Events--
				writeManifest(t, dir, m)
			}, name + ": 300 events, manifest says 299"},
			{"manifest edited by hand", func(t *testing.T, dir string, m logexport.Manifest) {
				edit(t, filepath.Join(dir, logexport.ManifestFile), func(b []byte) []byte {
					return bytes.Replace(b, []byte(`"events": 300`), []byte(`"events":300`), 1)
				})
			}, "manifest.json: not in canonical form"},
			{"data and manifest forged, sums not", func(t *testing.T, dir string, m logexport.Manifest) {
				m.File = recompress(t, dir, m)
				writeManifest(t, dir, m)
			}, "SHA256SUMS: " + name + " has sha256"},
			{"sums edited", func(t *testing.T, dir string, m logexport.Manifest) {
				edit(t, filepath.Join(dir, logexport.SumsFile), func(b []byte) []byte { b[0] ^= 1; return b })
			}, "SHA256SUMS: " + name},
			{"sums extended", func(t *testing.T, dir string, m logexport.Manifest) {
				edit(t, filepath.Join(dir, logexport.SumsFile), func(b []byte) []byte {
					return append(b, strings.Repeat("0", 64)+"  other.gz\n"...)
				})
			}, `SHA256SUMS: line 3 names "other.gz"`},
		}
		for _, c := range cases {
			t.Run(string(f)+"/"+c.name, func(t *testing.T) {
				dir, m := export(t, s, f)
				custody := logexport.NewCustody(m, "yamada", base, "mamori")
				c.tamper(t, dir, m)
				err := logexport.Verify(dir)
				require.Error(t, err)
				require.Contains(t, err.Error(), c.want)
				require.Error(t, custody.Check(dir))
				if !strings.Contains(c.name, "removed") {
					require.ErrorIs(t, err, logexport.ErrMismatch)
				}
			})
		}
		t.Run(string(f)+"/everything forged consistently", func(t *testing.T) {
			dir, m := export(t, s, f)
			custody := logexport.NewCustody(m, "yamada", base, "mamori")
			m.File = recompress(t, dir, m)
			writeManifest(t, dir, m)
			manifest, err := os.ReadFile(filepath.Join(dir, logexport.ManifestFile))
			require.NoError(t, err)
			sums := fmt.Sprintf("%s  %s\n%s  manifest.json\n", m.File.SHA256, name, sum(manifest))
			require.NoError(t, os.WriteFile(filepath.Join(dir, logexport.SumsFile), []byte(sums), 0o600))
			require.NoError(t, logexport.Verify(dir), "the files agree with each other")
			err = custody.Check(dir)
			require.ErrorIs(t, err, logexport.ErrMismatch)
			require.Contains(t, err.Error(), "manifest.json: sha256")
			require.Contains(t, err.Error(), "the custody record says "+custody.ManifestSHA256)
		})
	}
}

func TestProgress(t *testing.T) {
	const n = 2500
	s := openStore(t, n)
	type call struct{ done, total int64 }
	var calls []call
	req := logexport.Request{From: base, To: base.Add(7 * 24 * time.Hour), Format: logexport.CSV}
	m, err := logexport.Run(context.Background(), s, req, t.TempDir(), func(done, total int64) {
		calls = append(calls, call{done, total})
	})
	require.NoError(t, err)
	require.Equal(t, int64(n), m.Events)
	require.Equal(t, []call{{0, n}, {1000, n}, {2000, n}, {n, n}}, calls)
}

func TestCancel(t *testing.T) {
	const n = 2500
	s := openStore(t, n)
	for _, f := range []logexport.Format{logexport.NDJSON, logexport.CSV} {
		t.Run(string(f), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			dir := t.TempDir()
			req := logexport.Request{From: base, To: base.Add(7 * 24 * time.Hour), Format: f}
			var last int64
			_, err := logexport.Run(ctx, s, req, dir, func(done, total int64) {
				last = done
				if done == 1000 {
					// Show that a partial file exists while the export runs.
					names := listDir(t, dir)
					require.Len(t, names, 1)
					require.True(t, strings.HasSuffix(names[0], ".partial"), names[0])
					cancel()
				}
			})
			require.ErrorIs(t, err, context.Canceled)
			require.Equal(t, int64(1000), last, "the export stopped at once")
			require.Empty(t, listDir(t, dir), "nothing is left behind")
			_, err = logexport.ReadManifest(dir)
			require.ErrorIs(t, err, os.ErrNotExist)
		})
	}
}

func TestRefusals(t *testing.T) {
	s := openStore(t, 100)
	ctx := context.Background()

	t.Run("existing export", func(t *testing.T) {
		dir, m := export(t, s, logexport.NDJSON)
		_, err := logexport.Run(ctx, s, logexport.Request{From: base, To: base.Add(time.Hour), Format: logexport.NDJSON}, dir, nil)
		require.ErrorIs(t, err, logexport.ErrExists)
		require.Contains(t, err.Error(), "manifest.json")
		require.NoError(t, logexport.Verify(dir), "the first export is untouched")
		got, err := logexport.ReadManifest(dir)
		require.NoError(t, err)
		require.Equal(t, m.Digest(), got.Digest())
	})

	t.Run("too many events", func(t *testing.T) {
		dir := t.TempDir()
		req := logexport.Request{From: base, To: base.Add(24 * time.Hour), Format: logexport.CSV, MaxEvents: 99}
		_, err := logexport.Run(ctx, s, req, dir, nil)
		require.ErrorIs(t, err, logexport.ErrTooManyEvents)
		require.Contains(t, err.Error(), "100 match, at most 99 allowed")
		require.Empty(t, listDir(t, dir))
		req.MaxEvents = 100
		_, err = logexport.Run(ctx, s, req, dir, nil)
		require.NoError(t, err)
	})
}

func TestInvalidRequests(t *testing.T) {
	s := openStore(t, 1)
	ok := logexport.Request{From: base, To: base.Add(time.Hour), Format: logexport.CSV}
	cases := []struct {
		name   string
		change func(r *logexport.Request)
		want   string
	}{
		{"bad KQL", func(r *logexport.Request) { r.Query = "host.name:(a or" }, "query: "},
		{"bad value for the field type", func(r *logexport.Request) { r.Query = "source.ip:10.0.0.0/99" }, "query: "},
		{"no range", func(r *logexport.Request) { r.From, r.To = time.Time{}, time.Time{} }, "time range: from and to are required"},
		{"no from", func(r *logexport.Request) { r.From = time.Time{} }, "time range: from is required"},
		{"no to", func(r *logexport.Request) { r.To = time.Time{} }, "time range: to is required"},
		{"reversed range", func(r *logexport.Request) { r.From, r.To = r.To, r.From },
			"time range: from (2026-11-26T01:00:00Z) must be before to (2026-11-26T00:00:00Z)"},
		{"empty range", func(r *logexport.Request) { r.To = r.From }, "must be before to"},
		{"no format", func(r *logexport.Request) { r.Format = "" }, "format is required: ndjson or csv"},
		{"unknown format", func(r *logexport.Request) { r.Format = "xlsx" }, `format "xlsx": want ndjson or csv`},
		{"empty column", func(r *logexport.Request) { r.Fields = []string{"host.name", " "} }, "fields: column 2 has no name"},
		{"spaced column", func(r *logexport.Request) { r.Fields = []string{" host.name"} }, `fields: column 1 " host.name" has surrounding spaces`},
		{"repeated column", func(r *logexport.Request) { r.Fields = []string{"host.name", "host.name"} }, `fields: column "host.name" appears twice`},
		{"columns for ndjson", func(r *logexport.Request) { r.Format = logexport.NDJSON; r.Fields = []string{"host.name"} }, "columns apply to csv only"},
		{"negative cap", func(r *logexport.Request) { r.MaxEvents = -1 }, "max events -1: want 0 (no limit) or more"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ok
			c.change(&r)
			err := r.Validate()
			require.ErrorIs(t, err, logexport.ErrInvalidRequest)
			require.Contains(t, err.Error(), c.want)
			dir := filepath.Join(t.TempDir(), "export")
			_, err = logexport.Run(context.Background(), s, r, dir, nil)
			require.ErrorIs(t, err, logexport.ErrInvalidRequest)
			require.NoDirExists(t, dir, "nothing is created for an invalid request")
		})
	}
	t.Run("every problem at once", func(t *testing.T) {
		err := logexport.Request{Format: "pdf", MaxEvents: -5}.Validate()
		require.EqualError(t, err, `logexport: invalid request: time range: from and to are required; format "pdf": want ndjson or csv; max events -5: want 0 (no limit) or more`)
	})
	require.NoError(t, ok.Validate())
}

func TestLongEvent(t *testing.T) {
	s := openStore(t, 0)
	e := testEvent(0)
	e.Message = strings.Repeat("ログオン失敗 ", 20_000) // 380 KB, longer than any read buffer
	src, err := event.Marshal(&e)
	require.NoError(t, err)
	_, err = s.Index(context.Background(), store.Events, []store.Doc{{ID: e.Event.ID, Source: src}})
	require.NoError(t, err)
	for _, f := range []logexport.Format{logexport.NDJSON, logexport.CSV} {
		dir, m := export(t, s, f)
		require.Equal(t, int64(1), m.Events)
		require.Greater(t, m.File.ContentSize, int64(len(e.Message)))
		require.NoError(t, logexport.Verify(dir))
	}
}
