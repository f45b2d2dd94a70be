package native

import (
	"fmt"
	"strings"

	"github.com/mamori-soc/mamori/detections"
)

// Error is a load error of one native rule: which file, which rule, which
// key and what is wrong. It matches detections.ErrInvalidRule with
// errors.Is.
type Error struct {
	File string // path of the file; empty when unknown
	ID   string // rule id, when it could be read
	Key  string // dotted key at fault ("threshold.window"); empty for the whole file
	Err  error
}

// Error formats the error as "file: id: key: message", leaving out the
// parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	for _, s := range []string{e.File, e.ID, e.Key} {
		if s != "" {
			b.WriteString(s)
			b.WriteString(": ")
		}
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns detections.ErrInvalidRule and the cause.
func (e *Error) Unwrap() []error { return []error{detections.ErrInvalidRule, e.Err} }

// keyError is an error at a key, before the file and the rule are known.
type keyError struct {
	key string
	err error
}

func (e *keyError) Error() string { return e.key + ": " + e.err.Error() }
func (e *keyError) Unwrap() error { return e.err }

// errAt reports a problem at key.
func errAt(key, format string, args ...any) error {
	return &keyError{key: key, err: fmt.Errorf(format, args...)}
}
