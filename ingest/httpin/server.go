// Package httpin is the HTTP edge: Windows Event Collector scripts, NXLog's
// om_http and other senders POST batches of records over HTTPS, and the
// edge publishes each record, unparsed, to the bus like the syslog edge
// does, stamped with its format.
//
// One endpoint per format, POST /ingest/v1/{format}: "eventxml" takes one or
// more <Event> documents as wevtutil and Windows Event Forwarding write them
// (UTF-8 or UTF-16, optionally inside <Events>); the JSON formats
// ("winlogbeat", "nxlog") take one JSON object per line (NDJSON). Bodies may
// be gzip-compressed (Content-Encoding: gzip). Senders authenticate with a
// bearer token or a client certificate. The edge answers 200 with the
// number of records only once the bus holds them durably; a sender that gets
// anything else keeps its batch and sends it again (delivery is at least
// once).
package httpin

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/ingest"
)

// Splitter reads a request body and calls fn with each record in it. fn
// must not retain the slice. An error says what is wrong with the body and
// where.
type Splitter func(r io.Reader, fn func(rec []byte) error) error

// Options are what the edge needs besides its configuration.
type Options struct {
	// Formats maps a format name (the last path segment, and the
	// mamori.format header of the records) to its splitter.
	Formats map[string]Splitter
	// Topic the records go to (bus.TopicRawWinlog).
	Topic      string
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// publishChunk bounds one Publish call, so one large body does not make one
// huge produce request.
const publishChunk = 1000

// Server is the HTTP edge.
type Server struct {
	cfg      Config
	opts     Options
	pub      bus.Producer
	log      *slog.Logger
	m        *ingest.ListenerMetrics
	tokens   []token
	stampers map[string]*ingest.Stamper
	ln       net.Listener
	srv      *http.Server
}

type token struct {
	name string
	sum  [sha256.Size]byte
}

// New checks cfg and builds the edge; Listen binds it.
func New(cfg Config, pub bus.Producer, opts Options) (*Server, error) {
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := ingest.NewMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, opts: opts, pub: pub, log: opts.Logger, m: m.Listener(cfg.Name), stampers: map[string]*ingest.Stamper{}}
	for _, t := range cfg.Tokens {
		tok := token{name: t.Name}
		_, _ = hex.Decode(tok.sum[:], []byte(strings.ToLower(t.SHA256))) // checked by Validate
		s.tokens = append(s.tokens, tok)
	}
	for name := range opts.Formats {
		s.stampers[name] = ingest.NewStamper(ingest.StamperConfig{Topic: opts.Topic, Receiver: cfg.Name, Transport: "https", Format: name})
	}
	return s, nil
}

// Listen binds the address and loads the certificates; it returns the bound
// address.
func (s *Server) Listen() (net.Addr, error) {
	conf, err := s.cfg.TLS.Build("ingest.http.tls")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", s.cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("ingest.http: listen on %s: %w", s.cfg.Address, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ingest/v1/{format}", s.post)
	s.srv = &http.Server{
		Handler: mux, TLSConfig: conf,
		ReadHeaderTimeout: s.cfg.TLS.HandshakeTimeout + 10*time.Second, ReadTimeout: 5 * time.Minute,
		WriteTimeout: 6 * time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.ln = ln
	return ln.Addr(), nil
}

