// Package api serves Mamori's versioned JSON API (/api/v1) with bearer-token
// authentication and role checks, plus the public operational endpoints
// /healthz, /readyz and /metrics.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	json "github.com/goccy/go-json"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework/notify"
	"github.com/mamori-soc/mamori/casework/sla"
	"github.com/mamori-soc/mamori/search"
	"github.com/mamori-soc/mamori/sessions"
	"github.com/mamori-soc/mamori/store"
)

// Role orders what a token may do.
type Role int

// Roles, each allowed what the ones before it are.
const (
	Viewer  Role = iota + 1 // search and read
	Analyst                 // also change cases and rules
	Admin                   // also administer
)

// ParseRole reads a role name.
func ParseRole(s string) (Role, bool) {
	switch s {
	case "viewer":
		return Viewer, true
	case "analyst":
		return Analyst, true
	case "admin":
		return Admin, true
	}
	return 0, false
}

// Token is an accepted bearer token, known by the SHA-256 of its value.
type Token struct {
	Name   string
	Role   Role
	SHA256 [sha256.Size]byte
}

// HashToken returns the hex SHA-256 of a token, as written in configuration.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewToken builds a token from its configured name, role name and hex
// SHA-256.
func NewToken(name, role, sha256Hex string) (Token, error) {
	r, ok := ParseRole(role)
	if !ok {
		return Token{}, fmt.Errorf("token %s: role %q: want viewer, analyst or admin", name, role)
	}
	t := Token{Name: name, Role: r}
	if n, err := hex.Decode(t.SHA256[:], []byte(sha256Hex)); err != nil || n != sha256.Size {
		return Token{}, fmt.Errorf("token %s: sha256: want 64 hex digits", name)
	}
	return t, nil
}

// Options configure the server.
type Options struct {
	Store    store.Store
	Location *time.Location // zone for times written without one
	Tokens   []Token
	Gatherer prometheus.Gatherer
	// Ready reports why the server is not ready (nil when it is).
	Ready  func() error
	Logger *slog.Logger
	Now    func() time.Time
	// Sessions are the configured defaults of /api/v1/sessions.
	Sessions sessions.Defaults
	// Calendar is the business calendar SLA clocks run on (nil: the
	// default calendar).
	Calendar *calendar.Calendar
	// Rules gives /api/v1/rules and its test and backtest routes the
	// configured detection rules; those routes answer 501 Not Implemented
	// without it.
	Rules RulesProvider
	// Clocks are the SLA clocks of the ledger (nil: the defaults).
	Clocks []sla.ClockDef
	// ExportsDir holds the exports of log-retrieval requests; ExportRole
	// may download every one (default Admin), a requester always their
	// own.
	ExportsDir string
	ExportRole Role
	// Sender sends the notices analysts send from cases (nil: the route
	// answers 501).
	Sender notify.Sender
}

// Server is the HTTP handler.
type Server struct {
	opts Options
	mux  *http.ServeMux
	// backtests holds a token per running backtest (see maxBacktests).
	backtests chan struct{}
}

// New builds the handler.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Clocks == nil {
		opts.Clocks = sla.Defaults()
	}
	if opts.Calendar == nil {
		cal, err := calendar.New(calendar.Config{})
		if err != nil { // the default configuration is valid: only a missing zone database
			panic("api: the default business calendar: " + err.Error())
		}
		opts.Calendar = cal
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), backtests: make(chan struct{}, maxBacktests)}
	// Public by design: liveness, readiness and metrics carry no user data.
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if opts.Gatherer != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{}))
	}
	s.mux.Handle("GET /api/v1/events/search", s.auth(Viewer, s.searchEvents))
	s.mux.Handle("GET /api/v1/accounts/stale", s.auth(Viewer, s.staleAccounts))
	s.mux.Handle("GET /api/v1/sessions", s.auth(Viewer, s.listSessions))
	s.mux.Handle("GET /api/v1/alerts", s.auth(Viewer, s.searchAlerts))
	s.mux.Handle("GET /api/v1/rules", s.auth(Viewer, s.listRules))
	s.mux.Handle("POST /api/v1/rules/test", s.auth(Analyst, s.testRules))
	s.mux.Handle("POST /api/v1/rules/backtest", s.auth(Analyst, s.backtest))
	s.mux.Handle("GET /api/v1/cases", s.auth(Viewer, s.listCases))
	s.mux.Handle("GET /api/v1/cases/{id}", s.auth(Viewer, s.getCase))
	s.mux.Handle("POST /api/v1/cases", s.auth(Analyst, s.openCase))
	s.mux.Handle("PATCH /api/v1/cases/{id}", s.auth(Analyst, s.updateCase))
	s.mux.Handle("POST /api/v1/cases/{id}/notifications", s.auth(Analyst, s.notifyCase))
	s.mux.Handle("GET /api/v1/reports/sla", s.auth(Viewer, s.slaLedger))
	s.mux.Handle("POST /api/v1/log-requests", s.auth(Viewer, s.fileLogRequest))
	s.mux.Handle("PUT /api/v1/log-requests/{id}", s.auth(Viewer, s.amendLogRequest))
	s.mux.Handle("GET /api/v1/cases/{id}/export", s.auth(Viewer, s.getExport))
	s.mux.Handle("GET /api/v1/cases/{id}/export/{file}", s.auth(Viewer, s.downloadExport))
	s.mux.Handle("/api/", s.auth(Viewer, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API route: "+r.Method+" "+r.URL.Path)
	}))
	return s
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if s.opts.Ready != nil {
		if err := s.opts.Ready(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
			return
		}
	}
	writeJSON(w, 200, map[string]string{"status": "ready"})
}

