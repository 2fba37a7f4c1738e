// Package recipe is the training recipe of the motion package's embedded
// default model: real HAPT recordings where they cover a payment class, the
// simulator in motion/sim where they do not.
//
// Class mapping (HAPT: smartphone at the waist, 30 subjects, 50 Hz; see
// motion.ReadHAPT):
//
//	counter  ← HAPT LAYING (a still device lying nearly level: only
//	           breathing moves it) + simulated counters (vibration, taps,
//	           typing, compressor hum)
//	handheld ← HAPT SITTING and STANDING (a device on a still, upright
//	           person: postural sway and breathing) + simulated handhelds
//	           (tremor, sway, typing)
//	walking  ← HAPT WALKING, WALKING_UPSTAIRS, WALKING_DOWNSTAIRS +
//	           simulated walking (hand, pocket, bag)
//	vehicle  ← simulated vehicles only (no open data set records a payment
//	           terminal in a vehicle)
//
// HAPT's transitions (sit-to-stand and so on) are left out: they are no
// payment state. HAPT windows are taken without overlap, at most
// HAPTPerSubjectClass per subject and class, so that no subject dominates and
// the real and simulated parts have similar weight.
package recipe

import (
	"fmt"
	"io/fs"
	"math/rand/v2"

	"github.com/payedge/payedge/motion"
	"github.com/payedge/payedge/motion/sim"
)

// HAPTMapping maps HAPT activities to the default model's classes.
func HAPTMapping() map[string]string {
	return map[string]string{
		"LAYING":             sim.Counter,
		"SITTING":            sim.Handheld,
		"STANDING":           sim.Handheld,
		"WALKING":            sim.Walking,
		"WALKING_UPSTAIRS":   sim.Walking,
		"WALKING_DOWNSTAIRS": sim.Walking,
	}
}

// Recipe sizes.
const (
	HAPTPerSubjectClass = 12               // HAPT windows per subject and mapped class
	VehicleSeed         = 0x76656869636c65 // "vehicle": the extra vehicle windows
)

// HAPTExamples returns the mapped HAPT windows of the data set in fsys.
func HAPTExamples(fsys fs.FS) ([]motion.Example, error) {
	h, err := motion.ReadHAPT(fsys, motion.HAPTConfig{})
	if err != nil {
		return nil, err
	}
	mapping := HAPTMapping()
	var recs []motion.Recording
	for _, r := range h.Segments {
		if c, ok := mapping[r.Activity]; ok {
			r.Activity = c
			recs = append(recs, r)
		}
	}
	ex, skipped, err := motion.RecordingExamples(recs, motion.DefaultWindow, motion.DefaultWindow, motion.Config{})
	if err != nil {
		return nil, err
	}
	if skipped.N > 0 {
		return nil, fmt.Errorf("recipe: %d HAPT windows rejected, first: %w", skipped.N, skipped.First)
	}
	// Spread each subject's quota over its recordings: take every k-th
	// window of the subject and class.
	type key struct{ subject, label string }
	count := map[key]int{}
	for _, e := range ex {
		count[key{e.Subject, e.Label}]++
	}
	seen := map[key]int{}
	var out []motion.Example
	for _, e := range ex {
		k := key{e.Subject, e.Label}
		step := max(1, count[k]/HAPTPerSubjectClass)
		i := seen[k]
		seen[k]++
		if i%step == 0 && i/step < HAPTPerSubjectClass {
			e.Subject = "hapt-" + e.Subject
			out = append(out, e)
		}
	}
	return out, nil
}

// SimExamples returns the simulated part: sim.DefaultTrainingSet plus as
// many vehicle windows again (the class HAPT does not cover).
func SimExamples() ([]motion.Example, error) {
	ex, err := sim.DefaultTrainingSet()
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(sim.DefaultSeed1, VehicleSeed))
	ws, err := sim.Dataset(sim.DatasetConfig{Subjects: sim.DefaultSubjects, WindowsPerClass: sim.DefaultWindowsPerClass,
		IDPrefix: "vehicle", Classes: []string{sim.Vehicle}}, rng)
	if err != nil {
		return nil, err
	}
	vx, err := sim.Examples(ws, motion.Config{})
	if err != nil {
		return nil, err
	}
	return append(ex, vx...), nil
}

// TrainingSet is the default model's training set: HAPTExamples(fsys) then
// SimExamples().
func TrainingSet(fsys fs.FS) ([]motion.Example, error) {
	hx, err := HAPTExamples(fsys)
	if err != nil {
		return nil, err
	}
	sx, err := SimExamples()
	if err != nil {
		return nil, err
	}
	return append(hx, sx...), nil
}

// TrainConfig is the default model's training configuration: an
// accelerometer-only companion and the ridge penalty L2 = 1e-3 that the
// embedded model was trained and checked with (pinned, so that a change of
// TrainConfig's default L2 does not silently change the default model).
func TrainConfig() motion.TrainConfig { return motion.TrainConfig{AccelCompanion: true, L2: 1e-3} }

// Train trains the default model from the HAPT data in fsys.
func Train(fsys fs.FS) (*motion.Model, error) {
	ex, err := TrainingSet(fsys)
	if err != nil {
		return nil, err
	}
	return motion.Train(ex, TrainConfig())
}
