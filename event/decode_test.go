package event

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/require"
)

// ts is a member every decodable document needs.
const ts = `"@timestamp":"2026-01-02T03:04:05.123Z"`

// edgeDocs are hand-written documents for what the testdata seldom has.
var edgeDocs = []string{
	// Dotted and nested keys mixed, empty objects, arrays of objects.
	`{` + ts + `,"a.b":1,"a":{"c":2,"d":{"e":"x"}},"a.d.f":"y"}`,
	`{` + ts + `,"host":{"name":"h","os":{"family":"windows"}},"host.hostname":"hh","host.os.name":"w"}`,
	`{` + ts + `,"log":{"syslog":{"facility":{"code":4,"name":"auth"},"priority":1e2},"source.address":"192.0.2.1:514"}}`,
	`{` + ts + `,"a":{},"b":{"c":{}},"host":{},"d":{"e":{},"f":1}}`,
	`{` + ts + `,"a":[{"b":1,"c":[{"d":"e"},[]],"x":{"y":{}}},{"f":null},[],{}],"g":[[1,"2"],[true,false,null]]}`,
	`{` + ts + `,"":1,"e":{"":2,".":3},"..":{"a":4}}`,
	// Numbers.
	`{` + ts + `,"n1":1e3,"n2":-0,"n3":1.5,"n4":12345678901234567890,"n5":-9223372036854775808,"n6":9223372036854775807,"n7":9223372036854775808,"n8":1E-7,"n9":0.0,"n10":-0.0,"n11":1e400,"n12":-1e400,"n13":[1,2.5,-3e2,1e+2],"n14":0,"n15":255,"n16":256}`,
	`{` + ts + `,"source":{"port":1e3},"destination.port":443,"event":{"severity":0},"process":{"pid":4242.0}}`,
	`{` + ts + `,"source":{"port":1.5}}`,
	`{` + ts + `,"source":{"port":"80"}}`,
	`{` + ts + `,"source":{"port":1e400}}`,
	`{` + ts + `,"event.risk_score":47,"mamori.alert.count":3.0,"mamori.alert.window_start":"2026-01-02T03:00:00+09:00"}`,
	// Strings: escapes, surrogate pairs, lone surrogates, Japanese, invalid UTF-8.
	`{` + ts + `,"message":"\u65e5\u672c\ud83d\ude00 \ud800 \udc00\ud800 \ud800\u0041 \u0000 \/ \\ \" \b\f\n\r\t","k\u00e9y":"v","日本語キー":"ログイン失敗 田中 (端末 札幌-03)"}`,
	`{` + ts + `,"event":{"original":"<38>Nov 26 14:04:03 web03 sshd[4242]: 認証失敗 \"x\""},"user":{"name":"田中"}}`,
	"{" + ts + ",\"a\":\"\xff\xfe\xed\xa0\x80 ok \xe6\x97\",\"\xff\":1,\"b\":[\"\xc0\x80\"],\"c\":\"\xef\xbf\xbd\"}",
	"{" + ts + ",\"message\":\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\",\"tags\":[\"\xff\"]}",
	// Repeated keys: the later member replaces the earlier entirely.
	`{` + ts + `,"a":{"b":1},"a":2}`,
	`{` + ts + `,"a":{"b":1},"a":{"c":2}}`,
	`{` + ts + `,"message":1,"message":"x"}`,
	`{` + ts + `,"message":"x","message":1}`,
	`{` + ts + `,"a":1,"\u0061":2,"b":{"c":1,"d":2,"c":3}}`,
	`{"@timestamp":"bad",` + ts + `}`,
	"{" + ts + ",\"\xff\":1,\"\xfe\":2}",
	`{` + ts + `,"a":[{"x":1,"x":2}]}`,
	// Typed fields.
	`{` + ts + `,"event":{"created":"2026-01-02T03:04:05.123456789+09:00","ingested":"2026-01-02T03:04:06Z","category":["authentication"],"type":[]},"event.start":"2026-01-02T03:04:05Z"}`,
	`{` + ts + `,"event.end":"bad"}`,
	`{` + ts + `,"event":{"ingested":5}}`,
	`{` + ts + `,"event":{"created":["2026-01-02T03:04:05Z"]}}`,
	`{` + ts + `,"tags":"x","host":{"ip":["192.0.2.1","2001:db8::1"]},"related":{"user":["a","b"]}}`,
	`{` + ts + `,"tags":["a",1]}`,
	`{` + ts + `,"tags":[]}`,
	`{` + ts + `,"tags":{"a":1}}`,
	`{` + ts + `,"a":null}`,
	`{` + ts + `,"message":null}`,
	`{` + ts + `,"message":true}`,
	`{` + ts + `,"host":{"name":{"first":"x"}}}`,
	`{` + ts + `,"host.name":{}}`,
	`{"@timestamp":"2026-01-02T12:00:00+09:00"}`,
	`{"@timestamp":1}`,
	`{"@timestamp":"2026-01-02"}`,
	// No @timestamp.
	`{"message":"x","host":{"name":"h"},"a":{"b":1}}`,
	`{}`,
	`null`, ` null `, `null x`, `nul`, `null}`,
	// Bad documents.
	``, ` `, `{`, `[]`, `"x"`, `1`, `{"a":1,}`, `{"a":01}`, `{"a":-}`, `{"a":"\x"}`, `{"a" 1}`, "{\"a\":\"\x01\"}",
	`{"@timestamp":"2026-01-02T03:04:05Z","a":[1,]}`, `{"@timestamp":"2026-01-02T03:04:05Z"`, "\ufeff{" + ts + "}",
	// White space.
	" \n\t{ " + ts + " , \"a\" : [ 1 , { \"b\" : { } } ] }\r\n",
	// Nesting.
	`{` + ts + `,` + strings.Repeat(`"a":{`, 30) + `"b":1` + strings.Repeat(`}`, 30) + `}`,
	`{` + ts + `,"a":` + strings.Repeat(`[`, 30) + strings.Repeat(`]`, 30) + `}`,
}

