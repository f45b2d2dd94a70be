package notify

import (
	"embed"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/logexport"
)

// Kind is what a notification says.
type Kind string

// Notification kinds. Each has a template per language.
const (
	Acknowledgement Kind = "acknowledgement" // 受付のお知らせ
	FirstReport     Kind = "first_report"    // 障害第一報
	ProgressReport  Kind = "progress_report" // 経過報告
	SLAWarning      Kind = "sla_warning"     // SLA期限警告
	SLABreach       Kind = "sla_breach"      // SLA違反
	LogDelivery     Kind = "log_delivery"    // ログ提供のお知らせ
)

// Kinds lists every notification kind.
var Kinds = []Kind{Acknowledgement, FirstReport, ProgressReport, SLAWarning, SLABreach, LogDelivery}

// Lang is the language of a notification.
type Lang string

// Languages. Japanese is the default.
const (
	Japanese Lang = "ja"
	English  Lang = "en"
)

// Langs lists the languages every kind has a template in.
var Langs = []Lang{Japanese, English}

// Data is what a template sees.
type Data struct {
	// Case is the case the notification is about.
	Case casework.Case
	// Clock names the SLA clock a warning or breach is about
	// ("first_report", "recovery", "log_provision"...).
	Clock string
	// Due is when that clock is (or was) due.
	Due time.Time
	// Message is free text from the operator: what a first or progress
	// report says, or a note to the requester.
	Message string
	// URL points at the case (or, for a log delivery, at the export).
	URL string
	// Export is a log delivery's manifest.
	Export *logexport.Manifest
	// Extra holds anything else a customised template needs, by name.
	Extra map[string]string
	// Signature closes the message (from the configuration).
	Signature string
}

//go:embed templates/*/*.tmpl
var templateFS embed.FS

// tokyo is the zone every time in a notification is written in.
var tokyo = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return loc
	}
	return time.FixedZone("JST", 9*60*60) // Japan keeps no summer time
}()

// labels name case types, statuses and priorities in each language.
var labels = map[Lang]map[string]string{
	Japanese: {
		"incident": "インシデント", "failure": "障害", "security_incident": "セキュリティインシデント",
		"problem": "問題", "request": "申請", "vulnerability_notice": "脆弱性・保守情報", "periodic_duty": "定常業務",
		"planned_outage": "計画停止",
		"new":            "新規", "acknowledged": "受付済", "in_progress": "対応中", "waiting_vendor": "ベンダー回答待ち",
		"waiting_requester": "依頼者回答待ち", "resolved": "解決", "closed": "完了",
		"p1": "P1（緊急）", "p2": "P2（高）", "p3": "P3（中）", "p4": "P4（低）",
	},
	English: {
		"incident": "incident", "failure": "failure", "security_incident": "security incident",
		"problem": "problem", "request": "request", "vulnerability_notice": "vulnerability notice", "periodic_duty": "periodic duty",
		"planned_outage": "planned outage",
		"new":            "new", "acknowledged": "acknowledged", "in_progress": "in progress", "waiting_vendor": "waiting on the vendor",
		"waiting_requester": "waiting on the requester", "resolved": "resolved", "closed": "closed",
		"p1": "P1 (urgent)", "p2": "P2 (high)", "p3": "P3 (medium)", "p4": "P4 (low)",
	},
}

// dateLayouts write times in Asia/Tokyo, per language.
var dateLayouts = map[Lang]string{
	Japanese: "2006年1月2日 15:04",
	English:  "2 January 2006 15:04 JST",
}

func funcs(lang Lang) template.FuncMap {
	return template.FuncMap{
		// date writes a time in Asia/Tokyo ("" for the zero time).
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(tokyo).Format(dateLayouts[lang])
		},
		// label names a type, status or priority in the template's language.
		"label": func(v any) string {
			s := fmt.Sprint(v)
			if l, ok := labels[lang][s]; ok {
				return l
			}
			return s
		},
	}
}

// templates holds the parsed templates, by language and kind. Each has a
// "subject" and a "body" template.
type templates map[Lang]map[Kind]*template.Template

// parseTemplates reads the embedded templates, one file per language and
// kind (templates/<lang>/<kind>.tmpl), each with the templates its
// language shares (templates/<lang>/_common.tmpl).
func parseTemplates() (templates, error) {
	out := templates{}
	for _, lang := range Langs {
		out[lang] = map[Kind]*template.Template{}
		for _, kind := range Kinds {
			name := "templates/" + string(lang) + "/" + string(kind) + ".tmpl"
			common := "templates/" + string(lang) + "/_common.tmpl"
			t, err := template.New(name).Funcs(funcs(lang)).Option("missingkey=error").ParseFS(templateFS, common, name)
			if err != nil {
				return nil, err
			}
			for _, part := range []string{"subject", "body"} {
				if t.Lookup(part) == nil {
					return nil, fmt.Errorf("%s: no %q template", name, part)
				}
			}
			out[lang][kind] = t
		}
	}
	return out, nil
}

var oneLine = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// render returns the subject and body of a notification.
func (ts templates) render(kind Kind, lang Lang, d Data) (subject, body string, err error) {
	if !slices.Contains(Langs, lang) {
		return "", "", fmt.Errorf("%w: language %q: want one of %v", ErrInvalid, lang, Langs)
	}
	t := ts[lang][kind]
	if t == nil {
		return "", "", fmt.Errorf("%w: kind %q: want one of %v", ErrInvalid, kind, Kinds)
	}
	var sb strings.Builder
	if err := t.ExecuteTemplate(&sb, "subject", d); err != nil {
		return "", "", fmt.Errorf("notify: %s subject: %w", kind, err)
	}
	// A subject is one line: template line breaks become spaces.
	subject = strings.TrimSpace(oneLine.Replace(sb.String()))
	sb.Reset()
	if err := t.ExecuteTemplate(&sb, "body", d); err != nil {
		return "", "", fmt.Errorf("notify: %s body: %w", kind, err)
	}
	body = strings.TrimSpace(sb.String()) + "\n"
	return subject, body, nil
}
