package demo_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/demo"
	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

// Half an hour of the simulated office parses as Winlogbeat JSON, and every
// logoff closes a logon of the same id on the same computer.
func TestWindowsGeneratorTellsAConsistentDay(t *testing.T) {
	g := demo.NewWindowsGenerator(42)
	p := winevent.NewWinlogbeatParser()
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	open := map[string]bool{}
	codes := map[string]int{}
	for i := range 1800 {
		at := start.Add(time.Duration(i) * time.Second)
		for _, doc := range g.Next(at) {
			var e event.Event
			require.NoError(t, p.Parse(doc, parsers.Meta{Received: at}, &e), string(doc))
			require.Equal(t, at, e.Timestamp)
			code := e.Event.Code
			codes[code]++
			id, _ := e.Get("winlog.event_data.TargetLogonId")
			computer, _ := e.Get("winlog.computer_name")
			key := computer.(string) + "/" + func() string { s, _ := id.(string); return s }()
			switch code {
			case "4624":
				require.False(t, open[key], "logon id reused while open: %s", key)
				open[key] = true
				require.Equal(t, "success", e.Event.Outcome)
			case "4634", "4647":
				require.True(t, open[key], "logoff without logon: %s", key)
				delete(open, key)
			case "4625":
				require.Equal(t, "failure", e.Event.Outcome)
			}
			require.NotEmpty(t, e.Message)
		}
	}
	for _, c := range []string{"4624", "4625", "4634", "4647", "4740"} {
		require.Positive(t, codes[c], "no %s in half an hour", c)
	}
}
