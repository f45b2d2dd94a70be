// Package native reads Mamori's native rule format: one YAML rule per file
// for what Sigma lacks, such as logons outside business hours reckoned on
// the business calendar, thresholds, sequences, first-seen terms, per-entity
// rate anomalies and silent sources.
//
// Parse compiles one file to a detections.Rule and Load compiles every
// native rule in a file system, leaving Sigma files to package
// detections/sigma (IsNative tells the two apart). Decoding is strict: an
// unknown key is an error, and every error names the file, the rule id and
// the key at fault, such as
//
//	rules/x.yaml: mamori.win.x: threshold.window: missing
//
// # Kinds
//
// A rule's kind chooses its Detector:
//
//   - query: every event that matches the KQL query is a hit.
//   - off_hours: every event that matches the query and whose @timestamp is
//     outside business hours, on a closed day or within a daily window
//     (business calendar, package calendar) is a hit. The off_hours section
//     may also narrow the selection of any other kind.
//   - threshold: count (or distinct values) per group in a sliding window of
//     event time.
//   - sequence: ordered steps per group within a span of event time.
//   - new_terms: a value never seen for the group within a history.
//   - anomaly: per-group event counts per bucket against a baseline per
//     hour of week.
//   - absence: a group that was seen falls silent.
//
// The stateful kinds implement detections.Stateful; anomaly and absence
// also implement detections.Summarizer. Their states work in event time
// only, keep themselves bounded (a maximum number of tracked entities,
// Options.MaxGroups, evicting those with the oldest last event first, plus a
// TTL in event time per kind, described with each kind) and snapshot to
// versioned JSON.
//
// # Prerequisites
//
// Parse derives the rule's dispatch prerequisites from the planned KQL
// query where they are implied by it: exact equality on a keyword, long,
// double or boolean field in a top-level AND (or alone), or an OR of such
// conditions that all name the same field. Wildcards, negations, ranges,
// phrases and IP conditions give none. A sequence gets only the fields
// every step implies, with the union of their values.
package native
