//go:build race

package motion_test

// raceEnabled: the race detector's instrumentation changes floating-point
// results in the last bits (and slows training thirtyfold), so bit-for-bit
// reproducibility is checked in normal builds only.
const raceEnabled = true
