package winevent_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

func splitEvent(id, user string) string {
	return `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>` +
		`<Provider Name='Microsoft-Windows-Security-Auditing' Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/>` +
		`<EventID>` + id + `</EventID><TimeCreated SystemTime='2025-01-15T00:12:34.5678901Z'/>` +
		`<EventRecordID>1</EventRecordID><Channel>Security</Channel><Computer>PC-01</Computer><Security/></System>` +
		`<EventData><Data Name='TargetUserName'>` + user + `</Data><Data Name='Note'>a &lt; b &amp; "c"</Data></EventData></Event>`
}

func utf16Bytes(s string, order binary.AppendByteOrder, bom bool) []byte {
	var b []byte
	u := utf16.Encode([]rune(s))
	if bom {
		u = append([]uint16{0xFEFF}, u...)
	}
	for _, c := range u {
		b = order.AppendUint16(b, c)
	}
	return b
}

func split(t *testing.T, in []byte) ([]string, error) {
	t.Helper()
	var got []string
	err := winevent.SplitXML(bytes.NewReader(in), func(ev []byte) error {
		got = append(got, string(ev))
		return nil
	})
	return got, err
}

func TestSplitXML(t *testing.T) {
	e1, e2, e3 := splitEvent("4624", "田中"), splitEvent("4625", "suzuki"), splitEvent("4634", "佐藤")
	wevtutil := e1 + "\r\n" + e2 + e3 + "\r\n"
	cases := map[string][]byte{
		"utf-8":                []byte(wevtutil),
		"utf-8 bom":            append([]byte("\uFEFF"), wevtutil...),
		"utf-16le bom":         utf16Bytes(wevtutil, binary.LittleEndian, true),
		"utf-16le without bom": utf16Bytes(wevtutil, binary.LittleEndian, false),
		"utf-16be bom":         utf16Bytes(wevtutil, binary.BigEndian, true),
		"events wrapper": utf16Bytes(`<?xml version="1.0" encoding="UTF-16"?>`+"\r\n<Events>\r\n  "+e1+"\r\n  <!-- saved -->\r\n  "+e2+"\n"+e3+"</Events>\r\n",
			binary.LittleEndian, true),
		"declaration and blank lines": []byte("<?xml version='1.0' encoding='utf-8'?>\n\n\t" + e1 + "\n\n" + e2 + "\n" + e3),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := split(t, in)
			require.NoError(t, err)
			require.Equal(t, []string{e1, e2, e3}, got)
			rec, err := winevent.ParseXML([]byte(got[2]))
			require.NoError(t, err)
			require.Equal(t, "佐藤", rec.EventData[0].Value)
		})
	}
}

func TestSplitXMLNestedEventElementIsNotASplitPoint(t *testing.T) {
	ev := `<Event><System><EventID>1</EventID></System><UserData><Event><Inner>x</Inner></Event></UserData></Event>`
	got, err := split(t, []byte(ev+ev))
	require.NoError(t, err)
	require.Equal(t, []string{ev, ev}, got)
}

func TestSplitXMLErrors(t *testing.T) {
	e1 := splitEvent("4624", "田中")
	cases := []struct {
		name, in string
		events   int
		msg      string
	}{
		{"truncated last event", e1 + "\n" + e1 + "\n" + e1[:200], 2, "the <Event> at line 3, column 1 is truncated or malformed"},
		{"unclosed element inside an event", e1 + "\n<Event><System></Event>", 1, "the <Event> at line 2, column 1 is truncated or malformed"},
		{"text between events", e1 + "\nhello\n" + e1, 1, `text "hello" outside any <Event> at line 1`},
		{"unknown root element", "<Log>" + e1 + "</Log>", 0, "unexpected element <Log> at line 1, column 1: want <Event>"},
		{"unclosed wrapper", "<Events>" + e1, 1, "input ends inside an element"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := split(t, []byte(c.in))
			require.ErrorIs(t, err, parsers.ErrUnparsable)
			require.ErrorContains(t, err, c.msg)
			require.Len(t, got, c.events)
		})
	}
}

func TestSplitXMLStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := winevent.SplitXML(strings.NewReader(splitEvent("1", "a")+splitEvent("2", "b")), func([]byte) error {
		n++
		return stop
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1, n)
}

func TestSplitXMLEmptyInput(t *testing.T) {
	got, err := split(t, []byte(" \r\n"))
	require.NoError(t, err)
	require.Empty(t, got)
}

func FuzzSplitXML(f *testing.F) {
	e := splitEvent("4624", "田中")
	f.Add([]byte(e + "\n" + e))
	f.Add(utf16Bytes("<Events>"+e+"</Events>", binary.LittleEndian, true))
	f.Add([]byte(e[:100]))
	f.Add([]byte("<Events><Event/><!-- c --><Event><a>b</a></Event></Events>"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var prev []byte
		_ = winevent.SplitXML(bytes.NewReader(in), func(ev []byte) error {
			if !bytes.HasPrefix(ev, []byte("<")) || !bytes.HasSuffix(ev, []byte(">")) {
				t.Fatalf("event is not one element: %q", ev)
			}
			if bytes.Equal(ev, prev) && len(in) < 2*len(ev) {
				t.Fatalf("event reported twice: %q", ev)
			}
			prev = append(prev[:0], ev...)
			return nil
		})
	})
}
