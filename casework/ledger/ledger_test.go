package ledger_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/casework/ledger"
	"github.com/mamori-soc/mamori/casework/ledger/ledgertest"
	"github.com/mamori-soc/mamori/casework/sla"
)

type availability float64

func (a availability) Availability(context.Context, time.Time, time.Time) (float64, bool, error) {
	return float64(a), true, nil
}

// TestScriptedMonth builds October 2026 from a handful of cases and checks
// the figures of the items they bear on.
func TestScriptedMonth(t *testing.T) {
	cal, err := calendar.New(calendar.Config{})
	require.NoError(t, err)
	at := func(d, h, m int) time.Time { return time.Date(2026, 10, d, h, m, 0, 0, cal.Location()) }
	l, err := ledger.Build(context.Background(), ledgertest.Cases(cal), at(1, 0, 0), at(31, 23, 59).AddDate(0, 1, 0), sla.Defaults(), cal, availability(0.991))
	require.NoError(t, err)
	ledgertest.Check(t, l, false)

	l, err = ledger.Build(context.Background(), nil, at(1, 0, 0), at(31, 0, 0), sla.Defaults(), cal, nil)
	require.NoError(t, err)
	require.Equal(t, "no data", l.Items[0].Measured, "availability needs SNMP monitoring")
	require.Nil(t, l.Items[0].Met)
}
