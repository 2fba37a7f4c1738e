//go:build !linux

package geo

import "time"

// threadCPU is not measured on this platform; cpu-ns/op reports 0.
func threadCPU() time.Duration { return 0 }
