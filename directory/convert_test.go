package directory_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/directory"
)

func TestParseFileTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"0", time.Time{}},
		{"9223372036854775807", time.Time{}},
		{"116444736000000000", time.Unix(0, 0).UTC()},
		// pwdLastSet written by Samba at 2026-11-26 18:55:35.075702 UTC.
		{"134401929350757020", time.Date(2026, 11, 26, 18, 55, 35, 75702000, time.UTC)},
		// accountExpires = 2000-01-01 00:00:00 JST.
		{"125911260000000000", time.Date(1999, 12, 31, 15, 0, 0, 0, time.UTC)},
	} {
		got, err := directory.ParseFileTime(tc.in)
		require.NoError(t, err, tc.in)
		assert.True(t, tc.want.Equal(got), "%s: got %v want %v", tc.in, got, tc.want)
		if !tc.want.IsZero() {
			assert.Equal(t, tc.in, itoa(directory.ToFileTime(got)))
		}
	}
	for _, bad := range []string{"x", "1.5", "99999999999999999999"} {
		_, err := directory.ParseFileTime(bad)
		assert.True(t, errors.Is(err, directory.ErrBadAttribute), bad)
	}
	assert.True(t, directory.FileTime(-1).IsZero())
	assert.Equal(t, int64(0), directory.ToFileTime(time.Time{}))
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func TestParseGeneralizedTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"20261126185535.0Z", time.Date(2026, 11, 26, 18, 55, 35, 0, time.UTC)},
		{"20261126185535Z", time.Date(2026, 11, 26, 18, 55, 35, 0, time.UTC)},
		{"20261126185535.25Z", time.Date(2026, 11, 26, 18, 55, 35, 250_000_000, time.UTC)},
		{"20261127035535+0900", time.Date(2026, 11, 26, 18, 55, 35, 0, time.UTC)},
		{"20261126183035-0025", time.Date(2026, 11, 26, 18, 55, 35, 0, time.UTC)},
		{"202611261855Z", time.Date(2026, 11, 26, 18, 55, 0, 0, time.UTC)},
		{"2026112618,5Z", time.Date(2026, 11, 26, 18, 30, 0, 0, time.UTC)},
	} {
		got, err := directory.ParseGeneralizedTime(tc.in)
		require.NoError(t, err, tc.in)
		assert.True(t, tc.want.Equal(got), "%s: got %v want %v", tc.in, got, tc.want)
		assert.Equal(t, time.UTC, got.Location())
	}
	for _, bad := range []string{"", "20261126185535", "2026112618553Z", "20261326185535Z",
		"20261126185535.Z", "20261126185535.0+09", "2026112618553xZ", "20261126185535+2500"} {
		_, err := directory.ParseGeneralizedTime(bad)
		assert.True(t, errors.Is(err, directory.ErrBadAttribute), "%q: %v", bad, err)
	}
	assert.Equal(t, "20261126185535.0Z",
		directory.FormatGeneralizedTime(time.Date(2026, 11, 27, 3, 55, 35, 0, time.FixedZone("JST", 9*3600))))
}

func TestParseSIDAndGUID(t *testing.T) {
	// S-1-5-21-3229762555-1049946223-3744482345-512 (Domain Admins).
	sid := []byte{1, 5, 0, 0, 0, 0, 0, 5,
		21, 0, 0, 0,
		0xfb, 0x43, 0x82, 0xc0,
		0x6f, 0xe8, 0x94, 0x3e,
		0x29, 0x44, 0x30, 0xdf,
		0x00, 0x02, 0x00, 0x00}
	s, err := directory.ParseSID(sid)
	require.NoError(t, err)
	assert.Equal(t, "S-1-5-21-3229762555-1049946223-3744482345-512", s)
	g := directory.Group{SID: s}
	assert.Equal(t, uint32(512), g.RID())

	s, err = directory.ParseSID([]byte{1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0})
	require.NoError(t, err)
	assert.Equal(t, "S-1-5-18", s)

	for _, bad := range [][]byte{nil, {1, 2, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0}, {2, 0, 0, 0, 0, 0, 0, 5}} {
		_, err := directory.ParseSID(bad)
		assert.ErrorIs(t, err, directory.ErrBadAttribute)
	}

	guid := []byte{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	gs, err := directory.ParseGUID(guid)
	require.NoError(t, err)
	assert.Equal(t, "00112233-4455-6677-8899-aabbccddeeff", gs)
	_, err = directory.ParseGUID(guid[:15])
	assert.ErrorIs(t, err, directory.ErrBadAttribute)
}
