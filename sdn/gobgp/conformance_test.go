package gobgp_test

import (
	"testing"
	"time"

	"github.com/payedge/payedge/sdn/sdntest"
)

func TestRouteControllerConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real BGP speakers")
	}
	sdntest.TestRouteController(t, func(t *testing.T) sdntest.Setup {
		s, _ := speakers(t, 2)
		return sdntest.Setup{
			A: s[0], B: s[1], PartA: partition(0), PartB: partition(1),
			NeighborsA: neighbors(0, 2), NeighborsB: neighbors(1, 2),
			Settle: 60 * time.Second,
		}
	})
}
