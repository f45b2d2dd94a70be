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
// (applied by Load to the rules they name by id or name).
//
// Reported at load, per rule, never silently ignored: correlation rules ("not
// supported yet"), rule collections (multi-document YAML, action: global),
// v1 aggregations in conditions, timeframe, regular expressions Go's RE2
// cannot run (lookaround, backreferences), modifiers this package does not
// know, log sources and fields the Mapping does not cover, placeholders not
// configured. Each error is a *RuleError naming the file, the rule and the
// construct, and wraps ErrInvalid, ErrUnsupported or ErrMapping.
//
// Rule.Prefilter lists equality constraints every matching event satisfies
// (the log source conditions and exact values the detection requires, such
// as event ids), so an engine can index rules and run only those an event can
// match.
package sigma
