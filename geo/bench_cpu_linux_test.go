//go:build linux

package geo

import "time"

// threadCPU returns the CPU time of the calling OS thread (RUSAGE_THREAD,
// Linux). Benchmarks lock their goroutine to its thread and report the
// difference as cpu-ns/op, which, unlike ns/op, does not count the time
// the thread waits for a core on a loaded machine.
func threadCPU() time.Duration { return rusageCPU(1) } // RUSAGE_THREAD
