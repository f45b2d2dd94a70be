package httpin_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/ingest"
	"github.com/mamori-soc/mamori/ingest/httpin"
	"github.com/mamori-soc/mamori/internal/fakebus"
	"github.com/mamori-soc/mamori/internal/testpki"
)

const secretToken = "mamori_test-token-for-wec01"

func hash(tok string) string { s := sha256.Sum256([]byte(tok)); return hex.EncodeToString(s[:]) }

// splitSemicolons is a test format: records separated by ';', and "!" is a
// malformed body.
func splitSemicolons(r io.Reader, fn func([]byte) error) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if bytes.Contains(b, []byte("!")) {
		return errors.New("'!' at offset 3 is not allowed")
	}
	for _, rec := range bytes.Split(b, []byte(";")) {
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

type edge struct {
	url    string
	client *http.Client
	pki    testpki.PKI
}

func start(t *testing.T, pub bus.Producer, mutate func(*httpin.Config, testpki.PKI)) edge {
	t.Helper()
	pki := testpki.New(t, "mamori ingest", "wec01")
	cfg := httpin.Config{
		Address: "127.0.0.1:0",
		TLS:     &ingest.TLSConfig{CertFile: pki.CertFile, KeyFile: pki.KeyFile},
		Tokens:  []httpin.Token{{Name: "wec01", SHA256: hash(secretToken)}},
	}
	if mutate != nil {
		mutate(&cfg, pki)
	}
	s, err := httpin.New(cfg, pub, httpin.Options{
		Topic:   bus.TopicRawWinlog,
		Formats: map[string]httpin.Splitter{"winlogbeat": httpin.SplitLines, "test": splitSemicolons},
	})
	require.NoError(t, err)
	addr, err := s.Listen()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.Pool, Certificates: []tls.Certificate{pki.Client}}}}
	return edge{url: "https://" + addr.String(), client: client, pki: pki}
}

func (e edge) post(t *testing.T, format, token string, body []byte, hdr map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+"/ingest/v1/"+format, bytes.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out, resp.Header
}

func TestPostNDJSON(t *testing.T) {
	pub := &fakebus.Producer{}
	e := start(t, pub, nil)
	body := "{\"winlog\":{\"event_id\":\"4624\",\"event_data\":{\"TargetUserName\":\"田中\"}}}\r\n\n{\"b\":2}\n  \n{\"c\":3}"
	code, out, _ := e.post(t, "winlogbeat", secretToken, []byte(body), nil)
	require.Equal(t, http.StatusOK, code, out)
	require.Equal(t, 3.0, out["accepted"])

	recs := pub.Records()
	require.Len(t, recs, 3)
	require.Equal(t, `{"winlog":{"event_id":"4624","event_data":{"TargetUserName":"田中"}}}`, string(recs[0].Value), "line endings are not part of a record; UTF-8 is kept as is")
	require.Equal(t, `{"c":3}`, string(recs[2].Value), "the last line needs no newline")
	m, err := ingest.Meta(&recs[0])
	require.NoError(t, err)
	require.Equal(t, "http", m.Receiver)
	require.Equal(t, "https", m.Transport)
	require.True(t, strings.HasPrefix(m.Peer, "127.0.0.1:"), m.Peer)
	f, _ := recs[0].Header(bus.HeaderFormat)
	require.Equal(t, "winlogbeat", f)
	require.Equal(t, bus.TopicRawWinlog, recs[0].Topic)
}

func TestAuthentication(t *testing.T) {
	pub := &fakebus.Producer{}
	e := start(t, pub, nil)
	code, out, hdr := e.post(t, "winlogbeat", "", []byte("{}"), nil)
	require.Equal(t, http.StatusUnauthorized, code)
	require.Contains(t, out["error"], "missing credentials")
	require.NotEmpty(t, hdr.Get("WWW-Authenticate"))

	code, out, _ = e.post(t, "winlogbeat", "mamori_wrong", []byte("{}"), nil)
	require.Equal(t, http.StatusUnauthorized, code)
	require.Equal(t, "unknown token", out["error"])

	code, _, _ = e.post(t, "winlogbeat", "", []byte("{}"), map[string]string{"Authorization": "Basic d2VjOnB3"})
	require.Equal(t, http.StatusUnauthorized, code)
	require.Empty(t, pub.Records(), "nothing unauthenticated reaches the bus")

	// Plain HTTP is not served at all.
	resp, err := http.Post(strings.Replace(e.url, "https:", "http:", 1)+"/ingest/v1/winlogbeat", "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "Go answers plain HTTP on a TLS port with 400")
	}
	require.Empty(t, pub.Records())
}

