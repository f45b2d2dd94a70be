package winevent_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

// formatSpecific reports the fields that differ between formats by nature:
// the raw record, what the shipper adds about its own host, and what the
// sending host renders (messages, level, task and keyword names: Event XML from
// Windows Event Forwarding often carries no rendering, NXLog renders no
// keyword names). Everything else, and above all the Security module's
// mapping, must be equal.
func formatSpecific(name string) bool {
	switch name {
	case "event.original", "message", "winlog.task", "winlog.opcode", "winlog.keywords", "winlog.api", "tags", "event.dataset", "@timestamp", "log.level":
		return true
	}
	return strings.HasPrefix(name, "host.") || strings.HasPrefix(name, "winlog.user.")
}

// flatECS encodes e and returns its fields by dotted name.
func flatECS(t *testing.T, e *event.Event) map[string]any {
	b, err := event.Marshal(e)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	out := map[string]any{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
				continue
			}
			out[prefix+k] = v
		}
	}
	walk("", doc)
	return out
}

// TestFormatsAgree parses each event that exists as Event XML, Winlogbeat
// JSON and NXLog JSON, and checks that all three map to the same ECS
// fields, apart from the format-specific ones: that is the point of the
// shared Record.
func TestFormatsAgree(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "nxlog", "4*"))
	require.NoError(t, err)
	formats := []struct {
		root, input string
		p           parsers.Parser
	}{
		{"eventxml", "input.xml", winevent.NewXMLParser()},
		{"winlogbeat", "input.json", winevent.NewWinlogbeatParser()},
		{"nxlog", "input.json", winevent.NewNXLogParser()},
	}
	compared := 0
	for _, dir := range dirs {
		c := filepath.Base(dir)
		if _, err := os.Stat(filepath.Join("testdata", "eventxml", c)); err != nil {
			continue // a variant of an event that exists in one format only
		}
		t.Run(c, func(t *testing.T) {
			var ref map[string]any
			var refTime time.Time
			var refKey []byte
			for _, f := range formats {
				raw, err := os.ReadFile(filepath.Join("testdata", f.root, c, f.input))
				require.NoError(t, err, f.root)
				var e event.Event
				require.NoError(t, f.p.Parse(raw, kafkaMeta, &e), f.root)
				// One event, one identity, whichever way it travelled.
				key, ok := winevent.Identity(&e)
				require.True(t, ok, f.root)
				if refKey == nil {
					refKey = key
				}
				require.Equal(t, string(refKey), string(key), "%s: identity differs from eventxml", f.root)
				got := flatECS(t, &e)
				for k := range got {
					if formatSpecific(k) {
						delete(got, k)
					}
				}
				if g, ok := got["winlog.provider_guid"].(string); ok {
					got["winlog.provider_guid"] = strings.ToLower(g) // NXLog writes it in upper case
				}
				if ref == nil {
					ref, refTime = got, e.Timestamp
					if _, ok := ref["event.category"]; !ok {
						// Without a category, event.action is the rendered task name.
						delete(ref, "event.action")
					}
					continue
				}
				if _, ok := ref["event.action"]; !ok {
					delete(got, "event.action")
				}
				require.Equal(t, ref, got, "%s differs from eventxml", f.root)
				// JSON formats carry the time to the millisecond (Winlogbeat)
				// or the second (NXLog Community Edition).
				require.WithinDuration(t, refTime, e.Timestamp, time.Second, f.root)
				require.False(t, e.Timestamp.After(refTime), f.root)
			}
			compared++
		})
	}
	require.GreaterOrEqual(t, compared, 23, "events compared across the three formats")
}
