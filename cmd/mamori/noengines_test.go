//go:build !integration

package main

import "testing"

func TestEndToEndNeedsIntegrationTag(t *testing.T) {
	t.Skip("skipped: the end-to-end tests (real logger, the mamori binary, Kafka and the search node from deploy/local) run with -tags integration; .ci/run starts the engines and runs them")
}
