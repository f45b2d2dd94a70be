package sigma

import (
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load compiles every .yml and .yaml file under fsys (for a directory, pass
// os.DirFS(dir)). It returns the rules that compiled and one *RuleError per
// file that did not: invalid rules, unsupported constructs (correlation
// rules among them), unmapped log sources or fields. Sigma filters (files
// with a filter section) are applied to the rules they name, by id or name:
// the rule then matches only when the filter's condition also holds.
// A nil cfg uses the default mapping and no placeholders.
func Load(fsys fs.FS, cfg *Config) ([]*Rule, []error) {
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, []error{&RuleError{Err: invalidf("reading rules: %v", err)}}
	}
	sort.Strings(files)
	var rules []*Rule
	var errs []error
	type filterDoc struct {
		file string
		d    *document
	}
	var filters []filterDoc
	byKey := map[string]*Rule{}
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs = append(errs, &RuleError{File: f, Err: invalidf("%v", err)})
			continue
		}
		d, err := parseDocument(data)
		if err == nil && d.Filter.Kind != 0 {
			filters = append(filters, filterDoc{f, d})
			continue
		}
		var r *Rule
		if err == nil {
			r, err = compileDocument(d, cfg)
		}
		if err != nil {
			re := ruleErr(d, err).(*RuleError)
			re.File = f
			errs = append(errs, re)
			continue
		}
		r.File = path.Clean(f)
		if r.ID != "" {
			if prev, dup := byKey[r.ID]; dup {
				errs = append(errs, &RuleError{File: f, ID: r.ID, Title: r.Title, Err: invalidf("duplicate rule id (also in %s)", prev.File)})
				continue
			}
			byKey[r.ID] = r
		}
		if r.Name != "" {
			byKey[r.Name] = r
		}
		rules = append(rules, r)
	}
	for _, fd := range filters {
		if err := applyFilter(fd.d, cfg, byKey); err != nil {
			re := ruleErr(fd.d, err).(*RuleError)
			re.File = fd.file
			errs = append(errs, re)
		}
	}
	return rules, errs
}

// applyFilter compiles a Sigma filter (its selections and condition, under
// the filter's logsource) and ANDs it into each rule it names.
func applyFilter(d *document, cfg *Config, byKey map[string]*Rule) error {
	if cfg == nil {
		cfg = &Config{}
	}
	m := cfg.Mapping
	if m == nil {
		m = defaultMapping
	}
	if d.Filter.Kind != yaml.MappingNode {
		return invalidf("filter must be a map")
	}
	det := &yaml.Node{Kind: yaml.MappingNode}
	var targets []string
	for i := 0; i+1 < len(d.Filter.Content); i += 2 {
		k, v := d.Filter.Content[i], d.Filter.Content[i+1]
		if k.Value == "rules" {
			var l StringList
			if err := v.Decode(&l); err != nil {
				return invalidf("filter.rules: %v", err)
			}
			targets = l
			continue
		}
		det.Content = append(det.Content, k, v)
	}
	if len(targets) == 0 {
		return invalidf("filter names no rules")
	}
	res, err := m.resolve(d.Logsource)
	if err != nil {
		return err
	}
	c := &compiler{res: res, placeholders: cfg.Placeholders}
	fm, err := c.detection(det)
	if err != nil {
		return err
	}
	for _, t := range targets {
		r, ok := byKey[t]
		if !ok {
			return invalidf("filter names rule %q, which is not loaded", t)
		}
		r.matcher = allOf{r.matcher, fm}
	}
	return nil
}
