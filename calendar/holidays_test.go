package calendar_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/calendar"
)

// cabinetOffice is the Cabinet Office list of 国民の祝日・休日 for 2016 to
// 2027 (https://www8.cao.go.jp/chosei/shukujitsu/gaiyou.html), written out by
// hand. The office's CSV names substitute and citizens' holidays 休日; here
// they are 振替休日 and 国民の休日, and 2019's two one-time holidays carry
// their own names.
const cabinetOffice = `
2016-01-01 元日
2016-01-11 成人の日
2016-02-11 建国記念の日
2016-03-20 春分の日
2016-03-21 振替休日
2016-04-29 昭和の日
2016-05-03 憲法記念日
2016-05-04 みどりの日
2016-05-05 こどもの日
2016-07-18 海の日
2016-08-11 山の日
2016-09-19 敬老の日
2016-09-22 秋分の日
2016-10-10 体育の日
2016-11-03 文化の日
2016-11-23 勤労感謝の日
2016-12-23 天皇誕生日

2017-01-01 元日
2017-01-02 振替休日
2017-01-09 成人の日
2017-02-11 建国記念の日
2017-03-20 春分の日
2017-04-29 昭和の日
2017-05-03 憲法記念日
2017-05-04 みどりの日
2017-05-05 こどもの日
2017-07-17 海の日
2017-08-11 山の日
2017-09-18 敬老の日
2017-09-23 秋分の日
2017-10-09 体育の日
2017-11-03 文化の日
2017-11-23 勤労感謝の日
2017-12-23 天皇誕生日

2018-01-01 元日
2018-01-08 成人の日
2018-02-11 建国記念の日
2018-02-12 振替休日
2018-03-21 春分の日
2018-04-29 昭和の日
2018-04-30 振替休日
2018-05-03 憲法記念日
2018-05-04 みどりの日
2018-05-05 こどもの日
2018-07-16 海の日
2018-08-11 山の日
2018-09-17 敬老の日
2018-09-23 秋分の日
2018-09-24 振替休日
2018-10-08 体育の日
2018-11-03 文化の日
2018-11-23 勤労感謝の日
2018-12-23 天皇誕生日
2018-12-24 振替休日

2019-01-01 元日
2019-01-14 成人の日
2019-02-11 建国記念の日
2019-03-21 春分の日
2019-04-29 昭和の日
2019-04-30 国民の休日
2019-05-01 即位の日
2019-05-02 国民の休日
2019-05-03 憲法記念日
2019-05-04 みどりの日
2019-05-05 こどもの日
2019-05-06 振替休日
2019-07-15 海の日
2019-08-11 山の日
2019-08-12 振替休日
2019-09-16 敬老の日
2019-09-23 秋分の日
2019-10-14 体育の日
2019-10-22 即位礼正殿の儀
2019-11-03 文化の日
2019-11-04 振替休日
2019-11-23 勤労感謝の日

2020-01-01 元日
2020-01-13 成人の日
2020-02-11 建国記念の日
2020-02-23 天皇誕生日
2020-02-24 振替休日
2020-03-20 春分の日
2020-04-29 昭和の日
2020-05-03 憲法記念日
2020-05-04 みどりの日
2020-05-05 こどもの日
2020-05-06 振替休日
2020-07-23 海の日
2020-07-24 スポーツの日
2020-08-10 山の日
2020-09-21 敬老の日
2020-09-22 秋分の日
2020-11-03 文化の日
2020-11-23 勤労感謝の日

2021-01-01 元日
2021-01-11 成人の日
2021-02-11 建国記念の日
2021-02-23 天皇誕生日
2021-03-20 春分の日
2021-04-29 昭和の日
2021-05-03 憲法記念日
2021-05-04 みどりの日
2021-05-05 こどもの日
2021-07-22 海の日
2021-07-23 スポーツの日
2021-08-08 山の日
2021-08-09 振替休日
2021-09-20 敬老の日
2021-09-23 秋分の日
2021-11-03 文化の日
2021-11-23 勤労感謝の日

2022-01-01 元日
2022-01-10 成人の日
2022-02-11 建国記念の日
2022-02-23 天皇誕生日
2022-03-21 春分の日
2022-04-29 昭和の日
2022-05-03 憲法記念日
2022-05-04 みどりの日
2022-05-05 こどもの日
2022-07-18 海の日
2022-08-11 山の日
2022-09-19 敬老の日
2022-09-23 秋分の日
2022-10-10 スポーツの日
2022-11-03 文化の日
2022-11-23 勤労感謝の日

2023-01-01 元日
2023-01-02 振替休日
2023-01-09 成人の日
2023-02-11 建国記念の日
2023-02-23 天皇誕生日
2023-03-21 春分の日
2023-04-29 昭和の日
2023-05-03 憲法記念日
2023-05-04 みどりの日
2023-05-05 こどもの日
2023-07-17 海の日
2023-08-11 山の日
2023-09-18 敬老の日
2023-09-23 秋分の日
2023-10-09 スポーツの日
2023-11-03 文化の日
2023-11-23 勤労感謝の日

2024-01-01 元日
2024-01-08 成人の日
2024-02-11 建国記念の日
2024-02-12 振替休日
2024-02-23 天皇誕生日
2024-03-20 春分の日
2024-04-29 昭和の日
2024-05-03 憲法記念日
2024-05-04 みどりの日
2024-05-05 こどもの日
2024-05-06 振替休日
2024-07-15 海の日
2024-08-11 山の日
2024-08-12 振替休日
2024-09-16 敬老の日
2024-09-22 秋分の日
2024-09-23 振替休日
2024-10-14 スポーツの日
2024-11-03 文化の日
2024-11-04 振替休日
2024-11-23 勤労感謝の日

2025-01-01 元日
2025-01-13 成人の日
2025-02-11 建国記念の日
2025-02-23 天皇誕生日
2025-02-24 振替休日
2025-03-20 春分の日
2025-04-29 昭和の日
2025-05-03 憲法記念日
2025-05-04 みどりの日
2025-05-05 こどもの日
2025-05-06 振替休日
2025-07-21 海の日
2025-08-11 山の日
2025-09-15 敬老の日
2025-09-23 秋分の日
2025-10-13 スポーツの日
2025-11-03 文化の日
2025-11-23 勤労感謝の日
2025-11-24 振替休日

2026-01-01 元日
2026-01-12 成人の日
2026-02-11 建国記念の日
2026-02-23 天皇誕生日
2026-03-20 春分の日
2026-04-29 昭和の日
2026-05-03 憲法記念日
2026-05-04 みどりの日
2026-05-05 こどもの日
2026-05-06 振替休日
2026-07-20 海の日
2026-08-11 山の日
2026-09-21 敬老の日
2026-09-22 国民の休日
2026-09-23 秋分の日
2026-10-12 スポーツの日
2026-11-03 文化の日
2026-11-23 勤労感謝の日

2027-01-01 元日
2027-01-11 成人の日
2027-02-11 建国記念の日
2027-02-23 天皇誕生日
2027-03-21 春分の日
2027-03-22 振替休日
2027-04-29 昭和の日
2027-05-03 憲法記念日
2027-05-04 みどりの日
2027-05-05 こどもの日
2027-07-19 海の日
2027-08-11 山の日
2027-09-20 敬老の日
2027-09-23 秋分の日
2027-10-11 スポーツの日
2027-11-03 文化の日
2027-11-23 勤労感謝の日
`

