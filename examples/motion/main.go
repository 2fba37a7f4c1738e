// Command motion tells the motion story: a payment terminal's accelerometer
// and gyroscope say whether it lies on a counter, is held by a cashier, is
// carried by a walking person or rides in a vehicle.
//
// The headline is real data: the UCI HAPT recordings (30 people, a
// smartphone at the waist, 50 Hz), classified leave-subjects-out — every
// person's windows only ever in the test fold — against a 6-feature
// baseline in the same run, per window and over the three windows a payment
// spans, with the confusion matrix and the reliability diagram plotted. The
// full data set is named with -hapt or $PAYEDGE_HAPT_DIR (about a minute on
// two idle cores); without it the program falls back, and says so, to the
// four-subject subset committed under motion/testdata (seconds). -full adds the ablation table (what
// each feature group and the window span buy, accelerometer only) and the
// twelve-class run with the postural transitions (a few minutes).
//
// Second, the simulator (package motion/sim): seeded synthetic subjects,
// leave-subjects-out cross-validation, a split that mixes subjects, the
// embedded default model on fresh subjects, one payment per class through
// the Assessor, and plots of each class's signals and spectrum.
//
//	go run ./examples/motion -out out                  # subset + simulator (seconds)
//	go run ./examples/motion -hapt ../shared/testdata/motion/hapt -out out
//	go run ./examples/motion -hapt ../shared/testdata/motion/hapt -full -out out
package main

import (
	"context"
	"flag"
	"fmt"
	"image/color"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/payedge/payedge/motion"
	"github.com/payedge/payedge/motion/sim"
)

type config struct {
	Seed       uint64
	Subjects   int     // training subjects
	Windows    int     // windows per subject and class
	Folds      int     // leave-subjects-out folds
	Fresh      int     // fresh subjects for the default model check
	Gyroless   float64 // share of devices without a gyroscope
	WISDM      string  // optional raw CSV (user,activity,timestamp,x,y,z) to cross-validate on
	WISDMRate  float64 // its sample rate, Hz
	HAPT       string  // HAPT folder; "" = $PAYEDGE_HAPT_DIR or the committed subset
	HAPTFolds  int     // leave-subjects-out folds on HAPT
	HAPTFull   bool    // ablation table and the 12-class run
	HAPTIter   int     // optimiser iterations for the HAPT runs; 0 = Train's default
	NoHAPT     bool    // skip the real-data part
	OutDir     string
	WritePlots bool
}

