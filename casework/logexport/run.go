package logexport

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mamori-soc/mamori/search"
	"github.com/mamori-soc/mamori/store"
)

// pageSize is how many events Run reads from the store at a time.
const pageSize = 1000

// progressEvery is how many events Run writes between progress calls.
const progressEvery = pageSize

// Run fulfils req from s: it writes the data file, manifest.json and
// SHA256SUMS into dir (created if missing) and returns the manifest.
//
// Events are those of store.Events matching the query with From <=
// @timestamp < To, oldest first (ties by document id). When progress is not
// nil it is called on Run's goroutine with the number of events written
// and the number counted at the start: once before the first event, every
// 1,000 events, and once at the end. done may exceed total when events are
// stored within the range during the export.
//
// Run refuses a directory that already holds an export (ErrExists), an
// invalid request (ErrInvalidRequest) and, before writing anything, more
// matching events than req.MaxEvents (ErrTooManyEvents). On any error,
// cancellation of ctx included, it removes the files it wrote.
func Run(ctx context.Context, s store.Store, req Request, dir string, progress func(done, total int64)) (Manifest, error) {
	if err := req.Validate(); err != nil {
		return Manifest{}, err
	}
	req = req.withDefaults()
	if progress == nil {
		progress = func(int64, int64) {}
	}
	started := time.Now()
	resolved, err := search.Resolve(search.Request{
		Query: req.Query,
		From:  req.From.Format(time.RFC3339Nano),
		To:    req.To.Format(time.RFC3339Nano),
		Sort:  "@timestamp:asc",
		Size:  pageSize,
	}, started, req.Location)
	if err != nil {
		return Manifest{}, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Manifest{}, fmt.Errorf("logexport: %w", err)
	}
	name := req.Format.fileName()
	for _, n := range []string{ManifestFile, SumsFile, name} {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			return Manifest{}, fmt.Errorf("%w: %s", ErrExists, filepath.Join(dir, n))
		} else if !errors.Is(err, os.ErrNotExist) {
			return Manifest{}, fmt.Errorf("logexport: %w", err)
		}
	}
	total, err := s.Count(ctx, resolved.Query)
	if err != nil {
		return Manifest{}, fmt.Errorf("logexport: count: %w", err)
	}
	if req.MaxEvents > 0 && total > req.MaxEvents {
		return Manifest{}, fmt.Errorf("%w: %d match, at most %d allowed: narrow the query or the time range", ErrTooManyEvents, total, req.MaxEvents)
	}

	m := Manifest{
		Version: ManifestVersion,
		Request: ManifestRequest{
			Query:     req.Query,
			From:      req.From.In(req.Location),
			To:        req.To.In(req.Location),
			Format:    req.Format,
			Location:  req.Location.String(),
			MaxEvents: req.MaxEvents,
			BOM:       req.Format == CSV && !req.NoBOM,
		},
		Started: started.In(req.Location).Round(0),
		Matched: total,
	}
	if req.Format == CSV {
		m.Request.Fields = req.Fields
	}

	var tmps []string
	defer func() {
		for _, t := range tmps {
			os.Remove(t)
		}
	}()
	tmp, err := os.CreateTemp(dir, "."+name+".*.partial")
	if err != nil {
		return Manifest{}, fmt.Errorf("logexport: %w", err)
	}
	tmps = append(tmps, tmp.Name())
	m.File, m.Events, err = writeEvents(ctx, s, resolved.SearchRequest, req, tmp, total, progress)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("logexport: %w", cerr)
	}
	if err != nil {
		return Manifest{}, err
	}
	m.File.Name = name
	m.Finished = time.Now().In(req.Location).Round(0)

	manifest, err := m.Encode()
	if err != nil {
		return Manifest{}, err
	}
	sums := sumsFile(m, manifest)
	mtmp, err := writeTemp(dir, ManifestFile, manifest)
	if mtmp != "" {
		tmps = append(tmps, mtmp)
	}
	if err != nil {
		return Manifest{}, err
	}
	stmp, err := writeTemp(dir, SumsFile, sums)
	if stmp != "" {
		tmps = append(tmps, stmp)
	}
	if err != nil {
		return Manifest{}, err
	}
	if err := ctx.Err(); err != nil {
		return Manifest{}, err
	}
	// The manifest goes last: its presence claims a complete export.
	var renamed []string
	for _, r := range []struct{ from, to string }{{tmp.Name(), name}, {stmp, SumsFile}, {mtmp, ManifestFile}} {
		to := filepath.Join(dir, r.to)
		if err := os.Rename(r.from, to); err != nil {
			for _, n := range renamed {
				os.Remove(n)
			}
			return Manifest{}, fmt.Errorf("logexport: %w", err)
		}
		renamed = append(renamed, to)
	}
	tmps = nil
	if err := syncDir(dir); err != nil {
		return Manifest{}, err
	}
	progress(m.Events, total)
	return m, nil
}