// testDocs returns the edge documents, every expected.json and input.json
// of the parsers' testdata as it is, and every expected.json decoded and
// encoded again by Marshal, as the pipeline writes events.
func testDocs(t testing.TB) map[string][]byte {
	docs := map[string][]byte{}
	for i, doc := range edgeDocs {
		docs["edge/"+string(rune('A'+i%26))+strings.Repeat("'", i/26)] = []byte(doc)
	}
	err := filepath.WalkDir("../parsers", func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || !strings.HasSuffix(path, ".json") || strings.HasSuffix(path, "meta.json") {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		docs[path] = raw
		var e Event
		if filepath.Base(path) == "expected.json" && referenceUnmarshal(raw, &e) == nil {
			enc, err := Marshal(&e)
			if err != nil {
				return err
			}
			docs[path+"/marshal"] = enc
		}
		return nil
	})
	require.NoError(t, err)
	return docs
}

// checkUnmarshal requires the same result of Unmarshal and
// referenceUnmarshal on data, but for the deliberate differences.
func checkUnmarshal(t *testing.T, data []byte) {
	var want, got Event
	wantErr := referenceUnmarshal(bytes.Clone(data), &want)
	buf := bytes.Clone(data)
	gotErr := Unmarshal(buf, &got)
	for i := range buf {
		buf[i] = '#' // got must keep nothing of the record
	}
	if gotErr != nil && deliberate(data, gotErr) {
		return
	}
	require.Equal(t, wantErr == nil, gotErr == nil, "%q\nreference: %v\nnew: %v", data, wantErr, gotErr)
	require.Equal(t, errors.Is(wantErr, ErrNoTimestamp), errors.Is(gotErr, ErrNoTimestamp), "%q\nreference: %v\nnew: %v", data, wantErr, gotErr)
	if wantErr != nil && !errors.Is(wantErr, ErrNoTimestamp) || collides(data) {
		return
	}
	require.Equal(t, want, got, "%q", data)
}

