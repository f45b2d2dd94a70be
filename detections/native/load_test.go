package native_test

import (
	"errors"
	"os"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/native"
)

func TestLoad(t *testing.T) {
	rule := func(id, body string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte("id: " + id + "\nname: n\nversion: 1\ndescription: d\nseverity: low\n" + body)}
	}
	fsys := fstest.MapFS{
		"win/a.yaml":      rule("a.rule", "query: 'event.code:4625'\n"),
		"win/b.yml":       rule("b.rule", "kind: threshold\nquery: 'event.code:4625'\nthreshold: {window: 5m, count: 3}\n"),
		"win/a.test.yaml": rule("a.rule", "query: 'x'\n"), // a rule test file
		"win/a.test.yml":  rule("a.rule", "query: 'x'\n"),
		"win/sigma.yml":   {Data: []byte("title: Sigma\nlogsource: {product: windows}\ndetection: {sel: {EventID: 4625}, condition: sel}\n")},
		"win/notes.txt":   {Data: []byte("query: not a rule file\n")},
		"z/bad.yaml":      rule("bad.rule", "query: 'event.code:4625'\nseverity_level: 3\n"),
		"z/dup.yaml":      rule("a.rule", "query: 'event.code:4624'\n"),
	}
	rules, errs := native.Load(fsys, native.Options{})
	var ids []string
	for _, r := range rules {
		ids = append(ids, r.ID)
	}
	require.Equal(t, []string{"a.rule", "b.rule"}, ids)
	require.Len(t, errs, 2)
	require.EqualError(t, errs[0], "z/bad.yaml: bad.rule: severity_level: line 7: unknown key")
	require.EqualError(t, errs[1], "z/dup.yaml: a.rule: id: duplicate rule id (also in win/a.yaml)")
	for _, err := range errs {
		require.True(t, errors.Is(err, detections.ErrInvalidRule))
	}
}

// TestExamples loads the example rules, one of every kind, which document
// the format.
func TestExamples(t *testing.T) {
	rules, errs := native.Load(os.DirFS("testdata/examples"), native.Options{})
	require.Empty(t, errs)
	kinds := map[string]bool{}
	for _, r := range rules {
		kinds[r.ID] = true
	}
	require.Len(t, rules, 7, "one example per kind")
	_, err := detections.New(rules, detections.Config{})
	require.NoError(t, err)
}

func TestIsRuleFile(t *testing.T) {
	for p, want := range map[string]bool{
		"a.yaml": true, "d/a.yml": true, "a.test.yaml": false, "d/a.test.yml": false,
		"a.json": false, "a.yaml.bak": false, "test.yaml": true, ".test.yaml": false,
	} {
		require.Equal(t, want, native.IsRuleFile(p), p)
	}
}
