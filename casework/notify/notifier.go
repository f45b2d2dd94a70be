package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/casework"
)

// Errors. A notification that fails with ErrInvalid cannot be sent as
// given: fix it, do not retry. One that fails with ErrDelivery was
// rendered but its channel failed: trying again later may work.
var (
	ErrInvalid  = errors.New("notify: invalid notification")
	ErrDelivery = errors.New("notify: delivery failed")
)

// Channel is how a notification goes out.
type Channel string

// Channels.
const (
	Email   Channel = "email"
	Webhook Channel = "webhook"
)

// Notification is one message about a case, to e-mail recipients or to
// one webhook.
type Notification struct {
	Kind Kind
	// Lang is the language of the text (default Japanese).
	Lang Lang
	// CaseID is the case the notification is about; Data.Case.ID is set
	// from it when empty and must equal it otherwise.
	CaseID string
	// To are the e-mail recipients. Set either To or Webhook.
	To []string
	// Webhook names a configured webhook.
	Webhook string
	// Data is what the template sees.
	Data Data
}

// Record says what happened to a notification: the caller keeps it on the
// case (RecordOn).
type Record struct {
	CaseID  string  `json:"case_id"`
	Kind    Kind    `json:"kind"`
	Lang    Lang    `json:"lang"`
	Channel Channel `json:"channel"`
	// Recipients are the e-mail addresses, or the webhook's name (never
	// its URL, which may hold a token).
	Recipients []string `json:"recipients"`
	Subject    string   `json:"subject,omitempty"`
	// SentAt is when sending started.
	SentAt time.Time `json:"sent_at"`
	// MessageID is an e-mail's Message-ID header, angle brackets included.
	MessageID string `json:"message_id,omitempty"`
	// HTTPStatus is a webhook's response status (0: no response).
	HTTPStatus int `json:"http_status,omitempty"`
	// Error says why the notification did not go out ("": it went out).
	Error string `json:"error,omitempty"`
}

// Sent reports whether the notification went out.
func (r Record) Sent() bool { return r.Error == "" }

// Sender sends a notification; *Notifier is one. The SLA watcher and the
// log-retrieval fulfiller take a Sender, so tests can give them another.
type Sender interface {
	Send(ctx context.Context, n Notification) (Record, error)
}

// Options are a Notifier's optional settings.
type Options struct {
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Notifier renders and sends notifications. It is safe for concurrent use.
type Notifier struct {
	smtp      *smtpSender
	hooks     map[string]*webhook
	tmpl      templates
	signature string
	now       func() time.Time
}

// New checks the configuration, reads its secrets and CA bundles, and
// returns a Notifier. Errors wrap ErrConfig.
func New(cfg Config, o Options) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, fmt.Errorf("notify: templates: %w", err)
	}
	n := &Notifier{tmpl: tmpl, signature: cfg.Signature, now: o.Now, hooks: map[string]*webhook{}}
	if n.now == nil {
		n.now = time.Now
	}
	if cfg.SMTP != nil {
		if n.smtp, err = newSMTPSender(*cfg.SMTP); err != nil {
			return nil, err
		}
	}
	for i, wc := range cfg.Webhooks {
		w, err := newWebhook(wc)
		if err != nil {
			return nil, fmt.Errorf("%w: webhooks[%d]: %w", ErrConfig, i, err)
		}
		n.hooks[wc.Name] = w
	}
	return n, nil
}

