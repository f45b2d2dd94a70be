package casework_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/casework"
)

func TestPatchApply(t *testing.T) {
	now := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	base := func() casework.Case {
		return casework.Case{
			Type: casework.Incident, Title: "プリンタが使えない", Status: casework.New,
			Fields:    map[string]string{"device": "PRN-3F-01", "floor": "3F"},
			Checklist: []casework.Step{{Text: "受付"}, {Text: "切り分け"}, {Text: "連絡", Done: true, DoneBy: "sato", DoneAt: now.Add(-time.Hour)}},
		}
	}
	status, prio, assignee, title := casework.InProgress, casework.P2, "鈴木", "3階のプリンタが使えない"
	c := base()
	err := casework.Patch{
		Status: &status, Priority: &prio, Assignee: &assignee, Title: &title,
		Fields:       map[string]string{"floor": "", "impact": "3階全体"},
		Comment:      "トナー交換で様子見",
		Links:        []casework.Link{{Kind: "alert", ID: "a1"}},
		Done:         []int{0, 2},
		Notification: "first_report",
	}.Apply(&c, "suzuki", now)
	require.NoError(t, err)
	require.Equal(t, casework.InProgress, c.Status)
	require.Equal(t, casework.P2, c.Priority)
	require.Equal(t, "鈴木", c.Assignee)
	require.Equal(t, "3階のプリンタが使えない", c.Title)
	require.Equal(t, "", c.Description, "an absent field stays")
	require.Equal(t, map[string]string{"device": "PRN-3F-01", "impact": "3階全体"}, c.Fields, "an empty value removes the key")
	require.Equal(t, []casework.Comment{{At: now, Author: "suzuki", Text: "トナー交換で様子見"}}, c.Comments)
	require.Equal(t, []casework.Link{{Kind: "alert", ID: "a1"}}, c.Links)
	require.Equal(t, casework.Step{Text: "受付", Done: true, DoneBy: "suzuki", DoneAt: now}, c.Checklist[0])
	require.False(t, c.Checklist[1].Done)
	require.Equal(t, "sato", c.Checklist[2].DoneBy, "a step done already keeps who did it")
	require.Equal(t, []casework.Entry{{At: now, Kind: "notification", Actor: "suzuki", Notification: "first_report"}}, c.Timeline)
	require.Nil(t, c.Survey)

	// Fields on a case without any.
	c = casework.Case{Type: casework.Incident, Title: "t", Status: casework.New}
	require.NoError(t, casework.Patch{Fields: map[string]string{"k": "v", "gone": ""}}.Apply(&c, "x", now))
	require.Equal(t, map[string]string{"k": "v"}, c.Fields)

	// A step out of range is refused.
	for _, i := range []int{3, -1} {
		c = base()
		err = casework.Patch{Done: []int{i}}.Apply(&c, "suzuki", now)
		require.ErrorIs(t, err, casework.ErrInvalid)
		require.ErrorContains(t, err, "checklist has no step")
	}

	// The survey is by the actor, now.
	c = base()
	require.NoError(t, casework.Patch{Survey: &casework.PatchSurvey{Score: 80, Comment: "早かった"}}.Apply(&c, "tanaka", now))
	require.Equal(t, &casework.Survey{Score: 80, Comment: "早かった", By: "tanaka", At: now}, c.Survey)

	// The empty patch changes nothing.
	c = base()
	require.NoError(t, casework.Patch{}.Apply(&c, "x", now))
	require.Equal(t, base(), c)
}
