//go:build !unix

package sched

// processCPU is not available here.
func processCPU() int64 { return -1 }
