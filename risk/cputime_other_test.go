//go:build !unix

package risk_test

import "time"

// cpuTime is unavailable here: benchmarks report 0 CPU time.
func cpuTime() time.Duration { return 0 }
