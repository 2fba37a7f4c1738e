package geotest

import (
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
)

// TestZeroValues: geotest declares no exported type with methods (Cell is
// plain data, NewLocator and NewSiteStore are function types); Covered
// fails as soon as one is added without a zero-value case here.
func TestZeroValues(t *testing.T) {
	zerotest.Covered(t)
}