// deliberate reports an error of Unmarshal that differs from the
// reference's result on purpose: data after the document (the reference
// ignored it) and nesting deeper than jsonread.MaxDepth (the reference
// allowed 10,000 levels).
func deliberate(data []byte, err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "data after the JSON") && !stdjson.Valid(data) ||
		strings.Contains(msg, "nested deeper")
}

// collides reports a document where two members name the same field (the
// dotted "a.b" and the nested {"a":{"b":...}}): the reference let the map's
// order decide which one wins, so only success or failure is compared.
func collides(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if dec.Decode(&doc) != nil {
		return false
	}
	seen := map[string]bool{}
	var walk func(prefix string, obj map[string]any) bool
	walk = func(prefix string, obj map[string]any) bool {
		for k, v := range obj {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			if m, ok := v.(map[string]any); ok && len(m) > 0 && catalogue[name] == nil {
				if walk(name, m) {
					return true
				}
				continue
			}
			if seen[name] {
				return true
			}
			seen[name] = true
		}
		return false
	}
	return walk("", doc)
}

func TestUnmarshalMatchesReference(t *testing.T) {
	docs := testDocs(t)
	require.Greater(t, len(docs), 400)
	for name, data := range docs {
		t.Run(name, func(t *testing.T) { checkUnmarshal(t, data) })
	}
}

// TestUnmarshalBehaviour pins what the reference left to chance or did
// otherwise.
func TestUnmarshalBehaviour(t *testing.T) {
	// The later of two members naming the same field wins.
	var e Event
	require.NoError(t, Unmarshal([]byte(`{`+ts+`,"a.b":1,"a":{"b":2},"host":{"name":"x"},"host.name":"y"}`), &e))
	require.Equal(t, int64(2), e.Fields["a.b"])
	require.Equal(t, "y", e.Host.Name)
	// A repeated key replaces the whole earlier member, its errors included.
	require.NoError(t, Unmarshal([]byte(`{`+ts+`,"a":{"b":1},"message":1,"a":2,"message":"m"}`), &e))
	require.Equal(t, map[string]any{"a": int64(2)}, e.Fields)
	require.Equal(t, "m", e.Message)
	// Data after the object and nesting beyond the limit are errors.
	require.ErrorContains(t, Unmarshal([]byte(`{`+ts+`} x`), &e), "data after the JSON object")
	require.ErrorContains(t, Unmarshal([]byte(`{`+ts+`}{}`), &e), "data after the JSON object")
	require.NoError(t, Unmarshal([]byte("{"+ts+"}\n"), &e))
	deep := `{` + ts + `,"a":` + strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat(`}`, 71)
	require.NoError(t, referenceUnmarshal([]byte(deep), &e))
	require.ErrorContains(t, Unmarshal([]byte(deep), &e), "nested deeper than 64")
	// On an error e is left as it was; on ErrNoTimestamp it holds the rest.
	e = Event{Message: "before"}
	require.Error(t, Unmarshal([]byte(`{`+ts+`,"source":{"port":"http"}}`), &e))
	require.Error(t, Unmarshal([]byte(`{`+ts+`,"a":1,}`), &e))
	require.Equal(t, Event{Message: "before"}, e)
	require.ErrorIs(t, Unmarshal([]byte(`{"message":"m"}`), &e), ErrNoTimestamp)
	require.Equal(t, Event{Message: "m"}, e)
	// Dates are times in UTC.
	require.NoError(t, Unmarshal([]byte(`{"@timestamp":"2026-01-02T12:00:00+09:00"}`), &e))
	require.Equal(t, time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC), e.Timestamp)
}

func FuzzUnmarshal(f *testing.F) {
	for _, data := range testDocs(f) {
		f.Add(data)
	}
	f.Fuzz(checkUnmarshal)
}
