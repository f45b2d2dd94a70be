package search_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/kql"
	"github.com/mamori-soc/mamori/search"
)

var (
	tokyo, _ = time.LoadLocation("Asia/Tokyo")
	now      = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC) // 12:00 in Tokyo
)

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"now":                       now,
		"now-15m":                   now.Add(-15 * time.Minute),
		"now+1h":                    now.Add(time.Hour),
		"now-7d":                    now.Add(-7 * 24 * time.Hour),
		"2026-11-26":                time.Date(2026, 11, 26, 0, 0, 0, 0, tokyo),
		"2026-11-26 09:00":          time.Date(2026, 11, 26, 9, 0, 0, 0, tokyo),
		"2026-11-26T09:00:05":       time.Date(2026, 11, 26, 9, 0, 5, 0, tokyo),
		"2026-11-26T09:00:00Z":      time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC),
		"2026-11-26T09:00:00+09:00": time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
	} {
		got, err := search.ParseTime(in, now, tokyo)
		require.NoError(t, err, in)
		require.True(t, want.Equal(got), "%s: got %s want %s", in, got, want)
	}
	_, err := search.ParseTime("yesterday", now, tokyo)
	require.ErrorContains(t, err, `"yesterday" is not a time`)
}

func TestResolve(t *testing.T) {
	r, err := search.Resolve(search.Request{Query: "user.name:tanaka"}, now, tokyo)
	require.NoError(t, err)
	require.Equal(t, now.Add(-24*time.Hour), r.From, "the default window is the last 24 hours")
	require.Equal(t, now, r.To)
	require.Equal(t, 100, r.Size)
	require.IsType(t, &kql.Equals{}, r.Filter)

	for req, msg := range map[search.Request]string{
		{Query: "user.name:(tanaka"}:   "position",
		{Query: "source.ip:not-an-ip"}: "source.ip",
		{From: "now", To: "now-1h"}:    "must be before",
		{Size: 20000}:                  "size 20000",
		{Sort: "@timestamp:sideways"}:  "sort",
		{After: "!!!"}:                 "cursor",
		{From: "last tuesday"}:         "from",
	} {
		_, err := search.Resolve(req, now, tokyo)
		require.Error(t, err, "%+v", req)
		require.True(t, errors.Is(err, search.ErrBadRequest), "%+v: %v", req, err)
		require.ErrorContains(t, err, msg)
	}
}

func TestCursorKeepsLargeIntegersExact(t *testing.T) {
	sort := []any{int64(1764126000123456789), "0123abc", 1.5}
	got, err := search.DecodeCursor(search.EncodeCursor(sort))
	require.NoError(t, err)
	require.Equal(t, sort, got)
}
