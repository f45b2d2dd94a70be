//go:build unix

package journal_test

import (
	"syscall"
	"time"
)

// cpuNow returns the CPU time (user+system) the process used so far.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
