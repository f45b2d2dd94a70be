package casework_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/store/sqlitestore"
)

func newCases(t *testing.T) (*casework.Cases, *time.Time) {
	t.Helper()
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "store.db"), sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	now := time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)
	return casework.NewCases(s, func() time.Time { return now }), &now
}

func TestOpenGetAndAudit(t *testing.T) {
	cs, now := newCases(t)
	ctx := context.Background()
	c, v, err := cs.Open(ctx, "helpdesk-yamada", casework.Case{
		Type: casework.Incident, Title: "メールが送れない", Reporter: "田中", Channel: "phone", Priority: casework.P3,
	})
	require.NoError(t, err)
	require.Regexp(t, `^INC-20261124-[0-9A-Z]{5}$`, c.ID)
	require.Equal(t, casework.New, c.Status)
	require.Equal(t, "created", c.Timeline[0].Kind)

	got, gv, err := cs.Get(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, v, gv)
	require.Equal(t, "メールが送れない", got.Title)

	*now = now.Add(10 * time.Minute)
	c, v, err = cs.Update(ctx, c.ID, v, "suzuki", func(c *casework.Case) error {
		c.Status = casework.Acknowledged
		c.Assignee = "suzuki"
		c.Comments = append(c.Comments, casework.Comment{At: *now, Author: "suzuki", Text: "受付しました"})
		c.Links = append(c.Links, casework.Link{Kind: "alert", ID: "a1"})
		return nil
	})
	require.NoError(t, err)
	var fields []string
	for _, ch := range c.Audit[1:] {
		require.Equal(t, "suzuki", ch.Actor)
		require.Equal(t, *now, ch.At)
		fields = append(fields, ch.Field+":"+ch.Before+">"+ch.After)
	}
	require.Equal(t, []string{"status:new>acknowledged", "assignee:>suzuki", "links:>alert a1", "comments:>受付しました"}, fields)
	var kinds []string
	for _, e := range c.Timeline {
		kinds = append(kinds, e.Kind)
	}
	require.Equal(t, []string{"created", "status", "comment", "link"}, kinds)

	// A move the life cycle does not allow is refused and changes nothing.
	_, _, err = cs.Update(ctx, c.ID, v, "suzuki", func(c *casework.Case) error { c.Status = casework.New; return nil })
	require.ErrorIs(t, err, casework.ErrInvalid)
	_, v2, err := cs.Get(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, v, v2)

	_, _, err = cs.Get(ctx, "INC-nope")
	require.ErrorIs(t, err, casework.ErrNotFound)
	_, _, err = cs.Open(ctx, "x", casework.Case{Type: "ticket", Title: "t"})
	require.ErrorIs(t, err, casework.ErrInvalid)
	_, _, err = cs.Open(ctx, "x", casework.Case{Type: casework.Request, Subtype: "coffee", Title: "t"})
	require.ErrorContains(t, err, `subtype "coffee"`)
}

// TestConcurrentUpdates: two people update the case they both read; one
// wins, the other gets a conflict, and after re-reading, its change lands
// too: nothing is lost.
func TestConcurrentUpdates(t *testing.T) {
	cs, _ := newCases(t)
	ctx := context.Background()
	c, v, err := cs.Open(ctx, "x", casework.Case{Type: casework.Failure, Title: "コアスイッチ停止"})
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, who := range []string{"sato", "kato"} {
		wg.Go(func() {
			_, _, errs[i] = cs.Update(ctx, c.ID, v, who, func(c *casework.Case) error {
				c.Comments = append(c.Comments, casework.Comment{Author: who, Text: who + " のメモ"})
				return nil
			})
		})
	}
	wg.Wait()
	conflicts := 0
	for _, err := range errs {
		if errors.Is(err, casework.ErrConflict) {
			conflicts++
		} else {
			require.NoError(t, err)
		}
	}
	require.Equal(t, 1, conflicts, "one wins, one conflicts")

	// The loser re-reads and applies its change on the winner's.
	loser := "sato"
	if errs[1] != nil {
		loser = "kato"
	}
	_, _, err = cs.Modify(ctx, c.ID, loser, func(c *casework.Case) error {
		c.Comments = append(c.Comments, casework.Comment{Author: loser, Text: loser + " のメモ"})
		return nil
	})
	require.NoError(t, err)
	got, _, err := cs.Get(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, got.Comments, 2, "both notes are kept")

	// Automation updating concurrently with Modify never loses a change.
	for i := range 8 {
		wg.Go(func() {
			_, _, err := cs.Modify(ctx, c.ID, "bot", func(c *casework.Case) error {
				c.Comments = append(c.Comments, casework.Comment{Author: "bot", Text: string(rune('A' + i))})
				return nil
			})
			require.NoError(t, err)
		})
	}
	wg.Wait()
	got, _, err = cs.Get(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, got.Comments, 10)
}

func TestSurvey(t *testing.T) {
	cs, now := newCases(t)
	ctx := context.Background()
	c, _, err := cs.Open(ctx, "helpdesk", casework.Case{Type: casework.Incident, Title: "プリンタが使えない", Reporter: "田中", Channel: "phone"})
	require.NoError(t, err)
	rate := func(score int) error {
		_, _, err := cs.Modify(ctx, c.ID, "田中", func(c *casework.Case) error {
			c.Survey = &casework.Survey{Score: score, Comment: "迅速な対応でした", By: "田中", At: *now}
			return nil
		})
		return err
	}
	require.ErrorContains(t, rate(100), "rated once it is closed")
	_, _, err = cs.Modify(ctx, c.ID, "suzuki", func(c *casework.Case) error { c.Status = casework.Closed; return nil })
	require.NoError(t, err)
	require.ErrorContains(t, rate(90), "survey score 90")
	require.NoError(t, rate(80))
	got, _, err := cs.Get(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, 80, got.Survey.Score)
	last := got.Audit[len(got.Audit)-1]
	require.Equal(t, "survey", last.Field)
	require.Equal(t, "80 迅速な対応でした", last.After)
}
