package motion_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/payedge/payedge/motion"
	"github.com/payedge/payedge/motion/sim"
)

// A terminal carried by a walking person: the default model recognises the
// gait and the Assessor lowers the confidence, explaining why.
func Example() {
	rng := rand.New(rand.NewPCG(1, 2))
	courier := sim.NewSubject("courier", 0, rng)
	samples, err := sim.Generator{}.Window(&courier, sim.Walking, rng)
	if err != nil {
		panic(err)
	}
	a, err := motion.NewAssessor(motion.AssessorConfig{}, nil) // default model and plausibilities
	if err != nil {
		panic(err)
	}
	sig, err := a.Score(context.Background(), samples)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s confidence %.1f\n", sig.Source, sig.Confidence)
	for _, r := range sig.Reasons {
		fmt.Println(r.Code)
	}
	// Output:
	// motion confidence 0.4
	// motion.walking
}

// Features of a 2.56 s window in which the terminal bounces vertically at
// 2 Hz: the dominant frequency and the gait band.
func ExampleExtract() {
	var w []motion.Sample
	for i := range 128 {
		t := float64(i) / 50
		w = append(w, motion.Sample{
			T:     time.Duration(i) * 20 * time.Millisecond,
			Accel: [3]float64{0, 0, motion.StandardGravity + 2*math.Sin(2*math.Pi*2*t)},
		})
	}
	f, err := motion.Extract(w, motion.Config{})
	if err != nil {
		panic(err)
	}
	dom, _ := f.Get("acc_mag.dom_freq")
	gait, _ := f.Get("acc_mag.band_1_3hz")
	fmt.Printf("dominant %.1f Hz, %.0f%% of the power in 1–3 Hz\n", dom, 100*gait)
	// Output: dominant 2.0 Hz, 100% of the power in 1–3 Hz
}

// Training on your own labels, evaluated on subjects the model has not seen.
func ExampleTrain() {
	rng := rand.New(rand.NewPCG(3, 4))
	ws, err := sim.Dataset(sim.DatasetConfig{Subjects: 8, WindowsPerClass: 4, Classes: []string{sim.Counter, sim.Walking}}, rng)
	if err != nil {
		panic(err)
	}
	ex, err := sim.Examples(ws, motion.Config{})
	if err != nil {
		panic(err)
	}
	train, test, err := motion.SplitBySubject(ex, 0.25, rng)
	if err != nil {
		panic(err)
	}
	m, err := motion.Train(train, motion.TrainConfig{})
	if err != nil {
		panic(err)
	}
	ev, err := motion.Evaluate(m, test)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%v: accuracy %.2f on %d windows of %d unseen subjects\n",
		m.Labels(), ev.Accuracy, ev.N, len(motion.Subjects(test)))
	// Output: [counter walking]: accuracy 1.00 on 16 windows of 2 unseen subjects
}

// Defective windows are errors naming the defect and the sample, matchable
// with errors.Is (the sentinel) and errors.As (the position).
func ExampleValidateWindow() {
	var w []motion.Sample
	for i := range 150 {
		t := time.Duration(i) * 20 * time.Millisecond
		if i >= 100 {
			t += 300 * time.Millisecond // the sensor stalled
		}
		w = append(w, motion.Sample{T: t, Accel: [3]float64{0, 0, motion.StandardGravity}})
	}
	_, err := motion.ValidateWindow(w, motion.Config{})
	var we *motion.WindowError
	if errors.As(err, &we) {
		fmt.Println(errors.Is(err, motion.ErrGap), we.Index, motion.IsInsufficient(err))
	}
	fmt.Println(err)
	// Output:
	// true 100 true
	// motion: gap between samples at sample 100 (2.3s after 1.98s)
}

// Reading the WISDM raw layout: a ';' ends each record, and a change of user
// or activity, or a clock restart, starts a new recording.
func ExampleReadRawCSV() {
	const in = `33,Jogging,49105962326000,-0.6946377,12.680544,0.50395286;
33,Jogging,49106062271000,5.012288,11.264028,0.95342433;
33,Jogging,49106112167000,4.903325,10.882658,-0.08172209;33,Walking,49106262416000,-0.61291564,18.496431,3.0237172;
`
	raw, err := motion.ReadRawCSV(strings.NewReader(in), motion.CSVConfig{})
	if err != nil {
		panic(err)
	}
	for _, r := range raw.Recordings {
		fmt.Printf("user %s %s: %d samples from %v\n", r.Subject, r.Activity, len(r.Samples), r.Samples[0].T)
	}
	// Output:
	// user 33 Jogging: 3 samples from 13h38m25.962326s
	// user 33 Walking: 1 samples from 13h38m26.262416s
}

// Reading the UCI HAPT raw recordings (here the four-subject subset in
// testdata) and cutting the six basic activities into labelled windows.
func ExampleReadHAPT() {
	h, err := motion.ReadHAPT(os.DirFS("testdata/hapt"), motion.HAPTConfig{})
	if err != nil {
		panic(err)
	}
	basic := motion.HAPTBasicActivities()
	var recs []motion.Recording
	for _, r := range h.Segments {
		if slices.Contains(basic, r.Activity) {
			recs = append(recs, r)
		}
	}
	ex, skipped, err := motion.RecordingExamples(recs, motion.DefaultWindow, motion.DefaultHop, motion.Config{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d experiments, %d segments; %d windows of %d subjects (%d skipped)\n",
		h.Experiments, len(h.Segments), len(ex), len(motion.Subjects(ex)), skipped.N)
	fmt.Println("first:", h.Segments[0].Subject, h.Segments[0].Activity)
	// Output:
	// 4 experiments, 84 segments; 682 windows of 4 subjects (0 skipped)
	// first: user01 STANDING
}
