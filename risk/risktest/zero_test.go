package risktest_test

import (
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
)

// TestZeroValues: risktest exports functions only; Covered fails as soon as
// an exported type with methods is added without a zero-value case.
func TestZeroValues(t *testing.T) {
	zerotest.Covered(t)
}
