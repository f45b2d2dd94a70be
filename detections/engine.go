package detections

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
)

// Config holds the engine-wide settings.
type Config struct {
	// Exceptions are KQL queries: an event matching any of them never
	// alerts, for any rule.
	Exceptions []string
	// Location resolves dates without a zone in exception queries (default
	// UTC). Relative dates ("now-1d") are resolved once, at load.
	Location *time.Location
	// AllowedLateness is how long stateful rules wait, in event time, for
	// events that arrive out of order (default one minute): observations
	// are observed in event-time order once the watermark (the event time
	// every source partition has reached) minus the lateness has passed
	// them. It is also how long after its suppression window ends an open
	// alert is still kept for updates.
	AllowedLateness time.Duration
	// MaxOpenAlerts bounds the alerts kept for deduplication (default
	// 100,000); beyond it the oldest windows are forgotten first.
	MaxOpenAlerts int
	// MaxEventIDs caps the triggering event ids kept in one alert
	// (default 100).
	MaxEventIDs int
}

func (c *Config) defaults() {
	if c.Location == nil {
		c.Location = time.UTC
	}
	if c.AllowedLateness <= 0 {
		c.AllowedLateness = time.Minute
	}
	if c.MaxOpenAlerts <= 0 {
		c.MaxOpenAlerts = 100_000
	}
	if c.MaxEventIDs <= 0 {
		c.MaxEventIDs = 100
	}
}

// Engine holds compiled rules and hands each event to the rules that can
// match it. It is stateless and safe for concurrent use: what stateful rules
// do with their matches is the detect stage's business (see Stateful).
type Engine struct {
	cfg    Config
	rules  []*compiled
	global []kql.Matcher

	// reads are the fields the rules read; readsAll is set when some rule
	// cannot say (see FieldReader).
	reads    map[string]bool
	readsAll bool

	// fields are the indexed fields, sorted; each maps the canonical text
	// of a value to the rules indexed under it.
	fields []indexField
	// always are the rules without prerequisites.
	always []int32
	// stateful are the rules with a Stateful detector; byID finds a rule.
	stateful []int32
	byID     map[string]*compiled
	// prereqs are the distinct prerequisites rules check beyond the index.
	prereqs []prereq

	scratch sync.Pool
}

type indexField struct {
	name   string
	str    func(*event.Event) (string, bool) // direct reader of a typed string field, or nil
	values map[string][]int32
}

// stringField returns the non-boxing reader of a typed single-valued
// string field (event.Get allocates for typed strings), or nil.
func stringField(name string) func(*event.Event) (string, bool) {
	if f := event.Lookup(name); f != nil && f.IsString() {
		return f.StringOf
	}
	return nil
}

// compiled is a rule ready to run.
type compiled struct {
	rule       *Rule
	exceptions []kql.Matcher
	// rest are the prerequisites the index did not check (indexes into
	// Engine.prereqs).
	rest     []int32
	stateful Stateful // nil for a stateless rule
}

// scratch is per-call working memory, reused through a pool.
type scratch struct {
	seen []uint32 // per rule: generation that last queued it
	gen  uint32
	// checked and holds memoise prerequisite results within one event:
	// checked[i] == gen when prereqs[i] was evaluated, holds[i] its result.
	checked []uint32
	holds   []bool
	cand    []int32
	num     [32]byte
}