func TestJapaneseHolidaysMatchCabinetOffice(t *testing.T) {
	want := map[int][]string{}
	for _, line := range strings.Split(strings.TrimSpace(cabinetOffice), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		d, err := calendar.ParseDate(line[:10])
		require.NoError(t, err, line)
		want[d.Year] = append(want[d.Year], line)
	}
	require.Len(t, want, 12, "the table covers 2016 to 2027")
	for year := 2016; year <= 2027; year++ {
		var got []string
		for _, h := range calendar.JapaneseHolidays(year) {
			got = append(got, h.Date.String()+" "+h.Name)
		}
		require.Equal(t, want[year], got, "year %d", year)
	}
}

// nationalCount is the number of 国民の祝日 the law names for a year.
func nationalCount(y int) int {
	switch {
	case y <= 1988:
		return 12
	case y <= 1995: // 4/29 みどりの日 and 12/23 天皇誕生日
		return 13
	case y <= 2006: // 海の日
		return 14
	case y <= 2015: // 昭和の日 and 5/4 みどりの日
		return 15
	case y == 2019: // no 天皇誕生日
		return 15
	default: // 山の日
		return 16
	}
}

func TestJapaneseHolidaysEveryYearPlausible(t *testing.T) {
	for y := calendar.FirstHolidayYear; y <= calendar.LastHolidayYear; y++ {
		hs := calendar.JapaneseHolidays(y)
		counts := map[calendar.Kind]int{}
		seen := map[calendar.Date]bool{}
		named := map[calendar.Date]bool{}
		for i, h := range hs {
			require.Equal(t, y, h.Date.Year, "%d: %s", y, h)
			require.False(t, seen[h.Date], "%d: %s listed twice", y, h.Date)
			seen[h.Date] = true
			require.NotEmpty(t, h.Name, "%d: %s", y, h.Date)
			require.NotEmpty(t, h.NameEN, "%d: %s", y, h.Date)
			if i > 0 {
				require.Equal(t, -1, hs[i-1].Date.Compare(h.Date), "%d: not in date order at %s", y, h.Date)
			}
			counts[h.Kind]++
			if h.Kind == calendar.National || h.Kind == calendar.Special {
				named[h.Date] = true
			}
		}
		require.Equal(t, nationalCount(y), counts[calendar.National], "%d: national holidays", y)
		require.LessOrEqual(t, counts[calendar.Special], 2, "%d", y)
		require.LessOrEqual(t, counts[calendar.Substitute], 5, "%d", y)
		require.LessOrEqual(t, counts[calendar.Citizens], 3, "%d", y)
		total := len(hs)
		require.GreaterOrEqual(t, total, 12, "%d", y)
		require.LessOrEqual(t, total, 22, "%d", y)
		if y >= 2016 {
			require.GreaterOrEqual(t, total, 15, "%d", y) // 2019 has 22, 2018 20
		}

		for _, h := range hs {
			switch h.Kind {
			case calendar.Substitute:
				// The nearest earlier Sunday, across named holidays, is a
				// named holiday, and the substitute itself is not named.
				require.False(t, named[h.Date], "%d: %s", y, h)
				d := h.Date.AddDays(-1)
				for d.Weekday() != time.Sunday {
					require.True(t, named[d], "%d: substitute %s not after a run of holidays", y, h.Date)
					d = d.AddDays(-1)
				}
				require.True(t, named[d], "%d: substitute %s does not follow a Sunday holiday", y, h.Date)
			case calendar.Citizens:
				require.True(t, named[h.Date.AddDays(-1)] && named[h.Date.AddDays(1)], "%d: %s not sandwiched", y, h)
				require.NotEqual(t, time.Sunday, h.Date.Weekday(), "%d: %s", y, h)
			}
		}
		// Every Sunday national holiday has its substitute holiday.
		for _, h := range hs {
			if h.Kind != calendar.National || h.Date.Weekday() != time.Sunday {
				continue
			}
			d := h.Date.AddDays(1)
			for named[d] && y >= 2007 {
				d = d.AddDays(1)
			}
			if !named[d] {
				require.True(t, seen[d], "%d: no substitute holiday for %s", y, h)
			}
		}
	}
	require.Nil(t, calendar.JapaneseHolidays(calendar.FirstHolidayYear-1))
	require.Nil(t, calendar.JapaneseHolidays(calendar.LastHolidayYear+1))
}

