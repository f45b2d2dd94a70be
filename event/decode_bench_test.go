package event_test

import (
	"os"
	"testing"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

// BenchmarkUnmarshal decodes a syslog event (sample) and a Windows logon
// event (a Winlogbeat golden input, parsed and encoded as the parse stage
// publishes it: 5 KB, 50 fields, event.original 2.4 KB), with Unmarshal
// and with the decoder it replaced.
func BenchmarkUnmarshal(b *testing.B) {
	syslog, err := event.Marshal(sample())
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile("../parsers/winevent/testdata/winlogbeat/4624_network_ntlm/input.json")
	if err != nil {
		b.Fatal(err)
	}
	var e event.Event
	if err := winevent.NewWinlogbeatParser().Parse(raw, parsers.Meta{}, &e); err != nil {
		b.Fatal(err)
	}
	windows, err := event.Marshal(&e)
	if err != nil {
		b.Fatal(err)
	}
	for _, doc := range []struct {
		name string
		data []byte
	}{{"syslog", syslog}, {"winlogbeat", windows}} {
		for _, impl := range []struct {
			name string
			fn   func([]byte, *event.Event) error
		}{{"reference", event.ReferenceUnmarshal}, {"jsonread", event.Unmarshal}} {
			b.Run(doc.name+"/"+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(doc.data)))
				for b.Loop() {
					var e event.Event
					if err := impl.fn(doc.data, &e); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
