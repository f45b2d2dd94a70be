package casework_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/logexport"
)

var tokyo = time.FixedZone("Asia/Tokyo", 9*60*60)

func TestLogRequestRoundTrip(t *testing.T) {
	r := casework.LogRequest{Query: `user.name:田中 and event.code:4625`, From: time.Date(2026, 11, 20, 9, 0, 0, 0, tokyo),
		To: time.Date(2026, 11, 21, 9, 0, 0, 0, tokyo), Format: logexport.CSV, Columns: []string{"@timestamp", "user.name"}, Email: "sato@example.lg.jp"}
	c, err := casework.NewLogRequest("sato", r)
	require.NoError(t, err)
	require.Equal(t, casework.Request, c.Type)
	require.Equal(t, casework.LogRetrieval, c.Subtype)
	require.Equal(t, "ログ提供依頼: user.name:田中 and event.code:4625 (csv)", c.Title)
	got, err := c.LogRequest(tokyo)
	require.NoError(t, err)
	require.Equal(t, r.Query, got.Query)
	require.True(t, r.From.Equal(got.From) && r.To.Equal(got.To))
	require.Equal(t, r.Columns, got.Columns)
	require.Equal(t, r.Email, got.Email)

	_, err = casework.NewLogRequest("", r)
	require.ErrorIs(t, err, casework.ErrInvalid)
	c.Fields[casework.FieldFrom] = "2026-11-20 09:00"
	c.Fields[casework.FieldFormat] = "xml"
	_, err = c.LogRequest(tokyo)
	require.ErrorIs(t, err, logexport.ErrInvalidRequest)
	require.ErrorContains(t, err, `from "2026-11-20 09:00": want an RFC 3339 time`)
	other := casework.Case{ID: "INC-1", Type: casework.Incident}
	_, err = other.LogRequest(tokyo)
	require.ErrorIs(t, err, casework.ErrInvalid)
}

func TestAmendLogRequest(t *testing.T) {
	r := casework.LogRequest{Query: "event.code:4625", From: time.Date(2026, 11, 20, 9, 0, 0, 0, tokyo),
		To: time.Date(2026, 11, 21, 9, 0, 0, 0, tokyo), Format: logexport.NDJSON, Email: "sato@example.lg.jp"}
	c, err := casework.NewLogRequest("sato", r)
	require.NoError(t, err)
	c.Status = casework.WaitingRequester
	c.Fields[casework.FieldExportError] = "too many events"
	r.Query, r.Email, r.Format, r.Columns = "event.code:4625 and user.name:suzuki", "", logexport.CSV, []string{"user.name"}
	require.NoError(t, c.AmendLogRequest(r))
	require.Equal(t, casework.InProgress, c.Status)
	require.Equal(t, map[string]string{"query": r.Query, "from": "2026-11-20T09:00:00+09:00", "to": "2026-11-21T09:00:00+09:00",
		"format": "csv", "columns": "user.name"}, c.Fields, "the old email and error are gone")
	require.Equal(t, "ログ提供依頼: event.code:4625 and user.name:suzuki (csv)", c.Title)

	r.Format = "pdf"
	require.ErrorIs(t, c.AmendLogRequest(r), logexport.ErrInvalidRequest)
	r.Format = logexport.CSV
	c.Exports = []logexport.Custody{{File: "events.csv.gz"}}
	require.ErrorContains(t, c.AmendLogRequest(r), "delivered already")
}

// FuzzLogRequest: whatever a requester writes into a request's fields,
// reading it never panics, and what reads as valid files again unchanged.
func FuzzLogRequest(f *testing.F) {
	f.Add("user.name:田中", "2026-11-20T09:00:00+09:00", "2026-11-21T09:00:00+09:00", "csv", "@timestamp,user.name")
	f.Add("", "2026-11-20T00:00:00Z", "2026-11-20T00:00:00Z", "ndjson", "")
	f.Add("a:(", "x", "", "xml", ",,")
	f.Fuzz(func(t *testing.T, query, from, to, format, columns string) {
		c := casework.Case{ID: "REQ-1", Type: casework.Request, Subtype: casework.LogRetrieval, Fields: map[string]string{
			casework.FieldQuery: query, casework.FieldFrom: from, casework.FieldTo: to, casework.FieldFormat: format, casework.FieldColumns: columns,
		}}
		r, err := c.LogRequest(tokyo)
		if err != nil {
			if !errors.Is(err, logexport.ErrInvalidRequest) {
				t.Fatalf("error %v does not wrap ErrInvalidRequest", err)
			}
			return
		}
		again, err := casework.NewLogRequest("fuzz", r)
		if err != nil {
			t.Fatalf("a request that reads as valid does not file again: %v", err)
		}
		r2, err := again.LogRequest(tokyo)
		if err != nil || r2.Query != r.Query || !r2.From.Equal(r.From) || !r2.To.Equal(r.To) || strings.Join(r2.Columns, ",") != strings.Join(r.Columns, ",") {
			t.Fatalf("round trip changed the request: %+v -> %+v (%v)", r, r2, err)
		}
	})
}
