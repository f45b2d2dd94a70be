package syslog

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/influxdata/go-syslog/v3/rfc3164"
	"github.com/influxdata/go-syslog/v3/rfc5424"
)

// differential corpus: messages both readers must read alike whenever the
// go-syslog reading is accepted.
var differentialSeeds = []string{
	"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
	"<38>Jan 15 10:00:00 web01 sshd[1234]: Accepted password for tanaka from 10.0.0.5 port 52413 ssh2",
	"<38>Jan 15 10:00:00 sshd[1234]: Accepted password for tanaka",
	"<38>Jan 15 10:00:00 web01 sshd[1234]: tab\there",
	"<38>2024-01-15T10:00:00+09:00 web01 sshd[1234]: rfc3339",
	"<28>Jan 15 10:00:00 srx1 RT_FLOW: RT_FLOW_SESSION_CREATE: session created",
	"<13>Jan 15 10:00:00 host app: 日本語のメッセージ",
	"<13>Jan 15 10:00:00 host 日本語: msg",
	"<13>Jan 15 10:00:00 host tag:",
	"<13>Jan 15 10:00:00 host tag: ",
	"<13>Jan 15 10:00:00 host tag:nospace",
	"<13>Jan  5 10:00:00 host tag: single digit day",
	"<13>Jan 15 10:00:00 host tag[]: empty content",
	"<13>Jan 15 10:00:00 host tag[abc def]: content with space",
	"<13>Jan 15 10:00:00 host verylongtagnamethatexceedsthirtytwocharacters: x",
	"<13>Jan 15 10:00:00 host sshd[12]x: junk after",
	"<13>Jan 15 10:00:00 host sshd[1]2]: nested",
	"<13>Jan 15 10:00:00 host a]b: bracket",
	"<13>Jan 15 10:00:00 host - - dash host",
	"<13>Jan 15 10:00:00 host 123: sequence",
	"<13>Jan 15 10:00:00 host %ASA-6-1: code",
	"<13>Jan 15 10:00:00 host message without tag",
	"<13>Jan 15 10:00:00 host sshd:  two spaces",
	"<13>Jan 15 10:00:00 2001:db8:: sshd[7]: IPv6 hostname ending in a colon",
	"<13>Jan 15 10:00:00 host : lone colon",
	"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \xEF\xBB\xBFAn application event",
	"<165>1 2003-10-11T22:14:15.003Z host app - ID47 - msg with\ttab\nand newline",
	"<165>1 - - - - - -",
	"<165>1 - - - - - - ",
	"<165>1 2003-10-11T22:14:15.003Z host app 12 ID [a b=\"c\\\"d\\]e\\\\f\"] esc",
	"<165>1 2003-10-11T22:14:15.003Z host app 12 ID [a b=\"1\" b=\"2\"] dup param",
	"<165>1 2003-10-11T22:14:15.003+09:00 host app 12 ID - zone",
	"<165>1 2003-10-11T22:14:15.003+09:00 host app 12 ID [x@1 a=\"\"][y@2] empty value",
}

func newTestParser(t testing.TB) *Parser {
	p, err := New(DefaultConfig())
	require.NoError(t, err)
	return p
}

// differ compares go-syslog's accepted reading of line with the scanner's,
// returning whether go-syslog's reading was accepted.
func differ(t *testing.T, p *Parser, line []byte) bool {
	ref := time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC)
	pri, priLen, hasPRI, err := parsePRI(line)
	if err != nil || !hasPRI || pri > 191 {
		return false
	}
	s := string(line)
	if len(line) > priLen+1 && line[priLen] == '1' && line[priLen+1] == ' ' {
		res, err := rfc5424.NewMachine(rfc5424.WithBestEffort()).Parse(line)
		if err != nil || res == nil {
			return false
		}
		fast := accept5424(res.(*rfc5424.SyslogMessage))
		slow := p.scan5424(s[priLen:])
		for id, params := range fast.sdMap {
			if len(params) == 0 { // an element without parameters gives no field
				delete(fast.sdMap, id)
			}
		}
		if len(fast.sdMap) == 0 {
			fast.sdMap = nil
		}
		require.Equal(t, fast.sdMap, sdAsMap(slow.sd), "structured data of %q", line)
		fast.sdMap, slow.sd = nil, nil
		require.True(t, fast.ts.Equal(slow.ts), "timestamp of %q: %s vs %s", line, fast.ts, slow.ts)
		fast.ts, slow.ts = time.Time{}, time.Time{}
		require.Equal(t, fast, slow, "reading of %q", line)
		return true
	}
	res, err := rfc3164.NewMachine(rfc3164.WithBestEffort(), rfc3164.WithRFC3339()).Parse(line)
	if err != nil || res == nil {
		return false
	}
	fast, ok := p.accept3164(res.(*rfc3164.SyslogMessage), line, priLen, ref)
	if !ok {
		return false
	}
	slow := p.scan3164(s[priLen:], ref)
	require.True(t, fast.ts.Equal(slow.ts), "timestamp of %q: %s vs %s", line, fast.ts, slow.ts)
	fast.ts, slow.ts = time.Time{}, time.Time{}
	require.Equal(t, fast, slow, "reading of %q", line)
	return true
}

