package sim_test

import (
	"errors"
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
	"github.com/payedge/payedge/motion/sim"
)

// TestZeroValues calls every method of every exported type with methods on
// its zero value: each works (the zero configurations are the defaults) or
// returns sim.ErrConfig, and none panics.
func TestZeroValues(t *testing.T) {
	cases := map[string]func(t *testing.T){
		"Generator": func(t *testing.T) {
			var g sim.Generator
			if err := g.Validate(); err != nil {
				t.Fatal(err)
			}
			if _, err := g.Window(nil, sim.Counter, nil); !errors.Is(err, sim.ErrConfig) {
				t.Fatalf("nil subject and rng: %v, want ErrConfig", err)
			}
		},
		"DatasetConfig": func(t *testing.T) {
			var c sim.DatasetConfig
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			if _, err := sim.Dataset(c, nil); !errors.Is(err, sim.ErrConfig) {
				t.Fatalf("nil rng: %v, want ErrConfig", err)
			}
			if d := sim.DefaultDatasetConfig(); d.Subjects != 20 || d.WindowsPerClass != 8 || len(d.Classes) != 4 {
				t.Fatalf("defaults %+v", d)
			}
			if err := (sim.DatasetConfig{Classes: []string{"train"}}).Validate(); !errors.Is(err, sim.ErrConfig) {
				t.Fatalf("unknown class: %v", err)
			}
		},
	}
	names := make([]string, 0, len(cases))
	for name, f := range cases {
		names = append(names, name)
		t.Run(name, f)
	}
	zerotest.Covered(t, names...)
}
