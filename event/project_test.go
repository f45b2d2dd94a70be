package event

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUnmarshalProjected decodes every test document with projections of
// some of its own fields: the projected fields read exactly as a full
// decode reads them, and no other field is set.
func TestUnmarshalProjected(t *testing.T) {
	for name, data := range testDocs(t) {
		var full Event
		if Unmarshal(data, &full) != nil || collides(data) {
			continue
		}
		names := fieldNames(&full)
		for _, keep := range [][]string{nil, names[:len(names)/2], names[len(names)/2:], names} {
			var got Event
			require.NoError(t, UnmarshalProjected(data, &got, NewProjection(keep)), name)
			want := map[string]bool{"@timestamp": true, "event.id": true}
			for _, f := range keep {
				want[f] = true
			}
			// (Typed fields sharing a struct, such as log.syslog.severity's
			// name and code, come together; the map holds the rest.)
			for f := range got.Fields {
				require.True(t, want[f], "%s: %s was not asked for", name, f)
			}
			for f := range want {
				a, aok := full.Get(f)
				b, bok := got.Get(f)
				require.Equal(t, aok, bok, "%s: %s", name, f)
				require.True(t, reflect.DeepEqual(a, b), "%s: %s: %v != %v", name, f, a, b)
			}
		}
	}
}

// fieldNames lists the fields set in e (catalogue and Fields).
func fieldNames(e *Event) []string {
	var out []string
	for n := range catalogue {
		if _, ok := e.Get(n); ok {
			out = append(out, n)
		}
	}
	for n := range e.Fields {
		if catalogue[n] == nil {
			out = append(out, n)
		}
	}
	return out
}
