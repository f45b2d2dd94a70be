package api

import (
	"errors"
	"net/http"
	"slices"

	"github.com/mamori-soc/mamori/casework/notify"
)

// notificationBody is a notice an analyst sends from a case.
type notificationBody struct {
	Kind notify.Kind `json:"kind"`
	// To are e-mail recipients; Webhook names a configured webhook. One of
	// them.
	To      []string    `json:"to"`
	Webhook string      `json:"webhook"`
	Lang    notify.Lang `json:"lang"`
	// Message is what the notice says beyond the case's facts (the first
	// report's findings, the progress so far).
	Message string `json:"message"`
}

// notifyCase: POST /api/v1/cases/{id}/notifications sends an
// acknowledgement, first report or progress report from its template by
// e-mail or webhook and records it on the case, which stops the SLA clock
// it answers. 201 with the record when it went out; 502 with the record
// when the relay or webhook failed (recorded on the case as a comment).
func (s *Server) notifyCase(w http.ResponseWriter, r *http.Request) {
	if s.opts.Sender == nil {
		writeError(w, http.StatusNotImplemented, "no notification channel is configured (casework.notify)")
		return
	}
	var b notificationBody
	if !decodeBody(w, r, &b) {
		return
	}
	if !slices.Contains(notify.ByPeople, b.Kind) {
		writeError(w, http.StatusBadRequest, "kind "+string(b.Kind)+": want one of acknowledgement, first_report, progress_report (Mamori sends SLA notices and log deliveries itself)")
		return
	}
	if b.Lang != "" && !slices.Contains(notify.Langs, b.Lang) {
		writeError(w, http.StatusBadRequest, "lang "+string(b.Lang)+": want ja or en")
		return
	}
	cases := s.cases()
	c, _, err := cases.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		caseError(w, err)
		return
	}
	rec, err := notify.SendAndRecord(r.Context(), s.opts.Sender, cases, notify.Notification{
		Kind: b.Kind, Lang: b.Lang, CaseID: c.ID, To: b.To, Webhook: b.Webhook,
		Data: notify.Data{Case: c, Message: b.Message},
	})
	switch {
	case errors.Is(err, notify.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	case !rec.Sent():
		writeJSON(w, http.StatusBadGateway, rec)
	case err != nil: // sent, but not recorded
		writeError(w, http.StatusServiceUnavailable, err.Error())
	default:
		writeJSON(w, http.StatusCreated, rec)
	}
}
