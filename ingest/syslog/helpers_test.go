package syslog_test

import (
	"context"
	"log/slog"
	"net"
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
