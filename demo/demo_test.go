package demo_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/demo"
)

func TestGeneratorCoversTheStory(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	g := demo.NewGenerator(42, loc)
	hostsSeen := map[string]bool{}
	var failed, accepted, japanese, rfc5424, rfc3164 int
	now := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	for i := range 5000 {
		m := g.Next(now.Add(time.Duration(i) * time.Second))
		require.True(t, utf8.Valid(m.Line))
		require.True(t, strings.HasPrefix(string(m.Line), "<"), "every message has a PRI: %s", m.Line)
		hostsSeen[m.Host] = true
		s := string(m.Line)
		switch {
		case strings.Contains(s, "Failed password"):
			failed++
		case strings.Contains(s, "Accepted publickey"):
			accepted++
		}
		if !utf8.ValidString(s) || strings.ContainsAny(s, "はがをした") {
			japanese++
		}
		if strings.Contains(s, ">1 ") {
			rfc5424++
		} else {
			rfc3164++
		}
	}
	require.GreaterOrEqual(t, len(hostsSeen), 12, "a dozen hosts")
	require.Greater(t, failed, 100, "bursts of failed logins")
	require.Greater(t, accepted, 100)
	require.Greater(t, japanese, 50)
	require.Greater(t, rfc5424, 500)
	require.Greater(t, rfc3164, 500)

	again := demo.NewGenerator(42, loc).Next(now)
	require.Equal(t, demo.NewGenerator(42, loc).Next(now), again, "deterministic for a seed")
}
