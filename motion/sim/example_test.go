package sim_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/payedge/payedge/motion"
	"github.com/payedge/payedge/motion/sim"
)

// One subject (whose phone samples at 60 Hz), one window per class,
// classified by the default model.
func ExampleGenerator_Window() {
	rng := rand.New(rand.NewPCG(42, 7))
	alice := sim.NewSubject("alice", 0, rng)
	m, err := motion.DefaultModel()
	if err != nil {
		panic(err)
	}
	for _, class := range sim.Classes() {
		w, err := sim.Generator{}.Window(&alice, class, rng)
		if err != nil {
			panic(err)
		}
		f, err := motion.Extract(w, motion.Config{})
		if err != nil {
			panic(err)
		}
		label, _ := m.Classify(f)
		fmt.Printf("%s: %d samples, classified %s\n", class, len(w), label)
	}
	// Output:
	// counter: 153 samples, classified counter
	// handheld: 154 samples, classified handheld
	// walking: 153 samples, classified walking
	// vehicle: 153 samples, classified vehicle
}
