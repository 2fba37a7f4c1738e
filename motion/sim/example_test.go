package sim_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/payedge/payedge/motion"
	"github.com/payedge/payedge/motion/sim"
)

// One subject (whose phone samples at 100 Hz), one window per class,
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
	// counter: 254 samples, classified counter
	// handheld: 256 samples, classified handheld
	// walking: 255 samples, classified walking
	// vehicle: 255 samples, classified vehicle
}

// A small labelled data set and its features, ready for motion.Train or
// motion.CrossValidate: the recipe behind motion's default model, in
// miniature (DefaultTrainingSet is its simulated part).
func ExampleDataset() {
	rng := rand.New(rand.NewPCG(1, 2))
	ws, err := sim.Dataset(sim.DatasetConfig{Subjects: 6, WindowsPerClass: 2}, rng)
	if err != nil {
		panic(err)
	}
	ex, err := sim.Examples(ws, motion.Config{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d windows of %d subjects; first: subject %s, %s\n",
		len(ws), len(motion.Subjects(ex)), ws[0].Subject, ws[0].Label)
	// Output:
	// 48 windows of 6 subjects; first: subject s0000, counter
}
