package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/mamori-soc/mamori/bus"
	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/dashboards/api"
	"github.com/mamori-soc/mamori/detections"
	"github.com/mamori-soc/mamori/ingest/httpin"
	"github.com/mamori-soc/mamori/ingest/syslog"
	"github.com/mamori-soc/mamori/parsers"
	psyslog "github.com/mamori-soc/mamori/parsers/syslog"
	"github.com/mamori-soc/mamori/parsers/winevent"
	"github.com/mamori-soc/mamori/pipeline"
	"github.com/mamori-soc/mamori/stage"
	"github.com/mamori-soc/mamori/store"
)

// Roles are the parts of Mamori one process runs (`mamori run --stages`):
// "ingest" (the edges), "parse", "detect" (detection rules), "index"
// (events and alerts into the store), "casework" (alerts into cases),
// "directory" (the scheduled
// directory sync, when configured: run it in one process) and "api". Spread
// over processes that share a Kafka bus, they scale out; by default one
// process runs all.
type Roles map[string]bool

// AllRoles lists every role in start order.
var AllRoles = []string{"ingest", "parse", "detect", "index", "casework", "directory", "api"}

// Everything returns every role: one process running all of Mamori.
func Everything() Roles {
	r := Roles{}
	for _, name := range AllRoles {
		r[name] = true
	}
	return r
}

// ParseRoles reads a comma-separated role list; "" or "all" means every role.
func ParseRoles(s string) (Roles, error) {
	if s == "" || s == "all" {
		return Everything(), nil
	}
	r := Roles{}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(AllRoles, name) {
			return nil, fmt.Errorf("unknown stage %q: want a comma-separated list of %s", name, strings.Join(AllRoles, ", "))
		}
		r[name] = true
	}
	return r, nil
}

// App is a running Mamori: its bus, store and metrics registry.
type App struct {
	roles Roles
	cfg   *config.Config
	log   *slog.Logger
	reg   *prometheus.Registry
	bus   bus.Bus
	store store.Store
	// Ready is closed once every listener is bound and the stages run.
	ready chan struct{}
	// Addrs are the bound addresses by listener name ("api" for the HTTP
	// server), set before Ready is closed.
	Addrs map[string]string

	stages []*stage.Runner
	// enricher adds directory context in the parse stage (nil: none).
	enricher pipeline.Enricher
	// casework is what the casework and api roles share (nil until one of
	// them starts).
	casework *caseworkParts
}

// New opens the bus, creates the topics and, when a role needs it, opens the
// store.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, roles Roles) (*App, error) {
	b, err := OpenBus(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if err := EnsureTopics(ctx, b, cfg); err != nil {
		b.Close()
		return nil, err
	}
	var s store.Store
	if roles["index"] || roles["api"] || roles["detect"] || roles["casework"] || directoryNeedsStore(cfg, roles) {
		if s, err = OpenStore(ctx, cfg, log, roles["index"] || roles["detect"] || roles["casework"] || directorySyncs(cfg, roles)); err != nil {
			b.Close()
			return nil, err
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &App{roles: roles, cfg: cfg, log: log, reg: reg, bus: b, store: s, ready: make(chan struct{}), Addrs: map[string]string{}}, nil
}

// Ready is closed when the app serves.
func (a *App) Ready() <-chan struct{} { return a.ready }

// Store returns the app's store (nil when no role needs it).
func (a *App) Store() store.Store { return a.store }

// Close releases the bus and the store.
func (a *App) Close() error {
	err := a.bus.Close()
	if a.store != nil {
		err = errors.Join(err, a.store.Close())
	}
	return err
}

// Run serves until ctx ends, then stops gracefully: the edges flush what
// they received to the bus, and each stage finishes and commits its batch.
func (a *App) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)

	if a.roles["ingest"] {
		if err := a.startEdges(gctx, g); err != nil {
			return err
		}
	}
	if err := a.startDirectory(gctx, g); err != nil {
		return err
	}
	if err := a.startStages(gctx, g); err != nil {
		return err
	}
	if a.roles["index"] {
		g.Go(func() error { a.sweep(gctx); return nil })
	}
	if a.roles["api"] {
		if err := a.startAPI(gctx, g); err != nil {
			return err
		}
	}
	var roles []string
	for _, r := range AllRoles {
		if a.roles[r] {
			roles = append(roles, r)
		}
	}
	a.log.Info("mamori running", "stages", strings.Join(roles, ","), "data_dir", a.cfg.DataDir, "timezone", a.cfg.Timezone)
	close(a.ready)
	err := g.Wait()
	a.log.Info("mamori stopped")
	return err
}