func main() {
	var cfg config
	flag.Uint64Var(&cfg.Seed, "seed", 1, "random seed")
	flag.IntVar(&cfg.Subjects, "subjects", 24, "simulated subjects (people with their devices)")
	flag.IntVar(&cfg.Windows, "windows", 6, "windows per subject and class")
	flag.IntVar(&cfg.Folds, "folds", 4, "leave-subjects-out cross-validation folds")
	flag.IntVar(&cfg.Fresh, "fresh", 20, "fresh subjects for checking the embedded default model")
	flag.Float64Var(&cfg.Gyroless, "gyroless", 0.15, "share of devices without a gyroscope")
	flag.StringVar(&cfg.WISDM, "wisdm", "", "optional WISDM-layout raw CSV (user,activity,timestamp,x,y,z; ns timestamps) to cross-validate on")
	flag.Float64Var(&cfg.WISDMRate, "wisdm-rate", 20, "sample rate of the -wisdm file in Hz")
	flag.StringVar(&cfg.OutDir, "out", "out", "directory for PNG plots")
	flag.StringVar(&cfg.HAPT, "hapt", "", "UCI HAPT folder (RawData inside), e.g. ../shared/testdata/motion/hapt; default $PAYEDGE_HAPT_DIR, else the committed 4-subject subset")
	flag.IntVar(&cfg.HAPTFolds, "hapt-folds", 5, "leave-subjects-out folds on HAPT (5 folds of 6 subjects)")
	flag.IntVar(&cfg.HAPTIter, "hapt-iter", 0, "L-BFGS iterations for the HAPT runs (0 = Train's default, 300)")
	flag.BoolVar(&cfg.HAPTFull, "full", false, "HAPT ablation table and the 12-class run with transitions (minutes)")
	flag.Parse()
	cfg.WritePlots = true
	if err := run(context.Background(), cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "motion:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, w io.Writer) error {
	if cfg.Subjects < 2 || cfg.Windows < 1 || cfg.Folds < 2 || cfg.Folds > cfg.Subjects || cfg.Fresh < 1 {
		return fmt.Errorf("need ≥ 2 subjects, ≥ 1 window, 2 ≤ folds ≤ subjects, ≥ 1 fresh subject (got %+v)", cfg)
	}
	gyroMissing := cfg.Gyroless
	if gyroMissing == 0 {
		gyroMissing = -1 // sim: negative means none
	}
	if !cfg.NoHAPT {
		if cfg.HAPTFolds < 2 || cfg.HAPTIter < 0 {
			return fmt.Errorf("need ≥ 2 HAPT folds and ≥ 0 iterations (got %d, %d)", cfg.HAPTFolds, cfg.HAPTIter)
		}
		if err := runHAPT(cfg, w); err != nil {
			return fmt.Errorf("HAPT: %w", err)
		}
		fmt.Fprintln(w, "\n--- Simulator (package motion/sim): the four payment classes ---")
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6d6f74696f6e))
	start := time.Now()
	ws, err := sim.Dataset(sim.DatasetConfig{Subjects: cfg.Subjects, WindowsPerClass: cfg.Windows, GyroMissing: gyroMissing, IDPrefix: "p"}, rng)
	if err != nil {
		return err
	}
	ex, err := sim.Examples(ws, motion.Config{})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Generated %d windows of 2.56 s (%d subjects × 4 classes × %d) and extracted %d features each in %v.\n",
		len(ex), cfg.Subjects, cfg.Windows, motion.NumFeatures, time.Since(start).Round(time.Millisecond))

	// Leave-subjects-out cross-validation: every window is classified by a
	// model that never saw its subject.
	ev, err := motion.CrossValidate(ex, cfg.Folds, motion.TrainConfig{}, rng)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nLeave-subjects-out, %d folds (each person's windows only ever in the test fold):\n%s", cfg.Folds, ev)
	for _, c := range ev.PerClass {
		fmt.Fprintf(w, "  %-9s precision %.3f  recall %.3f  F1 %.3f  (n=%d)\n", c.Label, c.Precision, c.Recall, c.F1, c.Support)
	}
	fmt.Fprintf(w, "Expected calibration error %.4f: when the model says p, it is right about p of the time.\n", ev.ECE)
	for _, b := range ev.Reliability {
		if b.N > 0 {
			fmt.Fprintf(w, "  top-class probability in [%.1f, %.1f): %4d windows, mean %.3f, correct %.3f\n", b.Lo, b.Hi, b.N, b.Confidence, b.Accuracy)
		}
	}

	// The same model size on a split that mixes subjects (windows shuffled).
	mixed := append([]motion.Example(nil), ex...)
	rng.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
	cut := len(mixed) * (cfg.Folds - 1) / cfg.Folds
	mm, err := motion.Train(mixed[:cut], motion.TrainConfig{})
	if err != nil {
		return err
	}
	mev, err := motion.Evaluate(mm, mixed[cut:])
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Mixed split (same people in train and test): accuracy %.4f vs %.4f leave-subjects-out.\n", mev.Accuracy, ev.Accuracy)
	if gap := 100 * (mev.Accuracy - ev.Accuracy); gap > 1 {
		fmt.Fprintf(w, "  Mixing subjects overstates accuracy by %.1f points here.\n", gap)
	} else {
		fmt.Fprintln(w, "  No measurable gain from mixing here: simulated people differ less than real ones.")
	}
	fmt.Fprintln(w, "  On real HAR data a mixed split overstates accuracy by 20–30 points; always split by subject.")

	// The embedded default model on fresh subjects.
	def, err := motion.DefaultModel()
	if err != nil {
		return err
	}
	fws, err := sim.Dataset(sim.DatasetConfig{Subjects: cfg.Fresh, WindowsPerClass: 4, IDPrefix: "fresh"}, rand.New(rand.NewPCG(cfg.Seed, 0xf7e5)))
	if err != nil {
		return err
	}
	fex, err := sim.Examples(fws, motion.Config{})
	if err != nil {
		return err
	}
	dev, err := motion.Evaluate(def, fex)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nEmbedded default model on %d fresh subjects (%d windows): accuracy %.4f, macro-F1 %.4f, ECE %.4f.\n",
		cfg.Fresh, dev.N, dev.Accuracy, dev.MacroF1, dev.ECE)
	var noGyro []motion.Example
	for _, e := range fex {
		if v, _ := e.Features.Get("has_gyro"); v == 0 {
			noGyro = append(noGyro, e)
		}
	}
	if len(noGyro) > 0 {
		ng, err := motion.Evaluate(def, noGyro)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  of which accelerometer-only devices (%d windows): accuracy %.4f.\n", ng.N, ng.Accuracy)
	}

	// One payment per class through the Assessor.
	fmt.Fprintln(w, "\nOne payment per class through the Assessor (default model and plausibilities):")
	a, err := motion.NewAssessor(motion.AssessorConfig{}, def)
	if err != nil {
		return err
	}
	examples := map[string][]motion.Sample{}
	subj := sim.NewSubject("demo", 0, rng)
	for _, class := range sim.Classes() {
		s, err := sim.Generator{}.Window(&subj, class, rng)
		if err != nil {
			return err
		}
		examples[class] = s
		sig, err := a.Score(ctx, s)
		if err != nil {
			return err
		}
		f, _ := motion.Extract(s, motion.Config{})
		label, probs := def.Classify(f)
		fmt.Fprintf(w, "  %-9s → %-9s P=%.3f  confidence %.3f", class, label, probs[label], sig.Confidence)
		for _, r := range sig.Reasons {
			fmt.Fprintf(w, "  [%s]", r.Code)
		}
		fmt.Fprintln(w)
	}
	short := examples[sim.Counter][:40]
	sig, err := a.Score(ctx, short)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  0.8 s window → confidence %.2f [%s]\n", sig.Confidence, sig.Reasons[0].Code)

	if cfg.WISDM != "" {
		if err := runWISDM(cfg, w); err != nil {
			return fmt.Errorf("%s: %w", cfg.WISDM, err)
		}
	}

	if cfg.WritePlots {
		if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
			return err
		}
		for _, class := range sim.Classes() {
			p := filepath.Join(cfg.OutDir, "signals_"+class+".png")
			if err := plotSignals(p, class, examples[class]); err != nil {
				return err
			}
			fmt.Fprintf(w, "plot: %s\n", p)
		}
		p := filepath.Join(cfg.OutDir, "spectrum.png")
		if err := plotSpectra(p, examples); err != nil {
			return err
		}
		fmt.Fprintf(w, "plot: %s\n", p)
		p = filepath.Join(cfg.OutDir, "reliability.png")
		if err := plotReliability(p, fmt.Sprintf("Simulator reliability (leave-subjects-out), ECE %.4f", ev.ECE), map[string]motion.Evaluation{"simulator": ev}); err != nil {
			return err
		}
		fmt.Fprintf(w, "plot: %s\n", p)
	}
	return nil
}

