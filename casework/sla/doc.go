// Package sla runs SLA clocks: it evaluates clocks declared in data against
// a case's timeline on the business calendar. It is pure logic, with no
// storage and no I/O; casework feeds it each case's timeline, derived from
// the case's audit trail, and stores and reports what it returns.
//
// A clock definition (ClockDef, decoded strictly from YAML by Parse) says
// which entry starts the clock and which stops it (Condition), in which case
// states it is paused, how much time it has (Target: a duration such as 4h,
// or a deadline such as {business_days: 1}, {next_business_day_at: "12:00"}
// or {day_of_month: 10}), whether it counts business hours or wall-clock
// time, and when it warns. A repeating clock, such as "a progress report
// every 4 hours until closed", is a series of repetitions each met by an
// entry. Evaluate returns the clock's instances at a given instant with
// their due time, elapsed time and state: running, paused, warning, met or
// breached.
//
// Defaults returns the clocks of the seed's SLA table (defaults.yaml).
//
// One rule makes the arithmetic exact: a clock is breached exactly when it
// has counted more than its target, so a business-hours clock that stops
// after the end of business on its due day, before the next business period
// opens, is met. Its Due is the earliest instant at which the target is used
// up (17:15, not the next morning's 08:30), and its BreachedAt the instant
// after which it has counted more (the next morning's 08:30).
package sla
