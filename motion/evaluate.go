package motion

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
)

var (
	// ErrUnknownLabel reports an evaluation example whose label the model
	// does not know.
	ErrUnknownLabel = errors.New("motion: label unknown to the model")
	// ErrTooFewSubjects reports a subject split that cannot hold out a
	// subject and keep one for training (or fill every fold).
	ErrTooFewSubjects = errors.New("motion: too few subjects to split")
)

// ClassMetrics are one class's one-vs-rest scores.
type ClassMetrics struct {
	Label     string  // the class
	Precision float64 // TP / (TP + FP); 0 when nothing was predicted as Label
	Recall    float64 // TP / (TP + FN); 0 when there is no example of Label
	F1        float64 // harmonic mean of Precision and Recall; 0 when both are 0
	Support   int     // examples whose true label is Label
}

// Evaluation summarises a model's performance on held-out examples.
type Evaluation struct {
	// Labels orders the rows and columns of Confusion (the model's labels).
	Labels []string
	// Confusion[i][j] counts examples of true class Labels[i] predicted as
	// Labels[j].
	Confusion [][]int
	Accuracy  float64        // fraction of examples classified correctly
	PerClass  []ClassMetrics // one per label, in Labels order
	// MacroF1 is the unweighted mean of the per-class F1 scores.
	MacroF1 float64
	// LogLoss is the mean negative log-probability of the true class
	// (probabilities clamped at 1e-15).
	LogLoss float64
	// ECE is the expected calibration error of the top-class probability
	// over ECEBins equal-width bins (Naeini, Cooper & Hauskrecht, AAAI 2015;
	// Guo et al., ICML 2017): Σ_b (n_b/N)·|accuracy_b − confidence_b|.
	ECE float64
	// Reliability holds the ECEBins bins behind ECE, for a reliability
	// diagram (DeGroot & Fienberg, The Statistician, 1983).
	Reliability []ReliabilityBin
	// N is the number of examples evaluated.
	N int
}

// ReliabilityBin is one confidence bin: the examples whose top-class
// probability lies in [Lo, Hi), their mean top-class probability
// (Confidence) and the fraction of them classified correctly (Accuracy).
// A calibrated model has Accuracy ≈ Confidence in every bin.
type ReliabilityBin struct {
	Lo, Hi     float64 // the bin's probability range [Lo, Hi)
	N          int     // examples in the bin
	Confidence float64 // their mean top-class probability
	Accuracy   float64 // the fraction of them classified correctly
}

// ECEBins is the number of confidence bins Evaluate uses for ECE.
const ECEBins = 10

// Evaluate classifies every example and compares with its label. It returns
// ErrNotTrained for a nil or untrained model, ErrNoExamples for none, and an
// error wrapping ErrUnknownLabel for an example whose label the model lacks.
func Evaluate(m *Model, examples []Example) (Evaluation, error) {
	if m == nil || len(m.labels) < 2 {
		return Evaluation{}, ErrNotTrained
	}
	if len(examples) == 0 {
		return Evaluation{}, ErrNoExamples
	}
	acc := newEvalAcc(m.labels)
	probs := make([]float64, len(m.labels))
	for i := range examples {
		t := slices.Index(m.labels, examples[i].Label)
		if t < 0 {
			return Evaluation{}, fmt.Errorf("%w: example %d, %q", ErrUnknownLabel, i, examples[i].Label)
		}
		p := m.ClassifyInto(&examples[i].Features, probs)
		acc.add(t, p, probs[t], probs[p])
	}
	return acc.result(), nil
}

// CrossValidate runs k-fold leave-subjects-out cross-validation: the
// subjects are dealt into k folds (SubjectFolds, shuffled with rng), a model
// is trained with cfg on all folds but one and classifies the held-out
// fold's windows, and the Evaluation pools every held-out prediction. Every
// window is thus classified by a model that never saw its subject.
// Errors are those of SubjectFolds (ErrTooFewSubjects, ErrConfig) and of
// Train, wrapped with the held-out fold.
func CrossValidate(examples []Example, k int, cfg TrainConfig, rng *rand.Rand) (Evaluation, error) {
	return CrossValidateSpan(examples, k, 1, cfg, rng)
}

