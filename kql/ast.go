package kql

// Node is a node of the query tree: *And, *Or, *Not, *Match, *Range, *Exists
// or *MatchAll.
type Node interface {
	// Pos is the byte offset in the query where the node starts.
	Pos() int
	node()
}

// And matches when every child matches.
type And struct {
	At    int
	Nodes []Node
}

// Or matches when any child matches.
type Or struct {
	At    int
	Nodes []Node
}

// Not matches when its child does not.
type Not struct {
	At   int
	Node Node
}

// MatchAll matches every document (the empty query, or "*").
type MatchAll struct{ At int }

// Match compares a field with a value: "user.name:tanaka",
// "message:\"failed password\"", "host.name:web*", "source.ip:10.0.0.0/8".
// An empty Field is free text: the value is searched in the default text
// fields.
type Match struct {
	At    int
	Field string
	Value Value
}

// Value is the right-hand side of a Match.
type Value struct {
	// Text is the unescaped value. For a wildcard value, the segments between
	// wildcards are in Parts and Text keeps the original spelling: the parts
	// joined by "*" (an escaped "\*" is in a part, so only Parts tells the
	// two apart; Text is for messages).
	Text string
	// Quoted values are phrases: no wildcards, matched as one sequence.
	Quoted bool
	// Parts is set when the unquoted value contains an unescaped "*": the
	// literal segments around each wildcard, so "a*b*" is ["a", "b", ""].
	Parts []string
}

// Wildcard reports whether the value contains an unescaped "*".
func (v Value) Wildcard() bool { return len(v.Parts) > 0 }

// Op is a range comparison operator.
type Op int

// Range operators.
const (
	Lt  Op = iota // <
	Lte           // <=
	Gt            // >
	Gte           // >=
)

var opNames = [...]string{"<", "<=", ">", ">="}

// String returns the operator as written in KQL.
func (o Op) String() string { return opNames[o] }

// Range compares a field with a bound: "event.severity >= 3",
// "@timestamp < \"2026-01-01\"".
type Range struct {
	At    int
	Field string
	Op    Op
	Value string
}

// Exists matches when the field has a value: "user.name:*".
type Exists struct {
	At    int
	Field string
}

func (n *And) Pos() int      { return n.At }
func (n *Or) Pos() int       { return n.At }
func (n *Not) Pos() int      { return n.At }
func (n *MatchAll) Pos() int { return n.At }
func (n *Match) Pos() int    { return n.At }
func (n *Range) Pos() int    { return n.At }
func (n *Exists) Pos() int   { return n.At }

func (*And) node()      {}
func (*Or) node()       {}
func (*Not) node()      {}
func (*MatchAll) node() {}
func (*Match) node()    {}
func (*Range) node()    {}
func (*Exists) node()   {}
