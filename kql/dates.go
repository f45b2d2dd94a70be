package kql

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// period is the time a date value stands for: [start, end), or the instant
// start when end equals start ("now" without rounding).
type period struct{ start, end time.Time }

func (p period) instant() bool { return p.start.Equal(p.end) }

var errDate = errors.New("not a date")

// dateHint lists the date forms Plan accepts.
const dateHint = `write a date like 2026-01-02, a time like 2026-01-02T03:04:05 (in the query's time zone) or 2026-01-02T03:04:05Z, or now-15m, now-1d/d (units y M w d h m s)`

// parseDate reads a date value: an Elasticsearch strict_date_optional_time
// (yyyy, yyyy-MM, yyyy-MM-dd, then optionally Thh, Thh:mm, Thh:mm:ss,
// Thh:mm:ss.fraction, each optionally followed by Z or an offset), in loc when
// it has no zone; or date math on now ("now", "now-15m", "now+1h",
// "now-7d/d"). The period covers the precision written: a day for a date, a
// second for a time to the second, the rounding unit for now/unit.
func parseDate(s string, loc *time.Location, now time.Time) (period, error) {
	if rest, ok := strings.CutPrefix(s, "now"); ok {
		return dateMath(rest, now.In(loc))
	}
	return absoluteDate(s, loc)
}

// dateMath applies "+N<unit>", "-N<unit>" and a final "/<unit>" to t.
func dateMath(s string, t time.Time) (period, error) {
	for s != "" {
		op := s[0]
		s = s[1:]
		switch op {
		case '+', '-':
			n := 0
			for n < len(s) && '0' <= s[n] && s[n] <= '9' {
				n++
			}
			if n == 0 || n > 7 || n >= len(s) {
				return period{}, errDate
			}
			v, _ := strconv.Atoi(s[:n])
			if op == '-' {
				v = -v
			}
			var ok bool
			if t, ok = addUnit(t, s[n], v); !ok {
				return period{}, errDate
			}
			s = s[n+1:]
		case '/':
			if len(s) != 1 {
				return period{}, errDate
			}
			start, ok := floorUnit(t, s[0])
			if !ok {
				return period{}, errDate
			}
			end, _ := addUnit(start, s[0], 1)
			return period{start.UTC(), end.UTC()}, nil
		default:
			return period{}, errDate
		}
	}
	return period{t.UTC(), t.UTC()}, nil
}

func addUnit(t time.Time, unit byte, n int) (time.Time, bool) {
	switch unit {
	case 'y':
		return t.AddDate(n, 0, 0), true
	case 'M':
		return t.AddDate(0, n, 0), true
	case 'w':
		return t.AddDate(0, 0, 7*n), true
	case 'd':
		return t.AddDate(0, 0, n), true
	case 'h', 'H':
		return t.Add(time.Duration(n) * time.Hour), true
	case 'm':
		return t.Add(time.Duration(n) * time.Minute), true
	case 's':
		return t.Add(time.Duration(n) * time.Second), true
	}
	return t, false
}

// floorUnit rounds t down to the start of its unit in t's location (weeks
// start on Monday, as in Elasticsearch).
func floorUnit(t time.Time, unit byte) (time.Time, bool) {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	loc := t.Location()
	switch unit {
	case 'y':
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc), true
	case 'M':
		return time.Date(y, mo, 1, 0, 0, 0, 0, loc), true
	case 'w':
		back := (int(t.Weekday()) + 6) % 7
		return time.Date(y, mo, d-back, 0, 0, 0, 0, loc), true
	case 'd':
		return time.Date(y, mo, d, 0, 0, 0, 0, loc), true
	case 'h', 'H':
		return time.Date(y, mo, d, h, 0, 0, 0, loc), true
	case 'm':
		return time.Date(y, mo, d, h, mi, 0, 0, loc), true
	case 's':
		return time.Date(y, mo, d, h, mi, s, 0, loc), true
	}
	return t, false
}

// absoluteDate reads yyyy[-MM[-dd[Thh[:mm[:ss[.fff]]][zone]]]].
func absoluteDate(s string, loc *time.Location) (period, error) {
	r := dateReader{s: s}
	f := [6]int{0, 1, 1, 0, 0, 0} // year, month, day, hour, minute, second
	var ok bool
	if f[0], ok = r.digits(4); !ok {
		return period{}, errDate
	}
	precision := 0 // index of the last field written; 6 for a fraction
	nanos, fracDigits := 0, 0
	for _, sep := range []byte{'-', '-', 'T', ':', ':'} {
		if !r.take(sep) && !(sep == 'T' && r.take('t')) {
			break
		}
		precision++
		if f[precision], ok = r.digits(2); !ok {
			return period{}, errDate
		}
	}
	if precision == 5 && (r.take('.') || r.take(',')) {
		for fracDigits < 9 && r.peekDigit() {
			nanos = nanos*10 + int(r.s[r.i]-'0')
			r.i++
			fracDigits++
		}
		if fracDigits == 0 || r.peekDigit() {
			return period{}, errDate
		}
		for k := fracDigits; k < 9; k++ {
			nanos *= 10
		}
		precision = 6
	}
	zone := loc
	if precision >= 3 && r.i < len(r.s) {
		z, ok := r.zone()
		if !ok {
			return period{}, errDate
		}
		zone = z
	}
	if r.i != len(r.s) {
		return period{}, errDate
	}
	if f[1] < 1 || f[1] > 12 || f[2] < 1 || f[3] > 23 || f[4] > 59 || f[5] > 59 {
		return period{}, errDate
	}
	start := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], nanos, zone)
	if start.Day() != f[2] { // 2026-02-30
		return period{}, errDate
	}
	var end time.Time
	switch precision {
	case 0:
		end = start.AddDate(1, 0, 0)
	case 1:
		end = start.AddDate(0, 1, 0)
	case 2:
		end = start.AddDate(0, 0, 1)
	case 3:
		end = start.Add(time.Hour)
	case 4:
		end = start.Add(time.Minute)
	case 5:
		end = start.Add(time.Second)
	default:
		step := time.Duration(1)
		for k := fracDigits; k < 9; k++ {
			step *= 10
		}
		end = start.Add(step)
	}
	return period{start.UTC(), end.UTC()}, nil
}

type dateReader struct {
	s string
	i int
}

func (r *dateReader) take(c byte) bool {
	if r.i < len(r.s) && r.s[r.i] == c {
		r.i++
		return true
	}
	return false
}

func (r *dateReader) peekDigit() bool { return r.i < len(r.s) && '0' <= r.s[r.i] && r.s[r.i] <= '9' }

func (r *dateReader) digits(n int) (int, bool) {
	v := 0
	for k := 0; k < n; k++ {
		if !r.peekDigit() {
			return 0, false
		}
		v = v*10 + int(r.s[r.i]-'0')
		r.i++
	}
	return v, true
}

// zone reads Z, ±hh, ±hhmm or ±hh:mm.
func (r *dateReader) zone() (*time.Location, bool) {
	if r.take('Z') || r.take('z') {
		return time.UTC, true
	}
	sign := 1
	switch {
	case r.take('+'):
	case r.take('-'):
		sign = -1
	default:
		return nil, false
	}
	h, ok := r.digits(2)
	if !ok {
		return nil, false
	}
	m := 0
	if r.take(':') || r.peekDigit() {
		if m, ok = r.digits(2); !ok {
			return nil, false
		}
	}
	if h > 18 || m > 59 {
		return nil, false
	}
	return time.FixedZone("", sign*(h*3600+m*60)), true
}
