// Package detections is the core of Mamori's detection engine: the rule model
// every rule format compiles to, the dispatch index that hands an event only
// to the rules that can match it, rule and global exceptions in KQL, alert
// documents with deterministic ids, deduplication within a suppression
// window, and the two steps of the detect stage.
//
// The package has no rule format of its own. Native rules (package
// detections/native) and Sigma rules and correlations (detections/sigma)
// compile to a Rule whose Detector holds the logic; a Rule's metadata
// (severity, ATT&CK, entity fields, suppression, exceptions) is shared by
// every format.
//
// # Detectors
//
// A Detector's Match is the stateless selection ("a failed logon"). A
// stateful detector (threshold, sequence, correlations, new terms, rate
// anomaly, absence) also implements Stateful: its GroupKey says which group
// an event belongs to and its State does the aggregation ("ten of them for
// one user within five minutes"). Time is always event time (the event's
// @timestamp and a watermark derived from it), never the wall clock, so a
// replay gives the same alerts.
//
// # The detect stage
//
// Select (any number of workers) reads mamori.events, runs the engine and
// publishes every match to mamori.detect.matches, keyed by the rule and the
// group key (the dedup key for stateless rules): every match of one group
// lands in one partition, whichever worker found it. It also reports, per
// partition of mamori.events, the latest event time it has processed.
//
// Correlate (one owner per partition of mamori.detect.matches) derives a
// watermark from those reports (the earliest event time among busy
// sources, minus the allowed lateness), observes the matches in event-time
// order once the watermark has passed them, aggregates hits into alerts and
// publishes them to mamori.alerts. Its state is snapshotted per partition to
// the store with the offset it covers; after a restart or a rebalance the
// snapshot is restored and the records after it are replayed from the bus.
// So the alerts are the same with one worker or many, and a restart loses
// no open window.
//
// # Alerts and deduplication
//
// An alert is an ECS document (event.kind: alert). Hits of one rule with the
// same key (a stateful rule's group key, then the rule's dedup key) whose
// event times fall into the same suppression window update one alert
// (count, first and last seen, the earliest triggering event ids) instead of
// making new ones. Windows are aligned to the Unix epoch, so the alert id,
// derived from the rule id, the key and the window start, is the same on
// every worker and in every replay. An alert is published again each time
// it grows; AlertIndex keeps the newest version in the store.
//
// Replayer runs the same code in one process over a list or a stream of
// events: `mamori rules test` and `mamori rules backtest` use it.
package detections
