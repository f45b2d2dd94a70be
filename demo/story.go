package demo

import (
	"fmt"
	"time"

	"github.com/mamori-soc/mamori/calendar"
	"github.com/mamori-soc/mamori/event"
)

// StoryDay returns the day DetectionStory is best told on: the latest
// Japanese public holiday (a closed day) that ended before now, in the
// calendar's zone. For 26 November 2026 it is 勤労感謝の日, Monday 23
// November.
func StoryDay(cal *calendar.Calendar, now time.Time) time.Time {
	loc := cal.Location()
	now = now.In(loc)
	for y := now.Year(); ; y-- {
		hs := cal.Holidays(y)
		for i := len(hs) - 1; i >= 0; i-- {
			d := hs[i].Date
			day := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
			if !day.AddDate(0, 0, 1).After(now) {
				return day
			}
		}
	}
}

// DetectionStory is a scripted night in Windows Security events, as
// Winlogbeat ships them, on which the built-in rule pack must raise exactly
// StoryAlerts: on day (a closed day: StoryDay), from 01:00 to 04:00 in its
// zone, four machines log their routine network logons every five minutes
// while
//
//   - suzuki's password is guessed twelve times on FS01 from 10.20.31.21
//     (01:10 - 01:15:30);
//   - 10.20.99.66 tries twelve accounts once each (01:40 - 01:43:40);
//   - 田中 logs on at the console of PC-SOUMU-01 at 02:30;
//   - the disabled account yamada is tried at PC-JINJI-07 at 03:00;
//   - PC-KIKAKU-03 stops logging after 01:30.
//
// Events come in time order, one Winlogbeat JSON document each, with unique
// record ids per computer.
func DetectionStory(day time.Time) [][]byte {
	day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, day.Location())
	at := func(h, m, s int) time.Time {
		return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	records := map[string]int{}
	var out [][]byte
	emit := func(t time.Time, computer string, code int, task, outcome string, data map[string]string) {
		records[computer]++
		out = append(out, WinlogbeatEvent(t, computer+".city.example.lg.jp", code, 500000+records[computer], task, outcome, data))
	}
	failed := func(t time.Time, computer, user, src, logonType, sub string) {
		emit(t, computer, 4625, "Logon", "failure", map[string]string{
			"SubjectUserSid": "S-1-0-0", "SubjectUserName": "-", "SubjectDomainName": "-", "SubjectLogonId": "0x0",
			"TargetUserSid": "S-1-0-0", "TargetUserName": user, "TargetDomainName": "CITY",
			"Status": "0xc000006d", "FailureReason": "%%2313", "SubStatus": sub, "LogonType": logonType,
			"LogonProcessName": "NtLmSsp ", "AuthenticationPackageName": "NTLM", "WorkstationName": "-",
			"IpAddress": src, "IpPort": "0",
		})
	}
	logon := func(t time.Time, computer, user, sid, src, logonType string, id int) {
		emit(t, computer, 4624, "Logon", "success", map[string]string{
			"SubjectUserSid": "S-1-5-18", "SubjectUserName": computer + "$", "SubjectDomainName": "CITY", "SubjectLogonId": "0x3e7",
			"TargetUserSid": sid, "TargetUserName": user, "TargetDomainName": "CITY",
			"TargetLogonId": fmt.Sprintf("0x%x", id), "LogonType": logonType, "LogonProcessName": "User32 ",
			"AuthenticationPackageName": "Negotiate", "WorkstationName": computer, "IpAddress": src, "IpPort": "0",
			"TargetLinkedLogonId": "0x0", "ElevatedToken": "%%1843",
		})
	}

	type ev struct {
		t  time.Time
		fn func()
	}
	var evs []ev
	add := func(t time.Time, fn func()) { evs = append(evs, ev{t, fn}) }

	// Routine: the backup service reaches every machine over the network.
	machines := []string{"FS01", "PC-SOUMU-01", "PC-JINJI-07", "PC-KIKAKU-03"}
	for i := 0; at(1, 0, 0).Add(time.Duration(i) * 5 * time.Minute).Before(at(4, 0, 1)); i++ {
		t := at(1, 0, 0).Add(time.Duration(i) * 5 * time.Minute)
		for j, m := range machines {
			if m == "PC-KIKAKU-03" && t.After(at(1, 30, 0)) {
				continue
			}
			id := 0x100000 + i*16 + j
			add(t.Add(time.Duration(j)*time.Second), func() {
				logon(t.Add(time.Duration(j)*time.Second), m, "svc_backup", "S-1-5-21-3623811015-3361044348-30300820-1500", "10.20.0.5", "3", id)
			})
		}
	}
	for i := range 12 {
		t := at(1, 10, 0).Add(time.Duration(i) * 30 * time.Second)
		add(t, func() { failed(t, "FS01", "suzuki", "10.20.31.21", "3", "0xc000006a") })
	}
	for i := range 12 {
		t := at(1, 40, 0).Add(time.Duration(i) * 20 * time.Second)
		add(t, func() { failed(t, "FS01", fmt.Sprintf("user%02d", i+1), "10.20.99.66", "3", "0xc0000064") })
	}
	add(at(2, 30, 0), func() {
		logon(at(2, 30, 0), "PC-SOUMU-01", "田中", "S-1-5-21-3623811015-3361044348-30300820-1202", "127.0.0.1", "2", 0x77aa01)
	})
	add(at(3, 0, 0), func() { failed(at(3, 0, 0), "PC-JINJI-07", "yamada", "127.0.0.1", "2", "0xc0000072") })

	// In time order (stable: routine before incidents at the same instant).
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].t.Before(evs[j-1].t); j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
	for _, e := range evs {
		e.fn()
	}
	return out
}

// StoryAlert is an alert DetectionStory must raise: the rule, the entity
// it is about (one of user, source or host) and how many events it counts.
type StoryAlert struct {
	Rule                     string
	User, SourceIP, HostName string
	Count                    int
}

// StoryAlerts are the alerts of DetectionStory, and no others.
var StoryAlerts = []StoryAlert{
	{Rule: "mamori.win.brute_force_account", User: "suzuki", Count: 12},
	{Rule: "mamori.win.password_spray", SourceIP: "10.20.99.66", Count: 12},
	{Rule: "mamori.win.logon_off_hours", User: "田中", Count: 1},
	{Rule: "mamori.win.inactive_account_logon", User: "yamada", Count: 1},
	{Rule: "mamori.host.log_source_silent", HostName: "pc-kikaku-03", Count: 1},
}

// StoryAlertOf summarises an alert document for comparison with
// StoryAlerts: the entity field its rule is about, and the count.
func StoryAlertOf(a *event.Event) StoryAlert {
	s := StoryAlert{}
	s.Rule, _ = a.Fields["rule.id"].(string)
	switch n := a.Fields["mamori.alert.count"].(type) {
	case int64:
		s.Count = int(n)
	case float64:
		s.Count = int(n)
	}
	for _, want := range StoryAlerts {
		if want.Rule != s.Rule {
			continue
		}
		switch {
		case want.User != "" && a.User != nil:
			s.User = a.User.Name
		case want.SourceIP != "" && a.Source != nil:
			s.SourceIP = a.Source.IP
		case want.HostName != "" && a.Host != nil:
			s.HostName = a.Host.Name
		}
	}
	return s
}