// With client certificates required, a verified certificate is enough and a
// client without one cannot even connect.
func TestClientCertificateIsEnough(t *testing.T) {
	pub := &fakebus.Producer{}
	e := start(t, pub, func(c *httpin.Config, pki testpki.PKI) {
		c.Tokens = nil
		c.TLS.ClientCAFile = pki.CAFile
	})
	code, out, _ := e.post(t, "winlogbeat", "", []byte("{}"), nil)
	require.Equal(t, http.StatusOK, code, out)
	require.Len(t, pub.Records(), 1)

	anon := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.pki.Pool}}}
	resp, err := anon.Post(e.url+"/ingest/v1/winlogbeat", "application/json", strings.NewReader("{}"))
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err, "no client certificate, no connection")
	require.Len(t, pub.Records(), 1)
}

func TestBadBodies(t *testing.T) {
	pub := &fakebus.Producer{}
	e := start(t, pub, func(c *httpin.Config, _ testpki.PKI) { c.MaxBodySize = 4 << 10; c.MaxRecordSize = 1 << 10 })

	code, out, _ := e.post(t, "evtx", secretToken, []byte("x"), nil)
	require.Equal(t, http.StatusNotFound, code)
	require.Equal(t, `unknown format "evtx": want one of test, winlogbeat`, out["error"])

	code, out, _ = e.post(t, "test", secretToken, []byte("a;b!;c"), nil)
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "test body: '!' at offset 3 is not allowed", out["error"])
	require.Empty(t, pub.Records(), "a malformed batch is refused whole: the sender keeps it")

	code, out, _ = e.post(t, "winlogbeat", secretToken, bytes.Repeat([]byte("{}\n"), 3000), nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, code)
	require.Contains(t, out["error"], "max_body_size")

	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	_, _ = zw.Write(bytes.Repeat([]byte("{}\n"), 100000))
	require.NoError(t, zw.Close())
	require.Less(t, bomb.Len(), 4<<10)
	code, _, _ = e.post(t, "winlogbeat", secretToken, bomb.Bytes(), map[string]string{"Content-Encoding": "gzip"})
	require.Equal(t, http.StatusRequestEntityTooLarge, code, "the limit holds after decompression too")

	code, out, _ = e.post(t, "winlogbeat", secretToken, []byte("{}"), map[string]string{"Content-Encoding": "br"})
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, out["error"], `Content-Encoding "br" is not supported`)
	require.Empty(t, pub.Records())

	var gz bytes.Buffer
	zw = gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte("{\"a\":1}\n" + strings.Repeat("x", 1500) + "\n"))
	require.NoError(t, zw.Close())
	code, out, _ = e.post(t, "winlogbeat", secretToken, gz.Bytes(), map[string]string{"Content-Encoding": "gzip"})
	require.Equal(t, http.StatusOK, code, out)
	recs := pub.Records()
	require.Len(t, recs, 2)
	require.Len(t, recs[1].Value, 1<<10, "an oversize record is cut to max_record_size...")
	m, err := ingest.Meta(&recs[1])
	require.NoError(t, err)
	require.Equal(t, int64(1500), m.Truncated, "...and says how long it was, so the parse stage dead-letters it with the reason")
}

func TestBusDownIs503(t *testing.T) {
	pub := &fakebus.Producer{Err: bus.ErrUnavailable}
	e := start(t, pub, nil)
	code, out, hdr := e.post(t, "winlogbeat", secretToken, []byte("{}\n{}"), nil)
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, out["error"], "send the batch again")
	require.Equal(t, "5", hdr.Get("Retry-After"))
}

func TestConfigErrors(t *testing.T) {
	_, err := httpin.New(httpin.Config{Address: "127.0.0.1:0"}, &fakebus.Producer{}, httpin.Options{})
	require.ErrorContains(t, err, "tls: missing: the HTTP edge serves HTTPS only")
	require.ErrorContains(t, err, "tokens: none")
	_, err = httpin.New(httpin.Config{Address: "nohost", TLS: &ingest.TLSConfig{CertFile: "a", KeyFile: "b"},
		Tokens: []httpin.Token{{Name: "x", SHA256: "abc"}}}, &fakebus.Producer{}, httpin.Options{})
	require.ErrorContains(t, err, `address: "nohost" is not host:port`)
	require.ErrorContains(t, err, "tokens[0].sha256: want the 64 hex digits")
}
