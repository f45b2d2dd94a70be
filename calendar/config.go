package calendar

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrConfig marks every configuration error of this package; test for it
// with errors.Is.
var ErrConfig = errors.New("calendar config")

// Config configures a business calendar. Every field's zero value stands
// for its default, so the zero Config is valid; DefaultConfig spells the
// defaults out.
type Config struct {
	// Location is the IANA time zone name in which days and business hours
	// are reckoned. Empty means "Asia/Tokyo". Zones with daylight saving
	// time work: business hours are wall-clock times.
	Location string `yaml:"location"`

	// BusinessHours is the working time of a business day. Empty fields
	// mean 08:30 to 17:15, the usual opening hours of Japanese public
	// offices.
	BusinessHours Hours `yaml:"business_hours"`

	// WorkingWeekdays lists the days of the week that are business days
	// unless a holiday or closure says otherwise, by English name
	// ("monday" or "mon", in any case). Empty means Monday to Friday.
	WorkingWeekdays []string `yaml:"working_weekdays"`

	// JapaneseHolidays makes the Japanese public holidays (national,
	// substitute and citizens' holidays) closed days. Unset means true.
	JapaneseHolidays *bool `yaml:"japanese_holidays"`

	// Closures are closed periods that recur every year, such as the New
	// Year closure. Unset (nil) means one closure, 12-29 to 01-03, the New
	// Year closure of Japanese public offices; an empty list ("[]") means
	// none.
	Closures []Closure `yaml:"closures"`

	// ClosedDates are single days (YYYY-MM-DD) on which the organisation
	// is closed although the rules above make them business days.
	ClosedDates []string `yaml:"closed_dates"`

	// OpenDates are single days (YYYY-MM-DD) that are business days
	// whatever the rules above, and closed_dates, say: a Saturday opening,
	// say, or a working day inside the New Year closure.
	OpenDates []string `yaml:"open_dates"`
}

// Hours is the business time of a day, from Start to End, both written as
// HH:MM in 24-hour time. End is after Start; it may be "24:00".
type Hours struct {
	// Start is when business opens, such as "08:30". Empty means 08:30.
	Start string `yaml:"start"`
	// End is when business closes, such as "17:15". Empty means 17:15.
	End string `yaml:"end"`
}

// Closure is a closed period that recurs every year, from one month-day to
// another, both included. When From is later in the year than To, the
// period wraps the year end: 12-29 to 01-03 closes the last three days of
// December and the first three of January.
type Closure struct {
	// From is the first closed day, as MM-DD.
	From string `yaml:"from"`
	// To is the last closed day, as MM-DD.
	To string `yaml:"to"`
	// Name describes the closure in reasons given by Calendar.Closed, such
	// as "年末年始". Optional.
	Name string `yaml:"name"`
}

// Defaults.
const (
	DefaultLocation = "Asia/Tokyo"
	// DefaultStart and DefaultEnd are the usual opening hours of Japanese
	// public offices, 8:30 to 17:15 (7 hours 45 minutes of work and a
	// 60-minute lunch break, which this calendar does not subtract).
	DefaultStart = "08:30"
	DefaultEnd   = "17:15"
)

// DefaultConfig returns the configuration with every default applied.
func DefaultConfig() Config {
	yes := true
	return Config{
		Location:         DefaultLocation,
		BusinessHours:    Hours{Start: DefaultStart, End: DefaultEnd},
		WorkingWeekdays:  []string{"monday", "tuesday", "wednesday", "thursday", "friday"},
		JapaneseHolidays: &yes,
		Closures:         []Closure{{From: "12-29", To: "01-03", Name: "年末年始"}},
	}
}

//go:embed sample.yaml
var sampleConfig string

// SampleConfig returns the documented default configuration in YAML, for
// `mamori config` and the shipped configuration file.
func SampleConfig() string { return sampleConfig }