// Run serves until ctx ends, then lets requests in flight finish (up to 30
// seconds) so that what was acknowledged is what was published.
func (s *Server) Run(ctx context.Context) error {
	if s.ln == nil {
		return errors.New("ingest.http: Run before Listen")
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.ServeTLS(s.ln, "", "") }()
	select {
	case err := <-errc:
		return fmt.Errorf("ingest.http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("ingest.http: shutdown: %w", err)
	}
	return nil
}

func (s *Server) post(w http.ResponseWriter, r *http.Request) {
	who, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	format := r.PathValue("format")
	split, stamper := s.opts.Formats[format], s.stampers[format]
	if split == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("unknown format %q: want one of %s", format, strings.Join(s.formatNames(), ", ")))
		return
	}
	body, err := s.body(w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	peer := ingest.NewPeer(peerOf(r.RemoteAddr))
	maxRec := int(s.cfg.MaxRecordSize)
	var recs []bus.Record
	err = split(body, func(rec []byte) error {
		size := len(rec)
		if size > maxRec {
			rec = rec[:maxRec]
		}
		s.m.Received(int64(size), int64(len(rec)))
		recs = append(recs, stamper.Stamp(peer, bytes.Clone(rec), int64(size)))
		return nil
	})
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		s.m.Error(ingest.ErrorRead)
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than max_body_size (%d bytes): send smaller batches", s.cfg.MaxBodySize))
		return
	case err != nil:
		// Nothing is published: the sender still has the whole batch and
		// the error says what to fix.
		s.m.Error(ingest.ErrorFraming)
		s.log.Warn("rejected a malformed batch", "listener", s.cfg.Name, "sender", who, "peer", peer.String(), "format", format, "err", err)
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%s body: %v", format, err))
		return
	}
	for i := 0; i < len(recs); i += publishChunk {
		chunk := recs[i:min(i+publishChunk, len(recs))]
		start := time.Now()
		if err := s.pub.Publish(r.Context(), chunk...); err != nil {
			s.m.Error(ingest.ErrorPublish)
			s.log.Warn("could not publish a batch; the sender will retry", "listener", s.cfg.Name, "sender", who, "records", len(recs), "err", err)
			w.Header().Set("Retry-After", "5")
			writeError(w, http.StatusServiceUnavailable, "the bus is unavailable; send the batch again later")
			return
		}
		s.m.Published(chunk, time.Since(start))
	}
	writeJSON(w, http.StatusOK, map[string]int{"accepted": len(recs)})
}

// authenticate accepts a verified client certificate or a known bearer
// token, and names the sender for the logs.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			writeError(w, http.StatusUnauthorized, "Authorization must be Bearer <token>")
			return "", false
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		name := ""
		for _, t := range s.tokens {
			if subtle.ConstantTimeCompare(sum[:], t.sum[:]) == 1 {
				name = t.name
			}
		}
		if name == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mamori-ingest", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "unknown token")
			return "", false
		}
		return "token:" + name, true
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return "cert:" + r.TLS.VerifiedChains[0][0].Subject.CommonName, true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="mamori-ingest"`)
	writeError(w, http.StatusUnauthorized, "missing credentials: send Authorization: Bearer <token> or a client certificate")
	return "", false
}

// body returns the request body, decompressed, bounded by max_body_size
// (before and after decompression).
func (s *Server) body(w http.ResponseWriter, r *http.Request) (io.Reader, error) {
	limit := int64(s.cfg.MaxBodySize)
	body := io.Reader(http.MaxBytesReader(w, r.Body, limit))
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return body, nil
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, fmt.Errorf("Content-Encoding gzip: %w", err)
		}
		return &limitedReader{r: zr, left: limit}, nil
	default:
		return nil, fmt.Errorf("Content-Encoding %q is not supported: send gzip or nothing", enc)
	}
}

// limitedReader fails with an *http.MaxBytesError after left bytes, so a
// small compressed body cannot expand without bound.
type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, &http.MaxBytesError{Limit: l.left}
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

func (s *Server) formatNames() []string {
	var names []string
	for n := range s.opts.Formats {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// SplitLines is the Splitter of the NDJSON formats: one record per line,
// without its line ending; blank lines are skipped. A line longer than the
// reader's buffer is still one record.
func SplitLines(r io.Reader, fn func(rec []byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, line...)
			continue
		}
		if long != nil {
			line = append(long, line...)
			long = nil
		}
		if rec := bytes.TrimRight(line, "\r\n"); len(bytes.TrimSpace(rec)) > 0 {
			if ferr := fn(rec); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func peerOf(remote string) netip.AddrPort {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.AddrPort{}
	}
	return ap
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
