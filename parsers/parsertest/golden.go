// Package parsertest is the golden-file harness every parser's tests share:
// each directory <root>/<case>/ holds an input and either expected.json
// (the event the parser must produce) or expected.err (the error it must
// return, wrapping parsers.ErrUnparsable). With update set, the expected
// files are rewritten from what the parser produces now.
package parsertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
	"github.com/mamori-soc/mamori/parsers"
)

// Golden runs p on every case directory under root (except fuzz), such as
// "testdata" or "testdata/eventxml" for a package with several formats;
// read returns a case's raw input and metadata.
func Golden(t *testing.T, p parsers.Parser, root string, update bool, read func(t *testing.T, dir string) ([]byte, parsers.Meta)) {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(root, "*"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || filepath.Base(dir) == "fuzz" {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			raw, meta := read(t, dir)
			rawCopy := bytes.Clone(raw)
			var e event.Event
			perr := p.Parse(raw, meta, &e)
			require.Equal(t, rawCopy, raw, "Parse modified its input")

			jsonPath, errPath := filepath.Join(dir, "expected.json"), filepath.Join(dir, "expected.err")
			if update {
				_ = os.Remove(jsonPath)
				_ = os.Remove(errPath)
				if perr != nil {
					require.NoError(t, os.WriteFile(errPath, []byte(perr.Error()+"\n"), 0o644))
					return
				}
				got, err := event.Marshal(&e)
				require.NoError(t, err)
				var pretty bytes.Buffer
				require.NoError(t, json.Indent(&pretty, got, "", "  "))
				pretty.WriteByte('\n')
				require.NoError(t, os.WriteFile(jsonPath, pretty.Bytes(), 0o644))
				return
			}

			if want, err := os.ReadFile(errPath); err == nil {
				require.Error(t, perr, "want error %q", want)
				require.Equal(t, strings.TrimSuffix(string(want), "\n"), perr.Error())
				require.True(t, errors.Is(perr, parsers.ErrUnparsable), "error does not wrap parsers.ErrUnparsable")
				return
			}
			require.NoError(t, perr)
			want, err := os.ReadFile(jsonPath)
			require.NoError(t, err, "no expected.json or expected.err: run go test -run TestGolden -update")
			got, err := event.Marshal(&e)
			require.NoError(t, err)
			require.JSONEq(t, string(want), string(got))
		})
	}
}