// withDefaults returns c with the defaults in place of zero values.
func (c Config) withDefaults() Config {
	def := DefaultConfig()
	if c.Location == "" {
		c.Location = def.Location
	}
	if c.BusinessHours.Start == "" {
		c.BusinessHours.Start = def.BusinessHours.Start
	}
	if c.BusinessHours.End == "" {
		c.BusinessHours.End = def.BusinessHours.End
	}
	if len(c.WorkingWeekdays) == 0 {
		c.WorkingWeekdays = def.WorkingWeekdays
	}
	if c.JapaneseHolidays == nil {
		c.JapaneseHolidays = def.JapaneseHolidays
	}
	if c.Closures == nil {
		c.Closures = def.Closures
	}
	return c
}

// UnmarshalYAML decodes the configuration strictly (an unknown key is an
// error, here and in business_hours and closures) and validates it. Keys it
// does not set stay zero, which stands for their defaults.
func (c *Config) UnmarshalYAML(node *yaml.Node) error {
	if err := checkKeys(node, "", "location", "business_hours", "working_weekdays", "japanese_holidays", "closures", "closed_dates", "open_dates"); err != nil {
		return err
	}
	type plain Config // no UnmarshalYAML, so no recursion
	var p plain
	if err := node.Decode(&p); err != nil {
		if errors.Is(err, ErrConfig) { // from Hours or Closure, already explained
			return err
		}
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	*c = Config(p)
	return c.Validate()
}

// UnmarshalYAML decodes business_hours strictly.
func (h *Hours) UnmarshalYAML(node *yaml.Node) error {
	if err := checkKeys(node, "business_hours.", "start", "end"); err != nil {
		return err
	}
	type plain Hours
	var p plain
	if err := node.Decode(&p); err != nil {
		return fmt.Errorf("%w: business_hours: %w", ErrConfig, err)
	}
	*h = Hours(p)
	return nil
}

// UnmarshalYAML decodes one closure strictly.
func (cl *Closure) UnmarshalYAML(node *yaml.Node) error {
	if err := checkKeys(node, "closures[].", "from", "to", "name"); err != nil {
		return err
	}
	type plain Closure
	var p plain
	if err := node.Decode(&p); err != nil {
		return fmt.Errorf("%w: closures: %w", ErrConfig, err)
	}
	*cl = Closure(p)
	return nil
}

// checkKeys rejects a node that is not a mapping or has a key not in known.
func checkKeys(node *yaml.Node, prefix string, known ...string) error {
	if node.Kind != yaml.MappingNode {
		where := ""
		if prefix != "" {
			where = strings.TrimSuffix(strings.TrimSuffix(prefix, "."), "[]") + ": "
		}
		return fmt.Errorf("%w: line %d: %swant a mapping of keys to values", ErrConfig, node.Line, where)
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		k := node.Content[i]
		ok := false
		for _, n := range known {
			ok = ok || k.Value == n
		}
		if !ok {
			return fmt.Errorf("%w: line %d: unknown key %q (known: %s)", ErrConfig, k.Line, prefix+k.Value, strings.Join(known, ", "))
		}
	}
	return nil
}

// Validate checks the configuration, with defaults applied, and names the
// key and the fix in its error.
func (c Config) Validate() error {
	_, err := c.compile()
	return err
}

// compiled is a validated configuration in the form Calendar uses.
type compiled struct {
	loc        *time.Location
	start, end Clock
	workdays   [7]bool
	holidays   bool
	closures   []closure
	closed     map[Date]bool
	open       map[Date]bool
}

type closure struct {
	from, to int // month*100 + day
	name     string
}

// covers reports whether the closure includes the date.
func (cl closure) covers(d Date) bool {
	md := int(d.Month)*100 + d.Day
	if cl.from <= cl.to {
		return cl.from <= md && md <= cl.to
	}
	return md >= cl.from || md <= cl.to
}

func (cl closure) String() string {
	span := fmt.Sprintf("%02d-%02d to %02d-%02d", cl.from/100, cl.from%100, cl.to/100, cl.to%100)
	if cl.name == "" {
		return "closure " + span
	}
	return fmt.Sprintf("closure %s (%s)", cl.name, span)
}

var weekdayNames = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

func (c Config) compile() (*compiled, error) {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	out := &compiled{holidays: *c.JapaneseHolidays, closed: map[Date]bool{}, open: map[Date]bool{}}

	loc, err := time.LoadLocation(c.Location)
	if err != nil {
		bad("location %q: %w (use an IANA zone name such as Asia/Tokyo or UTC; a binary without the system zoneinfo must import time/tzdata)", c.Location, err)
	}
	out.loc = loc

	startOK, endOK := true, true
	if out.start, err = ParseClock(c.BusinessHours.Start); err != nil || out.start == 24*clockHour {
		bad("business_hours.start %q is not a time of day: use HH:MM from 00:00 to 23:59, such as 08:30", c.BusinessHours.Start)
		startOK = false
	}
	if out.end, err = ParseClock(c.BusinessHours.End); err != nil {
		bad("business_hours.end %q is not a time of day: use HH:MM from 00:00 to 24:00, such as 17:15", c.BusinessHours.End)
		endOK = false
	}
	if startOK && endOK && out.end <= out.start {
		bad("business_hours.end %s is not after business_hours.start %s: business hours cannot cross midnight; use an end after the start, up to 24:00", c.BusinessHours.End, c.BusinessHours.Start)
	}

	for i, name := range c.WorkingWeekdays {
		wd, ok := weekdayNames[strings.ToLower(strings.TrimSpace(name))]
		if !ok {
			bad("working_weekdays[%d] %q is not a day of the week: use an English name such as monday or mon", i, name)
			continue
		}
		out.workdays[wd] = true
	}

	for i, cl := range c.Closures {
		from, errFrom := parseMonthDay(cl.From)
		to, errTo := parseMonthDay(cl.To)
		if errFrom != nil {
			bad("closures[%d].from %q is not a month-day: use MM-DD, such as 12-29", i, cl.From)
		}
		if errTo != nil {
			bad("closures[%d].to %q is not a month-day: use MM-DD, such as 01-03", i, cl.To)
		}
		if errFrom != nil || errTo != nil {
			continue
		}
		out.closures = append(out.closures, closure{from: from, to: to, name: cl.Name})
	}

	for i, s := range c.ClosedDates {
		d, err := ParseDate(s)
		if err != nil {
			bad("closed_dates[%d]: %w", i, err)
			continue
		}
		out.closed[d] = true
	}
	for i, s := range c.OpenDates {
		d, err := ParseDate(s)
		if err != nil {
			bad("open_dates[%d]: %w", i, err)
			continue
		}
		out.open[d] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// parseMonthDay parses MM-DD (02-29 is allowed) into month*100 + day.
func parseMonthDay(s string) (int, error) {
	t, err := time.Parse("01-02 2006", s+" 2000") // 2000 is a leap year
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("month-day %q: want MM-DD", s)
	}
	return int(t.Month())*100 + t.Day(), nil
}

// Clock is a time of day, in seconds since midnight; 24:00 is the end of
// the day.
type Clock int

const clockHour Clock = 3600

// ParseClock parses a time of day written HH:MM, from 00:00 to 24:00.
func ParseClock(s string) (Clock, error) {
	if s == "24:00" {
		return 24 * clockHour, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("time of day %q: want HH:MM from 00:00 to 24:00, such as 10:00", s)
	}
	return Clock(t.Hour())*clockHour + Clock(t.Minute()*60), nil
}

// String formats the clock as HH:MM.
func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", c/clockHour, c%clockHour/60) }

// on returns the instant of the clock time on date d in loc.
func (c Clock) on(d Date, loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, int(c/clockHour), int(c%clockHour/60), int(c%60), 0, loc)
}
