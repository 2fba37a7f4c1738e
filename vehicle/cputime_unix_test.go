//go:build unix

package vehicle

import "syscall"

// processCPUNanos is the user + system CPU time this process has used, in
// nanoseconds; -1 when getrusage fails.
func processCPUNanos() int64 {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return -1
	}
	return u.Utime.Nano() + u.Stime.Nano()
}