func (a *App) startEdges(ctx context.Context, g *errgroup.Group) error {
	edge, err := syslog.New(a.cfg.Ingest.Syslog, a.bus, syslog.Options{Logger: a.log.With("edge", "syslog"), Registerer: a.reg})
	if err != nil {
		return err
	}
	addrs, err := edge.Listen()
	if err != nil {
		return err
	}
	for i, addr := range addrs {
		name := a.cfg.Ingest.Syslog.Listeners[i].Name
		a.Addrs[name] = addr.String()
		a.log.Info("listener ready", "listener", name, "protocol", a.cfg.Ingest.Syslog.Listeners[i].Protocol.String(), "address", addr.String())
	}
	g.Go(func() error { return edge.Run(ctx) })
	return a.startHTTPEdge(ctx, g)
}

// startHTTPEdge starts the HTTPS edge for posted Windows events, when
// configured.
func (a *App) startHTTPEdge(ctx context.Context, g *errgroup.Group) error {
	hc := a.cfg.Ingest.HTTP
	if hc.Address == "" {
		return nil
	}
	edge, err := httpin.New(hc, a.bus, httpin.Options{
		Topic: bus.TopicRawWinlog, Logger: a.log.With("edge", "http"), Registerer: a.reg,
		Formats: map[string]httpin.Splitter{
			winevent.FormatXML:        winevent.SplitXML,
			winevent.FormatWinlogbeat: httpin.SplitLines,
			winevent.FormatNXLog:      httpin.SplitLines,
		},
	})
	if err != nil {
		return fmt.Errorf("ingest.http: %w", err)
	}
	addr, err := edge.Listen()
	if err != nil {
		return err
	}
	a.Addrs[hc.Name] = addr.String()
	a.log.Info("listener ready", "listener", hc.Name, "protocol", "https", "address", addr.String())
	g.Go(func() error { return edge.Run(ctx) })
	return nil
}

func (a *App) startStages(ctx context.Context, g *errgroup.Group) error {
	pcfg := a.cfg.Parse.Syslog
	if pcfg.Location == "" {
		pcfg.Location = a.cfg.Timezone
	}
	// Windows events that Snare and NXLog send over syslog become Windows events.
	sp, err := psyslog.New(pcfg, psyslog.WithBodyParsers(winevent.NewSyslogBody()))
	if err != nil {
		return fmt.Errorf("parse.syslog: %w", err)
	}
	pm := pipeline.NewMetrics(a.reg)
	sm := stage.NewMetrics(a.reg)
	parseTopics := []string{bus.TopicRawSyslog, bus.TopicRawWinlog}
	foreign := map[string]string{}
	for _, t := range a.cfg.Parse.Topics {
		parseTopics = append(parseTopics, t.Topic)
		foreign[t.Topic] = t.Format
	}
	loc := a.cfg.Location()
	ph := pipeline.NewParse(map[string]parsers.Parser{
		syslog.Format:             sp,
		winevent.FormatXML:        winevent.NewXMLParser(),
		winevent.FormatWinlogbeat: winevent.NewWinlogbeatParser(),
		// NXLog Community Edition writes local times without a zone: the
		// senders' zone is the configured timezone.
		winevent.FormatNXLog: &winevent.NXLogParser{Location: loc},
		winevent.FormatSnare: winevent.NewSnareParser(loc),
	}, a.bus, a.log.With("stage", "parse"), pm)
	ph.ReadForeign(foreign)
	ph.WithEnricher(a.enricher)
	ph.WithIdentity(winevent.Identity)
	parse := stage.New(stage.Config{
		Name: "parse", Topics: parseTopics,
		Workers: a.cfg.Stages.Parse.Workers, BatchSize: a.cfg.Stages.Parse.BatchSize,
	}, a.bus, ph, a.log, sm)
	index := stage.New(stage.Config{
		Name: "index", Topics: []string{bus.TopicEvents},
		Workers: a.cfg.Stages.Index.Workers, BatchSize: a.cfg.Stages.Index.BatchSize,
	}, a.bus, pipeline.NewIndex(a.store, store.Events, a.bus, a.log.With("stage", "index"), pm), a.log, sm)
	alerts := stage.New(stage.Config{
		Name: "alerts", Topics: []string{bus.TopicAlerts},
		Workers: 1, BatchSize: a.cfg.Stages.Index.BatchSize,
	}, a.bus, detections.NewAlertIndex(a.store, a.bus, a.log.With("stage", "alerts")), a.log, sm)
	for _, r := range []*stage.Runner{parse, index, alerts} {
		role := r.Name()
		if role == "alerts" {
			role = "index"
		}
		if a.roles[role] {
			a.stages = append(a.stages, r)
			g.Go(func() error { return r.Run(ctx) })
		}
	}
	if a.roles["casework"] {
		if err := a.startCasework(ctx, g, sm); err != nil {
			return err
		}
	}
	if a.roles["detect"] {
		return a.startDetect(ctx, g, sm)
	}
	return nil
}

