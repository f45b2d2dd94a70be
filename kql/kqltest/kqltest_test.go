package kqltest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/kql/kqltest"
)

// TestTable checks the table itself: documents decode, names and ids are
// unique, every id a case wants exists, every document is matched by some
// case and missed by another, and error cases are errors.
func TestTable(t *testing.T) {
	ids := map[string]bool{}
	for _, d := range kqltest.Docs() {
		require.False(t, ids[d.ID], "duplicate document %s", d.ID)
		ids[d.ID] = true
		var e event.Event
		require.NoError(t, event.Unmarshal([]byte(d.JSON), &e), "document %s", d.ID)
	}
	require.GreaterOrEqual(t, len(ids), 12)

	names := map[string]bool{}
	matched := map[string]int{}
	for _, c := range kqltest.Cases() {
		require.False(t, names[c.Name], "duplicate case %q", c.Name)
		names[c.Name] = true
		require.False(t, c.Err != "" && len(c.Want) > 0, "case %q wants both an error and documents", c.Name)
		for _, id := range c.Want {
			require.True(t, ids[id], "case %q wants unknown document %s", c.Name, id)
			matched[id]++
		}
		n, err := kql.Parse(c.Query)
		if err == nil {
			_, err = kql.Plan(n, kqltest.Options())
		}
		require.Equal(t, c.Err != "", err != nil, "case %q: %v", c.Name, err)
	}
	require.GreaterOrEqual(t, len(names), 60)
	for id := range ids {
		require.NotZero(t, matched[id], "no case matches document %s", id)
	}
}

// TestRunReportsMismatches makes sure Run fails an evaluator that gets the
// answers wrong, so a store cannot pass the table by accident. The wrong
// evaluator runs in a child test process.
func TestRunReportsMismatches(t *testing.T) {
	if os.Getenv("KQLTEST_WRONG_EVAL") == "1" {
		kqltest.Run(t, func(*testing.T, kql.Cond) []string { return []string{"ssh-ok"} })
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunReportsMismatches$")
	cmd.Env = append(os.Environ(), "KQLTEST_WRONG_EVAL=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the wrong evaluator passed")
	require.True(t, strings.Contains(string(out), `query "user.name:Tanaka"`), "no report for a case that wants nothing")
	require.True(t, strings.Contains(string(out), `query "user.name:tanaka"`), "no report for a case that wants more")
}
