package sigma_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/fstest"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mamori-soc/mamori/detections/sigma"
	"github.com/mamori-soc/mamori/event"
)

// FuzzCompile checks that no rule text makes Compile or Match panic or hang,
// and that a compiled rule's prefilter holds for the events it matches.
func FuzzCompile(f *testing.F) {
	files, _ := filepath.Glob("testdata/conformance/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var s suite
		if err := yaml.Unmarshal(data, &s); err != nil {
			f.Fatal(err)
		}
		for _, c := range s.Cases {
			if c.Rule != "" {
				f.Add([]byte(c.Rule), "C:\\Users\\田中\\cmd.exe -enc d2hvYW1p")
			}
		}
	}
	cfg := &sigma.Config{Placeholders: map[string][]string{"Admins": {"adm_*"}}}
	f.Fuzz(func(t *testing.T, rule []byte, value string) {
		r, err := sigma.Compile(rule, cfg)
		if err != nil {
			return
		}
		e := &event.Event{Message: value}
		e.Event.Code = "4624"
		e.Fields = map[string]any{
			"winlog.channel": "Security", "winlog.event_id": "4624",
			"winlog.event_data.CommandLine": value, "winlog.event_data.Image": value,
			"winlog.event_data.A": value, "winlog.event_data.LogonType": int64(10),
		}
		if r.Match(e) && !passesPrefilter(r, e) {
			t.Fatalf("matched but failed prefilter %v", r.Prefilter())
		}
	})
}

// FuzzCorrelation checks that no correlation rule text makes Load,
// Detections or a state (observing, advancing, snapshot and restore) panic,
// and that a restored state gives the hits the original gives.
func FuzzCorrelation(f *testing.F) {
	data, err := os.ReadFile("testdata/conformance/correlations.yaml")
	if err != nil {
		f.Fatal(err)
	}
	var s suite
	if err := yaml.Unmarshal(data, &s); err != nil {
		f.Fatal(err)
	}
	for _, c := range s.Cases {
		for name, body := range c.Files {
			if name == "corr.yml" || name == "outer.yml" {
				f.Add([]byte(body))
			}
		}
	}
	ok := "title: Logon\nid: f0000000-0000-4000-8000-000000000002\nname: successful_logon\n" +
		"logsource: {product: windows, service: security}\ndetection: {sel: {EventID: 4624}, condition: sel}\n"
	var events []*event.Event
	for i, user := range []string{"alice", "bob", "alice", "alice", "bob", "alice"} {
		e := failure(fmt.Sprintf("e%d", i), user, time.Duration(i*i)*time.Minute)
		if i%3 == 2 {
			e.Fields["winlog.event_id"] = int64(4624)
		}
		events = append(events, e)
	}
	f.Fuzz(func(t *testing.T, corr []byte) {
		fsys := fstest.MapFS{
			"fail.yml": {Data: []byte(failRule)}, "ok.yml": {Data: []byte(ok)},
			"corr.yml": {Data: corr},
		}
		rules, _ := sigma.Detections(fsys, &sigma.Config{MaxGroups: 3, MaxGroupEvents: 50})
		want := run(t, rules, events, -1)
		if got := run(t, rules, events, 2); !reflect.DeepEqual(got, want) {
			t.Fatalf("hits after restore %v, want %v", got, want)
		}
	})
}
