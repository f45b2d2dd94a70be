package kql_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/kql"
)

func TestFields(t *testing.T) {
	for q, want := range map[string][]string{
		`event.code:4625 and not user.name:svc_* and source.ip:10.0.0.0/8`:                        {"event.code", "source.ip", "user.name"},
		`message:"failed password" or (event.code:(4624 or 4625) and @timestamp >= "2026-01-01")`: {"@timestamp", "event.code", "message"},
		`host.name:*`: {"host.name"},
		`*`:           nil,
	} {
		n, err := kql.Parse(q)
		require.NoError(t, err, q)
		c, err := kql.Plan(n, kql.Options{Location: time.UTC})
		require.NoError(t, err, q)
		got, ok := kql.Fields(c)
		require.True(t, ok, q)
		require.Equal(t, want, got, q)
	}
}
