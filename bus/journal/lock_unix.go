//go:build unix

package journal

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// fileLock is an exclusive flock(2) on a file beside the database. The
// kernel releases it when the process dies, so a crash never leaves a stale
// lock. It is a different file from the database, so closing it cannot
// disturb SQLite's own POSIX locks.
type fileLock struct {
	f *os.File
}

func lockFile(path string) (*fileLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal: open consumer lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		holder := "another process"
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				holder = "process " + strconv.Itoa(pid)
			}
		}
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: lock %s is held by %s; only one process may consume a journal (others may publish and read)", ErrLocked, path, holder)
		}
		return nil, fmt.Errorf("journal: take consumer lock %s: %w", path, err)
	}
	// Record the holder for the error message above; best effort.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &fileLock{f: f}, nil
}

// release unlocks and closes the lock file. The file stays: removing it
// would race with a process about to lock it.
func (l *fileLock) release() error {
	uerr := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	cerr := l.f.Close()
	if err := errors.Join(uerr, cerr); err != nil {
		return fmt.Errorf("journal: release consumer lock: %w", err)
	}
	return nil
}