// sweep deletes events older than their retention and lets the store do its
// own upkeep (rolling over data streams on OpenSearch), every ten minutes.
func (a *App) sweep(ctx context.Context) {
	keep := time.Duration(a.cfg.Retention.Events)
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if m, ok := a.store.(interface{ Maintain(context.Context) error }); ok {
			if err := m.Maintain(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("store maintenance failed", "err", err)
			}
		}
		if keep > 0 {
			n, err := a.store.DeleteBefore(ctx, store.Events, time.Now().Add(-keep))
			switch {
			case err != nil && ctx.Err() == nil:
				a.log.Warn("retention sweep failed", "err", err)
			case n > 0:
				a.log.Info("retention sweep removed old events", "events", n, "older_than", keep)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *App) startAPI(ctx context.Context, g *errgroup.Group) error {
	if a.cfg.API.Listen == "" {
		return nil
	}
	parts, err := a.caseworkParts()
	if err != nil {
		return err
	}
	exportRole, _ := api.ParseRole(a.cfg.Casework.LogRetrieval.AllowedRole) // validated with the configuration
	var tokens []api.Token
	for _, t := range a.cfg.API.Tokens {
		tok, err := api.NewToken(t.Name, t.Role, t.SHA256)
		if err != nil {
			return fmt.Errorf("api.tokens: %w", err)
		}
		tokens = append(tokens, tok)
	}
	handler := api.New(api.Options{
		Store: a.store, Location: a.cfg.Location(), Tokens: tokens, Gatherer: a.reg,
		Ready: a.readiness, Logger: a.log.With("component", "api"),
		Sessions: a.cfg.Sessions.Defaults(), Calendar: parts.cal, Clocks: parts.clocks,
		ExportsDir: ExportsDir(a.cfg), ExportRole: exportRole, Sender: parts.sender,
		Rules: api.RulesProvider{
			Load: func() ([]*detections.Rule, []error, error) {
				loaded, err := LoadRules(a.cfg)
				return loaded.Rules, loaded.Errors, err
			},
			Test:   func(ctx context.Context) ([]api.RuleTestRun, error) { return TestRules(ctx, a.cfg) },
			Engine: func() (*detections.Engine, error) { return Engine(a.cfg, a.log.With("component", "api")) },
		},
	})
	ln, err := net.Listen("tcp", a.cfg.API.Listen)
	if err != nil {
		return fmt.Errorf("api.listen: %w", err)
	}
	srv := &http.Server{
		Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if a.cfg.API.TLS.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(a.cfg.API.TLS.CertFile, a.cfg.API.TLS.KeyFile)
		if err != nil {
			ln.Close()
			return fmt.Errorf("api.tls: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
		scheme = "https"
	}
	a.Addrs["api"] = ln.Addr().String()
	a.log.Info("api ready", "address", ln.Addr().String(), "url", scheme+"://"+ln.Addr().String())
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("api: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	return nil
}

// readiness reports why Mamori is not ready to take traffic.
func (a *App) readiness() error {
	select {
	case <-a.ready:
	default:
		return errors.New("starting")
	}
	for _, s := range a.stages {
		if !s.Healthy() {
			return fmt.Errorf("stage %s is retrying failed batches", s.Name())
		}
	}
	return nil
}
