// Package search turns an analyst's request (KQL text, a time range, sort and
// paging) into a store search. The command line and the JSON API both use it,
// so a query means the same wherever it is typed.
package search

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/store"
)

// ErrBadRequest wraps every problem with the request itself.
var ErrBadRequest = errors.New("bad search request")

// Request is a search as people write it.
type Request struct {
	Query string // KQL
	From  string // time expression; default "now-24h"
	To    string // time expression; default "now"
	Sort  string // "field" or "field:asc|desc"; default "@timestamp:desc"
	Size  int    // default 100
	// After is the opaque cursor returned with the previous page.
	After string
}

// Resolved is a request ready for the store.
type Resolved struct {
	store.SearchRequest
	From, To time.Time
}

// Resolve parses and plans the request. now anchors relative times; loc
// reads times and dates written without a zone.
func Resolve(r Request, now time.Time, loc *time.Location) (*Resolved, error) {
	node, err := kql.Parse(r.Query)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	cond, err := kql.Plan(node, kql.Options{Location: loc, Now: now})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	from, err := ParseTime(def(r.From, "now-24h"), now, loc)
	if err != nil {
		return nil, fmt.Errorf("%w: from: %w", ErrBadRequest, err)
	}
	to, err := ParseTime(def(r.To, "now"), now, loc)
	if err != nil {
		return nil, fmt.Errorf("%w: to: %w", ErrBadRequest, err)
	}
	if !from.Before(to) {
		return nil, fmt.Errorf("%w: from (%s) must be before to (%s)", ErrBadRequest, from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	size := r.Size
	if size == 0 {
		size = 100
	}
	if size < 1 || size > 10000 {
		return nil, fmt.Errorf("%w: size %d: want 1 to 10000", ErrBadRequest, size)
	}
	sort, err := parseSort(r.Sort)
	if err != nil {
		return nil, err
	}
	out := &Resolved{From: from, To: to}
	out.SearchRequest = store.SearchRequest{
		Query: store.Query{Collection: store.Events, Filter: cond, From: from, To: to},
		Sort:  sort,
		Size:  size,
	}
	if r.After != "" {
		after, err := DecodeCursor(r.After)
		if err != nil {
			return nil, err
		}
		out.SearchAfter = after
	}
	return out, nil
}

// Run runs a resolved search, returning the page and the cursor of the next
// page ("" on the last page).
func Run(ctx context.Context, s store.Store, req *Resolved) (*store.SearchResult, string, error) {
	res, err := s.Search(ctx, req.SearchRequest)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(res.Hits) == req.Size {
		next = EncodeCursor(res.Hits[len(res.Hits)-1].Sort)
	}
	return res, next, nil
}

func parseSort(s string) ([]store.SortField, error) {
	if s == "" {
		return nil, nil
	}
	field, dir, _ := strings.Cut(s, ":")
	switch dir {
	case "", "desc":
		return []store.SortField{{Field: field, Desc: true}}, nil
	case "asc":
		return []store.SortField{{Field: field}}, nil
	}
	return nil, fmt.Errorf("%w: sort %q: want field, field:asc or field:desc", ErrBadRequest, s)
}

func def(s, d string) string {
	if strings.TrimSpace(s) == "" {
		return d
	}
	return s
}

var relative = regexp.MustCompile(`^now(?:([+-])(\d+)([smhdw]))?$`)

// ParseTime reads "now", "now-15m", "now+1h", "now-7d", RFC 3339
// ("2026-11-26T09:00:00+09:00"), "2026-11-26T09:00:00" or "2026-11-26 09:00"
// in loc, or a date "2026-11-26" (midnight in loc).
func ParseTime(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if m := relative.FindStringSubmatch(s); m != nil {
		if m[1] == "" {
			return now, nil
		}
		n, _ := strconv.Atoi(m[2])
		unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[3]]
		d := time.Duration(n) * unit
		if m[1] == "-" {
			d = -d
		}
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: write now, now-24h, 2026-11-26, 2026-11-26 09:00 or an RFC 3339 time", s)
}
