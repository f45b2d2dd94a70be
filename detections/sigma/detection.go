package sigma

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"github.com/mamori-soc/mamori/detections"
)

// Detections loads every rule, correlation and filter under fsys (as Load
// does) and returns the engine rules to run: each correlation rule, and
// each detection rule or correlation unless every correlation referring to
// it says generate: false (Sigma's default), in file order. The errors are
// Load's and one *RuleError per rule the engine cannot take (a rule without
// an id).
func Detections(fsys fs.FS, cfg *Config) ([]*detections.Rule, []error) {
	rules, errs := Load(fsys, cfg)
	referenced := map[*Rule]bool{}
	generated := map[*Rule]bool{}
	for _, r := range rules {
		if c := r.Correlation; c != nil {
			for _, ref := range c.refs {
				referenced[ref] = true
				generated[ref] = generated[ref] || c.Generate
			}
		}
	}
	var out []*detections.Rule
	for _, r := range rules {
		if referenced[r] && !generated[r] {
			continue
		}
		d, err := r.Detection()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, d)
	}
	return out, errs
}

// Detection returns the engine rule of a loaded rule or correlation:
//
//   - ID is the Sigma id (required), Name the title, Version 1 (Sigma rules
//     carry no revision number; a changed rule should get a new id, as the
//     Sigma convention is).
//   - Severity is the level: informational and low are Low, no level is
//     Medium, medium, high and critical are themselves.
//   - Techniques come from attack.tNNNN[.NNN] tags (ids only), Tactics from
//     attack.<tactic> tags naming one of the 14 enterprise tactics
//     (credential_access or credential-access) or a TA id.
//   - Prerequisites are Prefilter: for a correlation, the constraints
//     common to every referenced rule.
//   - A correlation has no DedupKey: as for every stateful rule, its group
//     key alone identifies its alerts.
//   - Detector is the Rule (stateless) or its Correlation (stateful).
func (r *Rule) Detection() (*detections.Rule, error) {
	if r.ID == "" {
		return nil, &RuleError{File: r.File, Title: r.Title, Err: invalidf("the detection engine needs the rule's id")}
	}
	d := &detections.Rule{
		ID:            r.ID,
		Name:          r.Title,
		Version:       1,
		Description:   r.Description,
		Severity:      severity(r.Level),
		Tactics:       tactics(r.Tags),
		Prerequisites: make([]detections.Prerequisite, 0, len(r.Prefilter())),
		Detector:      r,
	}
	for _, t := range r.Techniques {
		if techniqueID.MatchString(t) {
			d.Techniques = append(d.Techniques, detections.Technique{ID: t})
		}
	}
	for _, c := range r.Prefilter() {
		d.Prerequisites = append(d.Prerequisites, detections.Prerequisite{Field: c.Field, Values: slices.Clone(c.Values)})
	}
	if c := r.Correlation; c != nil {
		d.Detector = c
	}
	return d, nil
}

var techniqueID = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)

// severity maps a Sigma level to an engine severity.
func severity(l Level) detections.Severity {
	switch l {
	case LevelInformational, LevelLow:
		return detections.Low
	case LevelHigh:
		return detections.High
	case LevelCritical:
		return detections.Critical
	}
	return detections.Medium
}

// enterpriseTactics are the MITRE ATT&CK enterprise tactics, by the name
// Sigma tags use (attack.credential_access).
var enterpriseTactics = map[string]detections.Tactic{
	"reconnaissance":       {ID: "TA0043", Name: "Reconnaissance"},
	"resource_development": {ID: "TA0042", Name: "Resource Development"},
	"initial_access":       {ID: "TA0001", Name: "Initial Access"},
	"execution":            {ID: "TA0002", Name: "Execution"},
	"persistence":          {ID: "TA0003", Name: "Persistence"},
	"privilege_escalation": {ID: "TA0004", Name: "Privilege Escalation"},
	"defense_evasion":      {ID: "TA0005", Name: "Defense Evasion"},
	"credential_access":    {ID: "TA0006", Name: "Credential Access"},
	"discovery":            {ID: "TA0007", Name: "Discovery"},
	"lateral_movement":     {ID: "TA0008", Name: "Lateral Movement"},
	"collection":           {ID: "TA0009", Name: "Collection"},
	"command_and_control":  {ID: "TA0011", Name: "Command and Control"},
	"exfiltration":         {ID: "TA0010", Name: "Exfiltration"},
	"impact":               {ID: "TA0040", Name: "Impact"},
}

// tactics returns the tactics the attack.* tags name, each once.
func tactics(tags []string) []detections.Tactic {
	var out []detections.Tactic
	for _, tag := range tags {
		rest, ok := strings.CutPrefix(strings.ToLower(tag), "attack.")
		if !ok {
			continue
		}
		t, ok := enterpriseTactics[strings.ReplaceAll(rest, "-", "_")]
		if !ok {
			for _, known := range enterpriseTactics {
				if strings.EqualFold(known.ID, rest) {
					t, ok = known, true
				}
			}
		}
		if ok && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
