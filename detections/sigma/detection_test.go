package sigma_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/sigma"
)

func TestDetections(t *testing.T) {
	rules, errs := sigma.Detections(os.DirFS("testdata/rules"), nil)
	require.Len(t, errs, 1) // the bad modifier
	byID := map[string]*detections.Rule{}
	for _, r := range rules {
		byID[r.ID] = r
	}
	// The failed-logon rule is referenced by the correlation with the
	// default generate: false: it runs only inside the correlation.
	require.NotContains(t, byID, "7c1d2a0e-3f5b-4b8e-9a61-0d6f4c2b9e12")
	require.Len(t, rules, 3)

	rdp := byID["7c1d2a0e-3f5b-4b8e-9a61-0d6f4c2b9e10"]
	require.NotNil(t, rdp)
	require.Equal(t, "Remote interactive logon by a Japanese-named account", rdp.Name)
	require.Equal(t, 1, rdp.Version)
	require.Equal(t, detections.Low, rdp.Severity)
	require.Equal(t, []detections.Tactic{{ID: "TA0008", Name: "Lateral Movement"}}, rdp.Tactics)
	require.Equal(t, []detections.Technique{{ID: "T1021.001"}}, rdp.Techniques)
	require.Contains(t, rdp.Prerequisites, detections.Prerequisite{Field: "winlog.channel", Values: []string{"Security"}})
	_, stateful := rdp.Detector.(detections.Stateful)
	require.False(t, stateful)

	bf := byID["7c1d2a0e-3f5b-4b8e-9a61-0d6f4c2b9e11"]
	require.NotNil(t, bf)
	require.Equal(t, detections.High, bf.Severity)
	require.Empty(t, bf.DedupKey, "the group key alone identifies a correlation's alerts")
	require.ElementsMatch(t, []detections.Prerequisite{
		{Field: "winlog.channel", Values: []string{"Security"}},
		{Field: "winlog.event_id", Values: []string{"4625"}},
	}, bf.Prerequisites)
	_, stateful = bf.Detector.(detections.Stateful)
	require.True(t, stateful)

	// The engine accepts every rule.
	_, err := detections.New(rules, detections.Config{})
	require.NoError(t, err)
}

func TestDetectionNeedsAnID(t *testing.T) {
	r, err := sigma.Compile([]byte("title: no id\nlogsource: {product: windows}\ndetection: {sel: {A: '1'}, condition: sel}\n"), nil)
	require.NoError(t, err)
	_, err = r.Detection()
	require.ErrorIs(t, err, sigma.ErrInvalid)
}

func TestCorrelationPrerequisitesAreCommonOnly(t *testing.T) {
	files := map[string]string{
		"fail.yml": failRule,
		"ok.yml":   "title: ok\nid: f0000000-0000-4000-8000-000000000002\nname: successful_logon\nlogsource: {product: windows, service: security}\ndetection: {sel: {EventID: 4624}, condition: sel}\n",
		"corr.yml": "title: t\nid: c0000000-0000-4000-8000-000000000001\ncorrelation: {type: temporal, rules: [failed_logon, successful_logon], group-by: [TargetUserName], timespan: 5m}\n",
	}
	rules := loadRules(t, files, nil)
	require.Len(t, rules, 1)
	require.ElementsMatch(t, []detections.Prerequisite{
		{Field: "winlog.channel", Values: []string{"Security"}},
		{Field: "winlog.event_id", Values: []string{"4624", "4625"}},
	}, rules[0].Prerequisites)
}
