package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mamori-soc/mamori/app"
	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/search"
	"github.com/mamori-soc/mamori/store"
)

// queryFlags are the flags every command that queries events shares.
type queryFlags struct {
	cfgPath, from, to, sort *string
}

func addQueryFlags(fs *flag.FlagSet, defaultSort string) *queryFlags {
	return &queryFlags{
		cfgPath: fs.String("c", "mamori.yaml", "configuration `file`"),
		from:    fs.String("from", "now-24h", "start `time`: now-15m, 2026-11-26, 2026-11-26 09:00 or RFC 3339"),
		to:      fs.String("to", "now", "end `time` (exclusive)"),
		sort:    fs.String("sort", defaultSort, "`field[:asc|desc]`"),
	}
}

// query is an opened store and a resolved request.
type query struct {
	cfg      *config.Config
	store    store.Store
	resolved *search.Resolved
}

// open reads the configuration, opens the store and resolves the request
// (positional holds the KQL query, at most one argument). The caller closes
// q.store.
func (f *queryFlags) open(positional []string, req search.Request) (*query, error) {
	if len(positional) > 1 {
		return nil, fmt.Errorf("give the query as one argument in quotes: '%s'", strings.Join(positional, " "))
	}
	if len(positional) == 1 {
		req.Query = positional[0]
	}
	req.From, req.To, req.Sort = *f.from, *f.to, *f.sort
	cfg, err := config.Load(*f.cfgPath)
	if err != nil {
		return nil, err
	}
	resolved, err := search.Resolve(req, time.Now(), cfg.Location())
	if err != nil {
		return nil, err
	}
	s, err := app.OpenStore(context.Background(), cfg, app.Logger(cfg, os.Stderr), false)
	if err != nil {
		return nil, err
	}
	return &query{cfg: cfg, store: s, resolved: resolved}, nil
}