type ctxKey struct{}

// auth admits requests with a configured bearer token of at least role.
func (s *Server) auth(role Role, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mamori"`)
			writeError(w, http.StatusUnauthorized, "missing bearer token: send Authorization: Bearer <token>")
			return
		}
		sum := sha256.Sum256([]byte(tok))
		var found *Token
		for i := range s.opts.Tokens {
			if subtle.ConstantTimeCompare(sum[:], s.opts.Tokens[i].SHA256[:]) == 1 {
				found = &s.opts.Tokens[i]
			}
		}
		if found == nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mamori", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "unknown token")
			return
		}
		if found.Role < role {
			writeError(w, http.StatusForbidden, "token "+found.Name+" may not do this")
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next(rec, r.WithContext(context.WithValue(r.Context(), ctxKey{}, found)))
		// The audit trail of who asked for what; never the token itself.
		query := r.URL.Query().Get("q")
		if query == "" {
			query = r.URL.Query().Get("query")
		}
		s.opts.Logger.Info("api request", "token", found.Name, "method", r.Method, "path", r.URL.Path,
			"query", query, "status", rec.status, "duration", time.Since(start))
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (flushes and
// write deadlines of streamed answers).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func bearer(r *http.Request) (string, bool) {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) <= len(prefix) || !equalFoldASCII(h[:len(prefix)], prefix) {
		return "", false
	}
	return h[len(prefix):], true
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

// SearchResponse is the body of GET /api/v1/events/search.
type SearchResponse struct {
	Total int64 `json:"total"`
	Hits  []struct {
		ID     string          `json:"id"`
		Source json.RawMessage `json:"source"`
	} `json:"hits"`
	// Next is the cursor of the next page ("after" parameter); empty on the
	// last page.
	Next string `json:"next,omitempty"`
	From string `json:"from"`
	To   string `json:"to"`
}

// searchEvents answers GET /api/v1/events/search?q=KQL&from=&to=&sort=&size=&after=.
func (s *Server) searchEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req, err := searchParams(q)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	req.Query = q.Get("q")
	s.search(w, r, store.Events, req)
}

// searchParams reads the time range, sort and paging parameters of a
// search (from, to, sort, size, after).
func searchParams(q url.Values) (search.Request, error) {
	req := search.Request{From: q.Get("from"), To: q.Get("to"), Sort: q.Get("sort"), After: q.Get("after")}
	if v := q.Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return req, errors.New("size: want a whole number")
		}
		req.Size = n
	}
	return req, nil
}

// search answers a search of one collection with a SearchResponse.
func (s *Server) search(w http.ResponseWriter, r *http.Request, collection string, req search.Request) {
	now := s.opts.Now()
	resolved, err := search.Resolve(req, now, s.opts.Location)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	resolved.Collection = collection
	res, next, err := search.Run(r.Context(), s.opts.Store, resolved)
	if err != nil {
		status := http.StatusInternalServerError
		switch {
		case errors.Is(err, store.ErrBadQuery):
			status = http.StatusBadRequest
		case errors.Is(err, store.ErrUnavailable):
			status = http.StatusServiceUnavailable
		}
		if status == http.StatusInternalServerError {
			s.opts.Logger.Error("search failed", "collection", collection, "err", err)
		}
		writeError(w, status, err.Error())
		return
	}
	out := SearchResponse{Total: res.Total, Next: next,
		From: resolved.From.In(s.opts.Location).Format(time.RFC3339), To: resolved.To.In(s.opts.Location).Format(time.RFC3339)}
	out.Hits = make([]struct {
		ID     string          `json:"id"`
		Source json.RawMessage `json:"source"`
	}, len(res.Hits))
	for i, h := range res.Hits {
		out.Hits[i].ID, out.Hits[i].Source = h.ID, h.Source
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"status": status, "message": msg}})
}
