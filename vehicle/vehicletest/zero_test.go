package vehicletest_test

import (
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
)

// TestZeroValues: vehicletest exports no type with methods; zerotest.Covered
// fails as soon as one is added without a zero-value case here.
func TestZeroValues(t *testing.T) {
	zerotest.Covered(t)
}
