//go:build !unix

package tlv_test

// processCPU is not measured on this platform.
func processCPU() int64 { return -1 }
