// Package secret reads credentials the one way Mamori allows: from a file
// named in the configuration, or from an environment variable, never from
// the configuration file itself.
package secret

import (
	"fmt"
	"os"
	"strings"
)

// Read returns the secret in file (trailing line breaks removed) or, when no
// file is named, the environment variable env ("" when unset). A named file
// that cannot be read, or that holds nothing, is an error: a deployment
// that points at a file means to use it.
func Read(file, env string) (string, error) {
	if file == "" {
		return os.Getenv(env), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("%s is empty", file)
	}
	return s, nil
}
