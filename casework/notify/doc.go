// Package notify sends a case's notifications: e-mail over SMTP (STARTTLS
// and authentication) and webhooks (JSON, signed with HMAC-SHA256), from
// templates in Japanese and English embedded in the binary.
//
// Each notification kind answers a duty of the operations team: the
// acknowledgement of a report (受付のお知らせ), a failure's first report
// (障害第一報), progress reports (経過報告), SLA warnings and breaches
// (SLA期限警告, SLA違反) and the delivery of retrieved logs (ログ提供のお知らせ).
//
// Notifier.Send renders and sends one notification and returns a Record of
// what happened, sent or not. The caller keeps that record on the case with
// RecordOn: a "notification" entry in the case's timeline, which is what
// stops the SLA clock the notification answers. A notification that failed
// is recorded as a comment instead, so that people see it and no clock
// stops.
//
// Secrets never appear in the configuration: the SMTP password and the
// webhook signing keys are read from files or the environment
// (internal/secret), and a webhook's URL, which may carry a token, is not
// written into records; its name is.
package notify
