package winevent_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

func logon(data ...winevent.Pair) winevent.Record {
	return winevent.Record{
		ProviderName: "Microsoft-Windows-Security-Auditing",
		EventID:      4624,
		Keywords:     0x8020000000000000,
		TimeCreated:  time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC),
		Channel:      "Security",
		Computer:     "PC01",
		EventData:    data,
	}
}

// TestToECSTypes checks that catalogue fields read back through event.Get
// with their catalogue types, so the stores and the query language see them.
func TestToECSTypes(t *testing.T) {
	var e event.Event
	require.NoError(t, winevent.ToECS(logon(
		winevent.Pair{Name: "TargetUserName", Value: "tanaka@CITY.EXAMPLE.LG.JP"},
		winevent.Pair{Name: "IpAddress", Value: "::ffff:192.0.2.7"},
		winevent.Pair{Name: "IpPort", Value: "50123"},
		winevent.Pair{Name: "ProcessId", Value: "0x1fc"},
		winevent.Pair{Name: "LogonType", Value: "10"},
	), &e))
	for name, want := range map[string]any{
		"user.name":         "tanaka",
		"source.ip":         "192.0.2.7",
		"source.port":       int64(50123),
		"process.pid":       int64(508),
		"event.category":    []string{"authentication"},
		"related.ip":        []string{"192.0.2.7"},
		"winlog.logon.type": "RemoteInteractive",
		"event.code":        "4624",
		"host.name":         "PC01",
		"@timestamp":        time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC),
	} {
		got, ok := e.Get(name)
		require.True(t, ok, name)
		require.Equal(t, want, got, name)
		if f := event.Lookup(name); f != nil {
			// Setting the value back through the catalogue must succeed.
			var e2 event.Event
			require.NoError(t, e2.Set(name, got), name)
		}
	}
	_, err := event.Marshal(&e)
	require.NoError(t, err)
}

// TestToECSBadAddress keeps an IpAddress that is not an address out of
// source.ip, an ip field that Elasticsearch would refuse it in.
func TestToECSBadAddress(t *testing.T) {
	var e event.Event
	require.NoError(t, winevent.ToECS(logon(winevent.Pair{Name: "IpAddress", Value: "WORKSTATION-7"}), &e))
	_, ok := e.Get("source.ip")
	require.False(t, ok)
	v, _ := e.Get("winlog.event_data.IpAddress")
	require.Equal(t, "WORKSTATION-7", v)

	e = event.Event{}
	require.NoError(t, winevent.ToECS(logon(winevent.Pair{Name: "IpAddress", Value: "fe80::1%12"}), &e))
	v, _ = e.Get("source.ip")
	require.Equal(t, "fe80::1", v)
}

// TestToECSOtherChannel leaves events outside the Security log to the
// generic mapping.
func TestToECSOtherChannel(t *testing.T) {
	rec := logon(winevent.Pair{Name: "TargetUserName", Value: "x"})
	rec.Channel = "Application"
	var e event.Event
	require.NoError(t, winevent.ToECS(rec, &e))
	require.Empty(t, e.Event.Module)
	require.Nil(t, e.User)
}

func TestToECSNoTime(t *testing.T) {
	var e event.Event
	err := winevent.ToECS(winevent.Record{EventID: 4624}, &e)
	require.ErrorIs(t, err, parsers.ErrUnparsable)
}
