package sdntest_test

import (
	"context"
	"fmt"

	"github.com/payedge/payedge/sdn"
	"github.com/payedge/payedge/sdn/sdntest"
)

// CheckRouteController runs the RouteController suite outside a test, for
// example as a start-up self-check of a host's gear; from a test, call
// sdntest.TestRouteController(t, newSetup) instead.
func ExampleCheckRouteController() {
	err := sdntest.CheckRouteController(context.Background(), func() (sdntest.Setup, error) {
		f, err := sdn.NewFabric(partA, partB)
		if err != nil {
			return sdntest.Setup{}, err
		}
		a, _ := f.Router(partA.ID)
		b, _ := f.Router(partB.ID)
		return sdntest.Setup{A: a, B: b, PartA: partA, PartB: partB}, nil
	})
	fmt.Println("in-memory fabric conforms:", err == nil)
	// Output:
	// in-memory fabric conforms: true
}
