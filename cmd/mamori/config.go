package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/mamori-soc/mamori/casework/sla"
	"github.com/mamori-soc/mamori/config"
	"github.com/mamori-soc/mamori/dashboards/api"
)

func cmdConfig(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && args[0] == "clocks" {
		// The built-in SLA clocks, a starting point for casework.clocks_file.
		_, err := io.WriteString(stdout, sla.DefaultsYAML())
		return err
	}
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "usage: mamori config check [-c FILE]\n       mamori config clocks   (print the built-in SLA clocks)")
		return errUsage
	}
	fs := flags("config check", stderr)
	path := fs.String("c", "mamori.yaml", "configuration `file` to check")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if _, err := config.Load(*path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: configuration is valid\n", *path)
	return nil
}

func cmdToken(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "new" {
		fmt.Fprintln(stderr, "usage: mamori token new --name NAME --role viewer|analyst|admin|ingest")
		return errUsage
	}
	fs := flags("token new", stderr)
	name := fs.String("name", "", "who or what the token is for")
	role := fs.String("role", "viewer", "viewer, analyst or admin (API), or ingest (the HTTP edge)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *name == "" {
		return fmt.Errorf("--name is required")
	}
	tok := newToken()
	if *role == "ingest" {
		fmt.Fprintf(stdout, "Token (shown once; give it to %s and keep it secret):\n  %s\n\nAdd to ingest.http.tokens in the configuration:\n  - name: %s\n    sha256: %s\n",
			*name, tok, *name, api.HashToken(tok))
		return nil
	}
	if _, ok := api.ParseRole(*role); !ok {
		return fmt.Errorf("--role %q: want viewer, analyst, admin or ingest", *role)
	}
	fmt.Fprintf(stdout, "Token (shown once; give it to %s and keep it secret):\n  %s\n\nAdd to api.tokens in the configuration:\n  - name: %s\n    role: %s\n    sha256: %s\n",
		*name, tok, *name, *role, api.HashToken(tok))
	return nil
}

// newToken returns 256 random bits, URL-safe.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return "mamori_" + base64.RawURLEncoding.EncodeToString(b)
}
