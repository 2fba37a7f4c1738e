package motion

import (
	_ "embed" // the default model
)

//go:generate go run ./internal/gendefault -hapt ../../shared/testdata/motion/hapt -out default_model.bin

//go:embed default_model.bin
var defaultModel []byte

// DefaultModel returns a freshly decoded copy of the embedded default model
// for the payment classes "counter" (lying still), "handheld" (held by a
// still person), "walking" (carried by a walking person) and "vehicle"
// (riding in a vehicle), with an accelerometer-only companion for devices
// without a gyroscope (Model.AccelCompanion).
//
// It is trained by `go generate` (recipe in motion/internal/recipe) on real
// recordings where they cover a class and on the simulator in motion/sim
// where they do not. The mapping from the UCI HAPT data set (smartphone at
// the waist, 30 people; Reyes-Ortiz et al., Neurocomputing 171, 2016, CC BY
// 4.0): counter ← LAYING (a still device lying nearly level), handheld ←
// SITTING and STANDING (a device on a still, upright person), walking ←
// WALKING, WALKING_UPSTAIRS and WALKING_DOWNSTAIRS, each together with the
// simulator's windows of that class; vehicle ← the simulator only (with
// twice its share of simulated windows), since no open data set records a
// terminal in a vehicle. The simulator adds what real counters have: card
// taps, typing, and the steady hum of compressors and motors, so that a
// mechanical tone alone does not read as a vehicle.
//
// Regenerating it (with the HAPT data at ../shared/testdata/motion/hapt or
// $PAYEDGE_HAPT_DIR) reproduces default_model.bin bit for bit on amd64 (the
// tests check this when the data is present): training and simulation
// avoid math.Exp, whose amd64 result depends on whether the CPU has FMA.
// Other architectures may fuse multiply-adds and differ in the last bits.
// It returns a fresh Model on every call; an error (wrapping ErrModel)
// would mean the embedded encoding is corrupt.
func DefaultModel() (*Model, error) {
	m := new(Model)
	if err := m.UnmarshalBinary(defaultModel); err != nil {
		return nil, err
	}
	return m, nil
}

// DefaultModelBytes returns a copy of the embedded default model's encoding.
func DefaultModelBytes() []byte { return append([]byte(nil), defaultModel...) }
