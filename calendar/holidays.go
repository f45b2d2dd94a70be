package calendar

import (
	"fmt"
	"slices"
	"time"
)

// Date is a civil date: a day on the calendar, with no time of day and no
// zone. The zero Date is not a valid day.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the civil date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate parses a date written as YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD, such as 2025-06-02: %w", s, err)
	}
	return DateOf(t), nil
}

// String formats the date as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// In returns midnight at the start of the date in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Weekday returns the day of the week of the date.
func (d Date) Weekday() time.Weekday { return d.utc().Weekday() }

// AddDays returns the date n days later (earlier for negative n).
func (d Date) AddDays(n int) Date { return DateOf(d.utc().AddDate(0, 0, n)) }

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return cmpInt(d.Year, o.Year)
	case d.Month != o.Month:
		return cmpInt(int(d.Month), int(o.Month))
	}
	return cmpInt(d.Day, o.Day)
}

func cmpInt(a, b int) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

func (d Date) utc() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Kind tells under which rule of the law a day is a holiday.
type Kind int

// The kinds of Japanese public holiday.
const (
	// National is a 国民の祝日 named in Article 2 of the Act on National
	// Holidays (国民の祝日に関する法律).
	National Kind = iota + 1
	// Special is a one-time holiday set by its own act (2019's 即位の日
	// and 即位礼正殿の儀, for instance), treated as a 国民の祝日 by the
	// substitute and citizens' holiday rules.
	Special
	// Substitute is a 振替休日 (Article 3(2)): when a national holiday
	// falls on a Sunday, the next day that is not a national holiday (the
	// next day only, before 2007) is a holiday.
	Substitute
	// Citizens is a 国民の休日 (Article 3(3), since 1986): a day that is
	// not itself a holiday but lies between two national holidays.
	Citizens
)

