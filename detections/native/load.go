package native

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/mamori-soc/mamori/detections"
)

// Load compiles every native rule under fsys (for a directory, pass
// os.DirFS(dir)): the *.yaml and *.yml files that IsNative accepts, except
// rule test files (*.test.yaml, *.test.yml). Other files, Sigma rules among
// them, are left to their loaders. It returns the rules that compiled, in
// path order, and one *Error per file that did not; a rule whose id an
// earlier file already used is an error too.
func Load(fsys fs.FS, opts Options) ([]*detections.Rule, []error) {
	opts, err := opts.withDefaults() // one calendar for every rule
	if err != nil {
		return nil, []error{&Error{Err: err}}
	}
	var rules []*detections.Rule
	var errs []error
	seen := map[string]string{} // rule id -> file
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, &Error{File: p, Err: err})
			return nil
		}
		if d.IsDir() || !IsRuleFile(p) {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			errs = append(errs, &Error{File: p, Err: err})
			return nil
		}
		if !IsNative(data) {
			return nil
		}
		r, err := Parse(data, p, opts)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if prev, dup := seen[r.ID]; dup {
			errs = append(errs, &Error{File: p, ID: r.ID, Key: "id", Err: fmt.Errorf("duplicate rule id (also in %s)", prev)})
			return nil
		}
		seen[r.ID] = p
		rules = append(rules, r)
		return nil
	})
	if err != nil {
		errs = append(errs, &Error{Err: err})
	}
	return rules, errs
}

// IsRuleFile reports whether a path names a rule file by its name: *.yaml
// or *.yml, but not a rule test file (*.test.yaml, *.test.yml).
func IsRuleFile(p string) bool {
	base := path.Base(p)
	ext := path.Ext(base)
	if ext != ".yaml" && ext != ".yml" {
		return false
	}
	return !strings.HasSuffix(strings.TrimSuffix(base, ext), ".test")
}
