package casework

import (
	"bufio"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
)

// Runbook is a Markdown procedure for one kind of alert or case: its title
// (the first heading) and its steps (the list items: "- [ ] ...", "- ...",
// "1. ..."), which become a case's checklist.
type Runbook struct {
	Name  string // the file name without .md: a rule id, or a case type
	Title string
	Steps []string
	Text  string // the whole Markdown
}

var listItem = regexp.MustCompile(`^\s*(?:[-*+]\s+(?:\[[ xX]\]\s+)?|\d+[.)]\s+)(.+?)\s*$`)

// ParseRunbook reads a runbook's Markdown.
func ParseRunbook(name, text string) (Runbook, error) {
	rb := Runbook{Name: name, Text: text}
	sc := bufio.NewScanner(strings.NewReader(text))
	inCode := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inCode = !inCode
			continue
		}
		if inCode {
			continue
		}
		if rb.Title == "" && strings.HasPrefix(line, "# ") {
			rb.Title = strings.TrimSpace(line[2:])
			continue
		}
		if m := listItem.FindStringSubmatch(line); m != nil {
			rb.Steps = append(rb.Steps, m[1])
		}
	}
	if err := sc.Err(); err != nil {
		return Runbook{}, err
	}
	if len(rb.Steps) == 0 {
		return Runbook{}, fmt.Errorf("runbook %s: no steps (list items)", name)
	}
	return rb, nil
}

// Runbooks are the runbooks of a directory, by name.
type Runbooks map[string]Runbook

// LoadRunbooks reads every *.md file of fsys (not recursively: one
// directory, as the configuration names it). A file without steps is an
// error naming it.
func LoadRunbooks(fsys fs.FS) (Runbooks, error) {
	out := Runbooks{}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".md" {
			continue
		}
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(e.Name(), ".md")
		rb, err := ParseRunbook(name, string(data))
		if err != nil {
			return nil, err
		}
		out[name] = rb
	}
	return out, nil
}

// For returns the runbook of the first name that has one (a rule id, then
// the case type, for example).
func (r Runbooks) For(names ...string) (Runbook, bool) {
	for _, n := range names {
		if rb, ok := r[n]; ok {
			return rb, true
		}
	}
	return Runbook{}, false
}

// Checklist returns the runbook's steps as open checklist items.
func (rb Runbook) Checklist() []Step {
	out := make([]Step, len(rb.Steps))
	for i, s := range rb.Steps {
		out[i] = Step{Text: s}
	}
	return out
}
