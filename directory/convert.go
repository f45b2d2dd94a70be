package directory

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrBadAttribute marks an attribute value that cannot be decoded.
var ErrBadAttribute = errors.New("directory: bad attribute value")

// fileTimeEpochOffset is the number of 100 ns intervals between
// 1601-01-01 (the FILETIME epoch) and 1970-01-01.
const fileTimeEpochOffset = 116444736000000000

// FileTimeNever is the largest FILETIME, which AD uses for "never"
// (accountExpires); 0 means never or not set as well.
const FileTimeNever = math.MaxInt64

// ParseFileTime decodes a Windows FILETIME written in decimal (how AD returns
// lastLogonTimestamp, pwdLastSet, accountExpires, lockoutTime): 100 ns
// intervals since 1601-01-01 UTC. "", "0" and 9223372036854775807 give the
// zero time (never, or not set).
func ParseFileTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: FILETIME %q", ErrBadAttribute, s)
	}
	return FileTime(v), nil
}

// FileTime converts a FILETIME value; 0, negative values and FileTimeNever
// give the zero time.
func FileTime(v int64) time.Time {
	if v <= 0 || v == FileTimeNever {
		return time.Time{}
	}
	d := v - fileTimeEpochOffset // 100 ns since 1970
	return time.Unix(d/10_000_000, (d%10_000_000)*100).UTC()
}

// ToFileTime is the inverse of FileTime: the zero time gives 0.
func ToFileTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()*10_000_000 + int64(t.Nanosecond()/100) + fileTimeEpochOffset
}

// ParseGeneralizedTime decodes an LDAP GeneralizedTime (RFC 4517 3.3.13) as
// AD writes whenCreated and whenChanged ("20261126185535.0Z"): a fraction
// of a second after "." or ",", and "Z" or a +hhmm/-hhmm offset. Minutes
// and seconds may be left out, as the syntax allows. The result is UTC.
func ParseGeneralizedTime(s string) (time.Time, error) {
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("%w: generalized time %q", ErrBadAttribute, s)
	}
	if len(s) < 11 {
		return bad()
	}
	// Split off the zone.
	var loc *time.Location
	rest := s
	switch {
	case strings.HasSuffix(s, "Z"):
		loc = time.UTC
		rest = s[:len(s)-1]
	case len(s) > 5 && (s[len(s)-5] == '+' || s[len(s)-5] == '-'):
		z := s[len(s)-5:]
		hh, err1 := strconv.Atoi(z[1:3])
		mm, err2 := strconv.Atoi(z[3:5])
		if err1 != nil || err2 != nil || hh > 23 || mm > 59 {
			return bad()
		}
		off := hh*3600 + mm*60
		if z[0] == '-' {
			off = -off
		}
		loc = time.FixedZone(z, off)
		rest = s[:len(s)-5]
	default:
		return bad() // local time without a zone: ambiguous, AD never writes it
	}
	// Split off the fraction.
	frac := ""
	if i := strings.IndexAny(rest, ".,"); i >= 0 {
		frac = rest[i+1:]
		rest = rest[:i]
		if frac == "" || len(frac) > 9 {
			return bad()
		}
		for _, c := range frac {
			if c < '0' || c > '9' {
				return bad()
			}
		}
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return bad()
		}
	}
	var layout string
	var unit time.Duration
	switch len(rest) {
	case 10:
		layout, unit = "2006010215", time.Hour
	case 12:
		layout, unit = "200601021504", time.Minute
	case 14:
		layout, unit = "20060102150405", time.Second
	default:
		return bad()
	}
	t, err := time.ParseInLocation(layout, rest, loc)
	if err != nil {
		return bad()
	}
	if frac != "" {
		f, _ := strconv.ParseFloat("0."+frac, 64)
		t = t.Add(time.Duration(f * float64(unit)))
	}
	return t.UTC(), nil
}

// FormatGeneralizedTime writes t in AD's form, "20060102150405.0Z".
func FormatGeneralizedTime(t time.Time) string {
	return t.UTC().Format("20060102150405") + ".0Z"
}

// ParseSID decodes a binary objectSid into its text form, S-1-5-21-....
func ParseSID(b []byte) (string, error) {
	if len(b) < 8 || b[0] != 1 || len(b) != 8+4*int(b[1]) {
		return "", fmt.Errorf("%w: SID of %d bytes", ErrBadAttribute, len(b))
	}
	var auth uint64
	for _, x := range b[2:8] {
		auth = auth<<8 | uint64(x)
	}
	var sb strings.Builder
	sb.WriteString("S-1-")
	sb.WriteString(strconv.FormatUint(auth, 10))
	for i := 0; i < int(b[1]); i++ {
		sb.WriteByte('-')
		sb.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10))
	}
	return sb.String(), nil
}

// ridOf returns the last sub-authority of a text SID, or 0.
func ridOf(sid string) uint32 {
	i := strings.LastIndexByte(sid, '-')
	if i < 0 || strings.Count(sid, "-") < 3 {
		return 0
	}
	v, err := strconv.ParseUint(sid[i+1:], 10, 32)
	if err != nil {
		return 0
	}
	return uint32(v)
}

// ParseGUID decodes a binary objectGUID into the usual text form
// (the first three fields are little-endian).
func ParseGUID(b []byte) (string, error) {
	if len(b) != 16 {
		return "", fmt.Errorf("%w: GUID of %d bytes", ErrBadAttribute, len(b))
	}
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]),
		binary.LittleEndian.Uint16(b[6:8]), b[8:10], b[10:16]), nil
}
