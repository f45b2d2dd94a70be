package sessions

import (
	"cmp"
	"slices"
	"time"
)

// The pairing algorithm. Records (logons, RDP marks, logoffs, reboots) are
// sorted by time, then by kind (reboot, logon, mark, end) and store id, and
// replayed in that order, as the host lived them:
//
//   - a logon opens a session under its key (host, logon id); a key may hold
//     several sessions when Windows reused the id;
//   - a logoff (4634 or 4647) closes the latest session of its key that is
//     still open, started at or before it, and is younger than the maximum
//     duration; the first end wins, so a 4647 followed by its 4634 closes the
//     session once, at the 4647;
//   - a logoff whose user SID differs from the session's belongs to a logon
//     the query did not load (the id was reused by someone else) and is
//     ignored;
//   - an RDP disconnect or reconnect is added as a mark to the session the
//     same lookup finds;
//   - a reboot closes every open session of its host;
//   - a session found open when its key is looked up after start + maximum
//     duration, or still open at the end, is closed by Timeout at start +
//     maximum if that is not after the query's "as of" time, else stays Open.
//
// Then the two halves of a UAC split logon are merged (see mergeLinked).
// Time is O(n log n) for the sort; memory is the records plus one Session per
// logon.

type hostID struct{ host, id string }

type pairer struct {
	max  time.Duration
	asOf time.Time
	// open holds, per key, the sessions opened under it, oldest first; closed
	// ones are dropped lazily.
	open map[hostID][]*Session
	// byHost holds the sessions of each host that may be open, for reboots.
	byHost map[string][]*Session
	all    []*Session
}

// pair replays the records in time order and returns one session per
// logon, in logon time order.
func pair(recs []record, maxDuration time.Duration, asOf time.Time) []*Session {
	// Sort pointers: a record is a few hundred bytes, too big to swap.
	order := make([]*record, len(recs))
	for i := range recs {
		order[i] = &recs[i]
	}
	slices.SortFunc(order, func(a, b *record) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		if c := cmp.Compare(a.kind, b.kind); c != 0 {
			return c
		}
		return cmp.Compare(a.docID, b.docID)
	})
	p := &pairer{max: maxDuration, asOf: asOf, open: map[hostID][]*Session{}, byHost: map[string][]*Session{}}
	for _, r := range order {
		switch r.kind {
		case kindLogon:
			p.logon(r)
		case kindEnd:
			if s := p.find(r); s != nil {
				p.close(s, r.at, r.reason, r.docID)
			}
		case kindMark:
			if s := p.find(r); s != nil {
				s.Marks = append(s.Marks, Mark{Time: r.at, Action: r.action, Session: r.session, Source: r.source, EventID: r.docID})
			}
		case kindReboot:
			for _, s := range p.byHost[r.host] {
				if isOpen(s) && !p.expired(s, r.at) {
					p.close(s, r.at, Reboot, r.docID)
				}
			}
			p.byHost[r.host] = nil
		}
	}
	for _, s := range p.all {
		p.expired(s, asOf)
	}
	return mergeLinked(p.all)
}

func (p *pairer) logon(r *record) {
	s := &Session{
		Host: r.host, User: r.user, LogonID: r.logonID, LogonType: r.logonType,
		Elevated: r.elevated, LinkedLogonID: r.linked, Source: r.source,
		Start: r.at, LogonEvent: r.docID, asOf: p.asOf,
	}
	p.all = append(p.all, s)
	k := hostID{r.host, r.logonID}
	p.open[k] = append(live(p.open[k]), s)
	hs := p.byHost[r.host]
	if len(hs) == cap(hs) {
		hs = live(hs) // compact before the slice grows: amortised O(1)
	}
	p.byHost[r.host] = append(hs, s)
}

// find returns the session an end or mark belongs to, or nil.
func (p *pairer) find(r *record) *Session {
	k := hostID{r.host, r.logonID}
	ss := p.open[k]
	for i := len(ss) - 1; i >= 0; i-- {
		s := ss[i]
		if !isOpen(s) || p.expired(s, r.at) || s.Start.After(r.at) {
			continue
		}
		if r.kind == kindEnd && r.user.ID != "" && s.User.ID != "" && r.user.ID != s.User.ID {
			return nil
		}
		return s
	}
	if len(ss) > 0 && !isOpen(ss[len(ss)-1]) {
		p.open[k] = live(ss)
	}
	return nil
}