// runWISDM cross-validates by subject on a real recording in the WISDM
// raw layout (accelerometer only), the path a researcher would take with a
// public data set.
func runWISDM(cfg config, w io.Writer) error {
	f, err := os.Open(cfg.WISDM)
	if err != nil {
		return err
	}
	defer f.Close()
	raw, err := motion.ReadRawCSV(f, motion.CSVConfig{SkipMalformed: true})
	if err != nil {
		return err
	}
	fc := motion.Config{Rate: cfg.WISDMRate}
	ex, skipped, err := motion.RecordingExamples(raw.Recordings, 2560*time.Millisecond, 1280*time.Millisecond, fc)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s: %d rows (%d malformed skipped), %d recordings, %d windows (%d skipped", cfg.WISDM,
		raw.Rows, raw.Skipped, len(raw.Recordings), len(ex), skipped.N)
	if skipped.First != nil {
		fmt.Fprintf(w, ", first: %v", skipped.First)
	}
	fmt.Fprintln(w, ")")
	k := min(cfg.Folds, len(motion.Subjects(ex)))
	if k < 2 {
		return fmt.Errorf("need complete 2.56 s windows from at least 2 subjects, have %d", k)
	}
	ev, err := motion.CrossValidate(ex, k, motion.TrainConfig{Features: fc}, rand.New(rand.NewPCG(cfg.Seed, 7)))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Leave-subjects-out on it, %d folds:\n%s", k, ev)
	return nil
}

