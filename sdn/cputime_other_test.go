//go:build !unix

package sdn_test

// processCPU is not available here.
func processCPU() int64 { return -1 }
