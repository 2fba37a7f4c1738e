package main

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/payedge/payedge/motion"
)

// haptSubset is the four-subject HAPT subset committed with the library,
// relative to the repository root (where `go run ./examples/motion` runs).
const haptSubset = "motion/testdata/hapt"

// findHAPT picks the HAPT folder: the -hapt flag, else $PAYEDGE_HAPT_DIR,
// else the committed four-subject subset (a few seconds; the full data set
// takes minutes on two cores).
func findHAPT(flagDir string) (dir, note string) {
	if flagDir != "" {
		return flagDir, "from -hapt"
	}
	if d := os.Getenv("PAYEDGE_HAPT_DIR"); d != "" {
		return d, "from $PAYEDGE_HAPT_DIR"
	}
	for _, d := range []string{haptSubset, "../../" + haptSubset} {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d, "FALLBACK: no full data set given (-hapt DIR or $PAYEDGE_HAPT_DIR, e.g. ../shared/testdata/motion/hapt); " +
				"this is the 4-subject subset committed under motion/testdata, so the figures are indicative only"
		}
	}
	return "", ""
}

// haptWindows cuts the segments of the given activities into the default
// windows and extracts their features.
func haptWindows(h *motion.HAPT, activities []string) ([]motion.Example, error) {
	var recs []motion.Recording
	for _, r := range h.Segments {
		if slices.Contains(activities, r.Activity) {
			recs = append(recs, r)
		}
	}
	ex, skipped, err := motion.RecordingExamples(recs, motion.DefaultWindow, motion.DefaultHop, motion.Config{})
	if err != nil {
		return nil, err
	}
	if skipped.N > 0 {
		return nil, fmt.Errorf("%d windows rejected, first: %w", skipped.N, skipped.First)
	}
	return ex, nil
}

// baselineWindows gives every window of the activities the 6-feature
// baseline of issue 22 instead: mean and standard deviation of each
// accelerometer axis (every other feature 0, which Train ignores).
func baselineWindows(h *motion.HAPT, activities []string) ([]motion.Example, error) {
	var out []motion.Example
	for i, r := range h.Segments {
		if !slices.Contains(activities, r.Activity) {
			continue
		}
		ws, err := r.Windows(motion.DefaultWindow, motion.DefaultHop)
		if err != nil {
			return nil, err
		}
		for _, w := range ws {
			var f motion.Features
			n := float64(len(w))
			for k := range 3 {
				var s, s2 float64
				for _, x := range w {
					s += x.Accel[k]
					s2 += x.Accel[k] * x.Accel[k]
				}
				mean := s / n
				f[2*k], f[2*k+1] = mean, math.Sqrt(max(s2/n-mean*mean, 0))
			}
			out = append(out, motion.Example{Features: f, Label: r.Activity, Subject: r.Subject, Sequence: fmt.Sprint(r.Subject, "#", i)})
		}
	}
	return out, nil
}

// masked returns copies of ex with the features whose names match drop set
// to 0 (a constant feature, which Train ignores).
func masked(ex []motion.Example, drop func(name string) bool) []motion.Example {
	names := motion.Features{}.Names()
	out := slices.Clone(ex)
	for i := range out {
		for j, n := range names {
			if drop(n) {
				out[i].Features[j] = 0
			}
		}
	}
	return out
}

func isNewFeature(n string) bool { return isGravDir(n) || isVertHoriz(n) }
func isGravDir(n string) bool    { return n == "grav_x" || n == "grav_y" || n == "grav_z" }
func isVertHoriz(n string) bool {
	return strings.HasPrefix(n, "body_vert.") || strings.HasPrefix(n, "body_horiz.")
}

// step is one row of the ablation table.
type step struct {
	name string
	ex   []motion.Example
	span int
	tc   motion.TrainConfig
}

