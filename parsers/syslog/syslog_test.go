package syslog_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/japanese"
	"gopkg.in/yaml.v3"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
	"github.com/mamori-soc/mamori/parsers/syslog"
)

var testMeta = parsers.Meta{
	Received:  time.Date(2025, 1, 15, 10, 0, 5, 0, time.UTC),
	Receiver:  "syslog-udp",
	Peer:      "192.0.2.10:51514",
	Transport: "udp",
}

func TestConfigYAML(t *testing.T) {
	good := []struct {
		name, yaml string
		want       syslog.Config
	}{
		{"empty mapping leaves zeros, which stand for the defaults", "{}", syslog.Config{}},
		{"all keys", "location: UTC\ndefault_priority: 14\nfuture_tolerance: 1h\n",
			syslog.Config{Location: "UTC", DefaultPriority: 14, FutureTolerance: time.Hour}},
		{"one key", "location: Europe/Berlin\n", syslog.Config{Location: "Europe/Berlin"}},
		{"sample config", syslog.SampleConfig(), syslog.DefaultConfig()},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			var c syslog.Config
			require.NoError(t, yaml.Unmarshal([]byte(tc.yaml), &c))
			require.Equal(t, tc.want, c)
			_, err := syslog.New(c)
			require.NoError(t, err)
		})
	}
	bad := []struct{ name, yaml, err string }{
		{"unknown key", "locaton: UTC\n", `syslog parser config: line 1: unknown key "locaton" (known: location, default_priority, future_tolerance)`},
		{"unknown zone", "location: Asia/Tokio\n", `syslog parser config: location "Asia/Tokio": unknown time zone Asia/Tokio (use an IANA zone name such as Asia/Tokyo or UTC; a binary without the system zoneinfo must import time/tzdata)`},
		{"priority out of range", "default_priority: 192\n", "syslog parser config: default_priority 192 is out of range: use 1 to 191 (facility*8 + severity), or 0 for the default 13"},
		{"negative priority", "default_priority: -1\n", "syslog parser config: default_priority -1 is out of range: use 1 to 191 (facility*8 + severity), or 0 for the default 13"},
		{"negative tolerance", "future_tolerance: -1h\n", "syslog parser config: future_tolerance -1h0m0s is out of range: use 0s to 4380h0m0s"},
		{"not a mapping", "- a\n", "syslog parser config: line 1: want a mapping of keys to values"},
		{"wrong type", "default_priority: high\n", "syslog parser config: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `high` into int"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			var c syslog.Config
			require.EqualError(t, yaml.Unmarshal([]byte(tc.yaml), &c), tc.err)
		})
	}
	require.NoError(t, syslog.Config{}.Validate(), "the zero Config stands for the defaults")
}

// TestZeroConfigMeansDefaults checks that a parser from the zero Config
// behaves as one from DefaultConfig.
func TestZeroConfigMeansDefaults(t *testing.T) {
	zero, err := syslog.New(syslog.Config{})
	require.NoError(t, err)
	def, err := syslog.New(syslog.DefaultConfig())
	require.NoError(t, err)
	for _, raw := range []string{"no pri here", "<13>Jan  9 00:00:00 h a: beyond the tolerance", "<13>Jan  6 00:00:00 h a: within it"} {
		m := testMeta
		m.Received = time.Date(2024, 12, 31, 0, 0, 0, 0, time.FixedZone("JST", 9*3600))
		var a, b event.Event
		require.NoError(t, zero.Parse([]byte(raw), m, &a))
		require.NoError(t, def.Parse([]byte(raw), m, &b))
		require.Equal(t, b, a, raw)
	}
}

