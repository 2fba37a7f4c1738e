package riceref_test

import (
	"fmt"
	"math"

	"github.com/payedge/payedge/geo/internal/riceref"
)

// The probability that a fix with unit σ per axis, 1σ from the centre,
// lies within 2σ of it (1 − Q₁(1, 2), Q₁(1, 2) ≈ 0.26901), and the closed
// form for a fix at the centre,
// P = 1 − e^{−v²/2}.
func ExampleLogCDF() {
	fmt.Printf("%.6f\n", math.Exp(riceref.LogCDF(1, 2)))
	fmt.Printf("%.6f %.6f\n", math.Exp(riceref.LogCDF(0, 2)), 1-math.Exp(-2))
	// Output:
	// 0.730988
	// 0.864665 0.864665
}
