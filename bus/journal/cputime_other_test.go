//go:build !unix

package journal_test

import "time"

// cpuNow is not measured on this platform; benchmarks report 0 CPU.
func cpuNow() time.Duration { return 0 }
