//go:build !unix

package vehicle

// processCPUNanos cannot be read on this platform.
func processCPUNanos() int64 { return -1 }
