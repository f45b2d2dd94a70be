package syslog_test

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/ingest/syslog"
)

var update = flag.Bool("update", false, "rewrite testdata/*/expected from the current output")

// scanAll frames everything r yields and renders it one frame a line:
// the message quoted, its original size, "truncated" when cut; and a last
// line "error: ..." when scanning ended with an error.
func scanAll(r io.Reader, framing syslog.Framing, maxSize int) string {
	var out strings.Builder
	sc := syslog.NewScanner(r, framing, maxSize)
	for sc.Scan() {
		fmt.Fprintf(&out, "%s %d", strconv.Quote(string(sc.Message())), sc.Size())
		if sc.Truncated() {
			out.WriteString(" truncated")
		}
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(&out, "error: %v\n", err)
	}
	return out.String()
}

// chunkReader yields at most n bytes per Read, like a sender whose writes
// arrive in small TCP segments.
type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), c.n, len(c.data))
	copy(p, c.data[:k])
	c.data = c.data[k:]
	return k, nil
}

// TestFramingCases runs every testdata/framing/<case>: args holds
// "framing=... max=...", input the byte stream, expected the frames (see
// scanAll). Each input is read whole, one byte at a time and in 3-byte
// chunks: the frames must not depend on how the bytes arrive. Run with
// -update to rewrite expected after a deliberate change.
func TestFramingCases(t *testing.T) {
	dirs, err := filepath.Glob("testdata/framing/*")
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			args, err := os.ReadFile(filepath.Join(dir, "args"))
			require.NoError(t, err)
			var framing syslog.Framing
			maxSize := 0
			for _, kv := range strings.Fields(string(args)) {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "framing":
					require.NoError(t, framing.UnmarshalText([]byte(v)))
				case "max":
					maxSize, err = strconv.Atoi(v)
					require.NoError(t, err)
				default:
					t.Fatalf("unknown arg %q", kv)
				}
			}
			input, err := os.ReadFile(filepath.Join(dir, "input"))
			require.NoError(t, err)

			got := scanAll(bytes.NewReader(input), framing, maxSize)
			require.Equal(t, got, scanAll(iotest.OneByteReader(bytes.NewReader(input)), framing, maxSize), "one byte at a time")
			require.Equal(t, got, scanAll(&chunkReader{data: input, n: 3}, framing, maxSize), "3-byte chunks")

			path := filepath.Join(dir, "expected")
			if *update {
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -run TestFramingCases -update to create it")
			require.Equal(t, string(want), got)
		})
	}
}

func TestFramingLargeMessagesStreamThroughASmallBuffer(t *testing.T) {
	// Larger than the scanner's read buffer, within max: assembled whole.
	big := bytes.Repeat([]byte("x"), 3*syslog.DefaultScanBuffer+17)
	for _, framing := range []syslog.Framing{syslog.FramingOctetCounting, syslog.FramingAuto} {
		in := append(fmt.Appendf(nil, "%d ", len(big)), big...)
		in = append(in, "3 abc"...)
		sc := syslog.NewScanner(&chunkReader{data: in, n: 1000}, framing, len(big))
		require.True(t, sc.Scan())
		require.Equal(t, big, sc.Message())
		require.False(t, sc.Truncated())
		require.True(t, sc.Scan())
		require.Equal(t, "abc", string(sc.Message()))
		require.False(t, sc.Scan())
		require.NoError(t, sc.Err())
	}
	lf := append(append([]byte(nil), big...), '\n')
	sc := syslog.NewScanner(&chunkReader{data: lf, n: 1000}, syslog.FramingNonTransparent, len(big))
	require.True(t, sc.Scan())
	require.Equal(t, big, sc.Message())
	require.False(t, sc.Truncated())
}

func TestFramingOversizeDiscardsWithoutBuffering(t *testing.T) {
	// A 200 KiB octet-counted message with a 1 KiB maximum: the scanner
	// keeps 1 KiB and skips the rest, then reads the next frame.
	const size = 200 << 10
	body := bytes.Repeat([]byte("y"), size)
	in := append(fmt.Appendf(nil, "%d ", size), body...)
	in = append(in, "5 <13>z"...)
	sc := syslog.NewScanner(bytes.NewReader(in), syslog.FramingOctetCounting, 1024)
	require.True(t, sc.Scan())
	require.Len(t, sc.Message(), 1024)
	require.EqualValues(t, size, sc.Size())
	require.True(t, sc.Truncated())
	require.True(t, sc.Scan())
	require.Equal(t, "<13>z", string(sc.Message()))
	require.False(t, sc.Scan())
	require.NoError(t, sc.Err())
}

func TestFramingNames(t *testing.T) {
	for _, f := range []syslog.Framing{syslog.FramingAuto, syslog.FramingOctetCounting, syslog.FramingNonTransparent} {
		text, err := f.MarshalText()
		require.NoError(t, err)
		var back syslog.Framing
		require.NoError(t, back.UnmarshalText(text))
		require.Equal(t, f, back)
	}
	var f syslog.Framing
	require.ErrorContains(t, f.UnmarshalText([]byte("octet")), "use auto, octet-counting or non-transparent")
}
