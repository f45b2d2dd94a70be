package winevent_test

import (
	"testing"

	"github.com/mamori-soc/mamori/parsers/winevent"
)

// FuzzNXLog checks the NXLog parser's contract on any input.
func FuzzNXLog(f *testing.F) {
	addJSONSeeds(f, "nxlog")
	f.Add([]byte(`{"EventTime":"2025-01-15 09:12:34","EventID":"4624","Keywords":"0x8020000000000000","UserID":"S-1-5-18","AccountName":"SYSTEM","x":"\u00e9\ud83d\ude00"}`))
	p := winevent.NewNXLogParser()
	f.Fuzz(func(t *testing.T, raw []byte) { fuzzParse(t, p, raw) })
}