// runHAPT is the headline: leave-subjects-out on real recordings.
func runHAPT(cfg config, w io.Writer) error {
	dir, note := findHAPT(cfg.HAPT)
	if dir == "" {
		fmt.Fprintln(w, "HAPT: no data found (-hapt, $PAYEDGE_HAPT_DIR or motion/testdata/hapt); skipping the real-data evaluation.")
		return nil
	}
	start := time.Now()
	h, err := motion.ReadHAPT(os.DirFS(dir), motion.HAPTConfig{})
	if err != nil {
		return err
	}
	basic := motion.HAPTBasicActivities()
	ex, err := haptWindows(h, basic)
	if err != nil {
		return err
	}
	nsubj := len(motion.Subjects(ex))
	folds := min(cfg.HAPTFolds, nsubj)
	fmt.Fprintf(w, "Real data: UCI HAPT (smartphone at the waist, 50 Hz; Reyes-Ortiz et al. 2016, CC BY 4.0) at %s — %s.\n", dir, note)
	fmt.Fprintf(w, "%d subjects, %d experiments; %d windows of 2.56 s (hop 1.28 s) of the six basic activities; read and extracted in %v.\n",
		nsubj, h.Experiments, len(ex), time.Since(start).Round(100*time.Millisecond))
	fmt.Fprintf(w, "Leave-subjects-out, %d folds of ~%d subjects (every window classified by a model that never saw its person):\n\n", folds, (nsubj+folds-1)/folds)
	cv := func(ex []motion.Example, span int, tc motion.TrainConfig) (motion.Evaluation, error) {
		tc.MaxIterations = cfg.HAPTIter
		return motion.CrossValidateSpan(ex, folds, span, tc, rand.New(rand.NewPCG(cfg.Seed, 22)))
	}
	row := func(name string, ev motion.Evaluation) {
		fmt.Fprintf(w, "  %-58s %8.4f %8.4f %8.4f %7d\n", name, ev.Accuracy, ev.MacroF1, ev.ECE, ev.N)
	}
	fmt.Fprintf(w, "  %-58s %8s %8s %8s %7s\n", "", "accuracy", "macro-F1", "ECE", "n")
	bx, err := baselineWindows(h, basic)
	if err != nil {
		return err
	}
	// The baseline keeps L2 = 1e-3, at which it scores higher than at
	// Train's default 2e-3 (0.81 against 0.79 on all 30 people).
	base, err := cv(bx, 1, motion.TrainConfig{L2: 1e-3})
	if err != nil {
		return err
	}
	row("baseline: mean+std per axis (6) + logistic regression", base)
	var steps []step
	if cfg.HAPTFull {
		steps = append(steps,
			step{"issue-5 features (139) + Train", masked(ex, isNewFeature), 1, motion.TrainConfig{}},
			step{"  + gravity direction grav_x/y/z", masked(ex, isVertHoriz), 1, motion.TrainConfig{}})
	}
	steps = append(steps, step{"  + vertical/horizontal body acc. (all 164): per window", ex, 1, motion.TrainConfig{}})
	if cfg.HAPTFull {
		steps = append(steps, step{"    with L2 = 1e-3 (the default before 2e-3)", ex, 1, motion.TrainConfig{L2: 1e-3}})
		steps = append(steps, step{"    accelerometer only (TrainConfig.AccelOnly)", ex, 1, motion.TrainConfig{AccelOnly: true}})
	}
	steps = append(steps, step{"  + a payment's span of 3 windows (5.12 s), mean P", ex, 3, motion.TrainConfig{}})
	if cfg.HAPTFull {
		steps = append(steps, step{"  + span of 5 windows (7.68 s)", ex, 5, motion.TrainConfig{}})
	}
	var perWindow, headline motion.Evaluation
	for _, s := range steps {
		ev, err := cv(s.ex, s.span, s.tc)
		if err != nil {
			return err
		}
		row(s.name, ev)
		if strings.Contains(s.name, "per window") {
			perWindow = ev
		}
		if s.span == 3 {
			headline = ev
		}
	}
	fmt.Fprintf(w, "\nPer-window confusion matrix (all features):\n%s", perWindow)
	fmt.Fprintf(w, "Over a payment's 3 windows: accuracy %.4f, ECE %.4f (target ≥ 0.95, ≤ 0.05); the published figure for the\n"+
		"same group's UCI-HAR data, subject-disjoint, SVM on 561 features, is about 0.96 per window.\n", headline.Accuracy, headline.ECE)
	if cfg.HAPTFull {
		var all []string
		for id := 1; id <= 12; id++ {
			all = append(all, motion.HAPTActivity(id))
		}
		tx, err := haptWindows(h, all)
		if err != nil {
			return err
		}
		tev, err := cv(tx, 1, motion.TrainConfig{})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\nWith the six postural transitions (12 classes), per window:\n%s", tev)
	}
	fmt.Fprintf(w, "HAPT evaluation took %v.\n", time.Since(start).Round(time.Second))
	if cfg.WritePlots {
		if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
			return err
		}
		p := filepath.Join(cfg.OutDir, "hapt_confusion.png")
		if err := plotConfusion(p, "HAPT, leave-subjects-out, per window (row-normalised)", perWindow); err != nil {
			return err
		}
		fmt.Fprintf(w, "plot: %s\n", p)
		p = filepath.Join(cfg.OutDir, "hapt_reliability.png")
		if err := plotReliability(p, "HAPT reliability (leave-subjects-out)", map[string]motion.Evaluation{
			"per window": perWindow, "3-window span": headline}); err != nil {
			return err
		}
		fmt.Fprintf(w, "plot: %s\n", p)
	}
	return nil
}

