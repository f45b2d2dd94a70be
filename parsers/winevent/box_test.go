package winevent

import (
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/event"
)

// TestBoxes checks that the interface values boxes makes behave as the
// runtime's own: type switches, comparison, encoding, and surviving a
// collection after the slab's other references are gone.
func TestBoxes(t *testing.T) {
	var b boxes
	var strs []any
	var ints []any
	for i := range 200 { // several slabs
		s := strings.Repeat("x", i%7) + string(rune('a'+i%26))
		strs = append(strs, b.str(s))
		ints = append(ints, b.int(int64(i*1000-7)))
	}
	require.Equal(t, any(""), b.str(""))
	require.Equal(t, any(int64(5)), b.int(5))
	b = boxes{}
	runtime.GC()
	for i := range 200 {
		s := strings.Repeat("x", i%7) + string(rune('a'+i%26))
		v, ok := strs[i].(string)
		require.True(t, ok)
		require.Equal(t, s, v)
		require.True(t, strs[i] == any(s))
		n, ok := ints[i].(int64)
		require.True(t, ok)
		require.Equal(t, int64(i*1000-7), n)
	}
	e := event.Event{Fields: map[string]any{"a": strs[3], "b": ints[3]}}
	out, err := event.Marshal(&e)
	require.NoError(t, err)
	require.Contains(t, string(out), `"a":"xxxd","b":2993`)
}

// TestNameTable checks that every EventData name is found with its own
// entry and that other names are not found.
func TestNameTable(t *testing.T) {
	entries := tableEntries(dataNames)
	require.Len(t, entries, 89)
	for name, d := range entries {
		got, ok := dataNames.get(name)
		require.True(t, ok, name)
		require.Equal(t, d, got, name)
		require.Equal(t, "winlog.event_data."+name, got.field)
	}
	for k, name := range dataKeyNames {
		got, ok := dataNames.get(name)
		require.True(t, ok, name)
		require.Equal(t, dataKey(k), got.key, name)
	}
	for _, name := range []string{"", "a", "TargetUserNam", "TargetUserNameX", "targetusername", "param1", "Data"} {
		_, ok := dataNames.get(name)
		require.False(t, ok, name)
	}
}

// tableEntries returns a table's entries as a map.
func tableEntries[V any](t *nameTable[V]) map[string]V {
	m := make(map[string]V)
	for i, used := range t.used {
		if used {
			m[t.keys[i]] = t.vals[i]
		}
	}
	return m
}
