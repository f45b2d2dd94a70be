package logexport

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Verify checks the export in dir against its manifest: the data file's
// size and SHA-256, its uncompressed size, SHA-256 and number of events,
// and every line of SHA256SUMS. Every error wraps ErrMismatch (or is the
// error reading a file) and names the file at fault.
//
// Verify proves the files agree with the manifest. That the manifest is the
// one delivered is the chain of custody's to prove: compare its Digest with
// the recorded one (Custody.Check does both).
func Verify(dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return fmt.Errorf("logexport: %w", err)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		return err
	}
	if canon, err := m.Encode(); err != nil || !bytes.Equal(canon, raw) {
		return fmt.Errorf("%w: %s: not in canonical form (edited after the export?)", ErrMismatch, ManifestFile)
	}
	switch m.Request.Format {
	case NDJSON, CSV:
	default:
		return fmt.Errorf("%w: %s: unknown format %q", ErrMismatch, ManifestFile, m.Request.Format)
	}
	if m.File.Name != m.Request.Format.fileName() {
		return fmt.Errorf("%w: %s: data file %q, want %q", ErrMismatch, ManifestFile, m.File.Name, m.Request.Format.fileName())
	}
	if err := verifyData(dir, m); err != nil {
		return err
	}
	manifestSum := sha256.Sum256(raw)
	return verifySums(dir, map[string]string{
		m.File.Name:  m.File.SHA256,
		ManifestFile: hex.EncodeToString(manifestSum[:]),
	})
}

// verifyData reads the data file once, checking the compressed and the
// uncompressed checksums and counting events.
func verifyData(dir string, m Manifest) error {
	name := m.File.Name
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("logexport: %w", err)
	}
	defer f.Close()
	file := &hashWriter{w: io.Discard, h: sha256.New()}
	zr, err := gzip.NewReader(bufio.NewReaderSize(io.TeeReader(f, file), 256<<10))
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrMismatch, name, err)
	}
	content := &hashWriter{w: io.Discard, h: sha256.New()}
	events, err := countEvents(io.TeeReader(zr, content), m)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrMismatch, name, err)
	}
	// Read what the count left (the gzip trailer, anything after it) so
	// that the file hash covers every byte.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrMismatch, name, err)
	}
	if _, err := io.Copy(file, f); err != nil {
		return fmt.Errorf("logexport: %s: %w", name, err)
	}
	var problems []string
	if file.n != m.File.Size {
		problems = append(problems, fmt.Sprintf("size %d, manifest says %d", file.n, m.File.Size))
	}
	if got := hex.EncodeToString(file.h.Sum(nil)); got != m.File.SHA256 {
		problems = append(problems, fmt.Sprintf("sha256 %s, manifest says %s", got, m.File.SHA256))
	}
	if content.n != m.File.ContentSize {
		problems = append(problems, fmt.Sprintf("uncompressed size %d, manifest says %d", content.n, m.File.ContentSize))
	}
	if got := hex.EncodeToString(content.h.Sum(nil)); got != m.File.ContentSHA256 {
		problems = append(problems, fmt.Sprintf("uncompressed sha256 %s, manifest says %s", got, m.File.ContentSHA256))
	}
	if events != m.Events {
		problems = append(problems, fmt.Sprintf("%d events, manifest says %d", events, m.Events))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s: %s", ErrMismatch, name, strings.Join(problems, "; "))
	}
	return nil
}

// countEvents counts the events of uncompressed content: lines of NDJSON,
// records after the header of CSV.
func countEvents(r io.Reader, m Manifest) (int64, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var n int64
	if m.Request.Format == NDJSON {
		for {
			line, err := br.ReadSlice('\n')
			if errors.Is(err, bufio.ErrBufferFull) {
				// A long line: read on to its end.
				for errors.Is(err, bufio.ErrBufferFull) {
					_, err = br.ReadSlice('\n')
				}
				line = []byte{'x'}
			}
			if len(line) > 0 {
				n++
			}
			if err == io.EOF {
				return n, nil
			}
			if err != nil {
				return n, err
			}
		}
	}
	if m.Request.BOM {
		b, err := br.Peek(len(bom))
		if err != nil || string(b) != bom {
			return 0, errors.New("no byte order mark, manifest says there is one")
		}
		br.Discard(len(bom))
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = len(m.Request.Fields)
	for {
		_, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		n++
	}
	if n == 0 {
		return 0, errors.New("no header")
	}
	return n - 1, nil
}

// verifySums checks that SHA256SUMS lists exactly the files of want with
// their checksums.
func verifySums(dir string, want map[string]string) error {
	b, err := os.ReadFile(filepath.Join(dir, SumsFile))
	if err != nil {
		return fmt.Errorf("logexport: %w", err)
	}
	seen := map[string]bool{}
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			sum, name, ok = strings.Cut(line, " *")
		}
		if !ok {
			return fmt.Errorf("%w: %s: line %d is not \"<sha256>  <file>\"", ErrMismatch, SumsFile, i+1)
		}
		w, listed := want[name]
		switch {
		case !listed:
			return fmt.Errorf("%w: %s: line %d names %q, which is not part of the export", ErrMismatch, SumsFile, i+1, name)
		case seen[name]:
			return fmt.Errorf("%w: %s: %q listed twice", ErrMismatch, SumsFile, name)
		case sum != w:
			return fmt.Errorf("%w: %s: %s has sha256 %s, the file's is %s", ErrMismatch, SumsFile, name, sum, w)
		}
		seen[name] = true
	}
	for name := range want {
		if !seen[name] {
			return fmt.Errorf("%w: %s: %s is not listed", ErrMismatch, SumsFile, name)
		}
	}
	return nil
}
