package event_test

import (
	"bytes"
	stdjson "encoding/json"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"
	jsoniter "github.com/json-iterator/go"
	segjson "github.com/segmentio/encoding/json"

	"github.com/mamori-soc/mamori/event"
)

// These benchmarks chose the JSON library behind the codec (docs/benchmarks.md).

func sample() *event.Event {
	pri := int64(38)
	e := &event.Event{
		Timestamp: time.Date(2026, 11, 26, 5, 4, 3, 123456000, time.UTC),
		Message:   "Failed password for invalid user admin from 203.0.113.9 port 51122 ssh2",
		Event: event.Meta{ID: "0123456789abcdefghijklmnopqrstuv", Kind: "event", Category: []string{"authentication"},
			Type: []string{"start"}, Outcome: "failure", Dataset: "syslog", Module: "syslog", Severity: ptr(int64(6)),
			Created:  ptr(time.Date(2026, 11, 26, 5, 4, 3, 200000000, time.UTC)),
			Original: "<38>Nov 26 14:04:03 web03 sshd[4242]: Failed password for invalid user admin from 203.0.113.9 port 51122 ssh2"},
		Host:    &event.Host{Name: "web03", Hostname: "web03"},
		Process: &event.Process{Name: "sshd", PID: 4242},
		Log: &event.Log{Level: "informational", Source: &event.LogSource{Address: "192.0.2.10:40112"},
			Syslog: &event.Syslog{Priority: &pri, Facility: &event.Code{Code: 4, Name: "auth"}, Severity: &event.Code{Code: 6, Name: "informational"}, Hostname: "web03", Appname: "sshd", Procid: "4242"}},
		Network: &event.Network{Transport: "tcp"},
		Agent:   &event.Agent{Name: "syslog-tcp", Type: "mamori"},
	}
	return e
}

func ptr[T any](v T) *T { return &v }

type lib struct {
	name      string
	marshal   func(any) ([]byte, error)
	unmarshal func([]byte, any) error
}

var libs = []lib{
	{"encoding/json", stdjson.Marshal, stdjson.Unmarshal},
	{"goccy/go-json", gojson.Marshal, gojson.Unmarshal},
	{"segmentio/encoding", segjson.Marshal, segjson.Unmarshal},
	{"json-iterator", jsoniter.ConfigCompatibleWithStandardLibrary.Marshal, jsoniter.ConfigCompatibleWithStandardLibrary.Unmarshal},
}

func BenchmarkJSONLibMarshal(b *testing.B) {
	e := sample()
	want, _ := stdjson.Marshal(e)
	for _, l := range libs {
		b.Run(l.name, func(b *testing.B) {
			got, err := l.marshal(e)
			if err != nil || !bytes.Equal(got, want) {
				b.Skipf("%s differs from encoding/json (%v): %s", l.name, err, got)
			}
			b.ReportAllocs()
			for b.Loop() {
				_, _ = l.marshal(e)
			}
		})
	}
}

func BenchmarkJSONLibUnmarshalMap(b *testing.B) {
	data, _ := event.Marshal(sample())
	for _, l := range libs {
		b.Run(l.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var m map[string]any
				if err := l.unmarshal(data, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
