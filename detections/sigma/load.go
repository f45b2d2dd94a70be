package sigma

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load compiles every .yml and .yaml file under fsys (for a directory, pass
// os.DirFS(dir)). It returns the rules and correlation rules that compiled,
// in file order, and one *RuleError per rule that did not: invalid rules,
// unsupported constructs, unmapped log sources or fields, correlations whose
// references do not resolve. A file may hold several rules as a YAML
// multi-document (rule collections with action: global are not supported).
//
// Sigma filters (files with a filter section) are applied to the rules they
// name, by id or name: the rule then matches only when the filter's
// condition also holds. Correlation rules refer to rules and correlations
// by id or name; see the package documentation for what a correlation may
// refer to. A nil cfg uses the default mapping and no placeholders.
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
	failed := map[string]bool{} // ids and names of rules that do not load
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs = append(errs, &RuleError{File: f, Err: invalidf("%v", err)})
			continue
		}
		docs, err := parseDocuments(data)
		if err != nil {
			var d *document
			if len(docs) > 0 {
				d = docs[0]
			}
			re := ruleErr(d, err).(*RuleError)
			re.File = f
			errs = append(errs, re)
			continue
		}
		for _, d := range docs {
			if d.Filter.Kind != 0 {
				filters = append(filters, filterDoc{f, d})
				continue
			}
			var r *Rule
			if isCorrelation(d) {
				r, err = compileCorrelation(d, cfg)
			} else {
				r, err = compileDocument(d, cfg)
			}
			if err == nil {
				err = checkUnique(r, byKey)
			}
			if err != nil {
				re := ruleErr(d, err).(*RuleError)
				re.File = f
				errs = append(errs, re)
				failed[d.ID], failed[d.Name] = d.ID != "", d.Name != ""
				continue
			}
			r.File = path.Clean(f)
			if r.ID != "" {
				byKey[r.ID] = r
			}
			if r.Name != "" {
				byKey[r.Name] = r
			}
			rules = append(rules, r)
		}
	}
	for _, fd := range filters {
		if err := applyFilter(fd.d, cfg, byKey); err != nil {
			re := ruleErr(fd.d, err).(*RuleError)
			re.File = fd.file
			errs = append(errs, re)
		}
	}
	linkErrs := linkAll(rules, byKey, failed)
	out := rules[:0]
	for _, r := range rules {
		if err, bad := linkErrs[r]; bad {
			errs = append(errs, &RuleError{File: r.File, ID: r.ID, Title: r.Title, Err: err})
			continue
		}
		out = append(out, r)
	}
	return out, errs
}

// checkUnique reports a rule whose id or name another loaded rule has.
func checkUnique(r *Rule, byKey map[string]*Rule) error {
	if prev, dup := byKey[r.ID]; dup && r.ID != "" {
		return invalidf("duplicate rule id (also in %s)", prev.File)
	}
	if prev, dup := byKey[r.Name]; dup && r.Name != "" {
		return invalidf("duplicate rule name %q (also in %s)", r.Name, prev.File)
	}
	return nil
}

// linkAll resolves the references of every correlation rule, chains first,
// and returns the error of each correlation that does not resolve.
func linkAll(rules []*Rule, byKey map[string]*Rule, failed map[string]bool) map[*Rule]error {
	const (
		linking = iota + 1
		linked
	)
	state := map[*Rule]int{}
	errs := map[*Rule]error{}
	var link func(r *Rule) error
	link = func(r *Rule) error {
		switch state[r] {
		case linking:
			return invalidf("correlation.rules: the chain of correlations loops back to %q", r.Title)
		case linked:
			return errs[r]
		}
		state[r] = linking
		c := r.Correlation
		err := c.link(func(ref string) (*Rule, error) {
			t, ok := byKey[ref]
			switch {
			case !ok && failed[ref]:
				return nil, invalidf("correlation.rules: rule %q does not load", ref)
			case !ok:
				return nil, invalidf("correlation.rules: rule %q is not loaded", ref)
			case t.Correlation == nil:
				return t, nil
			}
			if err := link(t); err != nil {
				if state[t] == linking {
					return nil, err
				}
				return nil, invalidf("correlation.rules: correlation %q does not load", ref)
			}
			return t, nil
		})
		state[r] = linked
		if err != nil {
			errs[r] = err
			return err
		}
		matchers := make(anyOf, len(c.refs))
		for i, ref := range c.refs {
			matchers[i] = ref
		}
		r.matcher = matchers
		r.prefilter = c.prefilter()
		return nil
	}
	for _, r := range rules {
		if r.Correlation != nil {
			_ = link(r) // errors are kept in errs
		}
	}
	return errs
}

// parseDocuments decodes every YAML document of a file.
func parseDocuments(data []byte) ([]*document, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*document
	for {
		var d document
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return docs, invalidf("YAML: %v", err)
		}
		docs = append(docs, &d)
	}
	if len(docs) == 0 {
		return nil, invalidf("empty document")
	}
	if len(docs) > 1 {
		for _, d := range docs {
			if d.Action != "" {
				return docs, unsupportedf("multi-document YAML (rule collections, action: global) is not supported")
			}
		}
	}
	return docs, nil
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
		r.reads = append(r.reads, c.reads...)
	}
	return nil
}
