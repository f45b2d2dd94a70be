// Package retrieval fulfils log-retrieval requests (SLA item 11, "within 4
// hours") without anyone's hand: each sweep takes the open
// request/log_retrieval cases, exports the events each asks for from the
// store (package logexport: NDJSON or CSV, gzip, manifest, SHA256SUMS) into
// a folder named after the case, records the chain-of-custody record and
// the delivery on the case (the delivery stops the log_provision clock) and
// tells the requester by e-mail when the request names an address.
//
// The files are never mailed: the requester, or a token of the allowed
// role, downloads them through the API (GET /api/v1/cases/ID/export/FILE),
// and each download is recorded on the case.
//
// A request that cannot be fulfilled as written (a bad query, too many
// events) is put back to its requester: status waiting_requester (which
// pauses the clock), the reason in the field export_error and a comment.
// Changing the request and setting the case in progress again retries it.
//
// Several processes may sweep at once: a fulfiller claims a case (field
// export_claim, written with the version it read) before exporting, so a
// request is exported once.
package retrieval

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/logexport"
	"github.com/mamori-soc/mamori/casework/notify"
	"github.com/mamori-soc/mamori/store"
)

// FieldClaim holds "NAME at TIME" while a fulfiller exports the request.
const FieldClaim = "export_claim"

// Notification is the timeline notification a delivery records: the one
// the log_provision clock stops on.
const Notification = string(notify.LogDelivery)

// Defaults.
const (
	DefaultLookback  = 366 * 24 * time.Hour
	DefaultStaleAt   = time.Hour
	DefaultMaxEvents = 10_000_000
)

// Options configure a Fulfiller.
type Options struct {
	Cases *casework.Cases
	Store store.Store
	// Dir holds the exports, one folder per case id.
	Dir string
	// MaxEvents refuses larger exports (default 10,000,000).
	MaxEvents int64
	// Location is the zone of CSV times and manifests (default Asia/Tokyo).
	Location *time.Location
	// Sender tells requesters who gave an e-mail address (nil: the
	// delivery is only recorded on the case).
	Sender notify.Sender
	Lang   notify.Lang
	// MailOf finds a requester's e-mail address by account name (the
	// directory's), for requests that name none. nil: only the address a
	// request names is used.
	MailOf func(ctx context.Context, requester string) (string, error)
	// Name is who the timeline and custody records name as fulfiller
	// (default "mamori-logexport@HOSTNAME").
	Name string
	// Lookback bounds the cases examined: opened within it (default 366
	// days). StaleAt is when a claim whose export never finished (the
	// process died) is taken over (default 1h).
	Lookback, StaleAt time.Duration
	Logger            *slog.Logger
}

// Fulfiller fulfils log-retrieval requests.
type Fulfiller struct{ opts Options }

// New returns a fulfiller.
func New(opts Options) *Fulfiller {
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = DefaultMaxEvents
	}
	if opts.Lookback <= 0 {
		opts.Lookback = DefaultLookback
	}
	if opts.StaleAt <= 0 {
		opts.StaleAt = DefaultStaleAt
	}
	if opts.Name == "" {
		host, _ := os.Hostname()
		opts.Name = "mamori-logexport@" + host
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Fulfiller{opts: opts}
}

