package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/mamori-soc/mamori/directory"
	"github.com/mamori-soc/mamori/store"
)

// staleAccounts answers GET /api/v1/accounts/stale?days=90[&computers=true]
// with directory.StaleReport, times in the configured zone.
//
// It needs a Viewer token: the report only reads (directory records and
// logon events), and what it shows (account names, departments, logon times
// and event ids) is what a viewer already finds by searching the enriched
// logon events; the periodic leaver clean-up is routine work for staff who
// are given read access only.
func (s *Server) staleAccounts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	days := 90
	if v := q.Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			writeError(w, http.StatusBadRequest, "days: want a whole number from 1 to 3650")
			return
		}
		days = n
	}
	computers := false
	if v := q.Get("computers"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "computers: want true or false")
			return
		}
		computers = b
	}
	rep, err := directory.StaleAccounts(r.Context(), s.opts.Store, directory.StaleOptions{
		Days: days, Now: s.opts.Now(), Location: s.opts.Location, Computers: computers,
	})
	if err != nil {
		status := http.StatusInternalServerError
		switch {
		case errors.Is(err, directory.ErrNoRecords):
			status = http.StatusNotFound
		case errors.Is(err, store.ErrUnavailable):
			status = http.StatusServiceUnavailable
		}
		if status == http.StatusInternalServerError {
			s.opts.Logger.Error("stale accounts report failed", "err", err)
		}
		writeError(w, status, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
