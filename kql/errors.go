package kql

import "fmt"

// Error is a query that cannot be parsed or planned: a syntax error, an
// unsupported construct, or a value that does not suit its field's type.
// Every error Parse and Plan return is an *Error.
type Error struct {
	// Pos is the byte offset in the query (0-based, like Node.Pos) of the
	// offending text; Error prints it 1-based.
	Pos int
	// Msg says what was expected and what was found, or which field, type and
	// value do not fit together.
	Msg string
	// Hint, when set, says how to fix the query.
	Hint string
}

// Error returns the message with its position and hint, for example
// `kql: expected a value after "user.name:" but found the end of the query at position 11`.
func (e *Error) Error() string {
	if e.Hint != "" {
		return fmt.Sprintf("kql: %s at position %d (%s)", e.Msg, e.Pos+1, e.Hint)
	}
	return fmt.Sprintf("kql: %s at position %d", e.Msg, e.Pos+1)
}

func errorf(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// hint sets the hint and returns e.
func (e *Error) hint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}
