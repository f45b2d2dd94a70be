// Package ruleset loads a directory of detection rules in every format
// Mamori reads: native rules (package detections/native) and Sigma rules
// and correlations (package detections/sigma) side by side, as users keep
// them: the built-in pack, their own rules and SigmaHQ rules in one tree.
//
// Each *.yaml and *.yml file is one format or the other, decided by
// native.IsNative; rule test files (*.test.yaml, *.test.yml, package
// detections/ruletest) and hidden directories are skipped. Rule ids are
// unique across formats.
package ruleset

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/detections/native"
	"github.com/mamori-soc/mamori/detections/sigma"
)

// ErrDuplicateID reports two rule files, of either format, with the same
// rule id. Errors wrapping it (and detections.ErrInvalidRule) name both
// files.
var ErrDuplicateID = errors.New("duplicate rule id")

// Options steer Load.
type Options struct {
	// Calendar is the business calendar of native off_hours and anomaly
	// rules (nil: the default calendar, Asia/Tokyo).
	Calendar *calendar.Calendar
	// Now anchors relative dates in native rule queries, resolved once at
	// load (nil: time.Now).
	Now func() time.Time
	// MaxGroups bounds the entities one state of a native stateful rule
	// tracks (0: native.DefaultMaxGroups).
	MaxGroups int
	// Sigma maps Sigma log sources and fields to ECS (nil: the default
	// mapping, no placeholders).
	Sigma *sigma.Config
}

// Load compiles every rule file under fsys (for a directory, pass
// os.DirFS(dir)): native rules first, then Sigma rules, each in path order.
// It returns the rules that compiled and one error per file or rule that did
// not, from either loader, plus an error wrapping ErrDuplicateID for each
// Sigma rule whose id a native rule already has (the Sigma rule is then
// left out). A caller that must not run a partial rule set treats any error
// as fatal.
func Load(fsys fs.FS, opts Options) ([]*detections.Rule, []error) {
	var nativeFiles, sigmaFiles []string
	var errs []error
	data := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %w", detections.ErrInvalidRule, p, err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") || !native.IsRuleFile(p) {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %w", detections.ErrInvalidRule, p, err))
			return nil
		}
		data[p] = b
		if native.IsNative(b) {
			nativeFiles = append(nativeFiles, p)
		} else {
			sigmaFiles = append(sigmaFiles, p)
		}
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("%w: reading rules: %w", detections.ErrInvalidRule, err))
	}

	nopts := native.Options{Calendar: opts.Calendar, Now: opts.Now, MaxGroups: opts.MaxGroups}
	var rules []*detections.Rule
	if len(nativeFiles) > 0 {
		nr, nerrs := native.Load(subset(fsys, nativeFiles), nopts)
		rules = append(rules, nr...)
		errs = append(errs, nerrs...)
	}
	if len(sigmaFiles) == 0 {
		return rules, errs
	}
	sr, serrs := sigma.Detections(subset(fsys, sigmaFiles), opts.Sigma)
	errs = append(errs, serrs...)

	// Ids across formats. Each loader checks its own files.
	nativeByID := map[string]string{}
	for _, f := range nativeFiles {
		for _, id := range peekIDs(data[f]) {
			if _, ok := nativeByID[id]; !ok {
				nativeByID[id] = f
			}
		}
	}
	sigmaByID := map[string]string{}
	for _, f := range sigmaFiles {
		for _, id := range peekIDs(data[f]) {
			if _, ok := sigmaByID[id]; !ok {
				sigmaByID[id] = f
			}
		}
	}
	have := make(map[string]bool, len(rules))
	for _, r := range rules {
		have[r.ID] = true
	}
	for _, r := range sr {
		if have[r.ID] {
			errs = append(errs, fmt.Errorf("%w %s: %w: Sigma rule in %s, native rule in %s; the Sigma rule is not loaded",
				detections.ErrInvalidRule, r.ID, ErrDuplicateID, orUnknown(sigmaByID[r.ID]), orUnknown(nativeByID[r.ID])))
			continue
		}
		have[r.ID] = true
		rules = append(rules, r)
	}
	return rules, errs
}

func orUnknown(file string) string {
	if file == "" {
		return "an unknown file"
	}
	return file
}

// peekIDs reads the top-level id of every YAML document in data, for
// naming files in errors.
func peekIDs(data []byte) []string {
	var ids []string
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc struct {
			ID string `yaml:"id"`
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return ids
		}
		if err != nil {
			// A document that is not a mapping with a scalar id: skip it,
			// the loader reports what is wrong with it.
			var te *yaml.TypeError
			if errors.As(err, &te) {
				continue
			}
			return ids
		}
		if doc.ID != "" {
			ids = append(ids, doc.ID)
		}
	}
}

// subsetFS shows only some files of a file system, and the directories
// that lead to them.
type subsetFS struct {
	fsys  fs.FS
	files map[string]bool
	dirs  map[string]bool
}

// subset returns a view of fsys with only files (slash-separated paths, as
// fs.WalkDir gives them).
func subset(fsys fs.FS, files []string) fs.FS {
	s := &subsetFS{fsys: fsys, files: map[string]bool{}, dirs: map[string]bool{".": true}}
	for _, f := range files {
		s.files[f] = true
		for d := path.Dir(f); d != "." && !s.dirs[d]; d = path.Dir(d) {
			s.dirs[d] = true
		}
	}
	return s
}

// Open opens a selected file or a directory leading to one.
func (s *subsetFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if !s.files[name] && !s.dirs[name] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	f, err := s.fsys.Open(name)
	if err != nil || !s.dirs[name] {
		return f, err
	}
	return &subsetDir{File: f, s: s, name: name}, nil
}

// ReadDir lists the selected entries of a directory.
func (s *subsetFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	if !s.dirs[name] {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	all, err := fs.ReadDir(s.fsys, name)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(e fs.DirEntry) bool { return !s.visible(name, e.Name()) }), nil
}

// visible reports whether the entry called base in directory dir is shown.
func (s *subsetFS) visible(dir, base string) bool {
	p := path.Join(dir, base)
	return s.files[p] || s.dirs[p]
}

// subsetDir is an open directory of a subsetFS: its listing is filtered.
type subsetDir struct {
	fs.File
	s    *subsetFS
	name string
}

// ReadDir lists the selected entries, as fs.ReadDirFile does.
func (d *subsetDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rd, ok := d.File.(fs.ReadDirFile)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: errors.New("not a directory")}
	}
	var out []fs.DirEntry
	for {
		batch, err := rd.ReadDir(n)
		for _, e := range batch {
			if d.s.visible(d.name, e.Name()) {
				out = append(out, e)
			}
		}
		// With n > 0, a batch of hidden entries only is not the end: read
		// on until an entry shows or the directory ends.
		if err != nil || n <= 0 || len(out) > 0 {
			return out, err
		}
	}
}
