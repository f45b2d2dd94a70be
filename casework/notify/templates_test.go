package notify

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/casework"
	"github.com/mamori-soc/mamori/casework/logexport"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the templates")

// sample is a notification's data with every field set.
func sample() Data {
	return Data{
		Case: casework.Case{
			Timestamp: time.Date(2026, 11, 24, 6, 0, 0, 0, time.UTC), ID: "REQ-20261124-7K3QX",
			Type: casework.Request, Subtype: "log_retrieval", Title: "プロキシログの提供依頼", Status: casework.InProgress,
			Priority: casework.P2, Assignee: "鈴木", Reporter: "田中", Channel: "email",
			Fields: map[string]string{"device": "core-sw01", "impact": "庁内全域で通信断"},
		},
		Clock: "log_provision", Due: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
		Message: "ベンダーが部品を交換中です。", URL: "https://mamori.example.lg.jp/cases/REQ-20261124-7K3QX",
		Export: &logexport.Manifest{
			Request: logexport.ManifestRequest{
				Query: `source.ip: "10.1.2.3"`, From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
				To: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), Format: "csv",
			},
			Events: 12345,
			File:   logexport.FileInfo{Name: "REQ-20261124-7K3QX.csv.gz", Size: 98765, SHA256: strings.Repeat("ab", 32)},
		},
		Signature: "情報政策課 運用チーム",
	}
}

// TestTemplatesGolden renders every kind in every language, with every
// field set and with only a case, against testdata/golden.
func TestTemplatesGolden(t *testing.T) {
	ts, err := parseTemplates()
	require.NoError(t, err)
	minimal := Data{Case: casework.Case{ID: "INC-1", Type: casework.Incident, Title: "t", Status: casework.New}}
	for _, lang := range Langs {
		for _, kind := range Kinds {
			for variant, d := range map[string]Data{"full": sample(), "minimal": minimal} {
				subject, body, err := ts.render(kind, lang, d)
				require.NoError(t, err, "%s %s %s", lang, kind, variant)
				require.NotContains(t, subject, "\n")
				require.NotContains(t, subject+body, "<no value>")
				got := "Subject: " + subject + "\n\n" + body
				path := filepath.Join("testdata", "golden", string(lang), string(kind)+"."+variant+".txt")
				if *update {
					require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
					require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
					continue
				}
				want, err := os.ReadFile(path)
				require.NoError(t, err, "run go test -update")
				require.Equal(t, string(want), got, "%s (go test -update rewrites it)", path)
			}
		}
	}
}

// TestJapaneseSubjects checks the names the operations team uses.
func TestJapaneseSubjects(t *testing.T) {
	ts, err := parseTemplates()
	require.NoError(t, err)
	for kind, name := range map[Kind]string{
		Acknowledgement: "受付のお知らせ", FirstReport: "障害第一報", ProgressReport: "経過報告",
		SLAWarning: "SLA期限警告", SLABreach: "SLA違反", LogDelivery: "ログ提供のお知らせ",
	} {
		subject, _, err := ts.render(kind, Japanese, sample())
		require.NoError(t, err)
		require.Contains(t, subject, "【"+name+"】")
	}
}
