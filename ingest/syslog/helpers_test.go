package syslog_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/ingest/syslog"
)

// wait is the generous limit of every eventually-style poll: polls end as
// soon as the condition holds, the limit only matters when a test fails.
const wait = 30 * time.Second

const tick = 2 * time.Millisecond

// server is a running syslog.Server for a test.
type server struct {
	addrs  []net.Addr
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
}

// quickBatch publishes within milliseconds and retries at once.
func quickBatch() syslog.Config {
	var c syslog.Config
	c.Batch.MaxWait = 2 * time.Millisecond
	c.Batch.BackoffInitial = time.Millisecond
	c.Batch.BackoffMax = 5 * time.Millisecond
	return c
}

// start runs a server for cfg, bound on 127.0.0.1:0 wherever the address
// is empty, until the test ends (or stop is called).
func start(t *testing.T, cfg syslog.Config, p bus.Producer) *server {
	t.Helper()
	for i := range cfg.Listeners {
		if cfg.Listeners[i].Address == "" {
			cfg.Listeners[i].Address = "127.0.0.1:0"
		}
	}
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := syslog.New(cfg, p, syslog.Options{Logger: log, Registerer: reg})
	require.NoError(t, err)
	addrs, err := srv.Listen()
	require.NoError(t, err)
	require.Equal(t, addrs, srv.Addrs())
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{addrs: addrs, reg: reg, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s
}

// stop shuts the server down and returns what Run returned.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err // for Cleanup
		return err
	case <-time.After(wait):
		t.Fatal("Run did not return after cancel")
		return nil
	}
}

// testWriter sends logs to t.Log so they show only for failing tests.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

// pki is a throw-away CA with a server certificate for 127.0.0.1 and a
// client certificate, written as PEM files for the config.
type pki struct {
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
	client                    tls.Certificate
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mamori test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)

	issue := func(serial int64, name string, usage x509.ExtKeyUsage, ips ...net.IP) ([]byte, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		return der, key
	}
	writePEM := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
		return path
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		require.NoError(t, err)
		return der
	}
	srvDER, srvKey := issue(2, "mamori syslog", x509.ExtKeyUsageServerAuth, net.IPv4(127, 0, 0, 1))
	cliDER, cliKey := issue(3, "router-1", x509.ExtKeyUsageClientAuth)
	p := pki{
		caFile:   writePEM("ca.pem", "CERTIFICATE", caDER),
		certFile: writePEM("server.pem", "CERTIFICATE", srvDER),
		keyFile:  writePEM("server.key", "PRIVATE KEY", keyDER(srvKey)),
		pool:     x509.NewCertPool(),
		client:   tls.Certificate{Certificate: [][]byte{cliDER}, PrivateKey: cliKey},
	}
	p.pool.AddCert(ca)
	return p
}
