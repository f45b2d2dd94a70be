// Package kql is Mamori's one query language: it parses the Kibana Query
// Language into a syntax tree (Parse), resolves the tree against the event
// field catalogue into a typed condition (Plan), and compiles the condition
// into an in-memory matcher for the streaming detection engine (Compile).
// Every query in Mamori (searches, detection rules, exceptions, dashboards,
// log-retrieval requests) goes through Parse and Plan once; the stores
// translate the same condition to SQL and to Elasticsearch query DSL. The
// shared case table in package kqltest keeps the three in agreement.
//
// # Syntax
//
// Kibana's, exactly (see Parse for the details and the two deliberate
// departures):
//
//	user.name:tanaka                     a field and a value
//	message:"failed password"            a quoted phrase
//	message:quick brown                  an unquoted value may contain spaces
//	host.name:web-*                      wildcards: * is any run of characters
//	user.name:(tanaka or sato)           a value list applies to one field
//	event.severity >= 5                  ranges: < <= > >=
//	user.name:*                          the field exists
//	not source.ip:10.0.0.0/8 and x:y     not binds tightest, then and, then or
//	(a or b) and c                       parentheses group
//	ログイン失敗                          free text: searched in the text fields
//	path:C\:\\Windows                    backslash escapes \ ( ) : < > " * { }
//
// The empty query and "*" match everything.
//
// # Meaning
//
// Plan gives a value its meaning from its field's type (event.TypeOf; any
// field outside the typed catalogue is a keyword, as in the ECS index
// templates). This is Mamori's definition of a query; every compiler
// implements it exactly.
//
// Keyword fields compare whole values, case-sensitively: "user.name:tanaka"
// and "user.name:\"tanaka\"" are Equals, "user.name:tan*" is a Glob on the
// whole value ("*" matches any run of characters, possibly none). A range
// compares strings bytewise ("host.name >= m"). A number, boolean or time
// held in a keyword field (a dynamic field such as winlog.event_id, which JSON
// decoding makes an int64) compares by its canonical text:
// strconv.FormatInt, strconv.FormatFloat(f, 'g', -1, 64), "true"/"false",
// RFC 3339 in UTC; so "winlog.event_id:4625" finds 4625 and "4625", and
// "winlog.event_id >= 500" compares "4625" >= "500" bytewise (false), as
// Elasticsearch does on a keyword.
//
// Text fields (message, and the fields free text searches) compare analysed
// tokens (package textan: NFKC, lower case, runs of letters and digits, each
// Han, Hiragana or Katakana character a token of its own), so matching
// ignores case and width. A quoted value is one Phrase: its tokens must
// appear consecutively. An unquoted value is one Phrase per
// whitespace-separated word, all of which must match: "message:failed
// password" matches "Password for root failed" but "message:\"failed
// password\"" does not. A Japanese word is a phrase of its characters, so
// "message:ログイン" also finds "ログイン失敗" (and "message:グイ" finds it too:
// any run of characters matches). The only wildcard allowed is one "*"
// ending a single word ("message:fail*"): the last token becomes a prefix.
// Any other wildcard, and any range, on a text field is an error that
// suggests a keyword field. A value with no tokens (only punctuation or
// emoji) matches nothing.
//
// IP fields take an address (an InPrefix of /32 or /128) or a CIDR block,
// quoted or not (an IPv6 address has colons, so quote it or escape them).
// IPv4-mapped IPv6 addresses count as IPv4, in the query and in documents.
// Range bounds are addresses; addresses order by their 16-byte form (IPv4 as
// IPv4-mapped IPv6), as in Elasticsearch. Wildcards are errors.
//
// Long and double fields take decimal numbers (a long takes a whole number;
// 5.0 and 1e3 are whole, 5.5 is an error). Equals and Between hold int64 or
// float64.
//
// Date fields take a date or time in Elasticsearch's
// strict_date_optional_time form (2026, 2026-03, 2026-03-10,
// 2026-03-10T09, 2026-03-10T09:30, 2026-03-10T09:30:00, with a fraction, and,
// after a time, Z or an offset; without a zone, in Options.Location), or
// date math on now: now, now-15m, now+1h, now-7d, now-1d/d (units y M w d h
// m s; "/unit" rounds down in Options.Location). A value stands for the
// period its precision covers: "@timestamp:2026-03-10" is that whole day,
// "@timestamp:\"2026-03-10T09:30:00\"" that second, each a Between
// [start, end). Ranges round as Elasticsearch does: >= and < use the start of
// the period, > and <= its end, so "@timestamp <= 2026-03-10" includes the
// whole day. now without rounding is an instant. Bounds are time.Time in UTC.
//
// Boolean fields take true or false.
//
// "field:*" is Present: the field has a value that is not an empty string
// (the typed catalogue also treats 0 as absent). "not" is Negate, which also
// matches events without the field: "not user.name:tanaka" finds events with
// no user. Free text (a value without a field) is planned like a value of a
// text field, searched in every field of Options.TextFields (default
// "message"); any one may match.
//
// Multi-valued fields (event.category, related.ip, arrays in dynamic fields)
// match when any of their values does.
//
// # Errors
//
// Parse and Plan return *Error, with the position of the offending text and
// a message that names what was expected and what was found, or the field,
// its type and the value that does not suit it.
package kql