// expired closes s by Timeout when it is still open at t past its maximum
// duration, and reports whether it did or had.
func (p *pairer) expired(s *Session, t time.Time) bool {
	if !isOpen(s) {
		return s.EndReason == Timeout
	}
	limit := s.Start.Add(p.max)
	if p.max > 0 && !t.Before(limit) && !limit.After(p.asOf) {
		p.close(s, limit, Timeout, "")
		return true
	}
	return false
}

func (p *pairer) close(s *Session, at time.Time, reason EndReason, docID string) {
	s.End, s.EndReason, s.EndEvent = at, reason, docID
}

func isOpen(s *Session) bool { return s.End.IsZero() }

// live returns the sessions of ss still open, reusing its array.
func live(ss []*Session) []*Session {
	out := ss[:0]
	for _, s := range ss {
		if isOpen(s) {
			out = append(out, s)
		}
	}
	clear(ss[len(out):])
	return out
}

// linkWindow is how far apart the two 4624 of a UAC split logon may be:
// Windows writes them within milliseconds of each other; the window keeps a
// later logon that reuses one of the ids from being taken for the other half.
const linkWindow = time.Minute

// mergeLinked shows each UAC split logon as one session. When an
// administrator logs on with UAC, Windows creates two logon sessions, a
// filtered (standard) token and an elevated one, each with its own 4624 and
// 4634, each naming the other in TargetLinkedLogonId. They are one sitting
// at the keyboard: listing both would double every administrator's logon in
// "who was on host Y". The merged session keeps the earlier half (on a tie,
// the standard token, under which the desktop runs) as its logon id, the
// other as LinkedLogonID, Elevated set (a linked pair exists only for an
// elevated token), the union of the marks, and the first real end (logoff,
// user logoff or reboot) of either half: Windows ends both at logoff, and a
// lost 4634 for one half must not keep the session open. A half whose
// partner was not loaded stays a session of its own with LinkedLogonID set.
func mergeLinked(all []*Session) []*Session {
	index := map[hostID][]*Session{}
	for _, s := range all {
		if s.LinkedLogonID != "" {
			k := hostID{s.Host, s.LogonID}
			index[k] = append(index[k], s)
		}
	}
	if len(index) == 0 {
		return all
	}
	merged := map[*Session]bool{}
	out := all[:0]
	for _, a := range all {
		if merged[a] {
			continue
		}
		if a.LinkedLogonID != "" {
			var best *Session
			for _, b := range index[hostID{a.Host, a.LinkedLogonID}] {
				if b == a || merged[b] || b.LinkedLogonID != a.LogonID {
					continue
				}
				if d := absDur(b.Start.Sub(a.Start)); d <= linkWindow && (best == nil || d < absDur(best.Start.Sub(a.Start))) {
					best = b
				}
			}
			if best != nil {
				merged[best] = true
				merged[a] = true
				a = combine(a, best)
			}
		}
		out = append(out, a)
	}
	return out
}

func combine(a, b *Session) *Session {
	primary, other := a, b
	if b.Start.Before(a.Start) || (b.Start.Equal(a.Start) && a.Elevated && !b.Elevated) {
		primary, other = b, a
	}
	s := *primary
	s.Elevated = true
	s.LinkedLogonID = other.LogonID
	if s.Source == (Source{}) {
		s.Source = other.Source
	}
	s.Marks = append(slices.Clone(primary.Marks), other.Marks...)
	slices.SortStableFunc(s.Marks, func(x, y Mark) int { return x.Time.Compare(y.Time) })
	seen := func(x *Session) bool {
		return x.EndReason == Logoff || x.EndReason == UserLogoff || x.EndReason == Reboot
	}
	switch {
	case seen(primary) && seen(other):
		if other.End.Before(primary.End) {
			s.End, s.EndReason, s.EndEvent = other.End, other.EndReason, other.EndEvent
		}
	case seen(other):
		s.End, s.EndReason, s.EndEvent = other.End, other.EndReason, other.EndEvent
	}
	return &s
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
