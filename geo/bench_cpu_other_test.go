//go:build !unix

package geo

import "time"

// processCPU is not measured on this platform; cpu-ns/row reports 0.
func processCPU() time.Duration { return 0 }
