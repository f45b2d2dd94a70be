package logexport

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/kql"
)

// Sentinel errors.
var (
	// ErrInvalidRequest: the request cannot be fulfilled as written; the
	// message names every problem. Return it to the requester.
	ErrInvalidRequest = errors.New("logexport: invalid request")
	// ErrTooManyEvents: more events match than Request.MaxEvents allows;
	// the requester should narrow the query or the time range.
	ErrTooManyEvents = errors.New("logexport: too many events")
	// ErrExists: the directory already holds an export; exports are never
	// overwritten.
	ErrExists = errors.New("logexport: export already exists")
	// ErrMismatch: a file of an export does not match its manifest.
	ErrMismatch = errors.New("logexport: verification failed")
)

// Format is the encoding of the exported events.
type Format string

// Formats.
const (
	NDJSON Format = "ndjson" // one stored JSON document per line
	CSV    Format = "csv"    // RFC 4180, the columns of Request.Fields
)

// DefaultFields are the CSV columns when Request.Fields is empty.
var DefaultFields = []string{
	"@timestamp", "host.name", "user.name", "source.ip",
	"event.code", "event.action", "event.outcome", "message",
}

// DefaultLocation is the zone of CSV times when Request.Location is nil.
const DefaultLocation = "Asia/Tokyo"

// Request is a log-retrieval request as the requester filed it.
type Request struct {
	// Query is KQL; empty matches every event in the range.
	Query string
	// From (inclusive) and To (exclusive) bound @timestamp. Both are
	// required.
	From, To time.Time
	// Format is NDJSON or CSV.
	Format Format
	// Fields are the CSV columns, dotted ECS names (default DefaultFields).
	// NDJSON ignores them: it keeps whole documents.
	Fields []string
	// Location is the zone of times written in CSV and in the manifest
	// (default Asia/Tokyo).
	Location *time.Location
	// MaxEvents, when positive, refuses an export of more events with
	// ErrTooManyEvents before anything is written.
	MaxEvents int64
	// NoBOM leaves out the UTF-8 byte order mark that CSV files start with
	// (see the package documentation).
	NoBOM bool
}

// Validate reports every problem of the request in one error wrapping
// ErrInvalidRequest, or nil.
func (r Request) Validate() error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if n, err := kql.Parse(r.Query); err != nil {
		add("query: %v", err)
	} else if _, err := kql.Plan(n, kql.Options{Location: r.location()}); err != nil {
		add("query: %v", err)
	}
	switch {
	case r.From.IsZero() && r.To.IsZero():
		add("time range: from and to are required")
	case r.From.IsZero():
		add("time range: from is required")
	case r.To.IsZero():
		add("time range: to is required")
	case r.From.Year() < 1 || r.From.Year() > 9999 || r.To.Year() < 1 || r.To.Year() > 9999:
		add("time range: years must be 1 to 9999")
	case !r.From.Before(r.To):
		add("time range: from (%s) must be before to (%s)", r.From.Format(time.RFC3339), r.To.Format(time.RFC3339))
	}
	switch r.Format {
	case NDJSON, CSV:
	case "":
		add("format is required: ndjson or csv")
	default:
		add("format %q: want ndjson or csv", string(r.Format))
	}
	seen := map[string]bool{}
	for i, f := range r.Fields {
		switch {
		case strings.TrimSpace(f) == "":
			add("fields: column %d has no name", i+1)
		case f != strings.TrimSpace(f):
			add("fields: column %d %q has surrounding spaces", i+1, f)
		case seen[f]:
			add("fields: column %q appears twice", f)
		}
		seen[f] = true
	}
	if r.Format == NDJSON && len(r.Fields) > 0 {
		add("fields: ndjson exports whole documents; columns apply to csv only")
	}
	if r.MaxEvents < 0 {
		add("max events %d: want 0 (no limit) or more", r.MaxEvents)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidRequest, strings.Join(problems, "; "))
	}
	return nil
}

// withDefaults returns the request with its defaults applied.
func (r Request) withDefaults() Request {
	r.Location = r.location()
	if r.Format == CSV && len(r.Fields) == 0 {
		r.Fields = DefaultFields
	}
	r.Fields = append([]string(nil), r.Fields...)
	return r
}

func (r Request) location() *time.Location {
	if r.Location != nil {
		return r.Location
	}
	return tokyo
}

// tokyo is Asia/Tokyo from the zone database, or a fixed +09:00 zone of
// that name where there is none (Japan has no daylight saving time).
var tokyo = func() *time.Location {
	if loc, err := time.LoadLocation(DefaultLocation); err == nil {
		return loc
	}
	return time.FixedZone(DefaultLocation, 9*60*60)
}()

// fileName returns the name of the data file of a format.
func (f Format) fileName() string { return "events." + string(f) + ".gz" }
