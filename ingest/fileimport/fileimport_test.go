package fileimport_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/ingest/fileimport"
)

func TestDetect(t *testing.T) {
	cases := []struct {
		head string
		want fileimport.Kind
	}{
		{"ElfFile\x00\x00\x00", fileimport.EVTX},
		{"<Event xmlns='x'>", fileimport.EventXML},
		{"\r\n  <?xml version='1.0'?><Events>", fileimport.EventXML},
		{"\uFEFF<Events>", fileimport.EventXML},
		{"\xFF\xFE<\x00E\x00", fileimport.EventXML},
		{"<\x00E\x00v\x00", fileimport.EventXML},
	}
	for _, c := range cases {
		got, err := fileimport.Detect([]byte(c.head))
		require.NoError(t, err, "%q", c.head)
		require.Equal(t, c.want, got, "%q", c.head)
	}
	for _, bad := range []string{"", "just text", "PK\x03\x04", "ElfChnk\x00"} {
		_, err := fileimport.Detect([]byte(bad))
		require.ErrorIs(t, err, fileimport.ErrUnknownFormat, "%q", bad)
	}
}
