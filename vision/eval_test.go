package vision_test

import (
	"testing"

	"github.com/payedge/payedge/vision/visiontest"
)

// TestEvaluation runs the harness at a small size: local-feature Similarity
// must beat PDQ alone and the 64-bit pHash on re-shot and geometric-edit
// families, and keep photometric edits at TPR ≥ 0.99 at 1 % FPR.
// examples/vision runs the same harness at a larger size and plots ROC curves.
func TestEvaluation(t *testing.T) {
	t.Parallel()
	n := 10
	opt := visiontest.Options{Width: 320, Height: 240}
	families := []visiontest.Family{visiontest.Reshot, visiontest.CropOffCentre, visiontest.Rotate, visiontest.Brightness, visiontest.JPEGFamily}
	if testing.Short() || raceEnabled {
		n = 4
		families = []visiontest.Family{visiontest.Reshot, visiontest.CropOffCentre}
	}
	for _, f := range families {
		set, err := visiontest.Generate(f, n, opt, 2026)
		if err != nil {
			t.Fatal(err)
		}
		res := map[string]visiontest.Result{}
		for _, m := range []visiontest.Method{visiontest.SimilarityMethod(), visiontest.PDQMethod(), visiontest.PHashMethod()} {
			r, err := visiontest.Evaluate(set, m)
			if err != nil {
				t.Fatal(err)
			}
			res[m.Name] = r
			t.Logf("%-15s %-10s AUC %.3f  TPR@1%%FPR %.2f", f, m.Name, r.AUC, r.TPR1)
		}
		sim := res["similarity"]
		if f.Photometric() {
			if sim.TPR1 < 0.99 {
				t.Errorf("%s: similarity TPR@1%% %.2f < 0.99", f, sim.TPR1)
			}
			continue
		}
		if sim.AUC < 0.95 {
			t.Errorf("%s: similarity AUC %.3f < 0.95", f, sim.AUC)
		}
		for _, base := range []string{"pdq", "phash64"} {
			if sim.AUC < res[base].AUC || sim.TPR1 < res[base].TPR1 {
				t.Errorf("%s: similarity (AUC %.3f, TPR %.2f) does not beat %s (AUC %.3f, TPR %.2f)",
					f, sim.AUC, sim.TPR1, base, res[base].AUC, res[base].TPR1)
			}
		}
	}
}