// CrossValidateSpan is CrossValidate for decisions that span several
// windows, as a payment does: each decision averages the class
// probabilities of span consecutive windows of one Sequence (in the order
// of examples), sliding by one window; a sequence shorter than span gives
// one decision over all its windows. span 1 is CrossValidate. A span below
// 1 or above 64 is ErrConfig.
func CrossValidateSpan(examples []Example, k, span int, cfg TrainConfig, rng *rand.Rand) (Evaluation, error) {
	if span < 1 || span > 64 {
		return Evaluation{}, fmt.Errorf("%w: span %d not in [1, 64]", ErrConfig, span)
	}
	folds, err := SubjectFolds(examples, k, rng)
	if err != nil {
		return Evaluation{}, err
	}
	var labels []string
	for i := range examples {
		if !slices.Contains(labels, examples[i].Label) {
			labels = append(labels, examples[i].Label)
		}
	}
	slices.Sort(labels)
	acc := newEvalAcc(labels)
	kl := len(labels)
	// Folds train independently, in parallel (at most GOMAXPROCS at once);
	// their predictions are pooled in fold order, so the result does not
	// depend on scheduling.
	type foldOut struct {
		test  []Example
		probs []float64
		err   error
	}
	outs := make([]foldOut, len(folds))
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	var wg sync.WaitGroup
	for f, held := range folds {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			train, test := LeaveSubjectsOut(examples, held)
			m, err := Train(train, cfg)
			if err != nil {
				outs[f].err = fmt.Errorf("fold holding out %v: %w", held, err)
				return
			}
			// Probabilities of every test window over the full label set (a
			// label missing from this fold's training set gets 0).
			probs := make([]float64, len(test)*kl)
			var buf [MaxClasses]float64
			for i := range test {
				m.ClassifyInto(&test[i].Features, buf[:])
				for c, l := range m.labels {
					probs[i*kl+slices.Index(labels, l)] = buf[c]
				}
			}
			outs[f] = foldOut{test: test, probs: probs}
		})
	}
	wg.Wait()
	for _, o := range outs {
		if o.err != nil {
			return Evaluation{}, o.err
		}
		test, probs := o.test, o.probs
		for lo := 0; lo < len(test); {
			hi := lo + 1
			for hi < len(test) && test[hi].Sequence == test[lo].Sequence && test[lo].Sequence != "" {
				hi++
			}
			addSpans(acc, test[lo:hi], probs[lo*kl:hi*kl], labels, span)
			lo = hi
		}
	}
	return acc.result(), nil
}

// addSpans records the decisions over one sequence's windows: the mean
// probabilities of each run of span consecutive windows, scored against the
// label of the run's last window.
func addSpans(acc *evalAcc, seq []Example, probs []float64, labels []string, span int) {
	kl := len(labels)
	n := len(seq)
	w := min(span, n)
	mean := make([]float64, kl)
	for end := w; end <= n; end++ {
		clear(mean)
		for i := end - w; i < end; i++ {
			for c := range kl {
				mean[c] += probs[i*kl+c] / float64(w)
			}
		}
		best := 0
		for c := range kl {
			if mean[c] > mean[best] {
				best = c
			}
		}
		t := slices.Index(labels, seq[end-1].Label)
		acc.add(t, best, mean[t], mean[best])
	}
}

// evalAcc accumulates predictions for an Evaluation.
type evalAcc struct {
	labels    []string
	confusion [][]int
	binN      [ECEBins]int
	binConf   [ECEBins]float64
	binAcc    [ECEBins]float64
	logLoss   float64
	n         int
}

func newEvalAcc(labels []string) *evalAcc {
	a := &evalAcc{labels: slices.Clone(labels), confusion: make([][]int, len(labels))}
	for i := range a.confusion {
		a.confusion[i] = make([]int, len(labels))
	}
	return a
}

// add records an example of true class t predicted as p, with the predicted
// probability of the true class pTrue and of the predicted class pTop.
func (a *evalAcc) add(t, p int, pTrue, pTop float64) {
	a.confusion[t][p]++
	a.logLoss -= math.Log(max(pTrue, 1e-15))
	b := min(int(pTop*ECEBins), ECEBins-1)
	a.binN[b]++
	a.binConf[b] += pTop
	if p == t {
		a.binAcc[b]++
	}
	a.n++
}

func (a *evalAcc) result() Evaluation {
	k := len(a.labels)
	ev := Evaluation{Labels: a.labels, Confusion: a.confusion, N: a.n}
	n := float64(a.n)
	correct := 0
	for c := range k {
		correct += a.confusion[c][c]
	}
	ev.Accuracy = float64(correct) / n
	ev.LogLoss = a.logLoss / n
	for b := range a.binN {
		rb := ReliabilityBin{Lo: float64(b) / ECEBins, Hi: float64(b+1) / ECEBins, N: a.binN[b]}
		if a.binN[b] > 0 {
			ev.ECE += math.Abs(a.binAcc[b]-a.binConf[b]) / n
			rb.Confidence = a.binConf[b] / float64(a.binN[b])
			rb.Accuracy = a.binAcc[b] / float64(a.binN[b])
		}
		ev.Reliability = append(ev.Reliability, rb)
	}
	for c := range k {
		tp, fp, fn := a.confusion[c][c], 0, 0
		for o := range k {
			if o != c {
				fp += a.confusion[o][c]
				fn += a.confusion[c][o]
			}
		}
		cm := ClassMetrics{Label: a.labels[c], Support: tp + fn}
		if tp+fp > 0 {
			cm.Precision = float64(tp) / float64(tp+fp)
		}
		if tp+fn > 0 {
			cm.Recall = float64(tp) / float64(tp+fn)
		}
		if cm.Precision+cm.Recall > 0 {
			cm.F1 = 2 * cm.Precision * cm.Recall / (cm.Precision + cm.Recall)
		}
		ev.MacroF1 += cm.F1 / float64(k)
		ev.PerClass = append(ev.PerClass, cm)
	}
	return ev
}

