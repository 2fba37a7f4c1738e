package nfc

import "testing"

// cpuMeter reports the process CPU time per operation as "cpu-ns/op": on a
// machine shared with other work, wall time per op swings with the load and
// CPU time much less (it includes the garbage collector's share).
type cpuMeter struct{ start int64 }

func startCPU() cpuMeter { return cpuMeter{processCPU()} }

func (m cpuMeter) report(b *testing.B) {
	if end := processCPU(); m.start >= 0 && end >= 0 && b.N > 0 {
		b.ReportMetric(float64(end-m.start)/float64(b.N), "cpu-ns/op")
	}
}
