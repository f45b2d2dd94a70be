package directory_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/directory"
	"github.com/mamori-soc/mamori/store"
)

// TestMailOf: a requester's address comes from their live user record;
// deleted users, groups and unknown names give none.
func TestMailOf(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	put := func(r directory.Record) {
		r.Timestamp = at
		src, err := json.Marshal(r)
		require.NoError(t, err)
		_, err = s.Update(ctx, directory.Collection, store.Doc{ID: r.GUID, Source: src})
		require.NoError(t, err)
	}
	mail, err := directory.MailOf(ctx, s, "sato")
	require.NoError(t, err)
	require.Empty(t, mail, "no directory records yet")

	put(directory.Record{Kind: directory.KindUser, GUID: "g1", SAMAccountName: "sato", Mail: "sato@example.lg.jp", DisplayName: "佐藤 花子"})
	put(directory.Record{Kind: directory.KindUser, GUID: "g2", SAMAccountName: "gone", Mail: "gone@example.lg.jp",
		Mamori: directory.Observed{DeletedAt: at}})
	put(directory.Record{Kind: directory.KindGroup, GUID: "g3", SAMAccountName: "staff", Mail: "staff@example.lg.jp"})
	for name, want := range map[string]string{"sato": "sato@example.lg.jp", "gone": "", "staff": "", "nobody": "", "": ""} {
		mail, err := directory.MailOf(ctx, s, name)
		require.NoError(t, err)
		require.Equal(t, want, mail, name)
	}
}