// confusionGrid is a row-normalised confusion matrix as a plotter.GridXYZ
// (column = predicted, row = true, row 0 at the top).
type confusionGrid struct{ ev motion.Evaluation }

func (g confusionGrid) Dims() (c, r int) { return len(g.ev.Labels), len(g.ev.Labels) }
func (g confusionGrid) X(c int) float64  { return float64(c) }
func (g confusionGrid) Y(r int) float64  { return float64(r) }
func (g confusionGrid) Z(c, r int) float64 {
	row := g.ev.Confusion[len(g.ev.Labels)-1-r]
	n := 0
	for _, v := range row {
		n += v
	}
	if n == 0 {
		return 0
	}
	return float64(row[c]) / float64(n)
}

// labelTicks puts the class names at the integer positions.
type labelTicks struct {
	names   []string
	reverse bool
}

func (t labelTicks) Ticks(_, _ float64) []plot.Tick {
	var ts []plot.Tick
	for i, n := range t.names {
		v := float64(i)
		if t.reverse {
			v = float64(len(t.names) - 1 - i)
		}
		ts = append(ts, plot.Tick{Value: v, Label: strings.ToLower(strings.ReplaceAll(n, "WALKING_", "WALK_"))})
	}
	return ts
}

// blues is a white-to-blue palette of n colours, light enough at the top
// for black cell labels.
type blues int

func (b blues) Colors() []color.Color {
	out := make([]color.Color, b)
	for i := range out {
		u := float64(i) / float64(b-1)
		out[i] = color.RGBA{R: uint8(255 - u*(255-0x4a)), G: uint8(255 - u*(255-0x8c)), B: uint8(255 - u*(255-0xc8)), A: 0xff}
	}
	return out
}

var _ palette.Palette = blues(0)

// plotConfusion draws the row-normalised confusion matrix as a heat map
// with each cell's recall fraction written in it.
func plotConfusion(path, title string, ev motion.Evaluation) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "predicted"
	p.Y.Label.Text = "true"
	g := confusionGrid{ev}
	hm := plotter.NewHeatMap(g, blues(64))
	hm.Min, hm.Max = 0, 1
	p.Add(hm)
	k := len(ev.Labels)
	var xys plotter.XYs
	var texts []string
	for r := range k {
		for c := range k {
			z := g.Z(c, r)
			xys = append(xys, plotter.XY{X: float64(c) - 0.2, Y: float64(r) - 0.1})
			texts = append(texts, fmt.Sprintf("%.2f", z))
		}
	}
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: texts})
	if err != nil {
		return err
	}
	p.Add(lb)
	p.X.Tick.Marker = labelTicks{names: ev.Labels}
	p.Y.Tick.Marker = labelTicks{names: ev.Labels, reverse: true}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -0.5, float64(k)-0.5, -0.5, float64(k)-0.5
	return p.Save(20*vg.Centimeter, 16*vg.Centimeter, path)
}

// plotReliability draws reliability diagrams: accuracy against mean
// confidence per bin, with the diagonal of perfect calibration.
func plotReliability(path, title string, evs map[string]motion.Evaluation) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "mean top-class probability"
	p.Y.Label.Text = "fraction correct"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	p.Legend.Top = true
	p.Legend.Left = true
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return err
	}
	diag.Color = color.Gray{Y: 0x99}
	p.Add(diag)
	p.Legend.Add("perfect calibration", diag)
	names := make([]string, 0, len(evs))
	for n := range evs {
		names = append(names, n)
	}
	slices.Sort(names)
	for i, n := range names {
		ev := evs[n]
		var pts plotter.XYs
		for _, b := range ev.Reliability {
			if b.N > 0 {
				pts = append(pts, plotter.XY{X: b.Confidence, Y: b.Accuracy})
			}
		}
		if len(pts) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		l.Color, s.Color = colors[i%len(colors)], colors[i%len(colors)]
		p.Add(l, s)
		p.Legend.Add(fmt.Sprintf("%s (ECE %.3f)", n, ev.ECE), l, s)
	}
	return p.Save(12*vg.Centimeter, 12*vg.Centimeter, path)
}
