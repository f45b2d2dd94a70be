package app_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/app"
)

func TestParseRoles(t *testing.T) {
	all, err := app.ParseRoles("all")
	require.NoError(t, err)
	require.Equal(t, app.Everything(), all)
	for _, r := range app.AllRoles {
		require.True(t, all[r], r)
	}
	some, err := app.ParseRoles("parse, index")
	require.NoError(t, err)
	require.Equal(t, app.Roles{"parse": true, "index": true}, some)
	_, err = app.ParseRoles("parse,detector")
	require.ErrorContains(t, err, `unknown stage "detector"`)
}
