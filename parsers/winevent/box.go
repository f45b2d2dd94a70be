package winevent

// boxes makes the values a mapping puts in event.Fields. Strings and
// integers are plain interface conversions (the runtime allocates 16 bytes
// for each non-empty string; an earlier version avoided that by writing
// interface values with package unsafe, which saved about 1 µs per event
// but tied the parser to the runtime's internal layout: not worth it while
// the JSON formats parse at over 100,000 events per second per core without
// it). Lists of one event share one backing array. The zero value is ready;
// it is not safe for concurrent use, and one is used for one event.
type boxes struct {
	elems []string // the elements of the lists
}

const boxElems = 16

// grow is a hint of how many fields the event will get; nothing to do.
func (b *boxes) grow(int) {}

// str returns s as an interface value.
func (b *boxes) str(s string) any { return s }

// int returns n as an interface value.
func (b *boxes) int(n int64) any { return n }

// list returns a copy of ss as an interface value. The copy's capacity is
// its length, so that appending to it copies it rather than writing over
// the next list in the shared backing array.
func (b *boxes) list(ss []string) any {
	if len(ss) == 0 {
		return []string(nil)
	}
	if len(b.elems)+len(ss) > cap(b.elems) {
		b.elems = make([]string, 0, max(len(ss), boxElems))
	}
	i := len(b.elems)
	b.elems = append(b.elems, ss...)
	return b.elems[i:len(b.elems):len(b.elems)]
}
