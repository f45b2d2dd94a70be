package sigma_test

import (
	"os"
	"path/filepath"
	"testing"

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
