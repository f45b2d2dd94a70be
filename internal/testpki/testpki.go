// Package testpki makes a throwaway certificate authority for tests: a CA,
// a server certificate for localhost, 127.0.0.1 and ::1, and a client certificate,
// written as PEM files for configurations and loaded for clients.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// PKI is a CA with one server and one client certificate.
type PKI struct {
	CAFile, CertFile, KeyFile string         // PEM files: CA, server certificate, server key
	Pool                      *x509.CertPool // trusts the CA
	Client                    tls.Certificate
}

// New issues the certificates into t's temporary directory. server names
// the server certificate, client the client certificate's common name.
func New(t testing.TB, server, client string) PKI {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mamori test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	must(err)
	ca, err := x509.ParseCertificate(caDER)
	must(err)

	issue := func(serial int64, name string, usage x509.ExtKeyUsage, dns []string, ips ...net.IP) ([]byte, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(err)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, DNSNames: dns, IPAddresses: ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		must(err)
		return der, key
	}
	writePEM := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		must(os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
		return path
	}
	keyDER := func(k *ecdsa.PrivateKey) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		must(err)
		return der
	}
	srvDER, srvKey := issue(2, server, x509.ExtKeyUsageServerAuth, []string{"localhost"}, net.IPv4(127, 0, 0, 1), net.IPv6loopback)
	cliDER, cliKey := issue(3, client, x509.ExtKeyUsageClientAuth, nil)
	p := PKI{
		CAFile:   writePEM("ca.pem", "CERTIFICATE", caDER),
		CertFile: writePEM("server.pem", "CERTIFICATE", srvDER),
		KeyFile:  writePEM("server.key", "PRIVATE KEY", keyDER(srvKey)),
		Pool:     x509.NewCertPool(),
		Client:   tls.Certificate{Certificate: [][]byte{cliDER}, PrivateKey: cliKey},
	}
	p.Pool.AddCert(ca)
	return p
}