func TestJapaneseHolidaysHistory(t *testing.T) {
	has := func(date, name string) {
		t.Helper()
		d, err := calendar.ParseDate(date)
		require.NoError(t, err)
		for _, h := range calendar.JapaneseHolidays(d.Year) {
			if h.Date == d {
				require.Equal(t, name, h.Name, date)
				return
			}
		}
		require.Failf(t, "missing holiday", "%s %s", date, name)
	}
	hasNot := func(date string) {
		t.Helper()
		d, err := calendar.ParseDate(date)
		require.NoError(t, err)
		for _, h := range calendar.JapaneseHolidays(d.Year) {
			require.NotEqual(t, d, h.Date, "%s is %s", date, h.Name)
		}
	}
	has("1980-01-15", "成人の日")
	has("1980-03-20", "春分の日")
	has("1981-05-04", "振替休日") // 5/3 on a Sunday
	hasNot("1985-05-04")      // before the citizens' holiday rule
	has("1988-04-29", "天皇誕生日")
	has("1988-05-04", "国民の休日")
	has("1989-02-24", "昭和天皇の大喪の礼")
	has("1989-04-29", "みどりの日")
	has("1989-12-23", "天皇誕生日")
	has("1990-11-12", "即位礼正殿の儀")
	has("1993-06-09", "皇太子徳仁親王の結婚の儀")
	hasNot("1995-07-20")
	has("1996-07-20", "海の日")
	has("1999-10-11", "振替休日") // 10/10 on a Sunday
	has("2000-01-10", "成人の日")
	has("2000-10-09", "体育の日")
	has("2002-09-16", "振替休日")
	has("2003-07-21", "海の日")
	has("2003-09-15", "敬老の日")
	has("2006-05-04", "国民の休日")
	has("2007-04-29", "昭和の日")
	has("2007-04-30", "振替休日")
	has("2008-05-06", "振替休日") // 5/4 on a Sunday, moved past 5/5
	has("2009-09-22", "国民の休日")
	hasNot("2015-08-11")
	hasNot("2019-12-23")
	hasNot("2020-10-12")
	hasNot("2021-10-11")
	hasNot("2021-08-11")
	has("2032-09-21", "国民の休日")
	has("2099-03-20", "春分の日")
}