func TestMapping(t *testing.T) {
	p, err := syslog.New(syslog.DefaultConfig())
	require.NoError(t, err)
	parse := func(t *testing.T, raw string, meta parsers.Meta) *event.Event {
		t.Helper()
		var e event.Event
		require.NoError(t, p.Parse([]byte(raw), meta, &e))
		return &e
	}
	get := func(e *event.Event, name string) any {
		v, _ := e.Get(name)
		return v
	}

	t.Run("facility and severity names", func(t *testing.T) {
		for pri, want := range map[int][4]string{
			0:   {"kern", "Emergency", "emergency"},
			13:  {"user", "Notice", "notice"},
			34:  {"auth", "Critical", "critical"},
			43:  {"syslog", "Error", "error"},
			86:  {"authpriv", "Informational", "informational"},
			191: {"local7", "Debug", "debug"},
		} {
			e := parse(t, fmt.Sprintf("<%d>Jan 15 10:00:00 host app: x", pri), testMeta)
			require.Equal(t, int64(pri), get(e, "log.syslog.priority"))
			require.Equal(t, int64(pri>>3), get(e, "log.syslog.facility.code"))
			require.Equal(t, int64(pri&7), get(e, "log.syslog.severity.code"))
			require.Equal(t, want[0], get(e, "log.syslog.facility.name"))
			require.Equal(t, want[1], get(e, "log.syslog.severity.name"))
			require.Equal(t, want[2], get(e, "log.level"))
			require.NotNil(t, e.Event.Severity, "severity 0 (Emergency) is a value, not absence")
			require.Equal(t, int64(pri&7), *e.Event.Severity)
		}
	})
	t.Run("peer without port, IPv6 peer, no peer", func(t *testing.T) {
		for peer, want := range map[string]string{"192.0.2.9": "192.0.2.9", "[2001:db8::1]:514": "2001:db8::1", "": ""} {
			m := testMeta
			m.Peer = peer
			e := parse(t, "<13>no header", m)
			if want == "" {
				require.Nil(t, e.Host)
				continue
			}
			require.Equal(t, want, get(e, "host.name"), peer)
			require.Equal(t, want, get(e, "host.hostname"), peer)
			require.Equal(t, []string{want}, e.Host.IP)
		}
	})
	t.Run("hostname beats peer", func(t *testing.T) {
		e := parse(t, "<13>Jan 15 10:00:00 db01.example.jp app: x", testMeta)
		require.Equal(t, "db01.example.jp", e.Host.Name)
		require.Empty(t, e.Host.IP)
	})
	t.Run("IPv6 hostname ending in a colon", func(t *testing.T) {
		e := parse(t, "<13>Jan 15 10:00:00 2001:db8:: sshd[7]: x", testMeta)
		require.Equal(t, "2001:db8::", e.Host.Name)
		require.Equal(t, []string{"2001:db8::"}, e.Host.IP)
		require.Equal(t, "sshd", e.Process.Name)
	})
	t.Run("non-numeric procid is not a pid", func(t *testing.T) {
		e := parse(t, "<13>1 2025-01-15T10:00:00Z host app worker-3 - - x", testMeta)
		require.Equal(t, "worker-3", e.Log.Syslog.Procid)
		require.Zero(t, e.Process.PID)
		require.Equal(t, "app", e.Process.Name)
	})
	t.Run("default priority", func(t *testing.T) {
		cfg := syslog.DefaultConfig()
		cfg.DefaultPriority = 14
		p14, err := syslog.New(cfg)
		require.NoError(t, err)
		var e event.Event
		require.NoError(t, p14.Parse([]byte("sshd[1]: no pri"), testMeta, &e))
		require.Equal(t, int64(14), *e.Log.Syslog.Priority)
		require.Equal(t, "Informational", e.Log.Syslog.Severity.Name)
		require.Equal(t, "sshd", e.Process.Name)
		require.Equal(t, "no pri", e.Message)
	})
	t.Run("event.original is the whole text", func(t *testing.T) {
		raw := "<13>Jan 15 10:00:00 host app: line\n"
		e := parse(t, raw, testMeta)
		require.Equal(t, raw, e.Event.Original)
		require.Equal(t, "line", e.Message)
	})
	t.Run("leading BOM and trailing NUL", func(t *testing.T) {
		e := parse(t, "\ufeff<13>Jan 15 10:00:00 host app: x\x00", testMeta)
		require.Equal(t, "x", e.Message)
		require.Equal(t, "app", e.Process.Name)
	})
	t.Run("fields already present are kept", func(t *testing.T) {
		e := event.Event{Fields: map[string]any{"labels.site": "tokyo"}}
		require.NoError(t, p.Parse([]byte(`<13>1 - h a - - [x@1 k="v"] m`), testMeta, &e))
		require.Equal(t, map[string]any{"labels.site": "tokyo", "log.syslog.structured_data.x@1.k": "v"}, e.Fields)
	})
}

