//go:build race

package geo

// raceEnabled thins the dense-grid tests under the race detector, which
// slows arithmetic about tenfold.
const raceEnabled = true