// New validates and compiles the rules (copies: the caller's rules are not
// changed) and the global exceptions, and builds the dispatch index. Every
// invalid rule is reported, joined in one error that wraps ErrInvalidRule.
func New(rules []*Rule, cfg Config) (*Engine, error) {
	cfg.defaults()
	now := time.Now()
	en := &Engine{cfg: cfg}
	var errs []error
	for i, q := range cfg.Exceptions {
		m, err := en.compileKQL(q, cfg.Location, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("detections: global exception %d: %w", i+1, err))
			continue
		}
		en.global = append(en.global, m)
	}
	ids := make(map[string]bool, len(rules))
	for _, src := range rules {
		r := *src
		if err := r.normalise(); err != nil {
			errs = append(errs, err)
			continue
		}
		if ids[r.ID] {
			errs = append(errs, fmt.Errorf("%w %s: duplicate id", ErrInvalidRule, r.label()))
			continue
		}
		ids[r.ID] = true
		c := &compiled{rule: &r}
		for i, q := range r.Exceptions {
			m, err := en.compileKQL(q, cfg.Location, now)
			if err != nil {
				errs = append(errs, fmt.Errorf("%w %s: exception %d: %w", ErrInvalidRule, r.label(), i+1, err))
				continue
			}
			c.exceptions = append(c.exceptions, m)
		}
		c.stateful, _ = r.Detector.(Stateful)
		if fr, ok := r.Detector.(FieldReader); ok {
			en.read(fr.Reads())
		} else {
			en.read(nil, false)
		}
		for _, p := range r.Prerequisites {
			en.read([]string{p.Field}, true)
		}
		if c.stateful == nil {
			en.read(r.DedupKey, true)
		}
		en.rules = append(en.rules, c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	en.index()
	en.scratch.New = func() any {
		return &scratch{seen: make([]uint32, len(en.rules)), checked: make([]uint32, len(en.prereqs)), holds: make([]bool, len(en.prereqs))}
	}
	return en, nil
}

// compileKQL compiles a query and notes the fields it reads.
func (en *Engine) compileKQL(q string, loc *time.Location, now time.Time) (kql.Matcher, error) {
	n, err := kql.Parse(q)
	if err != nil {
		return nil, err
	}
	c, err := kql.Plan(n, kql.Options{Location: loc, Now: now})
	if err != nil {
		return nil, err
	}
	fields, ok := kql.Fields(c)
	en.read(fields, ok)
	return kql.Compile(c), nil
}

// read notes fields the rules read; ok false means "any field".
func (en *Engine) read(fields []string, ok bool) {
	if en.reads == nil {
		en.reads = map[string]bool{}
	}
	for _, f := range fields {
		en.reads[f] = true
	}
	en.readsAll = en.readsAll || !ok
}

// Reads returns the fields the rules read to decide whether an event
// matches and where its match goes (queries, prerequisites, exceptions,
// group and dedup keys), sorted; ok is false when some rule cannot say
// (its Detector is not a FieldReader), and then every field counts.
func (en *Engine) Reads() (fields []string, ok bool) {
	if en.readsAll {
		return nil, false
	}
	return slices.Sorted(maps.Keys(en.reads)), true
}

// index files each rule under one of its prerequisites: the one on the
// field whose values discriminate most among all the rules (the field the
// rules name the most distinct values of: event.code rather than
// winlog.channel, which every Windows rule sets to Security), then the one
// with the fewest values, then the first declared. The other prerequisites
// are checked per event, each distinct one at most once (rest).
func (en *Engine) index() {
	byName := map[string]*indexField{}
	en.byID = make(map[string]*compiled, len(en.rules))
	distinct := map[string]map[string]bool{}
	for _, c := range en.rules {
		for _, p := range c.rule.Prerequisites {
			if distinct[p.Field] == nil {
				distinct[p.Field] = map[string]bool{}
			}
			for _, v := range p.Values {
				distinct[p.Field][v] = true
			}
		}
	}
	prereqs := map[string]int32{} // distinct prerequisites, by canonical form
	for i, c := range en.rules {
		en.byID[c.rule.ID] = c
		if c.stateful != nil {
			en.stateful = append(en.stateful, int32(i))
		}
		pre := c.rule.Prerequisites
		if len(pre) == 0 {
			en.always = append(en.always, int32(i))
			continue
		}
		best := 0
		for j := range pre {
			dj, db := len(distinct[pre[j].Field]), len(distinct[pre[best].Field])
			if dj > db || dj == db && len(pre[j].Values) < len(pre[best].Values) {
				best = j
			}
		}
		for j, p := range pre {
			if j == best {
				continue
			}
			key := p.Field + "\x00" + strings.Join(p.Values, "\x00")
			id, ok := prereqs[key]
			if !ok {
				id = int32(len(en.prereqs))
				prereqs[key] = id
				en.prereqs = append(en.prereqs, prereq{p, stringField(p.Field)})
			}
			c.rest = append(c.rest, id)
		}
		f := byName[pre[best].Field]
		if f == nil {
			f = &indexField{name: pre[best].Field, str: stringField(pre[best].Field), values: map[string][]int32{}}
			byName[f.name] = f
		}
		for _, v := range pre[best].Values {
			if l := f.values[v]; len(l) == 0 || l[len(l)-1] != int32(i) {
				f.values[v] = append(l, int32(i))
			}
		}
	}
	for _, f := range byName {
		en.fields = append(en.fields, *f)
	}
	slices.SortFunc(en.fields, func(a, b indexField) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
}

// Rules returns the engine's rules, with their defaults applied, in load
// order. They must not be modified.
func (en *Engine) Rules() []*Rule {
	out := make([]*Rule, len(en.rules))
	for i, c := range en.rules {
		out[i] = c.rule
	}
	return out
}

// Evaluate runs the event through the rules that can match it and calls
// emit for every rule that matches (prerequisites, Match and exceptions),
// in a deterministic order. For a stateful rule the hit is a match to be
// observed by the rule's State, not yet a reason to alert. An event matching a global
// exception reaches no rule. emit must not keep h.Event beyond the call
// unless the caller keeps the event alive and unchanged.
func (en *Engine) Evaluate(e *event.Event, emit func(r *Rule, h Hit)) {
	for _, m := range en.global {
		if m.Match(e) {
			return
		}
	}
	s := en.scratch.Get().(*scratch)
	s.gen++
	if s.gen == 0 { // wrapped: forget every mark
		clear(s.seen)
		clear(s.checked)
		s.gen = 1
	}
	s.cand = s.cand[:0]
	for fi := range en.fields {
		f := &en.fields[fi]
		if f.str != nil {
			v, _ := f.str(e)
			for _, ri := range f.values[v] {
				if s.seen[ri] != s.gen {
					s.seen[ri] = s.gen
					s.cand = append(s.cand, ri)
				}
			}
			continue
		}
		v, ok := e.Get(f.name)
		if !ok {
			continue
		}
		forEachText(v, &s.num, func(text string) {
			for _, ri := range f.values[text] {
				if s.seen[ri] != s.gen {
					s.seen[ri] = s.gen
					s.cand = append(s.cand, ri)
				}
			}
		})
	}
	s.cand = append(s.cand, en.always...)
	for _, ri := range s.cand {
		en.run(en.rules[ri], e, s, emit)
	}
	en.scratch.Put(s)
}

// run checks one candidate rule against the event.
func (en *Engine) run(c *compiled, e *event.Event, s *scratch, emit func(*Rule, Hit)) {
	for _, p := range c.rest {
		if s.checked[p] != s.gen {
			s.checked[p] = s.gen
			s.holds[p] = en.prereqs[p].satisfiedBy(e, &s.num)
		}
		if !s.holds[p] {
			return
		}
	}
	if !c.rule.Detector.Match(e) {
		return
	}
	for _, m := range c.exceptions {
		if m.Match(e) {
			return
		}
	}
	emit(c.rule, Hit{Event: e})
}

// prereq is a prerequisite with the non-boxing reader of its field, when
// it is a typed string field.
type prereq struct {
	Prerequisite
	str func(*event.Event) (string, bool)
}

// satisfiedBy reports whether the event meets the prerequisite.
func (p *prereq) satisfiedBy(e *event.Event, buf *[32]byte) bool {
	if p.str != nil {
		v, _ := p.str(e)
		return slices.Contains(p.Values, v)
	}
	v, ok := e.Get(p.Field)
	if !ok {
		return false
	}
	found := false
	forEachText(v, buf, func(text string) {
		if !found && slices.Contains(p.Values, text) {
			found = true
		}
	})
	return found
}

// forEachText calls fn with the canonical text of the value, or of each
// element of an array. Numbers are formatted into buf, so fn must not keep
// the string.
func forEachText(v any, buf *[32]byte, fn func(string)) {
	switch x := v.(type) {
	case string:
		fn(x)
	case []string:
		for _, s := range x {
			fn(s)
		}
	case int64:
		fn(bytesString(strconv.AppendInt(buf[:0], x, 10)))
	case int:
		fn(bytesString(strconv.AppendInt(buf[:0], int64(x), 10)))
	case float64:
		fn(bytesString(strconv.AppendFloat(buf[:0], x, 'f', -1, 64)))
	case bool:
		fn(strconv.FormatBool(x))
	case []any:
		for _, el := range x {
			forEachText(el, buf, fn) // nested arrays flatten, as in KQL
		}
	}
}

// bytesString views b as a string without copying; the string is valid only
// while b is unchanged.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