var colors = []color.Color{
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
}

// plotSignals draws the three accelerometer axes and the gyroscope
// magnitude (scaled ×10 to share the axis) of one window.
func plotSignals(path, class string, s []motion.Sample) error {
	p := plot.New()
	p.Title.Text = "Window: " + class + " (accelerometer m/s², gyro magnitude ×10 rad/s)"
	p.X.Label.Text = "time (s)"
	p.Y.Label.Text = "m/s²"
	p.Legend.Top = true
	lo, hi := math.Inf(1), math.Inf(-1)
	for k, name := range []string{"accel x", "accel y", "accel z", "|gyro| ×10"} {
		pts := make(plotter.XYs, len(s))
		for i, x := range s {
			pts[i].X = x.T.Seconds()
			if k < 3 {
				pts[i].Y = x.Accel[k]
			} else {
				g := x.Gyro
				pts[i].Y = 10 * math.Sqrt(g[0]*g[0]+g[1]*g[1]+g[2]*g[2])
			}
			lo, hi = min(lo, pts[i].Y), max(hi, pts[i].Y)
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = colors[k]
		p.Add(l)
		p.Legend.Add(name, l)
	}
	// Headroom above the data for the legend (four entries, about a third
	// of the plot's height), so that it never covers a trace.
	p.Y.Min, p.Y.Max = lo-0.05*(hi-lo), hi+0.6*(hi-lo)
	return p.Save(18*vg.Centimeter, 10*vg.Centimeter, path)
}

// plotSpectra draws each class's power spectrum of the acceleration
// magnitude (resampled to 50 Hz, mean removed, Hann window), in dB.
func plotSpectra(path string, ex map[string][]motion.Sample) error {
	p := plot.New()
	p.Title.Text = "Spectrum of |acceleration| per class"
	p.X.Label.Text = "frequency (Hz)"
	p.Y.Label.Text = "power (dB)"
	p.Legend.Top = true
	for k, class := range sim.Classes() {
		r, err := motion.Resample(nil, ex[class], 50)
		if err != nil {
			return err
		}
		n := len(r)
		x := make([]float64, n)
		var mean float64
		for i, s := range r {
			a := s.Accel
			x[i] = math.Sqrt(a[0]*a[0] + a[1]*a[1] + a[2]*a[2])
			mean += x[i] / float64(n)
		}
		for i := range x {
			x[i] = (x[i] - mean) * (0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n)))
		}
		c := fourier.NewFFT(n).Coefficients(nil, x)
		pts := make(plotter.XYs, 0, len(c)-1)
		for i := 1; i < len(c); i++ {
			pw := real(c[i])*real(c[i]) + imag(c[i])*imag(c[i])
			pts = append(pts, plotter.XY{X: float64(i) * 50 / float64(n), Y: 10 * math.Log10(pw+1e-12)})
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = colors[k]
		p.Add(l)
		p.Legend.Add(class, l)
	}
	return p.Save(18*vg.Centimeter, 10*vg.Centimeter, path)
}
