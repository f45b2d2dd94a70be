package api

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/ledger"
	"github.com/mamori-soc/mamori/store"
)

// maxCaseBody bounds a case request's body.
const maxCaseBody = 1 << 20

// caseResponse is a case with the version its next update must name (the
// ETag too).
type caseResponse struct {
	Case    casework.Case `json:"case"`
	Version string        `json:"version"`
}

func versionText(v store.Version) string {
	return strconv.FormatInt(v.SeqNo, 10) + "." + strconv.FormatInt(v.PrimaryTerm, 10)
}

func parseVersion(s string) (store.Version, error) {
	s = strings.Trim(strings.TrimPrefix(s, "W/"), `"`)
	seq, term, ok := strings.Cut(s, ".")
	var v store.Version
	var err1, err2 error
	v.SeqNo, err1 = strconv.ParseInt(seq, 10, 64)
	v.PrimaryTerm, err2 = strconv.ParseInt(term, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return store.Version{}, fmt.Errorf("version %q: want the version (or ETag) the case was read with", s)
	}
	return v, nil
}

// actor names who acts: the token's name.
func actor(r *http.Request) string {
	if tok, ok := r.Context().Value(ctxKey{}).(*Token); ok {
		return tok.Name
	}
	return "api"
}

func (s *Server) cases() *casework.Cases { return casework.NewCases(s.opts.Store, s.opts.Now) }

// writeCase answers with a case and its version (also as ETag).
func writeCase(w http.ResponseWriter, status int, c casework.Case, v store.Version) {
	w.Header().Set("ETag", `"`+versionText(v)+`"`)
	writeJSON(w, status, caseResponse{Case: c, Version: versionText(v)})
}

// caseError maps casework errors to HTTP statuses.
func caseError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, casework.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, casework.ErrConflict):
		writeError(w, http.StatusConflict, err.Error()+": read the case again and re-apply your change")
	case errors.Is(err, casework.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		writeError(w, http.StatusServiceUnavailable, err.Error())
	}
}

// listCases: GET /api/v1/cases?query=KQL&from=&to=&size=&after= over the
// case documents (status:new, type:failure, assignee:suzuki...).
func (s *Server) listCases(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req, err := searchParams(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	req.Query = cmp.Or(q.Get("query"), q.Get("q"))
	if req.From == "" {
		req.From = "now-30d"
	}
	s.search(w, r, store.Cases, req)
}

// getCase: GET /api/v1/cases/{id}.
func (s *Server) getCase(w http.ResponseWriter, r *http.Request) {
	c, v, err := s.cases().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		caseError(w, err)
		return
	}
	writeCase(w, http.StatusOK, c, v)
}

// decodeBody reads one JSON object into v, refusing unknown fields.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxCaseBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "request body: "+err.Error())
		return false
	}
	return true
}

// openCase: POST /api/v1/cases with a case (type, title, and what else it
// has); the server sets id, status, timeline and audit.
func (s *Server) openCase(w http.ResponseWriter, r *http.Request) {
	var c casework.Case
	if !decodeBody(w, r, &c) {
		return
	}
	if c.ID != "" || len(c.Timeline) > 0 || len(c.Audit) > 0 || len(c.Exports) > 0 {
		writeError(w, http.StatusBadRequest, "id, timeline, audit and exports are set by Mamori")
		return
	}
	s.open(w, r, c)
}

// open opens the case as the token and answers 201 with it.
func (s *Server) open(w http.ResponseWriter, r *http.Request, c casework.Case) {
	c, v, err := s.cases().Open(r.Context(), actor(r), c)
	if err != nil {
		caseError(w, err)
		return
	}
	w.Header().Set("Location", "/api/v1/cases/"+c.ID)
	writeCase(w, http.StatusCreated, c, v)
}

// ifMatch reads the version an update names in If-Match, answering the
// request itself when it is missing or unreadable.
func ifMatch(w http.ResponseWriter, r *http.Request) (store.Version, bool) {
	match := r.Header.Get("If-Match")
	if match == "" {
		writeError(w, http.StatusPreconditionRequired, "send If-Match with the version (ETag) of the case you read")
		return store.Version{}, false
	}
	version, err := parseVersion(match)
	if err != nil {
		writeError(w, http.StatusBadRequest, "If-Match: "+err.Error())
		return store.Version{}, false
	}
	return version, true
}

// updateCase: PATCH /api/v1/cases/{id} with a casework.Patch and If-Match:
// the version (ETag) read. A case changed since answers 409: nothing is
// written.
func (s *Server) updateCase(w http.ResponseWriter, r *http.Request) {
	version, ok := ifMatch(w, r)
	if !ok {
		return
	}
	var p casework.Patch
	if !decodeBody(w, r, &p) {
		return
	}
	who := actor(r)
	now := s.opts.Now().UTC()
	c, v, err := s.cases().Update(r.Context(), r.PathValue("id"), version, who, func(c *casework.Case) error {
		return p.Apply(c, who, now)
	})
	if err != nil {
		caseError(w, err)
		return
	}
	writeCase(w, http.StatusOK, c, v)
}

// slaLedger: GET /api/v1/reports/sla?month=2026-10 (default: the previous
// month), as `mamori report sla --json` prints it.
func (s *Server) slaLedger(w http.ResponseWriter, r *http.Request) {
	now := s.opts.Now()
	month, err := ledger.ParseMonth(r.URL.Query().Get("month"), now, s.opts.Calendar.Location())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	l, _, err := ledger.Month(r.Context(), s.cases(), month, now, s.opts.Clocks, s.opts.Calendar, nil)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, l)
}
