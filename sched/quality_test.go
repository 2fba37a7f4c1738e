package sched

import (
	"testing"
)

// TestSampledQualityNearFullScan checks that sampling keeps bin packing
// close to the exact full scan: over several seeds, the utilisation when
// the first request fails to fit stays within 3 % of the full-scan best
// fit, for both sampling modes.
func TestSampledQualityNearFullScan(t *testing.T) {
	const nodes = 200
	seeds := []uint64{1, 2, 3}
	var full float64
	for _, s := range seeds {
		u, _ := fillUntilFailure(t, SampleFull, nodes, s)
		full += u
	}
	full /= float64(len(seeds))
	for _, mode := range []Sampling{SampleLog2, SampleAdaptive} {
		var sum float64
		for _, s := range seeds {
			u, n := fillUntilFailure(t, mode, nodes, s)
			if n == 0 {
				t.Fatalf("%v: nothing placed", mode)
			}
			sum += u
		}
		got := sum / float64(len(seeds))
		t.Logf("%v: utilisation at first failure %.2f%%, full scan %.2f%%", mode, 100*got, 100*full)
		if got < 0.97*full {
			t.Errorf("%v: utilisation %.4f more than 3%% below the full scan's %.4f", mode, got, full)
		}
	}
	// Spread is the opposite policy; it must not beat the bin packer here,
	// or the scorer weights are not doing what they say.
	var spread float64
	for _, s := range seeds {
		spread += fillSpread(t, nodes, s)
	}
	spread /= float64(len(seeds))
	t.Logf("spread: %.2f%%", 100*spread)
	if spread > full {
		t.Errorf("spread packs better (%.4f) than best fit (%.4f)", spread, full)
	}
}