func TestErrors(t *testing.T) {
	p, err := syslog.New(syslog.DefaultConfig())
	require.NoError(t, err)
	for raw, want := range map[string]string{
		"<":                    `syslog: invalid PRI: want 1 to 3 digits after '<', got the end of the message`,
		"<>x":                  `syslog: invalid PRI: want 1 to 3 digits after '<', got '>'`,
		"<abc>x":               `syslog: invalid PRI: want 1 to 3 digits after '<', got 'a'`,
		"<1234>x":              `syslog: invalid PRI: more than 3 digits after '<'`,
		"<192>x":               `syslog: invalid PRI <192>: the priority must be 0 to 191 (facility*8 + severity)`,
		"<13\x01>x":            `syslog: invalid PRI: want '>' after <13, got byte 0x01`,
		"<13>   ":              `syslog: nothing after the PRI <13>`,
		"\x1b[31mred":          `syslog: no PRI, and the message starts with control character 0x1b`,
		"\x00\x00\x00":         `syslog: empty message: 3 bytes of white space, line ends or NULs`,
		"ab\x01\x02\x03\x04cd": `syslog: control-character garbage, not a syslog message: 4 of 8 bytes are control characters`,
	} {
		var e event.Event
		err := p.Parse([]byte(raw), testMeta, &e)
		require.EqualError(t, err, want, "%q", raw)
		require.ErrorIs(t, err, parsers.ErrUnparsable)
	}
	var e event.Event
	err = p.Parse([]byte("<13>Jan 15 10:00:00 host app: caf\xe9"), testMeta, &e)
	require.ErrorIs(t, err, parsers.ErrUnparsable)
	var te *parsers.TextError
	require.ErrorAs(t, err, &te)
	require.Equal(t, 33, te.Offset)
}

// TestConcurrentParse parses from many goroutines with one parser; run it
// with -race.
func TestConcurrentParse(t *testing.T) {
	p, err := syslog.New(syslog.DefaultConfig())
	require.NoError(t, err)
	inputs := []string{
		"<38>Jan 15 10:00:00 web01 sshd[1234]: Accepted password for tanaka",
		"<38>1 2025-01-15T10:00:00Z web01 sshd 1234 - [a b=\"c\"] Accepted password for tanaka",
		"no pri at all",
		"<13>Jan 15 10:00:00.5 web01 app: fallback",
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				raw := inputs[(g+i)%len(inputs)]
				var e event.Event
				if err := p.Parse([]byte(raw), testMeta, &e); err != nil {
					t.Error(err)
					return
				}
				if e.Event.Original != raw {
					t.Errorf("original %q for input %q", e.Event.Original, raw)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// FuzzParse checks that Parse never panics, that every error wraps
// parsers.ErrUnparsable, and that every event it returns encodes, has a
// timestamp and holds only valid UTF-8.
func FuzzParse(f *testing.F) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "*", "input.txt"))
	for _, path := range dirs {
		b, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(b, int64(0))
	}
	sj, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte("<14>Jan 15 10:00:00 サーバ 監査[3]: ログイン失敗"))
	require.NoError(f, err)
	f.Add(sj, int64(0))
	f.Add([]byte("<13>Feb 29 10:00:00 host app: x"), int64(-86400*365*2000))
	f.Add([]byte("<13>1 0000-01-01T00:00:00+09:00 h a p m - x"), int64(0))
	p, err := syslog.New(syslog.DefaultConfig())
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, raw []byte, receivedOffset int64) {
		meta := testMeta
		meta.Received = meta.Received.Add(time.Duration(receivedOffset%(1<<40)) * time.Second)
		var e event.Event
		if err := p.Parse(raw, meta, &e); err != nil {
			require.ErrorIs(t, err, parsers.ErrUnparsable)
			return
		}
		require.False(t, e.Timestamp.IsZero(), "zero @timestamp")
		_, err := event.Marshal(&e)
		require.NoError(t, err)
		checkUTF8(t, &e)
	})
}

func checkUTF8(t *testing.T, e *event.Event) {
	t.Helper()
	strs := []string{e.Message, e.Event.Original, e.Log.Level}
	if e.Host != nil {
		strs = append(strs, e.Host.Name, e.Host.Hostname)
		strs = append(strs, e.Host.IP...)
	}
	if e.Process != nil {
		strs = append(strs, e.Process.Name)
	}
	if s := e.Log.Syslog; s != nil {
		strs = append(strs, s.Hostname, s.Appname, s.Procid, s.MsgID, s.Version, s.Facility.Name, s.Severity.Name)
	}
	for k, v := range e.Fields {
		strs = append(strs, k)
		s, ok := v.(string)
		require.True(t, ok, "field %s is %T", k, v)
		strs = append(strs, s)
	}
	for _, s := range strs {
		require.True(t, utf8.ValidString(s), "invalid UTF-8: %q", s)
	}
	require.False(t, strings.HasPrefix(e.Message, "\ufeff"), "BOM left in message")
}
