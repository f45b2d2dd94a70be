package kql

import (
	"net/netip"
	"time"

	"github.com/mamori-soc/mamori/event"
)

// Cond is a typed query condition: the tree Parse returns, resolved against
// the field catalogue (event.TypeOf) by Plan. Every value is already parsed
// and checked for its field's type, text is already analysed, and dates are
// already resolved to instants, so the compilers (SQL, query DSL, in-memory
// matcher) only translate and cannot disagree on meaning.
//
// A Cond is one of *AllOf, *AnyOf, *Negate, *Everything, *Nothing, *Equals,
// *Glob, *Phrase, *InPrefix, *Between or *Present.
type Cond interface{ cond() }

// AllOf matches when every condition matches.
type AllOf struct{ Conds []Cond }

// AnyOf matches when any condition matches.
type AnyOf struct{ Conds []Cond }

// Negate matches when its condition does not (including a missing field).
type Negate struct{ Cond Cond }

// Everything matches every document.
type Everything struct{}

// Nothing matches no document (for example a text value with no tokens).
type Nothing struct{}

// Equals matches when any value of Field equals Value. Value is a string for
// Keyword fields (case-sensitive), an int64 for Long, a float64 for Double, a
// bool for Boolean, a netip.Addr for IP. A Keyword field compares a numeric or
// boolean document value by its canonical text (strconv.FormatInt,
// strconv.FormatFloat(f, 'g', -1, 64), "true"/"false"; a time.Time as RFC 3339
// in UTC with nanoseconds as needed). Plan plans an IP value as InPrefix and
// a date as Between, so Equals on those types only comes from code that
// builds conditions itself.
type Equals struct {
	Field string
	Type  event.Type
	Value any
}

// Glob matches when any value of a Keyword field matches the pattern as a
// whole, case-sensitively: the Parts are literal and a wildcard ("*", any run
// of characters, possibly empty) stands between consecutive parts. A leading
// empty part means the pattern starts with "*", a trailing one that it ends
// with "*".
type Glob struct {
	Field string
	Parts []string
}

// Phrase matches when the analysed Text field contains Tokens consecutively
// (see package textan). With Prefix, the last token only has to be a prefix of
// the document's token. Fields lists the text fields searched: one field for
// "message:...", the default text fields for free text; any one may match.
type Phrase struct {
	Fields []string
	Tokens []string
	Prefix bool
}

// InPrefix matches when any value of an IP field lies in Prefix (a single
// address is a /32 or /128 prefix). IPv4-mapped IPv6 addresses count as IPv4.
type InPrefix struct {
	Field  string
	Prefix netip.Prefix
}

// Between matches values within bounds; a nil bound is open. Bounds have the
// same Go types as Equals.Value, with time.Time (UTC) for Date fields and
// string for Keyword fields (compared bytewise, other values by their
// canonical text as for Equals). IP addresses compare in their 16-byte form
// (IPv4 as IPv4-mapped IPv6), as Elasticsearch orders them. A date value of
// the query is a period (a day, a second...); Plan has already turned it
// into bounds, half-open [Lo, Hi) for equality.
type Between struct {
	Field          string
	Type           event.Type
	Lo, Hi         any
	LoIncl, HiIncl bool
}

// Present matches when the field has at least one non-empty value.
type Present struct{ Field string }

// Options steer Plan.
type Options struct {
	// Location resolves dates written without a zone (default UTC).
	Location *time.Location
	// Now anchors "now" in date values (default time.Now()).
	Now time.Time
	// TextFields are searched by free text (default ["message"]).
	TextFields []string
}

func (*AllOf) cond()      {}
func (*AnyOf) cond()      {}
func (*Negate) cond()     {}
func (*Everything) cond() {}
func (*Nothing) cond()    {}
func (*Equals) cond()     {}
func (*Glob) cond()       {}
func (*Phrase) cond()     {}
func (*InPrefix) cond()   {}
func (*Between) cond()    {}
func (*Present) cond()    {}
