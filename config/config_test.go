package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/sessions"
)

// Every file in testdata/bad has a sibling .err file holding the error text
// it must produce (one expected substring per line).
func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			want, err := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".err")
			require.NoError(t, err, "every bad config needs its .err file")
			_, err = config.Parse(data)
			require.Error(t, err)
			for _, line := range strings.Split(strings.TrimSpace(string(want)), "\n") {
				require.Contains(t, err.Error(), line)
			}
		})
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	data, err := os.ReadFile("../config.example.yaml")
	require.NoError(t, err)
	c, err := config.Parse(data)
	require.NoError(t, err)
	require.Equal(t, "Asia/Tokyo", c.Location().String())
}

func TestEnvOverrides(t *testing.T) {
	t.Setenv("MAMORI_API_LISTEN", "127.0.0.1:9999")
	t.Setenv("MAMORI_TIMEZONE", "UTC")
	t.Setenv("MAMORI_DATA_DIR", t.TempDir())
	c, err := config.Load("")
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9999", c.API.Listen)
	require.Equal(t, time.UTC, c.Location())
	require.Equal(t, "UTC", c.Parse.Syslog.Location, "the parser's zone follows the top-level timezone")

	t.Setenv("MAMORI_STAGES_PARSE_WORKERS", "many")
	_, err = config.Load("")
	require.ErrorContains(t, err, "MAMORI_STAGES_PARSE_WORKERS")
}

func TestSecretNeverPrints(t *testing.T) {
	s := config.NewSecret("hunter2")
	for _, out := range []string{s.String(), s.GoString(), s.LogValue().String()} {
		require.NotContains(t, out, "hunter2")
	}
	require.Equal(t, "hunter2", s.Reveal())
}

func TestParseDuration(t *testing.T) {
	d, err := config.ParseDuration("30d")
	require.NoError(t, err)
	require.Equal(t, 30*24*time.Hour, d)
	_, err = config.ParseDuration("3 weeks")
	require.ErrorContains(t, err, "30d")
}

// TestExampleDocumentsEveryKey walks the configuration types and checks that
// config.example.yaml names every key (set, or shown in a comment).
func TestExampleDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile("../config.example.yaml")
	require.NoError(t, err)
	text := string(data)
	var missing []string
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ == reflect.TypeOf(time.Time{}) {
			return
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			name := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			if !regexp.MustCompile(`(?m)^[ #]*(- )?` + regexp.QuoteMeta(name) + `:`).MatchString(text) {
				missing = append(missing, path+name)
			}
			walk(f.Type, path+name+".")
		}
	}
	walk(reflect.TypeOf(config.Config{}), "")
	require.Empty(t, missing, "keys not documented in config.example.yaml")
}

func TestParserZoneFollowsTimezone(t *testing.T) {
	c, err := config.Parse([]byte("timezone: UTC\nparse:\n  syslog:\n    default_priority: 14\n"))
	require.NoError(t, err)
	require.Equal(t, "UTC", c.Parse.Syslog.Location, "a parse.syslog section without location takes the top-level timezone")
	c, err = config.Parse([]byte("timezone: UTC\nparse:\n  syslog:\n    location: Asia/Tokyo\n"))
	require.NoError(t, err)
	require.Equal(t, "Asia/Tokyo", c.Parse.Syslog.Location)
}

func TestSessionsDefaultsAndOverrides(t *testing.T) {
	c, err := config.Parse(nil)
	require.NoError(t, err)
	d := c.Sessions.Defaults()
	require.Equal(t, sessions.DefaultMaxDuration, d.MaxDuration)
	require.Equal(t, sessions.DefaultTypes, d.Types)

	c, err = config.Parse([]byte("sessions:\n  max_duration: 24h\n  types: all\n"))
	require.NoError(t, err)
	d = c.Sessions.Defaults()
	require.Equal(t, 24*time.Hour, d.MaxDuration)
	require.Equal(t, sessions.TypeSet{}, d.Types, "all: every logon type")

	t.Setenv("MAMORI_SESSIONS_TYPES", "interactive,network")
	t.Setenv("MAMORI_DATA_DIR", t.TempDir())
	c, err = config.Load("")
	require.NoError(t, err)
	require.Equal(t, sessions.TypeSet{sessions.Interactive, sessions.Network}, c.Sessions.Defaults().Types)
}
