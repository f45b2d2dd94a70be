// Package detections is the core of Mamori's detection engine: the rule model
// every rule format compiles to, the dispatch index that hands an event only
// to the rules that can match it, rule and global exceptions in KQL, alert
// documents with deterministic ids, deduplication within a suppression window,
// and the detect stage that reads mamori.events and publishes mamori.alerts.
//
// The package has no rule format of its own. Sigma rules (package
// detections/sigma) and native rules compile to a Rule whose Detector holds
// the logic; a Rule's metadata (severity, ATT&CK, entity fields, suppression,
// exceptions) is shared by every format.
//
// # Detectors
//
// A Detector is stateless: Match reports whether one event matches. A
// stateful kind (threshold, event_count and value_count correlations, new
// terms, absence) also implements Observer: the engine then calls Observe
// with every event that passed the rule's prerequisites, Match and
// exceptions, and Advance with the event-time watermark after every batch,
// and alerts on the Hits they return. Match stays the cheap, stateless
// selection ("a failed logon"), Observe the aggregation ("ten of them for
// one user within five minutes"). Time is always event time (the event's
// @timestamp), never the wall clock, so a replay gives the same alerts.
//
// # Alerts, deduplication and delivery
//
// An alert is an ECS document (event.kind: alert). Hits of one rule with the
// same dedup key whose event times fall into the same suppression window
// update one alert (count, first and last seen, triggering event ids)
// instead of making new ones. Windows are aligned to the Unix epoch
// (window start = event time truncated to the suppression duration), so the
// window of an event does not depend on which events came before it: the
// alert id, derived from the rule id, the dedup key and the window start,
// is the same on every detect worker and in every replay, and a store that
// indexes alerts by id keeps one document per alert however often it is
// re-emitted.
//
// The detect stage publishes every alert a batch touched, in its updated
// form, together with the batch's dead letters in one Publish, and only
// then commits the updated dedup state: a batch that fails to publish is
// retried against the state it started from, so at-least-once redelivery
// within a process neither loses nor double-counts hits. The state lives in
// memory, bounded by a TTL in event time and by a maximum number of open
// alerts. After a restart an open window starts again from the events
// consumed since the last committed offset: its alert keeps its id and is
// overwritten with the new aggregate (the count restarts), never duplicated.
package detections
