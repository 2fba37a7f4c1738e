package motion

import (
	_ "embed" // the default model
)

//go:generate go run ./internal/gendefault -out default_model.bin

//go:embed default_model.bin
var defaultModel []byte

// DefaultModel returns a freshly decoded copy of the embedded default model
// for the payment classes "counter" (lying still), "handheld" (held by a
// standing person), "walking" (carried by a walking person) and "vehicle"
// (riding in a vehicle). It was trained by `go generate` on the simulator in
// package motion/sim (recipe: sim.TrainDefault) at the default Config
// (50 Hz, 0.3 Hz gravity cutoff); its accuracy on freshly generated subjects
// is checked by the package tests. Regenerating it reproduces
// default_model.bin bit for bit on amd64 (the tests check this): training
// and simulation avoid math.Exp, whose amd64 result depends on whether the
// CPU has FMA. Other architectures may fuse multiply-adds and differ in the
// last bits. It returns a fresh Model on every call; an error (wrapping
// ErrModel) would mean the embedded encoding is corrupt.
func DefaultModel() (*Model, error) {
	m := new(Model)
	if err := m.UnmarshalBinary(defaultModel); err != nil {
		return nil, err
	}
	return m, nil
}

// DefaultModelBytes returns a copy of the embedded default model's encoding.
func DefaultModelBytes() []byte { return append([]byte(nil), defaultModel...) }
