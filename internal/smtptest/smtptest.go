// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on
// a loopback port for tests: STARTTLS with a test CA, AUTH PLAIN, and every
// accepted message kept in memory to be read back.
package smtptest

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/mamori-soc/mamori/internal/testpki"
)

// The account the server accepts.
const (
	User     = "mamori"
	Password = "s3cret-パス"
)

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
	// TLS says the session was under TLS when the message came; AuthUser
	// is who authenticated ("" if nobody).
	TLS      bool
	AuthUser string
}

// Subject is the message's decoded Subject header.
func (m Message) Subject() (string, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return "", err
	}
	var dec mime.WordDecoder
	return dec.DecodeHeader(msg.Header.Get("Subject"))
}

// Header is the message's header.
func (m Message) Header() (mail.Header, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return nil, err
	}
	return msg.Header, nil
}

// Text is the decoded body of a single-part message.
func (m Message) Text() (string, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return "", err
	}
	raw, err := io.ReadAll(msg.Body)
	if err != nil {
		return "", err
	}
	switch enc := strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")); enc {
	case "base64":
		b, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(raw)))
		return string(b), err
	case "quoted-printable":
		b, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
		return string(b), err
	case "", "7bit", "8bit":
		return string(raw), nil
	default:
		return "", fmt.Errorf("smtptest: transfer encoding %q", enc)
	}
}

// Server is a running test server.
type Server struct {
	// Port is its loopback port; CAFile signs its certificate (for
	// 127.0.0.1).
	Port   int
	CAFile string
	be     *backend
}

// Start starts a server on a free loopback port, offering STARTTLS unless
// withTLS is false (then AUTH is offered in clear, as a loopback relay
// configured insecure would be). It stops when the test ends.
func Start(t testing.TB, withTLS bool) *Server {
	t.Helper()
	pki := testpki.New(t, "127.0.0.1", "client")
	be := &backend{}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.AllowInsecureAuth = !withTLS
	if withTLS {
		cert, err := tls.LoadX509KeyPair(pki.CertFile, pki.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &Server{Port: l.Addr().(*net.TCPAddr).Port, CAFile: pki.CAFile, be: be}
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	s.be.mu.Lock()
	defer s.be.mu.Unlock()
	return append([]Message(nil), s.be.msgs...)
}

// backend keeps what the server receives, in memory.
type backend struct {
	mu   sync.Mutex
	msgs []Message
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) { return &session{b: b, c: c}, nil }

type session struct {
	b    *backend
	c    *smtp.Conn
	user string
	msg  Message
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != User || password != Password {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.msg = Message{From: from}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, s.msg.TLS = s.c.TLSConnectionState()
	s.msg.Data, s.msg.AuthUser = b, s.user
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, s.msg)
	s.b.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.msg = Message{} }
func (s *session) Logout() error { return nil }
