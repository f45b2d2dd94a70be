package sqlitestore

import (
	"database/sql/driver"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"

	"github.com/mamori-soc/mamori/textan"
)

// SQL functions registered on every connection of a Store. They are
// deterministic, so SQLite may use them in index expressions (the ipkey index
// of a hot IP field) and evaluate them once per distinct argument.
const (
	// fnIPKey(text) returns the 16-byte key of an IP address (IPv4 as
	// IPv4-mapped IPv6, so that both spellings share one key and keys sort in
	// address order), or NULL when the text is not an address.
	fnIPKey = "mamori_ipkey"
	// fnIPText(blob) returns the canonical text of a 16-byte key.
	fnIPText = "mamori_iptext"
	// fnTime(text) returns the UTC nanoseconds of an RFC 3339 time, or NULL.
	fnTime = "mamori_time"
	// fnFloatText(real) returns strconv.FormatFloat(x, 'g', -1, 64): the
	// canonical text a Keyword query compares a floating-point value by.
	fnFloatText = "mamori_ftoa"
	// fnPhrase(text, tokens, prefix) reports whether the analysed text holds
	// the space-separated tokens consecutively (the last one as a prefix
	// when prefix is 1): phrase search on fields outside the FTS index.
	fnPhrase = "mamori_phrase"
)

// registerFuncs adds the functions to drv, which opens this store's
// connections only.
func registerFuncs(drv *sqlite.Driver) error {
	fns := []struct {
		name string
		n    int32
		fn   func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error)
	}{
		{fnIPKey, 1, sqlIPKey},
		{fnIPText, 1, sqlIPText},
		{fnTime, 1, sqlTime},
		{fnFloatText, 1, sqlFloatText},
		{fnPhrase, 3, sqlPhrase},
	}
	for _, f := range fns {
		if err := drv.RegisterDeterministicScalarFunction(f.name, f.n, f.fn); err != nil {
			return fmt.Errorf("sqlitestore: register %s: %w", f.name, err)
		}
	}
	return nil
}

// ipKey returns the 16-byte key of addr: IPv4 and IPv4-mapped IPv6 addresses
// share the IPv4-mapped form.
func ipKey(addr netip.Addr) []byte {
	b := addr.WithZone("").As16()
	return b[:]
}

func sqlIPKey(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return nil, nil
	}
	return ipKey(addr), nil
}

func sqlIPText(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	b, ok := args[0].([]byte)
	if !ok || len(b) != 16 {
		return nil, nil
	}
	return netip.AddrFrom16([16]byte(b)).Unmap().String(), nil
}

// parseTime parses an RFC 3339 time into UTC nanoseconds.
func parseTime(s string) (int64, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, false
	}
	return timeNanos(t)
}

// timeNanos returns t as nanoseconds since the Unix epoch, if representable.
func timeNanos(t time.Time) (int64, bool) {
	if t.Year() < 1678 || t.Year() > 2261 {
		return 0, false
	}
	return t.UnixNano(), true
}

func sqlTime(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	ns, ok := parseTime(s)
	if !ok {
		return nil, nil
	}
	return ns, nil
}

func sqlFloatText(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	switch x := args[0].(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	}
	return nil, nil
}

func sqlPhrase(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	text, ok := args[0].(string)
	want, ok2 := args[1].(string)
	if !ok || !ok2 {
		return int64(0), nil
	}
	prefix, _ := args[2].(int64)
	if textan.ContainsPhrase(text, strings.Fields(want), prefix == 1) {
		return int64(1), nil
	}
	return int64(0), nil
}
