package sigma_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"gopkg.in/yaml.v3"

	"github.com/mamori-soc/mamori/detections/sigma"
	"github.com/mamori-soc/mamori/event"
)

// suite is one file of testdata/conformance: cases of a rule (or a set of
// rule files, for filters), events with their expected outcome, or the load
// error expected.
type suite struct {
	Cases []struct {
		Name         string              `yaml:"name"`
		Rule         string              `yaml:"rule"`
		Files        map[string]string   `yaml:"files"`  // Load instead of Compile
		Target       string              `yaml:"target"` // rule id the events test, with files
		Placeholders map[string][]string `yaml:"placeholders"`
		Error        string              `yaml:"error"` // substring of the load error
		Is           string              `yaml:"is"`    // invalid, unsupported or mapping
		Prefilter    map[string][]string `yaml:"prefilter"`
		Events       []struct {
			Match bool           `yaml:"match"`
			Event map[string]any `yaml:"event"`
		} `yaml:"events"`
		// Stream and Hits test the engine rules of Files (Detections):
		// the events, in event-time order, and every hit expected.
		Stream []streamEvent `yaml:"stream"`
		Hits   []wantHit     `yaml:"hits"`
	} `yaml:"cases"`
}

var sentinels = map[string]error{"invalid": sigma.ErrInvalid, "unsupported": sigma.ErrUnsupported, "mapping": sigma.ErrMapping}

func TestConformance(t *testing.T) {
	files, err := filepath.Glob("testdata/conformance/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance files: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var s suite
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, c := range s.Cases {
			t.Run(filepath.Base(file)+"/"+c.Name, func(t *testing.T) {
				cfg := &sigma.Config{Placeholders: c.Placeholders}
				if c.Stream != nil {
					runStream(t, c.Files, cfg, c.Stream, c.Hits)
					return
				}
				var rule *sigma.Rule
				var err error
				if c.Files != nil {
					fsys := fstest.MapFS{}
					for name, body := range c.Files {
						fsys[name] = &fstest.MapFile{Data: []byte(body)}
					}
					rules, errs := sigma.Load(fsys, cfg)
					err = errors.Join(errs...)
					for _, r := range rules {
						if r.ID == c.Target {
							rule = r
						}
					}
					if err == nil && rule == nil {
						t.Fatalf("target rule %q not loaded", c.Target)
					}
				} else {
					rule, err = sigma.Compile([]byte(c.Rule), cfg)
				}
				if c.Error != "" {
					if err == nil {
						t.Fatalf("loaded; want error containing %q", c.Error)
					}
					if !strings.Contains(err.Error(), c.Error) {
						t.Fatalf("error %q; want it to contain %q", err, c.Error)
					}
					if want := sentinels[c.Is]; want == nil || !errors.Is(err, want) {
						t.Fatalf("error %q is not %q", err, c.Is)
					}
					return
				}
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				if c.Prefilter != nil {
					got := map[string][]string{}
					for _, p := range rule.Prefilter() {
						got[p.Field] = p.Values
					}
					if !equalSets(got, c.Prefilter) {
						t.Errorf("prefilter %v; want %v", got, c.Prefilter)
					}
				}
				if len(c.Events) == 0 {
					t.Fatal("case has no events")
				}
				for i, ev := range c.Events {
					e := buildEvent(t, ev.Event)
					if got := rule.Match(e); got != ev.Match {
						t.Errorf("event %d %v: match %v, want %v", i, ev.Event, got, ev.Match)
					}
					if ev.Match && !passesPrefilter(rule, e) {
						t.Errorf("event %d matches but fails the prefilter %v", i, rule.Prefilter())
					}
				}
			})
		}
	}
}

func equalSets(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || strings.Join(v, "\x00") != strings.Join(w, "\x00") {
			return false
		}
	}
	return true
}

// passesPrefilter checks the prefilter contract: a matching event satisfies
// every constraint.
func passesPrefilter(r *sigma.Rule, e *event.Event) bool {
	for _, c := range r.Prefilter() {
		v, _ := e.Get(c.Field)
		ok := false
		for _, s := range flatten(v) {
			for _, want := range c.Values {
				ok = ok || s == want
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func flatten(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		return x
	case int64:
		return []string{itoa(x)}
	}
	return nil
}

func itoa(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}

// buildEvent sets each dotted field; YAML ints become int64, lists of
// strings []string.
func buildEvent(t testing.TB, fields map[string]any) *event.Event {
	t.Helper()
	e := &event.Event{}
	for k, v := range fields {
		switch x := v.(type) {
		case int:
			v = int64(x)
		case []any:
			ss := make([]string, 0, len(x))
			for _, el := range x {
				s, ok := el.(string)
				if !ok {
					v = x
					break
				}
				ss = append(ss, s)
			}
			if len(ss) == len(x) {
				v = ss
			}
		}
		if err := e.Set(k, v); err != nil {
			t.Fatalf("event field %s: %v", k, err)
		}
	}
	return e
}
