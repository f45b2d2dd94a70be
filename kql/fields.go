package kql

import "slices"

// Fields returns the fields a planned condition reads, sorted, without
// repeats. ok is false when it cannot tell (a field name with a wildcard).
func Fields(c Cond) (fields []string, ok bool) {
	ok = true
	var walk func(Cond)
	add := func(f string) {
		for i := 0; i < len(f); i++ {
			if f[i] == '*' || f[i] == '?' {
				ok = false
			}
		}
		fields = append(fields, f)
	}
	walk = func(c Cond) {
		switch x := c.(type) {
		case *AllOf:
			for _, s := range x.Conds {
				walk(s)
			}
		case *AnyOf:
			for _, s := range x.Conds {
				walk(s)
			}
		case *Negate:
			walk(x.Cond)
		case *Equals:
			add(x.Field)
		case *Glob:
			add(x.Field)
		case *Phrase:
			for _, f := range x.Fields {
				add(f)
			}
		case *InPrefix:
			add(x.Field)
		case *Between:
			add(x.Field)
		case *Present:
			add(x.Field)
		case *Everything, *Nothing, nil:
		default:
			ok = false // a condition type this walk does not know
		}
	}
	walk(c)
	slices.Sort(fields)
	return slices.Compact(fields), ok
}
