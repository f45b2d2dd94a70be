//go:build unix

package winevent_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time the process has used, user and system, all
// threads (GC included). On a shared machine it measures the cost of work
// where wall-clock time measures the wait for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
