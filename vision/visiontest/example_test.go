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
