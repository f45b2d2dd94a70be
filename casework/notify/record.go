package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mamori-soc/mamori/casework"
)

// Actor is who RecordOn names in the case's timeline and audit trail.
const Actor = "mamori-notify"

// RecordOn keeps r on the case. A notification that went out becomes a
// timeline entry of kind "notification" naming its kind (which stops the
// SLA clock it answers), at the time it was sent, with the channel and
// recipients as detail. One that failed becomes a comment, so that people
// see it and no clock stops. Recording the same record twice adds it once.
func RecordOn(ctx context.Context, cases *casework.Cases, caseID string, r Record) error {
	detail := Detail(r)
	_, _, err := cases.Modify(ctx, caseID, Actor, func(c *casework.Case) error {
		if r.Sent() {
			e := casework.Entry{At: r.SentAt, Kind: "notification", Actor: Actor, Notification: string(r.Kind), Detail: detail}
			if !slices.ContainsFunc(c.Timeline, func(x casework.Entry) bool {
				return x.Kind == e.Kind && x.At.Equal(e.At) && x.Notification == e.Notification && x.Detail == e.Detail
			}) {
				c.Timeline = append(c.Timeline, e)
			}
			return nil
		}
		cm := casework.Comment{At: r.SentAt, Author: Actor, Text: fmt.Sprintf("notification %s failed: %s: %s", r.Kind, detail, r.Error)}
		if !slices.ContainsFunc(c.Comments, func(x casework.Comment) bool {
			return x.At.Equal(cm.At) && x.Author == cm.Author && x.Text == cm.Text
		}) {
			c.Comments = append(c.Comments, cm)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("notify: recording %s on case %s: %w", r.Kind, caseID, err)
	}
	return nil
}

// SendAndRecord sends n through s and keeps what happened on the case
// (RecordOn): a notice that went out stops the clock it answers, one whose
// channel failed is a comment. The record is returned in both cases. A
// notification that could not be sent as given (ErrInvalid: no recipient,
// an unknown webhook) was never attempted and is not recorded.
func SendAndRecord(ctx context.Context, s Sender, cases *casework.Cases, n Notification) (Record, error) {
	rec, err := s.Send(ctx, n)
	if errors.Is(err, ErrInvalid) {
		return rec, err
	}
	if rerr := RecordOn(ctx, cases, n.CaseID, rec); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return rec, err
}

// ByPeople are the kinds people send from a case (through the API or the
// CLI); Mamori sends the others itself (SLA notices, log deliveries).
var ByPeople = []Kind{Acknowledgement, FirstReport, ProgressReport}

// Detail describes where a notification went: "email to a@example.jp,
// b@example.jp <message-id>" or "webhook soc-chat (HTTP 200)".
func Detail(r Record) string {
	var sb strings.Builder
	sb.WriteString(string(r.Channel))
	switch r.Channel {
	case Email:
		sb.WriteString(" to ")
		sb.WriteString(strings.Join(r.Recipients, ", "))
		if r.MessageID != "" {
			sb.WriteString(" " + r.MessageID)
		}
	default:
		sb.WriteString(" " + strings.Join(r.Recipients, ", "))
		if r.HTTPStatus != 0 {
			fmt.Fprintf(&sb, " (HTTP %d)", r.HTTPStatus)
		}
	}
	return sb.String()
}
