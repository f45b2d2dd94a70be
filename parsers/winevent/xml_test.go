package winevent_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/unicode"

	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/winevent"
)

const sample = `<?xml version="1.0" encoding="utf-16"?>
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">
  <System>
    <Provider Name="Microsoft-Windows-Security-Auditing" Guid="{54849625-5478-4994-a5ba-3e3b0328c30d}" />
    <EventID Qualifiers="0">4624</EventID>
    <Version>2</Version>
    <Level>0</Level>
    <Task>12544</Task>
    <Opcode>0</Opcode>
    <Keywords>0x8020000000000000</Keywords>
    <TimeCreated SystemTime="2025-01-15T09:12:34.5678901+09:00" />
    <EventRecordID>42</EventRecordID>
    <Correlation ActivityID="{A}" RelatedActivityID="{B}" />
    <Execution ProcessID="684" ThreadID="2212" />
    <Channel>Security</Channel>
    <Computer>PC01.example.lg.jp</Computer>
    <Security UserID="S-1-5-18" />
  </System>
  <EventData>
    <Data Name="TargetUserName">田中</Data>
    <Data>unnamed</Data>
    <Data Name="Empty" />
    <Binary>00FF</Binary>
  </EventData>
  <UserData>
    <Outer xmlns="urn:x">
      <A>1</A>
      <B><C>2</C><D /></B>
    </Outer>
  </UserData>
  <RenderingInfo Culture="ja-JP">
    <Message>アカウントが正常にログオンしました。</Message>
    <Level>情報</Level>
    <Task>ログオン</Task>
    <Opcode>情報</Opcode>
    <Keywords><Keyword>成功の監査</Keyword></Keywords>
  </RenderingInfo>
</Event>`

func TestParseXMLRecord(t *testing.T) {
	rec, err := winevent.ParseXML([]byte(sample))
	require.NoError(t, err)
	require.Equal(t, winevent.Record{
		ProviderName:      "Microsoft-Windows-Security-Auditing",
		ProviderGUID:      "{54849625-5478-4994-a5ba-3e3b0328c30d}",
		EventID:           4624,
		Version:           2,
		Task:              12544,
		Keywords:          0x8020000000000000,
		TimeCreated:       time.Date(2025, 1, 15, 0, 12, 34, 567890100, time.UTC),
		RecordID:          42,
		ActivityID:        "{A}",
		RelatedActivityID: "{B}",
		ProcessID:         684,
		ThreadID:          2212,
		Channel:           "Security",
		Computer:          "PC01.example.lg.jp",
		UserID:            "S-1-5-18",
		EventData: []winevent.Pair{
			{Name: "TargetUserName", Value: "田中"},
			{Name: "", Value: "unnamed"},
			{Name: "Empty", Value: ""},
			{Name: "Binary", Value: "00FF"},
		},
		UserDataName: "Outer",
		UserData: []winevent.Pair{
			{Name: "A", Value: "1"},
			{Name: "B.C", Value: "2"},
			{Name: "B.D", Value: ""},
		},
		Message:      "アカウントが正常にログオンしました。",
		LevelText:    "情報",
		TaskText:     "ログオン",
		OpcodeText:   "情報",
		KeywordsText: []string{"成功の監査"},
		Culture:      "ja-JP",
	}, rec)
	v, ok := rec.Data("TargetUserName")
	require.True(t, ok)
	require.Equal(t, "田中", v)
}

// TestParseXMLUTF16 reads the document as wevtutil writes it to a file.
func TestParseXMLUTF16(t *testing.T) {
	for _, endian := range []unicode.Endianness{unicode.LittleEndian, unicode.BigEndian} {
		raw, err := unicode.UTF16(endian, unicode.UseBOM).NewEncoder().Bytes([]byte(sample))
		require.NoError(t, err)
		rec, err := winevent.ParseXML(raw)
		require.NoError(t, err)
		require.Equal(t, "田中", rec.EventData[0].Value)
	}
}

func TestParseXMLErrors(t *testing.T) {
	for name, in := range map[string]string{
		"latin1":     "<Event><System><EventID>1</EventID><Computer>\xe9</Computer></System></Event>",
		"entity":     `<!DOCTYPE e [<!ENTITY x "y">]><Event><System><EventID>&x;</EventID></System></Event>`,
		"big id":     `<Event><System><EventID>4294967296</EventID><TimeCreated SystemTime="2025-01-15T00:00:00Z"/></System></Event>`,
		"bad pid":    `<Event><System><EventID>1</EventID><Execution ProcessID="x"/><TimeCreated SystemTime="2025-01-15T00:00:00Z"/></System></Event>`,
		"charset":    `<?xml version="1.0" encoding="Shift_JIS"?><Event/>`,
		"only space": " \n\t",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := winevent.ParseXML([]byte(in))
			require.ErrorIs(t, err, parsers.ErrUnparsable)
		})
	}
}

// TestParseXMLWithoutNamespace accepts documents that dropped the schema
// namespace, as some forwarders do.
func TestParseXMLWithoutNamespace(t *testing.T) {
	rec, err := winevent.ParseXML([]byte(`<Event><System><EventID>4634</EventID><TimeCreated SystemTime="2025-01-15T00:00:00Z"/></System></Event>`))
	require.NoError(t, err)
	require.EqualValues(t, 4634, rec.EventID)
}
