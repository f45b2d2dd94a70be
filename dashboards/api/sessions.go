package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/mamori-soc/mamori/sessions"
	"github.com/mamori-soc/mamori/store"
)

// SessionsResponse is the body of GET /api/v1/sessions.
type SessionsResponse struct {
	// Sessions overlap [from, to), newest start first; times are in the
	// configured zone.
	Sessions []sessions.Session `json:"sessions"`
	// Truncated: more sessions overlap the range than limit allowed.
	Truncated bool   `json:"truncated"`
	From      string `json:"from"`
	To        string `json:"to"`
	// Types are the logon types listed (see sessions.ParseTypes).
	Types string `json:"types"`
}

// listSessions answers GET /api/v1/sessions?q=KQL&from=&to=&limit=&types=:
// Windows logon sessions whose logon event matches q (see package sessions).
func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := sessions.Params{Query: q.Get("q"), From: q.Get("from"), To: q.Get("to"), Types: q.Get("types")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "limit: want a whole number from 1 to "+strconv.Itoa(sessions.MaxLimit))
			return
		}
		p.Limit = n
	}
	req, err := sessions.Resolve(p, s.opts.Now(), s.opts.Location, s.opts.Sessions)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := sessions.Find(r.Context(), s.opts.Store, *req)
	if err != nil {
		status := http.StatusInternalServerError
		switch {
		case errors.Is(err, store.ErrBadQuery), errors.Is(err, sessions.ErrBadRequest):
			status = http.StatusBadRequest
		case errors.Is(err, store.ErrUnavailable):
			status = http.StatusServiceUnavailable
		}
		if status == http.StatusInternalServerError {
			s.opts.Logger.Error("sessions failed", "err", err)
		}
		writeError(w, status, err.Error())
		return
	}
	out := SessionsResponse{
		Sessions: make([]sessions.Session, len(res.Sessions)), Truncated: res.Truncated, Types: req.Types.String(),
		From: req.From.In(s.opts.Location).Format(time.RFC3339), To: req.To.In(s.opts.Location).Format(time.RFC3339),
	}
	for i, ss := range res.Sessions {
		out.Sessions[i] = ss.In(s.opts.Location)
	}
	writeJSON(w, http.StatusOK, out)
}
