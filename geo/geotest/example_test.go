package geotest_test

import (
	"fmt"

	"github.com/payedge/payedge/geo"
	"github.com/payedge/payedge/geo/geotest"
)

// Sites is the fixture TestSiteStore loads into a host's store: it holds
// the awkward cases a store must keep apart. A host runs the suites from
// its own tests, for example
//
//	func TestMyStore(t *testing.T) {
//		geotest.TestSiteStore(t, func(t *testing.T, sites map[string]geo.Site) geo.SiteStore { … })
//	}
func ExampleSites() {
	sites := geotest.Sites()
	long := 0
	for id := range sites {
		if len(id) == geo.MaxIDBytes {
			long++
		}
	}
	fmt.Println("merchant IDs of the maximum length:", long)
	// Output:
	// merchant IDs of the maximum length: 1
}
