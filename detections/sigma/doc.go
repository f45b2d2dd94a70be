// Package sigma compiles Sigma detection rules (specification v2) into
// in-memory matchers over event.Event for the streaming detection engine.
//
// A rule's YAML is parsed here with gopkg.in/yaml.v3 (not through a
// third-party rule model, so nothing the rule says is lost), its Sigma field
// names are mapped to ECS field names by a Mapping (data: mappings/ecs.yaml is
// embedded as the default), and its detection is compiled into a tree of
// matchers. Rule implements kql.Matcher, so the engine treats Sigma rules and
// KQL exceptions alike.
//
// Supported: search identifiers as maps (AND), lists of maps (OR) and keyword
// lists (substring search in the mapping's keyword fields); null and empty
// values; numbers compared with strings by their text; case-insensitive
// matching by default (Unicode lower case; Japanese has no case); wildcards *
// and ? with \*, \? and \\ escapes; every modifier of the v2 appendix:
// contains, startswith, endswith, all, re with i, m and s, cidr (IPv4 and
// IPv6), base64, base64offset, utf16le, utf16be, utf16, wide, windash (- / and
// the en dash, em dash and horizontal bar), exists, cased, lt, lte, gt, gte,
// fieldref (alone or with contains, startswith, endswith, cased) and expand
// (placeholders from Config.Placeholders); conditions with and, or, not,
// parentheses, "1 of" and "all of" a pattern or "them"; Sigma filters
// (applied by Load to the rules they name by id or name); correlation rules
// (below); several rules in one file as a YAML multi-document.
//
// Reported at load, per rule, never silently ignored: rule collections
// (multi-document YAML with action: global), the metric correlations
// (value_sum, value_avg, value_percentile), extended (boolean string)
// correlation conditions, chains the engine cannot partition,
// v1 aggregations in conditions, timeframe, regular expressions Go's RE2
// cannot run (lookaround, backreferences), modifiers this package does not
// know, log sources and fields the Mapping does not cover, placeholders not
// configured. Each error is a *RuleError naming the file, the rule and the
// construct, and wraps ErrInvalid, ErrUnsupported or ErrMapping.
//
// Rule.Prefilter lists equality constraints every matching event satisfies
// (the log source conditions and exact values the detection requires, such
// as event ids), so an engine can index rules and run only those an event can
// match. Detections turns what Load returns into detections.Rule values.
//
// # Correlation rules
//
// A correlation rule (event_count, value_count, temporal, temporal_ordered)
// is a Rule whose Correlation, a detections.Stateful, holds the
// aggregation. Match is "one of the referenced rules matches"; GroupKey is
// the group-by values read through the referenced rule that matched first
// (aliases name the field per rule; fields are mapped to ECS with that
// rule's log source). Time is event time; a state never reads the clock.
//
// Windows slide: the condition is tested, for each event, on the events of
// its group within the timespan ending at it, both ends included (an event
// exactly one timespan earlier counts). The first time it holds, the hit
// has every event of that window (Count and EventIDs); each later event
// that keeps it true gives a hit of its own, one event; an event is
// reported once. event_count counts events, value_count the distinct
// values of condition.field (several fields: distinct combinations; an
// event without one counts for no value), temporal the referenced rules
// that matched (default condition: all of them), temporal_ordered requires
// every rule in the listed order (events at the same instant are ordered by
// event id, as the stage observes them) and supports only that default
// condition.
//
// A condition with lt or lte ("fewer than N") is evaluated once the
// timespan is over: the first event of a group opens a window of one
// timespan, which closes when the watermark reaches its end (or an event
// of the group comes after it); a window whose count satisfies the
// condition gives one hit with all its events. The next event opens the
// next window. gt, gte, eq and neq alone are evaluated per event.
//
// generate (in the correlation section, or at the top level as the
// specification's schema writes it) says whether the referenced rules also
// alert on their own; the default is false. Detections leaves out a rule or
// correlation every referring correlation leaves at false.
//
// A correlation may refer to another (a chain) when its group-by names
// only group-by fields of the inner correlation (through aliases), so that
// every event of an outer group goes to one partition: the inner
// correlation then runs inside each outer group, and each of its hits is
// one occurrence for the outer one (standing for the inner hit's events).
// Other chains, loops and unknown references are load errors.
//
// Bounds: a state keeps at most Config.MaxGroups groups (forgetting those
// whose latest event is oldest, down to nine tenths) and, per group, at
// most Config.MaxGroupEvents events, forgetting first an event whose value
// or rule a later one repeats (so distinct counts are exact), else the
// oldest; condition values must be below that bound so that a capped count
// compares as the true one. Events older than the timespan behind the
// watermark are forgotten; a late event within it is counted, and the
// windows ending at it and at the later events within one timespan are
// tested again; an older one is ignored. Snapshot is versioned JSON.
package sigma