// writeEvents streams the matching events into f and returns the file's
// sizes and checksums (without its name) and the number of events.
func writeEvents(ctx context.Context, s store.Store, sr store.SearchRequest, req Request, f *os.File, total int64, progress func(done, total int64)) (FileInfo, int64, error) {
	file := &hashWriter{w: f, h: sha256.New()}
	buf := bufio.NewWriterSize(file, 256<<10)
	zw, err := gzip.NewWriterLevel(buf, gzip.DefaultCompression)
	if err != nil {
		return FileInfo{}, 0, err
	}
	// A fixed header (no time) so that equal content compresses to equal
	// bytes; the name lets `gunzip -N` restore it.
	zw.Name = req.Format.fileName()[:len(req.Format.fileName())-len(".gz")]
	content := &hashWriter{w: zw, h: sha256.New()}
	enc, err := newEncoder(req, content)
	if err != nil {
		return FileInfo{}, 0, err
	}
	var n int64
	progress(0, total)
	err = s.Export(ctx, sr, func(h store.Hit) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if req.MaxEvents > 0 && n >= req.MaxEvents {
			return fmt.Errorf("%w: more than %d stored during the export: narrow the query or the time range", ErrTooManyEvents, req.MaxEvents)
		}
		if err := enc.encode(h.Source); err != nil {
			return fmt.Errorf("logexport: event %s: %w", h.ID, err)
		}
		n++
		if n%progressEvery == 0 {
			progress(n, total)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrTooManyEvents) {
			return FileInfo{}, 0, err
		}
		return FileInfo{}, 0, fmt.Errorf("logexport: export: %w", err)
	}
	if err := enc.flush(); err != nil {
		return FileInfo{}, 0, fmt.Errorf("logexport: %w", err)
	}
	if err := zw.Close(); err != nil {
		return FileInfo{}, 0, fmt.Errorf("logexport: %w", err)
	}
	if err := buf.Flush(); err != nil {
		return FileInfo{}, 0, fmt.Errorf("logexport: %w", err)
	}
	if err := f.Sync(); err != nil {
		return FileInfo{}, 0, fmt.Errorf("logexport: %w", err)
	}
	return FileInfo{
		Size:          file.n,
		SHA256:        hex.EncodeToString(file.h.Sum(nil)),
		ContentSize:   content.n,
		ContentSHA256: hex.EncodeToString(content.h.Sum(nil)),
	}, n, nil
}

// encoder writes events in one format.
type encoder interface {
	encode(src json.RawMessage) error
	flush() error
}

func newEncoder(req Request, w io.Writer) (encoder, error) {
	if req.Format == CSV {
		return newCSVEncoder(w, req.Fields, req.Location, !req.NoBOM)
	}
	return &ndjsonEncoder{w: bufio.NewWriterSize(w, 64<<10)}, nil
}

// ndjsonEncoder writes each document as stored, one per line.
type ndjsonEncoder struct {
	w       *bufio.Writer
	compact bytes.Buffer
}

func (e *ndjsonEncoder) encode(src json.RawMessage) error {
	if bytes.ContainsAny(src, "\r\n") {
		// A document stored with line breaks between its tokens would span
		// lines; compacting keeps it one line with the same meaning.
		e.compact.Reset()
		if err := json.Compact(&e.compact, src); err != nil {
			return err
		}
		src = e.compact.Bytes()
	}
	if _, err := e.w.Write(src); err != nil {
		return err
	}
	return e.w.WriteByte('\n')
}

func (e *ndjsonEncoder) flush() error { return e.w.Flush() }

// hashWriter counts and hashes what it writes through.
type hashWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (w *hashWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

// sumsFile returns SHA256SUMS for the export: the data file and the
// manifest, in the format of GNU sha256sum.
func sumsFile(m Manifest, manifest []byte) []byte {
	sum := sha256.Sum256(manifest)
	return fmt.Appendf(nil, "%s  %s\n%s  %s\n", m.File.SHA256, m.File.Name, hex.EncodeToString(sum[:]), ManifestFile)
}

// writeTemp writes data to a new temporary file in dir, synced, and returns
// its name (also on error, once it exists).
func writeTemp(dir, name string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, "."+name+".*.partial")
	if err != nil {
		return "", fmt.Errorf("logexport: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return f.Name(), fmt.Errorf("logexport: %w", err)
	}
	return f.Name(), nil
}

// syncDir makes the renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("logexport: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("logexport: sync %s: %w", dir, err)
	}
	return nil
}
