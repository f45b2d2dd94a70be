package event_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
)

func TestMarshalRoundTrip(t *testing.T) {
	e := sample()
	e.Message = "ログイン失敗: ユーザー 田中 (端末 札幌-03)"
	require.NoError(t, e.Set("winlog.event_data.TargetUserName", "tanaka"))
	require.NoError(t, e.Set("winlog.event_id", int64(4625)))
	require.NoError(t, e.Set("labels.site", "大阪"))
	data, err := event.Marshal(e)
	require.NoError(t, err)
	require.Contains(t, string(data), `"winlog.event_id":4625`)
	require.Contains(t, string(data), "ログイン失敗")

	var got event.Event
	require.NoError(t, event.Unmarshal(data, &got))
	again, err := event.Marshal(&got)
	require.NoError(t, err)
	require.JSONEq(t, string(data), string(again))
	require.Equal(t, string(data), string(again), "encoding is canonical")
	require.Equal(t, e.Timestamp, got.Timestamp)
	v, ok := got.Get("winlog.event_id")
	require.True(t, ok)
	require.Equal(t, int64(4625), v)
}

func TestUnmarshalNestedUnknownFieldsBecomeDotted(t *testing.T) {
	doc := `{"@timestamp":"2026-01-02T03:04:05Z","host":{"name":"dc01","os":{"family":"windows"}},
	  "winlog":{"event_data":{"LogonType":"10"},"event_id":"4624"},"event":{"category":["authentication"],"code":"4624"}}`
	var e event.Event
	require.NoError(t, event.Unmarshal([]byte(doc), &e))
	require.Equal(t, "dc01", e.Host.Name)
	require.Equal(t, "windows", e.Fields["host.os.family"])
	require.Equal(t, "10", e.Fields["winlog.event_data.LogonType"])
	require.Equal(t, []string{"authentication"}, e.Event.Category)
	v, ok := e.Get("event.category")
	require.True(t, ok)
	require.Equal(t, []string{"authentication"}, v)
}

func TestUnmarshalErrors(t *testing.T) {
	var e event.Event
	require.ErrorIs(t, event.Unmarshal([]byte(`{"message":"x"}`), &e), event.ErrNoTimestamp)
	err := event.Unmarshal([]byte(`{"@timestamp":"2026-01-02T03:04:05Z","source":{"port":"http"}}`), &e)
	require.ErrorContains(t, err, "source.port")
	require.Error(t, event.Unmarshal([]byte(`{"@timestamp":`), &e))
}

func TestSetChecksTypes(t *testing.T) {
	var e event.Event
	require.ErrorContains(t, e.Set("process.pid", "abc"), "process.pid")
	require.NoError(t, e.Set("source.ip", "192.0.2.1"))
	require.Equal(t, "192.0.2.1", e.Source.IP)
	_, ok := e.Get("destination.ip")
	require.False(t, ok)
	require.NoError(t, e.Set("@timestamp", "2026-01-02T12:00:00+09:00"))
	require.Equal(t, time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC), e.Timestamp)
}

func TestIDDeterministic(t *testing.T) {
	src := event.Source{Receiver: "udp", Peer: "192.0.2.1:514", Transport: "udp", Received: "2026-01-02T03:04:05.000000001Z"}
	a := event.ID(src, []byte("<13>hello"))
	require.Len(t, a, 32)
	require.Equal(t, a, event.ID(src, []byte("<13>hello")))
	require.NotEqual(t, a, event.ID(src, []byte("<13>hello!")))
	src.Received = "2026-01-02T03:04:05.000000002Z"
	require.NotEqual(t, a, event.ID(src, []byte("<13>hello")), "two receptions of the same bytes are two events")
}

func TestCatalogueTypes(t *testing.T) {
	require.Equal(t, event.IP, event.TypeOf("source.ip"))
	require.Equal(t, event.Text, event.TypeOf("message"))
	require.Equal(t, event.Keyword, event.TypeOf("winlog.event_data.TargetUserName"))
	require.True(t, event.Lookup("event.category").Multi)
	require.True(t, event.Lookup("host.hostname").Hot)
	require.Equal(t, "ip", event.IP.String())
	for _, f := range event.Catalogue() {
		var e event.Event
		_, ok := e.Get(f.Name)
		require.False(t, ok, "%s must be absent on the zero event", f.Name)
	}
}

func BenchmarkMarshal(b *testing.B) {
	e := sample()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := event.Marshal(e); err != nil {
			b.Fatal(err)
		}
	}
}