// String returns the kind's name in English.
func (k Kind) String() string {
	switch k {
	case National:
		return "national holiday"
	case Special:
		return "special holiday"
	case Substitute:
		return "substitute holiday"
	case Citizens:
		return "citizens' holiday"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Holiday is one Japanese public holiday.
type Holiday struct {
	Date Date
	// Name is the holiday's Japanese name, as the Cabinet Office lists it
	// (振替休日 and 国民の休日 for the days its CSV calls 休日).
	Name string
	// NameEN is the holiday's English name.
	NameEN string
	Kind   Kind
}

// String formats the holiday as "2025-01-01 元日 (New Year's Day)".
func (h Holiday) String() string { return fmt.Sprintf("%s %s (%s)", h.Date, h.Name, h.NameEN) }

// The years JapaneseHolidays covers. The equinox approximation used for
// 春分の日 and 秋分の日 holds from 1980 to 2099.
const (
	FirstHolidayYear = 1980
	LastHolidayYear  = 2099
)

// holidayTable holds the holidays of every year from FirstHolidayYear to
// LastHolidayYear, computed once at start-up and never written again.
var holidayTable = func() [][]Holiday {
	t := make([][]Holiday, LastHolidayYear-FirstHolidayYear+1)
	for i := range t {
		t[i] = computeHolidays(FirstHolidayYear + i)
	}
	return t
}()

// JapaneseHolidays returns the Japanese public holidays of year in date
// order: the national holidays, one-time special holidays, substitute
// holidays and citizens' holidays. It returns nil for a year outside
// FirstHolidayYear to LastHolidayYear. The caller owns the returned slice.
func JapaneseHolidays(year int) []Holiday {
	return slices.Clone(tableYear(year))
}

// tableYear returns the shared, read-only holiday list of year.
func tableYear(year int) []Holiday {
	if year < FirstHolidayYear || year > LastHolidayYear {
		return nil
	}
	return holidayTable[year-FirstHolidayYear]
}

// computeHolidays applies the Act on National Holidays, as amended over the
// years, to one year from 1980 to 2099.
func computeHolidays(y int) []Holiday {
	var hs []Holiday
	add := func(m time.Month, d int, ja, en string) {
		hs = append(hs, Holiday{Date: Date{y, m, d}, Name: ja, NameEN: en, Kind: National})
	}
	special := func(m time.Month, d int, ja, en string) {
		hs = append(hs, Holiday{Date: Date{y, m, d}, Name: ja, NameEN: en, Kind: Special})
	}

	add(time.January, 1, "元日", "New Year's Day")
	if y >= 2000 { // Happy Monday system, first stage
		add(time.January, nthMonday(y, time.January, 2), "成人の日", "Coming of Age Day")
	} else {
		add(time.January, 15, "成人の日", "Coming of Age Day")
	}
	add(time.February, 11, "建国記念の日", "National Foundation Day")
	if y >= 2020 {
		add(time.February, 23, "天皇誕生日", "The Emperor's Birthday")
	}
	add(time.March, vernalEquinox(y), "春分の日", "Vernal Equinox Day")
	switch {
	case y <= 1988:
		add(time.April, 29, "天皇誕生日", "The Emperor's Birthday")
	case y <= 2006:
		add(time.April, 29, "みどりの日", "Greenery Day")
	default:
		add(time.April, 29, "昭和の日", "Showa Day")
	}
	add(time.May, 3, "憲法記念日", "Constitution Memorial Day")
	if y >= 2007 {
		add(time.May, 4, "みどりの日", "Greenery Day")
	}
	add(time.May, 5, "こどもの日", "Children's Day")
	switch { // 海の日 from 1996, Happy Monday from 2003, moved for the Olympics
	case y == 2020:
		add(time.July, 23, "海の日", "Marine Day")
	case y == 2021:
		add(time.July, 22, "海の日", "Marine Day")
	case y >= 2003:
		add(time.July, nthMonday(y, time.July, 3), "海の日", "Marine Day")
	case y >= 1996:
		add(time.July, 20, "海の日", "Marine Day")
	}
	switch { // 山の日 from 2016, moved for the Olympics
	case y == 2020:
		add(time.August, 10, "山の日", "Mountain Day")
	case y == 2021:
		add(time.August, 8, "山の日", "Mountain Day")
	case y >= 2016:
		add(time.August, 11, "山の日", "Mountain Day")
	}
	if y >= 2003 {
		add(time.September, nthMonday(y, time.September, 3), "敬老の日", "Respect for the Aged Day")
	} else {
		add(time.September, 15, "敬老の日", "Respect for the Aged Day")
	}
	add(time.September, autumnalEquinox(y), "秋分の日", "Autumnal Equinox Day")
	switch { // 体育の日, renamed スポーツの日 in 2020, moved for the Olympics
	case y == 2020:
		add(time.July, 24, "スポーツの日", "Sports Day")
	case y == 2021:
		add(time.July, 23, "スポーツの日", "Sports Day")
	case y >= 2020:
		add(time.October, nthMonday(y, time.October, 2), "スポーツの日", "Sports Day")
	case y >= 2000:
		add(time.October, nthMonday(y, time.October, 2), "体育の日", "Health and Sports Day")
	default:
		add(time.October, 10, "体育の日", "Health and Sports Day")
	}
	add(time.November, 3, "文化の日", "Culture Day")
	add(time.November, 23, "勤労感謝の日", "Labor Thanksgiving Day")
	if y >= 1989 && y <= 2018 {
		add(time.December, 23, "天皇誕生日", "The Emperor's Birthday")
	}

	switch y { // one-time holidays set by their own acts
	case 1989:
		special(time.February, 24, "昭和天皇の大喪の礼", "State Funeral of Emperor Showa")
	case 1990:
		special(time.November, 12, "即位礼正殿の儀", "Enthronement Ceremony")
	case 1993:
		special(time.June, 9, "皇太子徳仁親王の結婚の儀", "Wedding of Crown Prince Naruhito")
	case 2019:
		special(time.May, 1, "即位の日", "Enthronement Day")
		special(time.October, 22, "即位礼正殿の儀", "Enthronement Ceremony")
	}
	slices.SortFunc(hs, func(a, b Holiday) int { return a.Date.Compare(b.Date) })

	named := make(map[Date]bool, len(hs))
	for _, h := range hs {
		named[h.Date] = true
	}
	var extra []Holiday

	// 振替休日 (in force since 1973): a national holiday on a Sunday makes
	// the next day a holiday; since 2007, the next day that is not itself a
	// national holiday.
	for _, h := range hs {
		if h.Date.Weekday() != time.Sunday {
			continue
		}
		d := h.Date.AddDays(1)
		if y >= 2007 {
			for named[d] {
				d = d.AddDays(1)
			}
		} else if named[d] {
			continue
		}
		extra = append(extra, Holiday{Date: d, Name: "振替休日", NameEN: "Substitute Holiday", Kind: Substitute})
	}
	substitute := make(map[Date]bool, len(extra))
	for _, h := range extra {
		substitute[h.Date] = true
	}

	// 国民の休日 (in force since 1986): a day between two national
	// holidays that is not a holiday itself. Until 2007 the law excluded
	// Sundays and substitute holidays; since then it excludes only national
	// holidays, and a sandwiched Sunday does not occur in the calendar.
	if y >= 1986 {
		for i := 0; i+1 < len(hs); i++ {
			d := hs[i].Date.AddDays(1)
			if hs[i+1].Date != d.AddDays(1) || named[d] || substitute[d] || d.Weekday() == time.Sunday {
				continue
			}
			extra = append(extra, Holiday{Date: d, Name: "国民の休日", NameEN: "Citizens' Holiday", Kind: Citizens})
		}
	}

	hs = append(hs, extra...)
	slices.SortFunc(hs, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return slices.Clip(hs)
}

// nthMonday returns the day of the month of the n-th Monday of month m.
func nthMonday(y int, m time.Month, n int) int {
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Weekday()
	return 1 + (int(time.Monday)-int(first)+7)%7 + 7*(n-1)
}

// vernalEquinox returns the March day of 春分の日 by the standard
// approximation, valid from 1980 to 2099; the Cabinet Office announces the
// day each February for the following year, and it has always agreed.
func vernalEquinox(y int) int {
	return int(20.8431+0.242194*float64(y-1980)) - (y-1980)/4
}

// autumnalEquinox returns the September day of 秋分の日, as vernalEquinox.
func autumnalEquinox(y int) int {
	return int(23.2488+0.242194*float64(y-1980)) - (y-1980)/4
}
