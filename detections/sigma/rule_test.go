package sigma_test

import (
	"errors"
	"os"
	"testing"

	"github.com/mamori-soc/mamori/detections/sigma"
	"github.com/mamori-soc/mamori/event"
)

func loadEvent(t testing.TB, path string) *event.Event {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var e event.Event
	if err := event.Unmarshal(data, &e); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &e
}

const failedLogonJA = `
title: 不正なパスワードでのログオン失敗
id: 0f4d1b7e-5a51-4c36-9d0e-2b8f3f6f0a01
status: experimental
description: A logon failed because of a bad password.
author: Mamori
date: 2025-01-15
related:
  - {id: 0f4d1b7e-5a51-4c36-9d0e-2b8f3f6f0a00, type: derived}
level: medium
tags: [attack.credential-access, attack.t1110.001, attack.T1078]
falsepositives: Users mistyping their password
fields: [TargetUserName, IpAddress]
logsource:
  product: windows
  service: security
detection:
  selection:
    EventID: 4625
    SubStatus: '0xc000006a'
  condition: selection
`

func TestMetadata(t *testing.T) {
	r, err := sigma.Compile([]byte(failedLogonJA), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Title != "不正なパスワードでのログオン失敗" || r.ID != "0f4d1b7e-5a51-4c36-9d0e-2b8f3f6f0a01" || r.Level != sigma.LevelMedium || r.Level.String() != "medium" || r.Date != "2025-01-15" || r.Status != "experimental" {
		t.Errorf("metadata %+v", r)
	}
	if got := r.Techniques; len(got) != 2 || got[0] != "T1110.001" || got[1] != "T1078" {
		t.Errorf("techniques %v", got)
	}
	if r.Logsource.Product != "windows" || r.Logsource.Service != "security" {
		t.Errorf("logsource %+v", r.Logsource)
	}
	if len(r.Related) != 1 || r.Related[0].Type != "derived" {
		t.Errorf("related %+v", r.Related)
	}
	if len(r.FalsePositives) != 1 || len(r.Fields) != 2 {
		t.Errorf("falsepositives %v fields %v", r.FalsePositives, r.Fields)
	}
}

// TestParsedEvents runs rules on the Windows and syslog parsers' golden
// output, so the mapping is checked against what the parsers really emit.
func TestParsedEvents(t *testing.T) {
	bad := loadEvent(t, "../../parsers/winevent/testdata/eventxml/4625_bad_password_ja/expected.json")
	ok := loadEvent(t, "../../parsers/winevent/testdata/eventxml/4624_network_ntlm/expected.json")
	sshd := loadEvent(t, "../../parsers/syslog/testdata/sshd_failed_3164/expected.json")

	r, err := sigma.Compile([]byte(failedLogonJA), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Match(bad) || r.Match(ok) || r.Match(sshd) {
		t.Errorf("4625 rule: bad %v ok %v sshd %v", r.Match(bad), r.Match(ok), r.Match(sshd))
	}

	ssh, err := sigma.Compile([]byte(`
title: sshd brute force attempt
logsource: {product: linux, service: auth}
detection:
  keywords: ['Failed password for invalid user']
  condition: keywords
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !ssh.Match(sshd) || ssh.Match(bad) {
		t.Errorf("sshd rule: sshd %v 4625 %v", ssh.Match(sshd), ssh.Match(bad))
	}
}

func TestCompileFilterIsReported(t *testing.T) {
	_, err := sigma.Compile([]byte(`
title: f
logsource: {product: windows}
filter: {rules: [x], sel: {A: 1}, condition: not sel}
`), nil)
	if !errors.Is(err, sigma.ErrUnsupported) {
		t.Fatalf("err %v", err)
	}
}

func TestMappingIsStrict(t *testing.T) {
	if _, err := sigma.ParseMapping([]byte("logsources:\n  - match: {product: windows}\n    feilds: {A: b}\n")); err == nil {
		t.Fatal("misspelt key accepted")
	}
	if _, err := sigma.ParseMapping([]byte("logsources:\n  - conditions: {a: b}\n")); err == nil {
		t.Fatal("entry matching every rule accepted")
	}
	m := sigma.DefaultMapping()
	if len(m.Logsources) == 0 || len(m.KeywordFields) == 0 {
		t.Fatal("empty default mapping")
	}
}

func TestCustomMapping(t *testing.T) {
	m, err := sigma.ParseMapping([]byte(`
keyword_fields: [event.original]
logsources:
  - match: {product: acme}
    conditions: {event.module: acme}
    fields: {Account: user.name}
`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := sigma.Compile([]byte(`
title: acme admin
logsource: {product: acme}
detection:
  sel: {Account: root}
  condition: sel
`), &sigma.Config{Mapping: m})
	if err != nil {
		t.Fatal(err)
	}
	e := &event.Event{}
	e.Event.Module = "acme"
	e.User = &event.User{Name: "ROOT"}
	if !r.Match(e) {
		t.Fatal("no match")
	}
}