// Send renders the notification and sends it. The Record says what
// happened and is returned even when err is not nil (its Error is then
// set), so that failures are recorded too; err wraps ErrInvalid or
// ErrDelivery.
func (n *Notifier) Send(ctx context.Context, nt Notification) (Record, error) {
	if nt.Lang == "" {
		nt.Lang = Japanese
	}
	r := Record{CaseID: nt.CaseID, Kind: nt.Kind, Lang: nt.Lang, SentAt: n.now().UTC()}
	fail := func(err error) (Record, error) {
		r.Error = err.Error()
		return r, err
	}
	switch {
	case len(nt.To) > 0 && nt.Webhook != "":
		return fail(fmt.Errorf("%w: set either To or Webhook, not both", ErrInvalid))
	case len(nt.To) > 0:
		r.Channel, r.Recipients = Email, slices.Clone(nt.To)
	case nt.Webhook != "":
		r.Channel, r.Recipients = Webhook, []string{nt.Webhook}
	default:
		return fail(fmt.Errorf("%w: no recipient: set To or Webhook", ErrInvalid))
	}
	switch {
	case nt.CaseID == "":
		return fail(fmt.Errorf("%w: no case id", ErrInvalid))
	case nt.Data.Case.ID == "":
		nt.Data.Case.ID = nt.CaseID
	case nt.Data.Case.ID != nt.CaseID:
		return fail(fmt.Errorf("%w: case id %s, but the data is case %s's", ErrInvalid, nt.CaseID, nt.Data.Case.ID))
	}
	if (nt.Kind == SLAWarning || nt.Kind == SLABreach) && (nt.Data.Clock == "" || nt.Data.Due.IsZero()) {
		return fail(fmt.Errorf("%w: %s needs the clock's name and due time (Data.Clock, Data.Due)", ErrInvalid, nt.Kind))
	}
	if nt.Data.Signature == "" {
		nt.Data.Signature = n.signature
	}
	subject, body, err := n.tmpl.render(nt.Kind, nt.Lang, nt.Data)
	if err != nil {
		return fail(err)
	}
	r.Subject = subject
	switch r.Channel {
	case Email:
		if n.smtp == nil {
			return fail(fmt.Errorf("%w: no SMTP relay is configured", ErrInvalid))
		}
		r.MessageID, err = n.smtp.send(ctx, nt, subject, body, r.SentAt)
	default:
		w := n.hooks[nt.Webhook]
		if w == nil {
			return fail(fmt.Errorf("%w: no webhook is named %q", ErrInvalid, nt.Webhook))
		}
		r.HTTPStatus, err = w.send(ctx, payload(nt, subject, body, r.SentAt))
	}
	if err != nil {
		return fail(err)
	}
	return r, nil
}

// newMessageID returns a Message-ID value (without angle brackets) in the
// sender's domain.
func newMessageID(from string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	domain := "mamori.invalid"
	if a, err := mail.ParseAddress(from); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 && i < len(a.Address)-1 {
			domain = a.Address[i+1:]
		}
	}
	return hex.EncodeToString(b[:]) + "@" + domain
}

// CaseSummary is what a webhook receives of a case: enough to act on it,
// not its comments and audit trail.
type CaseSummary struct {
	ID       string            `json:"id"`
	Title    string            `json:"title"`
	Type     casework.Type     `json:"type"`
	Subtype  string            `json:"subtype,omitempty"`
	Status   casework.Status   `json:"status"`
	Priority casework.Priority `json:"priority,omitempty"`
	Assignee string            `json:"assignee,omitempty"`
	Reporter string            `json:"reporter,omitempty"`
	Links    []casework.Link   `json:"links,omitempty"`
}

// WebhookPayload is the JSON document POSTed to a webhook.
type WebhookPayload struct {
	Kind   Kind   `json:"kind"`
	Lang   Lang   `json:"lang"`
	CaseID string `json:"case_id"`
	// Subject and Text are the rendered message, as an e-mail would have
	// them.
	Subject string      `json:"subject"`
	Text    string      `json:"text"`
	Case    CaseSummary `json:"case"`
	Clock   string      `json:"clock,omitempty"`
	Due     time.Time   `json:"due,omitzero"`
	URL     string      `json:"url,omitempty"`
	SentAt  time.Time   `json:"sent_at"`
}

func payload(nt Notification, subject, body string, at time.Time) WebhookPayload {
	c := nt.Data.Case
	return WebhookPayload{
		Kind: nt.Kind, Lang: nt.Lang, CaseID: nt.CaseID, Subject: subject, Text: body,
		Case: CaseSummary{
			ID: c.ID, Title: c.Title, Type: c.Type, Subtype: c.Subtype, Status: c.Status,
			Priority: c.Priority, Assignee: c.Assignee, Reporter: c.Reporter, Links: c.Links,
		},
		Clock: nt.Data.Clock, Due: nt.Data.Due, URL: nt.Data.URL, SentAt: at,
	}
}
