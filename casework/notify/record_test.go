package notify_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/notify"
	"github.com/mamori-soc/mamori/store/sqlitestore"
)

func TestRecordOn(t *testing.T) {
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "store.db"), sqlitestore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	cases := casework.NewCases(s, nil)
	ctx := context.Background()
	c, _, err := cases.Open(ctx, "monitoring", casework.Case{Type: casework.Failure, Title: "基幹スイッチ障害", Channel: "monitoring"})
	require.NoError(t, err)

	sentAt := time.Date(2026, 11, 24, 6, 10, 0, 0, time.UTC)
	sent := notify.Record{
		CaseID: c.ID, Kind: notify.FirstReport, Lang: notify.Japanese, Channel: notify.Email,
		Recipients: []string{"tanaka@example.lg.jp", "joho@example.lg.jp"}, Subject: "【障害第一報】基幹スイッチ障害",
		SentAt: sentAt, MessageID: "<abc@example.lg.jp>",
	}
	require.NoError(t, notify.RecordOn(ctx, cases, c.ID, sent))
	require.NoError(t, notify.RecordOn(ctx, cases, c.ID, sent), "recording again")

	failed := notify.Record{
		CaseID: c.ID, Kind: notify.ProgressReport, Channel: notify.Webhook, Recipients: []string{"soc-chat"},
		SentAt: sentAt.Add(time.Hour), HTTPStatus: 500, Error: "notify: delivery failed: webhook soc-chat answered 500 Internal Server Error",
	}
	require.NoError(t, notify.RecordOn(ctx, cases, c.ID, failed))

	got, _, err := cases.Get(ctx, c.ID)
	require.NoError(t, err)
	var notes []casework.Entry
	for _, e := range got.Timeline {
		if e.Kind == "notification" {
			notes = append(notes, e)
		}
	}
	require.Equal(t, []casework.Entry{{
		At: sentAt, Kind: "notification", Actor: notify.Actor, Notification: "first_report",
		Detail: "email to tanaka@example.lg.jp, joho@example.lg.jp <abc@example.lg.jp>",
	}}, notes)
	require.Len(t, got.Comments, 1)
	require.Equal(t, notify.Actor, got.Comments[0].Author)
	require.Equal(t, "notification progress_report failed: webhook soc-chat (HTTP 500): "+failed.Error, got.Comments[0].Text)
	require.Equal(t, "comment", got.Timeline[len(got.Timeline)-1].Kind)
	var audited []string
	for _, ch := range got.Audit {
		audited = append(audited, ch.Field+":"+ch.After)
	}
	require.Contains(t, audited, "notifications:first_report")

	require.ErrorIs(t, notify.RecordOn(ctx, cases, "FAIL-00000000-NONE0", sent), casework.ErrNotFound)
}
