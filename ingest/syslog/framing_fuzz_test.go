package syslog_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/mamori-soc/mamori/ingest/syslog"
)

// FuzzFraming checks, for any byte stream, framing mode, maximum and way
// the bytes arrive: the scanner never panics, always ends, never returns a
// message longer than the maximum, reports sizes consistently; and messages
// cut from the input round-trip through octet counting (and through
// non-transparent framing once made delimiter-free).
func FuzzFraming(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/framing/*/input")
	for _, p := range inputs {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b, uint8(0), uint16(8), uint8(0))
			f.Add(b, uint8(1), uint16(64), uint8(2))
			f.Add(b, uint8(2), uint16(5), uint8(1))
		}
	}
	f.Add([]byte("99999999999999999999 x"), uint8(0), uint16(100), uint8(0))
	f.Add([]byte("3 ab"), uint8(1), uint16(1), uint8(0))

	f.Fuzz(func(t *testing.T, data []byte, mode uint8, maxSize uint16, chunk uint8) {
		framing := syslog.Framing(int(mode%3) + 1)
		limit := int(maxSize%4096) + 1
		r := &chunkReader{data: data, n: int(chunk%16) + 1}
		sc := syslog.NewScanner(r, framing, limit)
		frames := 0
		for sc.Scan() {
			frames++
			if frames > len(data) {
				t.Fatalf("%d frames from %d bytes: no progress", frames, len(data))
			}
			msg := sc.Message()
			if len(msg) > limit {
				t.Fatalf("message of %d bytes exceeds max %d", len(msg), limit)
			}
			if sc.Size() < int64(len(msg)) {
				t.Fatalf("size %d below message length %d", sc.Size(), len(msg))
			}
			if sc.Truncated() != (sc.Size() > int64(len(msg))) {
				t.Fatal("Truncated disagrees with Size")
			}
			if framing == syslog.FramingNonTransparent && bytes.ContainsAny(msg, "\n\x00") {
				t.Fatalf("delimited message %q contains a delimiter", msg)
			}
		}
		if err := sc.Err(); err != nil && framing == syslog.FramingNonTransparent {
			t.Fatalf("non-transparent framing failed on an in-memory stream: %v", err)
		}

		// Round trip: the input cut at 0xff into non-empty messages.
		var msgs [][]byte
		for _, m := range bytes.Split(data, []byte{0xff}) {
			if len(m) > 0 {
				msgs = append(msgs, m)
			}
		}
		var counted []byte
		for _, m := range msgs {
			counted = fmt.Appendf(counted, "%d %s", len(m), m)
		}
		for _, fr := range []syslog.Framing{syslog.FramingOctetCounting, syslog.FramingAuto} {
			checkRoundTrip(t, fr, counted, msgs, limit, r.n)
		}
		var delimited []byte
		var clean [][]byte
		for _, m := range msgs {
			c := bytes.Clone(m)
			for i, b := range c {
				if b == '\n' || b == '\r' || b == 0 {
					c[i] = '_'
				}
			}
			clean = append(clean, c)
			delimited = append(append(delimited, c...), '\n')
		}
		checkRoundTrip(t, syslog.FramingNonTransparent, delimited, clean, limit, r.n)
	})
}

func checkRoundTrip(t *testing.T, framing syslog.Framing, stream []byte, msgs [][]byte, limit, chunk int) {
	t.Helper()
	sc := syslog.NewScanner(&chunkReader{data: stream, n: chunk}, framing, limit)
	for i, want := range msgs {
		if !sc.Scan() {
			t.Fatalf("%s: stopped after %d of %d messages: %v", framing, i, len(msgs), sc.Err())
		}
		kept := want[:min(len(want), limit)]
		if !bytes.Equal(sc.Message(), kept) || sc.Size() != int64(len(want)) {
			t.Fatalf("%s: message %d: got %q (size %d), want %q (size %d)", framing, i, sc.Message(), sc.Size(), kept, len(want))
		}
	}
	if sc.Scan() {
		t.Fatalf("%s: extra message %q", framing, sc.Message())
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("%s: %v", framing, err)
	}
}