// Dir is where the export of a case is kept. The case id must be a plain
// name (ids Mamori makes always are; an imported one may not be).
func Dir(root, caseID string) (string, error) {
	if caseID == "" || !filepath.IsLocal(caseID) || strings.ContainsAny(caseID, `/\`) {
		return "", fmt.Errorf("retrieval: case id %q cannot name a folder", caseID)
	}
	return filepath.Join(root, caseID), nil
}

// Pending reports whether the case is a log-retrieval request waiting to be
// fulfilled at now: open, not delivered, not claimed by a live fulfiller.
func (f *Fulfiller) Pending(c *casework.Case, now time.Time) bool {
	if c.Type != casework.Request || c.Subtype != casework.LogRetrieval || len(c.Exports) > 0 {
		return false
	}
	if !slices.Contains(pendingStatuses, c.Status) {
		return false
	}
	claim := c.Fields[FieldClaim]
	if claim == "" {
		return true
	}
	_, at, _ := strings.Cut(claim, " at ")
	t, err := time.Parse(time.RFC3339Nano, at)
	return err != nil || now.Sub(t) > f.opts.StaleAt
}

// pendingStatuses are those of a request still to fulfil (a request put
// back waits on its requester instead).
var pendingStatuses = []casework.Status{casework.New, casework.Acknowledged, casework.InProgress}

// pendingQuery selects the requests Pending looks at more closely.
var pendingQuery = func() string {
	var sts []string
	for _, st := range pendingStatuses {
		sts = append(sts, string(st))
	}
	return fmt.Sprintf("type:%s and subtype:%s and status:(%s)", casework.Request, casework.LogRetrieval, strings.Join(sts, " or "))
}()

// Sweep fulfils every pending request, oldest first, and returns how many
// it delivered.
func (f *Fulfiller) Sweep(ctx context.Context, now time.Time) (int, error) {
	cases, err := f.opts.Cases.Find(ctx, pendingQuery, now.Add(-f.opts.Lookback), now.Add(time.Minute))
	if err != nil {
		return 0, err
	}
	delivered := 0
	var errs []error
	for i := range cases {
		if !f.Pending(&cases[i], now) {
			continue
		}
		ok, err := f.Fulfil(ctx, cases[i].ID, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("case %s: %w", cases[i].ID, err))
		}
		if ok {
			delivered++
		}
	}
	return delivered, errors.Join(errs...)
}

// Fulfil claims the case, exports what it asks for and records the
// delivery. It reports whether it delivered; a request put back to its
// requester, or claimed by another fulfiller, is not an error.
func (f *Fulfiller) Fulfil(ctx context.Context, id string, now time.Time) (bool, error) {
	c, v, err := f.opts.Cases.Get(ctx, id)
	if err != nil {
		return false, err
	}
	if !f.Pending(&c, now) {
		return false, nil
	}
	loc := f.opts.Location
	req, err := c.LogRequest(loc)
	if err != nil {
		return false, f.putBack(ctx, c, err)
	}
	dir, err := Dir(f.opts.Dir, c.ID)
	if err != nil {
		return false, f.putBack(ctx, c, err)
	}
	// The claim: written with the version read, so of two fulfillers one
	// wins and the other sees a conflict and leaves the case alone.
	claim := f.opts.Name + " at " + now.UTC().Format(time.RFC3339Nano)
	c, _, err = f.opts.Cases.Update(ctx, c.ID, v, f.opts.Name, func(c *casework.Case) error {
		if c.Fields == nil {
			c.Fields = map[string]string{}
		}
		c.Fields[FieldClaim] = claim
		delete(c.Fields, casework.FieldExportError)
		if c.Status != casework.InProgress {
			c.Status = casework.InProgress
		}
		return nil
	})
	if errors.Is(err, casework.ErrConflict) {
		return false, nil
	}
	if err != nil {
		return false, err
	}

	log := f.opts.Logger.With("case", c.ID, "requester", c.Reporter)
	x := req.Export()
	x.MaxEvents = f.opts.MaxEvents
	last := time.Now()
	m, err := logexport.Run(ctx, f.opts.Store, x, dir, func(done, total int64) {
		if time.Since(last) >= 10*time.Second {
			log.Info("exporting requested logs", "done", done, "total", total)
			last = time.Now()
		}
	})
	if errors.Is(err, logexport.ErrExists) {
		// An earlier export finished but its delivery was not recorded
		// (the process stopped in between): deliver it if it is intact.
		if err = logexport.Verify(dir); err == nil {
			m, err = logexport.ReadManifest(dir)
		}
	}
	switch {
	case errors.Is(err, logexport.ErrInvalidRequest), errors.Is(err, logexport.ErrTooManyEvents):
		return false, f.putBack(ctx, c, err)
	case err != nil:
		// The store or the disk failed: release the claim so that the
		// next sweep tries again.
		if _, _, rerr := f.opts.Cases.Modify(ctx, c.ID, f.opts.Name, func(c *casework.Case) error {
			if c.Fields[FieldClaim] == claim {
				delete(c.Fields, FieldClaim)
			}
			return nil
		}); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return false, err
	}
	log.Info("requested logs exported", "events", m.Events, "file", m.File.Name, "sha256", m.File.SHA256)
	return true, f.deliver(ctx, c, m)
}

// DownloadPath is the API path of a case's export files.
func DownloadPath(caseID string) string { return "/api/v1/cases/" + caseID + "/export" }

// deliver records the custody and the delivery on the case and tells the
// requester.
func (f *Fulfiller) deliver(ctx context.Context, c casework.Case, m logexport.Manifest) error {
	custody := logexport.NewCustody(m, c.Reporter, c.Timestamp, f.opts.Name)
	detail := fmt.Sprintf("api %s: %s, %d events, sha256 %s, for %s", DownloadPath(c.ID), m.File.Name, m.Events, m.File.SHA256, c.Reporter)
	updated, _, err := f.opts.Cases.Modify(ctx, c.ID, f.opts.Name, func(c *casework.Case) error {
		if slices.ContainsFunc(c.Exports, func(x logexport.Custody) bool { return x.ManifestSHA256 == custody.ManifestSHA256 }) {
			return nil
		}
		c.Exports = append(c.Exports, custody)
		delete(c.Fields, FieldClaim)
		c.Timeline = append(c.Timeline, casework.Entry{At: m.Finished, Kind: "notification", Actor: f.opts.Name, Notification: Notification, Detail: detail})
		if casework.CanMove(c.Status, casework.Resolved) {
			c.Status = casework.Resolved
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording the delivery: %w", err)
	}
	return f.tell(ctx, updated, notify.LogDelivery, notify.Data{Case: updated, Export: &m, URL: DownloadPath(c.ID)})
}

// putBack returns a request that cannot be fulfilled as written to its
// requester.
func (f *Fulfiller) putBack(ctx context.Context, c casework.Case, why error) error {
	msg := why.Error()
	f.opts.Logger.Warn("log-retrieval request put back to its requester", "case", c.ID, "why", msg)
	updated, _, err := f.opts.Cases.Modify(ctx, c.ID, f.opts.Name, func(c *casework.Case) error {
		if c.Fields == nil {
			c.Fields = map[string]string{}
		}
		delete(c.Fields, FieldClaim)
		if c.Fields[casework.FieldExportError] == msg && c.Status == casework.WaitingRequester {
			return nil
		}
		c.Fields[casework.FieldExportError] = msg
		c.Comments = append(c.Comments, casework.Comment{At: time.Now().UTC(), Author: f.opts.Name,
			Text: "ご依頼の内容ではログを抽出できません。依頼を修正して再開してください: " + msg})
		if casework.CanMove(c.Status, casework.WaitingRequester) {
			c.Status = casework.WaitingRequester
		}
		return nil
	})
	if err != nil {
		return err
	}
	return f.tell(ctx, updated, notify.ProgressReport, notify.Data{Case: updated, Message: msg})
}

// tell e-mails the requester, at the address the request names or else the
// directory's, when a sender is configured, and records the notice on the
// case.
func (f *Fulfiller) tell(ctx context.Context, c casework.Case, kind notify.Kind, data notify.Data) error {
	if f.opts.Sender == nil {
		return nil
	}
	to := c.Fields[casework.FieldEmail]
	if to == "" && f.opts.MailOf != nil {
		var err error
		if to, err = f.opts.MailOf(ctx, c.Reporter); err != nil {
			return fmt.Errorf("finding %s's e-mail address: %w", c.Reporter, err)
		}
	}
	if to == "" {
		return nil
	}
	_, err := notify.SendAndRecord(ctx, f.opts.Sender, f.opts.Cases, notify.Notification{Kind: kind, Lang: f.opts.Lang, CaseID: c.ID, To: []string{to}, Data: data})
	return err
}
