package visiontest_test

import (
	"fmt"

	"github.com/payedge/payedge/vision/visiontest"
)

// Scores of some Method on a Set: one positive per scene, n(n−1) negatives.
// AUC and TPRAt summarise how well the method separates them.
func ExampleAUC() {
	sc := visiontest.Scores{
		Positive: []float64{0.9, 0.8, 0.4},
		Negative: []float64{0.1, 0.2, 0.5, 0.3, 0.1, 0.05},
	}
	fmt.Printf("AUC %.3f\n", visiontest.AUC(sc))
	fmt.Printf("TPR at FPR 0: %.3f\n", visiontest.TPRAt(sc, 0))
	fmt.Printf("TPR at FPR 1/6: %.3f\n", visiontest.TPRAt(sc, 1.0/6))
	// Output:
	// AUC 0.944
	// TPR at FPR 0: 0.667
	// TPR at FPR 1/6: 1.000
}

// A 95 % bootstrap interval for TPR at 1 % FPR: 90 of 100 positives score
// far above every negative and 10 among them, so another set of the same
// size could well land a few positives either side of 0.90.
func ExampleTPRInterval() {
	var sc visiontest.Scores
	for i := range 200 {
		sc.Negative = append(sc.Negative, float64(i)/200)
	}
	for i := range 100 {
		s := 2.0
		if i%10 == 0 {
			s = 0.5
		}
		sc.Positive = append(sc.Positive, s)
	}
	lo, hi := visiontest.TPRInterval(sc, 0.01, 0.95, 2000, 1)
	fmt.Printf("TPR@1%% %.2f, 95%% interval %.2f–%.2f\n", visiontest.TPRAt(sc, 0.01), lo, hi)
	// Output: TPR@1% 0.90, 95% interval 0.84–0.95
}
