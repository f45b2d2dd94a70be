package casework

import (
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/casework/logexport"
)

// LogRetrieval is the subtype of a log-retrieval request (SLA item 11).
const LogRetrieval = "log_retrieval"

// The fields of a log-retrieval request case that say what is asked for.
const (
	FieldQuery   = "query"   // KQL ("" is every event of the range)
	FieldFrom    = "from"    // RFC 3339, inclusive
	FieldTo      = "to"      // RFC 3339, exclusive
	FieldFormat  = "format"  // ndjson or csv
	FieldColumns = "columns" // CSV columns, comma-separated ("" for the defaults)
	// FieldEmail is where the requester wants the delivery notice (the
	// files themselves are only ever downloaded, never mailed).
	FieldEmail = "email"
	// FieldExportError says why the last attempt could not be fulfilled.
	FieldExportError = "export_error"
)

// LogRequest is what a requester asks for.
type LogRequest struct {
	Query    string           `json:"query"`
	From     time.Time        `json:"from"`
	To       time.Time        `json:"to"`
	Format   logexport.Format `json:"format"`
	Columns  []string         `json:"columns,omitempty"`
	Email    string           `json:"email,omitempty"`
	Location *time.Location   `json:"-"`
}

// Export is the request as package logexport runs it.
func (r LogRequest) Export() logexport.Request {
	return logexport.Request{Query: r.Query, From: r.From, To: r.To, Format: r.Format, Fields: r.Columns, Location: r.Location}
}

// Validate reports every problem of the request (errors wrap
// logexport.ErrInvalidRequest).
func (r LogRequest) Validate() error { return r.Export().Validate() }

// NewLogRequest returns the case that files r for requester: a request of
// subtype log_retrieval whose fields hold the request. It validates r.
func NewLogRequest(requester string, r LogRequest) (Case, error) {
	if err := r.Validate(); err != nil {
		return Case{}, err
	}
	if requester == "" {
		return Case{}, fmt.Errorf("%w: a log-retrieval request needs its requester", ErrInvalid)
	}
	return Case{
		Type: Request, Subtype: LogRetrieval, Reporter: requester,
		Title: r.title(), Fields: r.fields(),
	}, nil
}

// fields are the case fields that hold the request.
func (r LogRequest) fields() map[string]string {
	fields := map[string]string{
		FieldQuery: r.Query, FieldFormat: string(r.Format),
		FieldFrom: r.From.Format(time.RFC3339Nano), FieldTo: r.To.Format(time.RFC3339Nano),
	}
	if len(r.Columns) > 0 {
		fields[FieldColumns] = strings.Join(r.Columns, ",")
	}
	if r.Email != "" {
		fields[FieldEmail] = r.Email
	}
	return fields
}

func (r LogRequest) title() string {
	what := r.Query
	if what == "" {
		what = "全イベント"
	}
	return fmt.Sprintf("ログ提供依頼: %s (%s)", what, r.Format)
}

// AmendLogRequest replaces the request a log-retrieval case holds with r
// (validated), clears the reason it was put back, and sets a case that
// waits on its requester in progress again, so that it is fulfilled anew.
// A delivered request is not changed: file a new one.
func (c *Case) AmendLogRequest(r LogRequest) error {
	if c.Type != Request || c.Subtype != LogRetrieval {
		return fmt.Errorf("%w: case %s is a %s, not a log-retrieval request", ErrInvalid, c.ID, c.Kind())
	}
	if len(c.Exports) > 0 {
		return fmt.Errorf("%w: request %s was delivered already: file a new request", ErrInvalid, c.ID)
	}
	if err := r.Validate(); err != nil {
		return err
	}
	if c.Fields == nil {
		c.Fields = map[string]string{}
	}
	for _, k := range []string{FieldQuery, FieldFrom, FieldTo, FieldFormat, FieldColumns, FieldEmail, FieldExportError} {
		delete(c.Fields, k)
	}
	maps.Copy(c.Fields, r.fields())
	c.Title = r.title()
	if c.Status == WaitingRequester {
		c.Status = InProgress
	}
	return nil
}

// LogRequest reads the request a log-retrieval case holds in its fields,
// with times shown in loc.
func (c *Case) LogRequest(loc *time.Location) (LogRequest, error) {
	if c.Type != Request || c.Subtype != LogRetrieval {
		return LogRequest{}, fmt.Errorf("%w: case %s is a %s, not a log-retrieval request", ErrInvalid, c.ID, c.Kind())
	}
	f := c.Fields
	r := LogRequest{Query: f[FieldQuery], Format: logexport.Format(f[FieldFormat]), Email: f[FieldEmail], Location: loc}
	var problems []string
	for _, t := range []struct {
		key string
		to  *time.Time
	}{{FieldFrom, &r.From}, {FieldTo, &r.To}} {
		if f[t.key] == "" {
			continue // Validate names it
		}
		v, err := time.Parse(time.RFC3339Nano, f[t.key])
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s %q: want an RFC 3339 time such as 2026-11-20T09:00:00+09:00", t.key, f[t.key]))
			continue
		}
		*t.to = v
	}
	if cols := f[FieldColumns]; cols != "" {
		for _, col := range strings.Split(cols, ",") {
			r.Columns = append(r.Columns, strings.TrimSpace(col))
		}
	}
	if len(problems) > 0 {
		return r, fmt.Errorf("%w: %s", logexport.ErrInvalidRequest, strings.Join(problems, "; "))
	}
	return r, r.Validate()
}
