package logexport

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// File names in an export directory.
const (
	ManifestFile = "manifest.json"
	SumsFile     = "SHA256SUMS"
)

// ManifestVersion is the version of the manifest format Run writes.
const ManifestVersion = 1

// Manifest describes a completed export. Run writes it to manifest.json in
// its canonical encoding (see Encode).
type Manifest struct {
	Version int             `json:"version"`
	Request ManifestRequest `json:"request"`
	// Started and Finished bound the export. Started also anchors "now" in
	// the query.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Matched is how many events the store counted before the export
	// began; Events is how many were written. They differ only when events
	// were stored within the range during the export: Events is the
	// figure the file holds.
	Matched int64 `json:"matched"`
	Events  int64 `json:"events"`
	// File is the data file.
	File FileInfo `json:"file"`
}

// ManifestRequest is the request as fulfilled, defaults applied.
type ManifestRequest struct {
	Query     string    `json:"query"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Format    Format    `json:"format"`
	Fields    []string  `json:"fields,omitempty"`
	Location  string    `json:"location"`
	MaxEvents int64     `json:"max_events,omitempty"`
	BOM       bool      `json:"bom,omitempty"`
}

// FileInfo identifies the data file of an export.
type FileInfo struct {
	Name string `json:"name"`
	// Size and SHA256 are of the compressed file as stored.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// ContentSize and ContentSHA256 are of the uncompressed content.
	ContentSize   int64  `json:"content_size"`
	ContentSHA256 string `json:"content_sha256"`
}

// Encode returns the canonical encoding of the manifest: encoding/json with
// two-space indentation and a final newline, fields in declaration order.
// Run writes exactly these bytes to manifest.json.
func (m Manifest) Encode() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("logexport: encode manifest: %w", err)
	}
	return append(b, '\n'), nil
}

// Digest returns the SHA-256 of the canonical manifest encoding in hex: the
// value a chain-of-custody record keeps. For a manifest read from an export
// directory it equals `sha256sum manifest.json`.
func (m Manifest) Digest() string {
	b, err := m.Encode()
	if err != nil {
		// A Manifest holds only strings, numbers and times, which always
		// encode; a time outside years 0-9999 is the one exception.
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// ReadManifest reads the manifest of the export in dir.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return m, fmt.Errorf("logexport: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: %s: %w", ErrMismatch, ManifestFile, err)
	}
	if m.Version != ManifestVersion {
		return m, fmt.Errorf("%w: %s: version %d, want %d", ErrMismatch, ManifestFile, m.Version, ManifestVersion)
	}
	return m, nil
}
