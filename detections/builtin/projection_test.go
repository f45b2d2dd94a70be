package builtin_test

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/sigma"
	"github.com/mamori-soc/mamori/event"
)

// TestProjectionAgrees checks that the select step may decode only the
// fields the built-in pack reads: on simulated office traffic and the
// detection story's kind of events, every event matches the same rules
// with the same group keys as when decoded whole.
func TestProjectionAgrees(t *testing.T) {
	t.Run("built-in pack", func(t *testing.T) { projectionAgrees(t, load(t)) })
	t.Run("500 Sigma rules", func(t *testing.T) {
		rules, errs := sigma.Detections(fstest.MapFS{
			"failed.yml": {Data: []byte("id: 00000000-0000-4000-8000-100000000001\ntitle: failed logon\nlevel: low\nlogsource: {product: windows, service: security}\ndetection:\n  sel: {EventID: 4625}\n  filter: {TargetUserName|endswith: '$'}\n  condition: sel and not filter")},
			"rdp.yml":    {Data: []byte("id: 00000000-0000-4000-8000-100000000002\ntitle: rdp logon\nlevel: low\nlogsource: {product: windows, service: security}\ndetection:\n  sel: {EventID: 4624, LogonType: 10}\n  condition: sel")},
			"ssh.yml":    {Data: []byte("id: 00000000-0000-4000-8000-100000000003\ntitle: ssh failure\nlevel: low\nlogsource: {product: linux, service: sshd}\ndetection:\n  keywords: ['Failed password']\n  condition: keywords")},
		}, nil)
		require.Empty(t, errs)
		projectionAgrees(t, append(sigmaRules(t, 500), rules...))
	})
}

func projectionAgrees(t *testing.T, rules []*detections.Rule) {
	en, err := detections.New(rules, detections.Config{})
	require.NoError(t, err)
	fields, ok := en.Reads()
	require.True(t, ok, "every rule says what it reads")
	require.NotContains(t, fields, "event.original")
	proj := event.NewProjection(fields)
	matches := func(e *event.Event) []string {
		var out []string
		en.Evaluate(e, func(r *detections.Rule, _ detections.Hit) {
			key := ""
			if s, ok := r.Detector.(detections.Stateful); ok {
				key = strings.Join(s.GroupKey(e), "|")
			} else {
				key = strings.Join(detections.KeyOf(e, r.DedupKey), "|")
			}
			out = append(out, r.ID+" "+key)
		})
		slices.Sort(out)
		return out
	}
	n := 0
	for _, rec := range traffic(t, 5000) {
		var full, part event.Event
		require.NoError(t, event.Unmarshal(rec.Value, &full))
		require.NoError(t, event.UnmarshalProjected(rec.Value, &part, proj))
		want := matches(&full)
		require.Equal(t, want, matches(&part))
		n += len(want)
	}
	require.Greater(t, n, 100, "the traffic exercises the rules")
}
