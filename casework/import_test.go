package casework_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/casework"
)

func TestImport(t *testing.T) {
	cs, now := newCases(t)
	ctx := context.Background()
	opened := time.Date(2026, 9, 3, 0, 30, 0, 0, time.UTC)
	old := casework.Case{
		ID: "INC-20260903-OLD01", Timestamp: opened, Type: casework.Incident, Title: "共有フォルダに入れない",
		Status: casework.Closed, Priority: casework.P3, Reporter: "田中", Channel: "phone",
		Timeline: []casework.Entry{
			{At: opened, Kind: "created", Actor: "helpdesk", Status: casework.New},
			{At: opened.Add(10 * time.Minute), Kind: "status", Actor: "helpdesk", Status: casework.Acknowledged},
			{At: opened.Add(2 * time.Hour), Kind: "status", Actor: "helpdesk", Status: casework.Closed},
		},
		Comments: []casework.Comment{{At: opened.Add(time.Hour), Author: "helpdesk", Text: "権限を付与"}},
		Audit:    []casework.Change{{At: opened, Actor: "helpdesk", Field: "case", After: "opened"}},
	}
	c, v, err := cs.Import(ctx, "migration", old)
	require.NoError(t, err)
	require.Equal(t, old.ID, c.ID)
	require.Equal(t, old.Timeline, c.Timeline)
	require.Equal(t, old.Comments, c.Comments)
	require.Equal(t, *now, c.UpdatedAt)
	require.Equal(t, append(old.Audit, casework.Change{At: *now, Actor: "migration", Field: "case", After: "imported"}), c.Audit)
	require.Len(t, old.Audit, 1, "the caller's case is left alone")

	got, gv, err := cs.Get(ctx, old.ID)
	require.NoError(t, err)
	require.Equal(t, v, gv)
	require.True(t, got.Timestamp.Equal(opened))
	require.Equal(t, "共有フォルダに入れない", got.Title)
	require.Len(t, got.Audit, 2)

	// The same id again is a conflict, and nothing changes.
	again := old
	again.Title = "上書き"
	_, _, err = cs.Import(ctx, "migration", again)
	require.ErrorIs(t, err, casework.ErrConflict)
	require.ErrorContains(t, err, "exists already")
	_, gv2, err := cs.Get(ctx, old.ID)
	require.NoError(t, err)
	require.Equal(t, gv, gv2)

	// What an import needs.
	for name, tc := range map[string]struct {
		change func(*casework.Case)
		want   string
	}{
		"no id":          {func(c *casework.Case) { c.ID = "" }, "needs its id"},
		"no time":        {func(c *casework.Case) { c.Timestamp = time.Time{} }, "opening time"},
		"no timeline":    {func(c *casework.Case) { c.Timeline = nil }, `"created" entry`},
		"not created":    {func(c *casework.Case) { c.Timeline = c.Timeline[1:] }, `"created" entry`},
		"invalid status": {func(c *casework.Case) { c.Status = "done" }, `status "done"`},
		"invalid type":   {func(c *casework.Case) { c.Type = "ticket" }, `type "ticket"`},
	} {
		t.Run(name, func(t *testing.T) {
			c := old
			c.ID = "INC-20260903-NEW01"
			c.Timeline = append([]casework.Entry(nil), old.Timeline...)
			tc.change(&c)
			_, _, err := cs.Import(ctx, "migration", c)
			require.ErrorIs(t, err, casework.ErrInvalid)
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, _, err = cs.Get(ctx, "INC-20260903-NEW01")
	require.ErrorIs(t, err, casework.ErrNotFound)
}
