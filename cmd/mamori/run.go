package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/mamori-soc/mamori/app"
	"github.com/mamori-soc/mamori/config"
)

func cmdRun(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := flags("run", stderr)
	cfgPath := fs.String("c", "mamori.yaml", "configuration `file` (\"\" for the defaults)")
	stages := fs.String("stages", "all", "comma-separated `parts` to run here: ingest, parse, index, directory (the directory sync: one process only), api (for scale-out on Kafka)")
	if err := parse(fs, args); err != nil {
		return err
	}
	roles, err := app.ParseRoles(*stages)
	if err != nil {
		return fmt.Errorf("--stages: %w", err)
	}
	if *cfgPath != "" {
		if _, err := os.Stat(*cfgPath); err != nil {
			return fmt.Errorf("%w (copy config.example.yaml to start, or pass -c \"\" for the defaults)", err)
		}
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	log := app.Logger(cfg, os.Stderr)
	a, err := app.New(ctx, cfg, log, roles)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}
