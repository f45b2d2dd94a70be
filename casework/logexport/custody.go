package logexport

import (
	"fmt"
	"time"
)

// Custody is the chain-of-custody record of one export, which the caller
// stores on the case. Together with the export directory it shows who asked
// for which events, who or what produced them, when, and that the files are
// those produced.
type Custody struct {
	// RequestedBy is the requester (an account name).
	RequestedBy string `json:"requested_by"`
	// RequestedAt is when the request was filed.
	RequestedAt time.Time `json:"requested_at"`
	// FulfilledBy is who or what ran the export: an operator's account, or
	// the Mamori component and host for an automatic fulfilment.
	FulfilledBy string `json:"fulfilled_by"`
	// FulfilledAt is when the export finished (Manifest.Finished).
	FulfilledAt time.Time `json:"fulfilled_at"`
	// ManifestSHA256 is Manifest.Digest: `sha256sum manifest.json`.
	ManifestSHA256 string `json:"manifest_sha256"`
	// File, FileSHA256 and Events repeat the manifest, so that the record
	// reads on its own.
	File       string `json:"file"`
	FileSHA256 string `json:"file_sha256"`
	Events     int64  `json:"events"`
}

// NewCustody returns the custody record of the export m.
func NewCustody(m Manifest, requestedBy string, requestedAt time.Time, fulfilledBy string) Custody {
	return Custody{
		RequestedBy:    requestedBy,
		RequestedAt:    requestedAt,
		FulfilledBy:    fulfilledBy,
		FulfilledAt:    m.Finished,
		ManifestSHA256: m.Digest(),
		File:           m.File.Name,
		FileSHA256:     m.File.SHA256,
		Events:         m.Events,
	}
}

// Check verifies the export in dir (see Verify) and that its manifest is
// the one this record names. Errors wrap ErrMismatch.
func (c Custody) Check(dir string) error {
	if err := Verify(dir); err != nil {
		return err
	}
	m, err := ReadManifest(dir)
	if err != nil {
		return err
	}
	if d := m.Digest(); d != c.ManifestSHA256 {
		return fmt.Errorf("%w: %s: sha256 %s, the custody record says %s", ErrMismatch, ManifestFile, d, c.ManifestSHA256)
	}
	return nil
}
