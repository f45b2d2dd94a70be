package sla_test

import (
	"errors"
	"testing"
	"time"

	"github.com/mamori-soc/mamori/casework/sla"
)

// FuzzParse checks that any input either parses into valid definitions,
// which Evaluate can run, or fails with an ErrConfig error; never a panic.
func FuzzParse(f *testing.F) {
	f.Add(sla.DefaultsYAML())
	f.Add("clocks:\n  - name: c\n    applies_to: [x]\n    start: {kind: created}\n    stop: {kind: status, status: closed}\n    target: {day_of_month: 31}\n")
	f.Add("clocks:\n  - name: r\n    applies_to: [x]\n    start: {kind: created}\n    stop: {kind: a}\n    repeat: 1m\n    met_by: {kind: b}\n    pause: [{status: w}]\n")
	f.Add("clocks: [{name: a, target: &t 1h, applies_to: [x]}, {name: b, target: *t}]\n")
	f.Add("clocks:\n  - target: {months: 1, months: 2}\n")
	cal := newCal(f)
	start := time.Date(2026, 10, 2, 16, 0, 0, 0, jst)
	timeline := []sla.Entry{
		{At: start, Kind: sla.KindCreated, Status: "new"},
		{At: start.Add(time.Hour), Kind: sla.KindStatus, Status: "w"},
		{At: start.Add(20 * time.Hour), Kind: sla.KindStatus, Status: "x"},
		{At: start.Add(30 * time.Hour), Kind: "b"},
	}
	f.Fuzz(func(t *testing.T, data string) {
		defs, err := sla.Parse([]byte(data))
		if err != nil {
			if !errors.Is(err, sla.ErrConfig) {
				t.Fatalf("error without ErrConfig: %v", err)
			}
			return
		}
		for _, d := range defs {
			if err := d.Validate(); err != nil {
				t.Fatalf("parsed definition does not validate: %v", err)
			}
			for _, c := range sla.Evaluate(d, timeline, start.Add(72*time.Hour), cal) {
				if c.StartedAt.IsZero() || c.Due.Before(c.StartedAt) || c.Elapsed < 0 {
					t.Fatalf("bad clock %+v", c)
				}
			}
		}
	})
}
