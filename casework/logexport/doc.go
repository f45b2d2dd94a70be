// Package logexport fulfils log-retrieval requests (SLA item 11): a KQL query
// over a time range, exported from the event store to a gzip-compressed file
// with a manifest of counts and SHA-256 checksums that the requester, and a
// later reviewer, can verify.
//
// Run writes three files into an export directory:
//
//	events.ndjson.gz or events.csv.gz  the events, oldest first
//	manifest.json                      the request, times, counts, sizes, checksums
//	SHA256SUMS                         for `sha256sum -c SHA256SUMS`
//
// Everything is streamed: events are read from the store page by page,
// written through the encoder, the content hash, gzip and the file hash in
// one pass, so memory stays flat however many events match. The data file is
// written under a temporary name and renamed when it is complete; the
// manifest is renamed last, so a directory holds a manifest only when the
// export it describes is complete. A failed or cancelled Run removes what it
// wrote.
//
// NDJSON holds each stored document exactly as the store returned it, one per
// line: it is the faithful form and the one to prefer for evidence. CSV
// (RFC 4180, CRLF line ends, written by encoding/csv) holds the requested
// columns only. Decisions about CSV, made for the requesters Mamori serves
// (Excel on Japanese Windows):
//
//   - The file starts with a UTF-8 byte order mark unless Request.NoBOM is
//     set. Without it Excel on Japanese Windows reads the file as Shift_JIS
//     and shows 田中 as mojibake; with it, tools that do not expect a BOM see
//     it before the first column name. The checksums cover the bytes as
//     written, BOM included.
//   - Times are RFC 3339 with the offset of Request.Location (Asia/Tokyo by
//     default), for example 2026-11-26T09:00:00.123+09:00: unambiguous
//     wherever the file is read.
//   - Array values are joined with ";"; objects inside arrays are written as
//     JSON; an absent field is an empty cell.
//   - Cells are written as stored, never altered. A cell that begins with =,
//     +, - or @ may be taken for a formula when the file is opened directly
//     in a spreadsheet; requesters should import it (Data > From Text/CSV)
//     rather than double-click it, or ask for NDJSON.
//
// The chain of custody is the caller's to store: NewCustody records who
// requested the export, who or what fulfilled it, when, and the manifest's
// Digest, which is also the SHA-256 of manifest.json as written (the file
// holds the canonical encoding), so `sha256sum manifest.json` reproduces it.
package logexport
