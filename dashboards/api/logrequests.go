package api

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/logexport"
	"github.com/mamori-soc/mamori/casework/retrieval"
)

// logRequestBody is a log-retrieval request as a requester files it.
type logRequestBody struct {
	Query   string   `json:"query"`
	From    string   `json:"from"`
	To      string   `json:"to"`
	Format  string   `json:"format"`
	Columns []string `json:"columns"`
	// Email is where the delivery notice goes (optional).
	Email string `json:"email"`
}

// fileLogRequest: POST /api/v1/log-requests. Any token may request logs
// (system staff hold viewer tokens); the token is the requester, and only
// it and tokens of the allowed role download the export. The request is
// validated at once; Mamori fulfils it within a sweep.
func (s *Server) fileLogRequest(w http.ResponseWriter, r *http.Request) {
	req, ok := s.logRequestOf(w, r)
	if !ok {
		return
	}
	c, err := casework.NewLogRequest(actor(r), req)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.open(w, r, c)
}

// amendLogRequest: PUT /api/v1/log-requests/{id} with If-Match (the
// case's ETag) and the whole request again: its requester (or an analyst)
// corrects a request that was put back (too many events, a bad query), and
// Mamori fulfils it anew. A delivered request is not changed.
func (s *Server) amendLogRequest(w http.ResponseWriter, r *http.Request) {
	version, ok := ifMatch(w, r)
	if !ok {
		return
	}
	req, ok := s.logRequestOf(w, r)
	if !ok {
		return
	}
	tok, _ := r.Context().Value(ctxKey{}).(*Token)
	c, v, err := s.cases().Update(r.Context(), r.PathValue("id"), version, actor(r), func(c *casework.Case) error {
		if tok == nil || (tok.Name != c.Reporter && tok.Role < Analyst) {
			return errNotRequester
		}
		return c.AmendLogRequest(req)
	})
	switch {
	case errors.Is(err, errNotRequester):
		writeError(w, http.StatusForbidden, "only the requester of "+r.PathValue("id")+" and analysts may change the request")
	case errors.Is(err, logexport.ErrInvalidRequest):
		writeError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		caseError(w, err)
	default:
		writeCase(w, http.StatusOK, c, v)
	}
}

var errNotRequester = errors.New("not the requester")

// logRequestOf reads a log-retrieval request from the body, answering the
// request itself when it cannot.
func (s *Server) logRequestOf(w http.ResponseWriter, r *http.Request) (casework.LogRequest, bool) {
	var b logRequestBody
	if !decodeBody(w, r, &b) {
		return casework.LogRequest{}, false
	}
	req := casework.LogRequest{Query: b.Query, Format: logexport.Format(b.Format), Columns: b.Columns, Email: b.Email, Location: s.opts.Location}
	var problems []string
	for _, t := range []struct {
		name, text string
		to         *time.Time
	}{{"from", b.From, &req.From}, {"to", b.To, &req.To}} {
		if t.text == "" {
			continue // the request's validation names it
		}
		v, err := time.Parse(time.RFC3339Nano, t.text)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s %q: want an RFC 3339 time such as 2026-11-20T09:00:00+09:00", t.name, t.text))
		}
		*t.to = v
	}
	if len(problems) > 0 {
		writeError(w, http.StatusBadRequest, strings.Join(problems, "; "))
		return casework.LogRequest{}, false
	}
	if err := req.Validate(); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return casework.LogRequest{}, false
	}
	return req, true
}

// exportCase reads the case and checks that the token may download its
// export (its requester, or a token of the allowed role), then reads the
// export's manifest. It answers the request itself when it cannot go on.
func (s *Server) exportCase(w http.ResponseWriter, r *http.Request) (casework.Case, string, logexport.Manifest, bool) {
	c, _, err := s.cases().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		caseError(w, err)
		return casework.Case{}, "", logexport.Manifest{}, false
	}
	tok, _ := r.Context().Value(ctxKey{}).(*Token)
	role := s.opts.ExportRole
	if role == 0 {
		role = Admin
	}
	if tok == nil || (tok.Name != c.Reporter && tok.Role < role) {
		writeError(w, http.StatusForbidden, "only the requester of "+c.ID+" and tokens of the allowed role may download its export")
		return casework.Case{}, "", logexport.Manifest{}, false
	}
	if len(c.Exports) == 0 || s.opts.ExportsDir == "" {
		writeError(w, http.StatusNotFound, c.ID+" has no delivered export")
		return casework.Case{}, "", logexport.Manifest{}, false
	}
	dir, err := retrieval.Dir(s.opts.ExportsDir, c.ID)
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return casework.Case{}, "", logexport.Manifest{}, false
	}
	m, err := logexport.ReadManifest(dir)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "reading the manifest: "+err.Error())
		return casework.Case{}, "", logexport.Manifest{}, false
	}
	return c, dir, m, true
}

// exportResponse lists a delivered export.
type exportResponse struct {
	Case     string              `json:"case"`
	Files    []string            `json:"files"`
	Manifest logexport.Manifest  `json:"manifest"`
	Custody  []logexport.Custody `json:"custody"`
}

// getExport: GET /api/v1/cases/{id}/export: the export's manifest, files
// and custody records.
func (s *Server) getExport(w http.ResponseWriter, r *http.Request) {
	c, _, m, ok := s.exportCase(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, exportResponse{
		Case: c.ID, Files: []string{m.File.Name, logexport.ManifestFile, logexport.SumsFile},
		Manifest: m, Custody: c.Exports,
	})
}

// downloadExport: GET /api/v1/cases/{id}/export/{file}: one file of the
// export. Each download is recorded on the case (chain of custody).
func (s *Server) downloadExport(w http.ResponseWriter, r *http.Request) {
	c, dir, m, ok := s.exportCase(w, r)
	if !ok {
		return
	}
	name := r.PathValue("file")
	if !slices.Contains([]string{m.File.Name, logexport.ManifestFile, logexport.SumsFile}, name) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("%s: no file %q in the export (files: %s, %s, %s)", c.ID, name, m.File.Name, logexport.ManifestFile, logexport.SumsFile))
		return
	}
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	who := actor(r)
	if _, _, err := s.cases().Modify(r.Context(), c.ID, who, func(c *casework.Case) error {
		c.Timeline = append(c.Timeline, casework.Entry{At: s.opts.Now().UTC(), Kind: "download", Actor: who, Detail: name})
		return nil
	}); err != nil {
		// No download goes unrecorded.
		caseError(w, err)
		return
	}
	ctype := "application/octet-stream"
	switch name {
	case logexport.ManifestFile:
		ctype = "application/json"
	case logexport.SumsFile:
		ctype = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s"`, c.ID, name))
	http.ServeContent(w, r, name, st.ModTime(), f)
}
