package sigma

import (
	"errors"
	"fmt"
)

// Sentinel errors; every load error wraps one of them.
var (
	// ErrInvalid marks a rule that is not valid Sigma (bad YAML, missing
	// condition, reference to an undefined search identifier...).
	ErrInvalid = errors.New("invalid rule")
	// ErrUnsupported marks valid Sigma this package does not evaluate
	// (correlation rules, aggregations, regular expressions RE2 rejects...).
	// The rule is not loaded.
	ErrUnsupported = errors.New("unsupported construct")
	// ErrMapping marks a rule whose log source or fields the Mapping cannot
	// translate to ECS.
	ErrMapping = errors.New("no ECS mapping")
)

// RuleError is a load error for one rule: which file, which rule, what is
// wrong. Err wraps ErrInvalid, ErrUnsupported or ErrMapping.
type RuleError struct {
	File  string // path within the loaded file system; empty for Compile
	ID    string // rule id, when it could be read
	Title string // rule title, when it could be read
	Err   error
}

func (e *RuleError) Error() string {
	s := "sigma: "
	if e.File != "" {
		s += e.File + ": "
	}
	switch {
	case e.Title != "" && e.ID != "":
		s += fmt.Sprintf("rule %q (%s): ", e.Title, e.ID)
	case e.Title != "":
		s += fmt.Sprintf("rule %q: ", e.Title)
	case e.ID != "":
		s += fmt.Sprintf("rule %s: ", e.ID)
	}
	return s + e.Err.Error()
}

func (e *RuleError) Unwrap() error { return e.Err }

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

func unsupportedf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}

func mappingf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMapping}, args...)...)
}
