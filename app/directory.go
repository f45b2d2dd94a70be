package app

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/directory"
)

// directorySyncs reports whether this process runs the directory sync.
func directorySyncs(cfg *config.Config, roles Roles) bool {
	return cfg.Directory.Enabled() && roles["directory"]
}

// directoryNeedsStore reports whether the directory needs the store here:
// the sync writes its records, and the parse stage's enricher reads them
// (on Kafka deployments a parse-only process then opens the store read
// only).
func directoryNeedsStore(cfg *config.Config, roles Roles) bool {
	return cfg.Directory.Enabled() && (roles["directory"] || roles["parse"])
}

// startDirectory starts, when a directory is configured, the enricher of
// the parse stage (role parse) and the scheduled sync (role directory). In
// one process the sync reloads the enricher as soon as it has written.
func (a *App) startDirectory(ctx context.Context, g *errgroup.Group) error {
	d := a.cfg.Directory
	if !d.Enabled() {
		return nil
	}
	var en *directory.Enricher
	if a.roles["parse"] {
		en = directory.NewEnricher(directory.EnricherOptions{
			Store: a.store, Refresh: min(time.Duration(d.Interval), 5*time.Minute),
			StaleAfter: time.Duration(d.StaleAfter),
			Logger:     a.log.With("component", "directory-enrichment"),
		})
		a.enricher = en
		g.Go(func() error { return en.Run(ctx) })
	}
	if !a.roles["directory"] {
		return nil
	}
	client, err := directory.New(d.LDAP(), a.log.With("component", "directory"))
	if err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	priv, err := directory.NewPrivileged(d.PrivilegedGroups)
	if err != nil {
		return fmt.Errorf("directory: %w", err)
	}
	opts := directory.SyncerOptions{
		Store: a.store, Publisher: a.bus, Privileged: priv, Interval: time.Duration(d.Interval),
		Logger: a.log.With("component", "directory"),
	}
	if en != nil {
		opts.OnSynced = en.Nudge
	}
	syncer, err := directory.NewSyncer(client, opts)
	if err != nil {
		return err
	}
	g.Go(func() error { return syncer.Run(ctx) })
	return nil
}
