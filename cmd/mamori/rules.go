package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/mamori-soc/mamori/detections/sigma"
)

// cmdRules is the rule tooling. Today it validates Sigma rules: every file
// is compiled with the ECS mapping the detect stage uses, and every rule
// that would not load is reported with its file, rule and the construct at
// fault. Native rule types and `rules test` / `rules backtest` come with
// the detect stage.
func cmdRules(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "validate" {
		fmt.Fprintln(stderr, "usage: mamori rules validate DIR")
		return errUsage
	}
	fs := flags("rules validate", stderr)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: mamori rules validate DIR")
		return errUsage
	}
	dir := fs.Arg(0)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s is not a directory of rule files", dir)
	}
	rules, errs := sigma.Load(os.DirFS(dir), nil)
	for _, r := range rules {
		fmt.Fprintf(stdout, "ok     %s  %s (%s, %s)\n", r.File, r.Title, r.ID, r.Level)
	}
	for _, err := range errs {
		fmt.Fprintf(stdout, "error  %v\n", err)
	}
	fmt.Fprintf(stdout, "\n%d rules load, %d do not\n", len(rules), len(errs))
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d rule files do not load", len(errs), len(rules)+len(errs))
	}
	return nil
}
