// Package ruletest runs detection rule test files: YAML files of input
// events and the alerts a rule must raise on them, the way promtool tests
// Prometheus alerting rules. It is the engine of `mamori rules test DIR`
// and of the built-in pack's own tests.
//
// # Test files
//
// A test file sits next to its rule and is named after it with .test.yaml
// (or .test.yml) in place of .yaml: logon_off_hours.yaml is tested by
// logon_off_hours.test.yaml. It names one rule by id and holds named cases.
// Each case runs on its own, with fresh state, through detections.Replay:
// the events are evaluated in @timestamp order exactly as the detect stage
// does, the watermark is then advanced to until (so windows close and
// silences show) and the alerts are compared with expect.
//
//	rule: mamori.win.brute_force_account
//	defaults:                       # fields of every event of every case
//	  event.code: "4625"
//	  event.outcome: failure
//	  host.name: FS01.city.example.lg.jp
//	cases:
//	  - name: ten failures for 田中 within ten minutes
//	    events:
//	      - repeat: {count: 10, every: 30s}
//	        event: {"@timestamp": "2026-09-24T10:00:00+09:00", user.name: 田中, source.ip: "10.20.12.{{n}}"}
//	    expect:
//	      - {count: 10, user: 田中, first: "2026-09-24T10:00:00+09:00", last: "2026-09-24T10:04:30+09:00"}
//	  - name: nine failures are not enough
//	    events:
//	      - repeat: {count: 9, every: 30s}
//	        event: {"@timestamp": "2026-09-24T10:00:00+09:00", user.name: 田中}
//	    expect: []                  # no alert
//
// The keys of a file are rule, the id of the rule under test (required; a
// file whose rule is not loaded fails), defaults, fields every event of
// every case starts from (optional), and cases (at least one). The keys of
// a case:
//
//   - name: unique within the file (required).
//   - defaults: fields laid over the file's defaults for this case.
//   - events: the input events, in any order (they are sorted by
//     @timestamp; events with the same time keep their written order).
//   - until: where the watermark ends, an RFC 3339 time with a zone or
//     "+DURATION" after the last event ("+45m", "+2d"); without it the
//     watermark stops at the last event, so open windows stay open.
//   - expect: the alerts (required: write [] for "no alert").
//
// Unknown keys are errors, as in rule files.
//
// An event is a mapping of ECS fields, by dotted name ("user.name") or
// nested ("user: {name: x}"). @timestamp is required, in RFC 3339 with an
// explicit zone ("2026-09-21T02:30:00+09:00" or "...Z"). Values are written
// as YAML scalars and lists; their type comes from the field: typed ECS
// fields take the catalogue's type (source.port a number, @timestamp a
// time), every other field, winlog.event_data.* included, keeps the text as
// written, so `SubStatus: 0xC0000072` stays that string. A null value
// removes a default. event.kind is "event" and event.id is generated (in
// written order) unless given.
//
// An event may instead be a repetition, which keeps volume tests short:
//
//	events:
//	  - repeat: {count: 50, every: 72s}
//	    event: {"@timestamp": "2026-09-01T00:00:00+09:00", host.name: "PC-{{n}}"}
//
// makes count events, the k-th (k from 1) at @timestamp + (k-1)*every, with
// {{n}} in any value replaced by k. {{n%M}} is k modulo M, for cycling
// through a few values.
//
// An expected alert lists only what the test cares about: rule (default the
// file's rule), count (mamori.alert.count), user (user.name), host
// (host.name), source (source.ip, or source.address), first and last
// (event.start and event.end, compared as instants). A key left out is not
// compared; an empty string requires the alert to lack that entity. Alerts
// are matched to expectations in any order; the case passes when every
// expectation matches a different alert and no alert is left over.
//
// # Running
//
// Run finds every test file in a file system and runs it against the rules
// given (normally those loaded from the same directory by package
// detections/ruleset). A test file that cannot be read or decoded, or whose
// rule is missing, is reported as failed, never skipped; Run itself fails
// only when the file system cannot be walked or the context ends.
// Report.Write prints the result for people, with a diff of expected and
// actual alerts for each failed case.
package ruletest
