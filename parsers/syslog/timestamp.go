package syslog

import (
	"strings"
	"time"
)

// stamp is a wall-clock time read from a message, before its year and zone
// are settled. year is 0 when the message gave none (RFC 3164).
type stamp struct {
	year              int
	month             time.Month
	day, hour, minute int
	sec, nsec         int
}

// fromStamp takes the wall clock of a time go-syslog parsed from an RFC 3164
// stamp (year 0, UTC).
func fromStamp(t time.Time) stamp {
	_, mo, d := t.Date()
	h, m, s := t.Clock()
	return stamp{month: mo, day: d, hour: h, minute: m, sec: s, nsec: t.Nanosecond()}
}

// resolve places the stamp in loc. Without a year it takes the latest year
// that puts the stamp no later than ref+tolerance: the year nearest ref for
// any stamp within the tolerance of it, and the previous year for one
// further ahead. It skips years in which the date does not exist (29
// February), searching back far enough to reach a leap year. ok is false for
// a date that exists in no year (31 April).
func (st stamp) resolve(loc *time.Location, ref time.Time, tolerance time.Duration) (t time.Time, ok bool) {
	if st.year != 0 {
		t = time.Date(st.year, st.month, st.day, st.hour, st.minute, st.sec, st.nsec, loc)
		return t, t.Month() == st.month && t.Day() == st.day
	}
	limit := ref.Add(tolerance)
	y := ref.In(loc).Year()
	for cy := y + 1; cy >= y-8; cy-- {
		if st.day > daysIn(st.month, cy) {
			continue
		}
		t = time.Date(cy, st.month, st.day, st.hour, st.minute, st.sec, st.nsec, loc)
		if t.After(limit) {
			continue
		}
		return t, true
	}
	return time.Time{}, false
}

// daysIn returns the number of days in month m of year y.
func daysIn(m time.Month, y int) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parseBSDStamp reads the RFC 3164 stamp and the variants devices send,
// returning the stamp and the number of bytes it took:
//
//	Jan 15 10:00:00         RFC 3164 (day space-padded: "Jan  5")
//	Jan 5 10:00:00          unpadded day
//	Jan 15 10:00:00.123     fraction of a second (syslog-ng, some switches)
//	Jan 15 2024 10:00:00    year before the time (Cisco ASA, some appliances)
func parseBSDStamp(s string) (st stamp, n int, ok bool) {
	if len(s) < 14 {
		return st, 0, false
	}
	m := 0
	for i, name := range months {
		if s[:3] == name {
			m = i + 1
			break
		}
	}
	if m == 0 || s[3] != ' ' {
		return st, 0, false
	}
	st.month = time.Month(m)
	i := 4
	if s[i] == ' ' {
		i++
	}
	if st.day, i, ok = digits(s, i, 1, 2); !ok || st.day < 1 || st.day > 31 {
		return st, 0, false
	}
	if i >= len(s) || s[i] != ' ' {
		return st, 0, false
	}
	i++
	if y, j, ok := digits(s, i, 4, 4); ok && j < len(s) && s[j] == ' ' {
		st.year, i = y, j+1
		if st.year == 0 {
			return st, 0, false
		}
	}
	if i, ok = st.clock(s, i); !ok {
		return st, 0, false
	}
	return st, i, true
}

// clock reads hh:mm:ss with an optional fraction at s[i:].
func (st *stamp) clock(s string, i int) (int, bool) {
	var ok bool
	if st.hour, i, ok = digits(s, i, 2, 2); !ok || st.hour > 23 || i >= len(s) || s[i] != ':' {
		return 0, false
	}
	if st.minute, i, ok = digits(s, i+1, 2, 2); !ok || st.minute > 59 || i >= len(s) || s[i] != ':' {
		return 0, false
	}
	if st.sec, i, ok = digits(s, i+1, 2, 2); !ok || st.sec > 60 {
		return 0, false
	}
	if st.sec == 60 { // a leap second: keep it inside its minute
		st.sec, st.nsec = 59, 999_999_999
	}
	if i < len(s) && (s[i] == '.' || s[i] == ',') {
		f, j, ok := digits(s, i+1, 1, 9)
		if !ok {
			return 0, false
		}
		for k := j - (i + 1); k < 9; k++ {
			f *= 10
		}
		if st.nsec == 0 {
			st.nsec = f
		}
		i = j
	}
	return i, true
}

// digits reads between lo and hi decimal digits at s[i:] and returns their
// value and the offset after them.
func digits(s string, i, lo, hi int) (v, j int, ok bool) {
	j = i
	for j < len(s) && j-i < hi && s[j] >= '0' && s[j] <= '9' {
		v = v*10 + int(s[j]-'0')
		j++
	}
	return v, j, j-i >= lo
}

// parseISOStamp reads an RFC 3339 timestamp at the start of s, up to the
// next space: with a zone offset it is exact; without one it is a wall-clock
// time in loc. It accepts up to nine fraction digits and a lower-case t or z.
func parseISOStamp(s string, loc *time.Location) (t time.Time, n int, ok bool) {
	n = strings.IndexByte(s, ' ')
	if n < 0 {
		n = len(s)
	}
	tok := s[:n]
	if len(tok) < 19 || tok[4] != '-' || tok[7] != '-' || (tok[10] != 'T' && tok[10] != 't') {
		return t, 0, false
	}
	var st stamp
	if st.year, _, ok = digits(tok, 0, 4, 4); !ok {
		return t, 0, false
	}
	var mon int
	if mon, _, ok = digits(tok, 5, 2, 2); !ok || mon < 1 || mon > 12 {
		return t, 0, false
	}
	st.month = time.Month(mon)
	if st.day, _, ok = digits(tok, 8, 2, 2); !ok || st.day < 1 || st.day > 31 {
		return t, 0, false
	}
	i, ok := st.clock(tok, 11)
	if !ok {
		return t, 0, false
	}
	zone := loc
	switch rest := tok[i:]; {
	case rest == "":
	case rest == "Z" || rest == "z":
		zone = time.UTC
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		h, _, ok1 := digits(rest, 1, 2, 2)
		m, _, ok2 := digits(rest, 4, 2, 2)
		if !ok1 || !ok2 || h > 23 || m > 59 {
			return t, 0, false
		}
		off := h*3600 + m*60
		if rest[0] == '-' {
			off = -off
		}
		zone = fixedZone(off)
	default:
		return t, 0, false
	}
	t = time.Date(st.year, st.month, st.day, st.hour, st.minute, st.sec, st.nsec, zone)
	if t.Month() != st.month || t.Day() != st.day {
		return time.Time{}, 0, false
	}
	return t, n, true
}

// fixedZone returns a zone at a fixed offset. The zone only carries the
// offset to the UTC conversion, so UTC and an unnamed zone are enough.
func fixedZone(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	return time.FixedZone("", off)
}

// Unix times of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
const minStorable, maxStorable = -62135596800, 253402300799

// storable reports whether t can be stored: ECS dates must encode as RFC 3339,
// whose years run from 0001 to 9999 in UTC.
func storable(t time.Time) bool {
	u := t.Unix()
	return u >= minStorable && u <= maxStorable
}