// sdAsMap turns the scanner's parameters into go-syslog's shape.
func sdAsMap(sd []sdParam) map[string]map[string]string {
	if len(sd) == 0 {
		return nil
	}
	m := map[string]map[string]string{}
	for _, p := range sd {
		if m[p.id] == nil {
			m[p.id] = map[string]string{}
		}
		m[p.id][p.name] = p.value
	}
	return m
}

func TestScannerAgreesWithGoSyslog(t *testing.T) {
	p := newTestParser(t)
	accepted := 0
	for _, s := range differentialSeeds {
		if differ(t, p, []byte(s)) {
			accepted++
		}
	}
	// The corpus must exercise the comparison, not only the fallbacks.
	require.Greater(t, accepted, len(differentialSeeds)/2)
}

// FuzzScannerAgreesWithGoSyslog checks that wherever go-syslog's reading is
// taken, the lenient scanner would have read the message the same way, so
// the event never depends on which reader ran.
func FuzzScannerAgreesWithGoSyslog(f *testing.F) {
	for _, s := range differentialSeeds {
		f.Add([]byte(s))
	}
	p := newTestParser(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		differ(t, p, line)
	})
}

func TestParseSD(t *testing.T) {
	for in, want := range map[string][]sdParam{
		`[a b="1"] rest`:           {{"a", "b", "1"}},
		`[a b="1" c="2"][d e="x"]`: {{"a", "b", "1"}, {"a", "c", "2"}, {"d", "e", "x"}},
		`[a b="q\"uo\\te\]"]`:      {{"a", "b", `q"uo\te]`}},
		`[a b="C:\temp"]`:          {{"a", "b", `C:\temp`}},
		`[a b="x]y"]`:              {{"a", "b", "x]y"}},
		`[a@1.2.3 b-c.d="日本"]`:     {{"a@1.2.3", "b-c.d", "日本"}},
		`[a]`:                      nil,
		`[a][a b="dup id kept"]`:   {{"a", "b", "dup id kept"}},
		`[a b="\\"] after`:         {{"a", "b", `\`}},
	} {
		got, _, ok := parseSD(in)
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{`[`, `[a`, `[a b="1"`, `[a b=1]`, `[ b="1"]`, `[a b]`, `[a ="1"]`, `[a b="unterminated]`, `[a b="\"] escaped quote does not close"`} {
		_, rest, ok := parseSD(in)
		require.False(t, ok, in)
		require.Equal(t, in, rest, in)
	}
}

func TestCheckControlsMatchesByteCount(t *testing.T) {
	naive := func(b []byte) error {
		n := 0
		for _, c := range b {
			if isControl(c) {
				n++
			}
		}
		if n > 0 && n*8 > len(b) {
			return unparsable("control-character garbage, not a syslog message: %d of %d bytes are control characters", n, len(b))
		}
		return nil
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{0, 1, '\t', '\n', '\r', 0x1b, 0x1f, ' ', 'a', 0x7e, 0x7f, 0x80, 0xe3, 0xff}
	for range 20000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		want, got := naive(b), checkControls(b)
		if want == nil {
			require.NoError(t, got, "%q", b)
		} else {
			require.EqualError(t, got, want.Error(), "%q", b)
		}
	}
}

func TestTimeHelpers(t *testing.T) {
	for y := 1890; y <= 2110; y++ {
		for m := time.January; m <= time.December; m++ {
			want := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
			require.Equal(t, want, daysIn(m, y), "%d-%02d", y, m)
		}
	}
	require.True(t, storable(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)))
	require.False(t, storable(time.Date(0, 12, 31, 23, 59, 59, 0, time.UTC)))
	require.True(t, storable(time.Date(9999, 12, 31, 23, 59, 59, 999, time.UTC)))
	require.False(t, storable(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)))
	require.False(t, storable(time.Date(1, 1, 1, 8, 0, 0, 0, time.FixedZone("", 9*3600))))
}