// String renders the confusion matrix (rows: true class, columns:
// predicted) and the summary scores as a text table.
func (ev Evaluation) String() string {
	var b strings.Builder
	w := 8
	for _, l := range ev.Labels {
		w = max(w, len(l)+1)
	}
	fmt.Fprintf(&b, "%-*s", w, "true\\pred")
	for _, l := range ev.Labels {
		fmt.Fprintf(&b, "%*s", w, l)
	}
	fmt.Fprintf(&b, "%*s\n", w, "recall")
	for i, row := range ev.Confusion {
		fmt.Fprintf(&b, "%-*s", w, ev.Labels[i])
		for _, c := range row {
			fmt.Fprintf(&b, "%*d", w, c)
		}
		fmt.Fprintf(&b, "%*.3f\n", w, ev.PerClass[i].Recall)
	}
	fmt.Fprintf(&b, "%-*s", w, "precision")
	for _, c := range ev.PerClass {
		fmt.Fprintf(&b, "%*.3f", w, c.Precision)
	}
	fmt.Fprintf(&b, "\naccuracy %.4f  macro-F1 %.4f  log-loss %.4f  ECE %.4f  (n=%d)\n",
		ev.Accuracy, ev.MacroF1, ev.LogLoss, ev.ECE, ev.N)
	return b.String()
}

// Subjects returns the distinct subjects of examples in first-seen order.
func Subjects(examples []Example) []string {
	seen := map[string]bool{}
	var out []string
	for i := range examples {
		if s := examples[i].Subject; !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// LeaveSubjectsOut splits examples into those whose subject is not in
// testSubjects (train) and those whose subject is (test), keeping order.
// Every window of a person lands on one side, which is what an estimate of
// accuracy on people the model has never seen requires.
func LeaveSubjectsOut(examples []Example, testSubjects []string) (train, test []Example) {
	held := make(map[string]bool, len(testSubjects))
	for _, s := range testSubjects {
		held[s] = true
	}
	for i := range examples {
		if held[examples[i].Subject] {
			test = append(test, examples[i])
		} else {
			train = append(train, examples[i])
		}
	}
	return train, test
}

// SplitBySubject holds out a random testFraction (in (0, 1)) of the
// subjects, at least one, and at least one subject remains for training. The
// subjects are shuffled with rng (which must not be nil), so the split is
// reproducible. Fewer than two subjects is an ErrTooFewSubjects error.
func SplitBySubject(examples []Example, testFraction float64, rng *rand.Rand) (train, test []Example, err error) {
	if rng == nil {
		return nil, nil, fmt.Errorf("%w: nil rng", ErrConfig)
	}
	subj := Subjects(examples)
	if len(subj) < 2 {
		return nil, nil, fmt.Errorf("%w: need at least 2, have %d", ErrTooFewSubjects, len(subj))
	}
	if !(testFraction > 0 && testFraction < 1) {
		return nil, nil, fmt.Errorf("%w: test fraction %v not in (0, 1)", ErrConfig, testFraction)
	}
	rng.Shuffle(len(subj), func(i, j int) { subj[i], subj[j] = subj[j], subj[i] })
	nt := min(max(1, int(math.Round(testFraction*float64(len(subj))))), len(subj)-1)
	train, test = LeaveSubjectsOut(examples, subj[:nt])
	return train, test, nil
}

// SubjectFolds partitions the subjects into k folds for leave-subjects-out
// cross-validation (fold i tests on the subjects of fold i and trains on the
// rest). Subjects are dealt round-robin in first-seen order after a shuffle
// with rng (which must not be nil). k must be at least 2 (ErrConfig) and at
// most the number of subjects (an error wrapping ErrConfig and
// ErrTooFewSubjects).
func SubjectFolds(examples []Example, k int, rng *rand.Rand) ([][]string, error) {
	if rng == nil {
		return nil, fmt.Errorf("%w: nil rng", ErrConfig)
	}
	subj := Subjects(examples)
	if k < 2 {
		return nil, fmt.Errorf("%w: %d folds", ErrConfig, k)
	}
	if k > len(subj) {
		// Both: callers that checked for ErrConfig keep working.
		return nil, fmt.Errorf("%w: %w: %d folds for %d subjects", ErrConfig, ErrTooFewSubjects, k, len(subj))
	}
	rng.Shuffle(len(subj), func(i, j int) { subj[i], subj[j] = subj[j], subj[i] })
	folds := make([][]string, k)
	for i, s := range subj {
		folds[i%k] = append(folds[i%k], s)
	}
	return folds, nil
}
