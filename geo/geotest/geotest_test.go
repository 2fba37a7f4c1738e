package geotest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/payedge/payedge/geo"
	"github.com/payedge/payedge/geo/geotest"
)

// centroidOfAll is a deliberately naive locator: it averages every known
// cell (no outlier rejection), never checks its input or context, and
// claims a 10 m accuracy.
type centroidOfAll struct{ cells map[geo.CellID]geotest.Cell }

func (c centroidOfAll) Locate(_ context.Context, obs []geo.CellObservation) (geo.Position, error) {
	var lat, lng float64
	n := 0
	for _, o := range obs {
		if cell, ok := c.cells[o.CellID]; ok {
			lat += cell.Location.Lat
			lng += cell.Location.Lng
			n++
		}
	}
	if n == 0 {
		return geo.Position{}, geo.ErrCellNotFound
	}
	return geo.Position{LatLng: geo.LatLng{Lat: lat / float64(n), Lng: lng / float64(n)}, AccuracyM: 10}, nil
}

func newNaive(t *testing.T, cells []geotest.Cell) geo.CellLocator {
	m := make(map[geo.CellID]geotest.Cell, len(cells))
	for _, c := range cells {
		m[c.ID] = c
	}
	return centroidOfAll{m}
}

// TestNaiveLocatorRun is run in a child process by TestSuiteCatchesViolations.
func TestNaiveLocatorRun(t *testing.T) {
	if os.Getenv("GEOTEST_CHILD") != "1" {
		t.Skip("run only as a child of TestSuiteCatchesViolations")
	}
	geotest.Run(t, newNaive)
}

func TestSuiteCatchesViolations(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestNaiveLocatorRun$", "-test.v")
	cmd.Env = append(os.Environ(), "GEOTEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the suite passed a locator that breaks the contract:\n%s", out)
	}
	for _, sub := range []string{"Empty", "InvalidCellID", "Duplicate", "TooMany", "Cancelled", "Outlier", "Antimeridian"} {
		if !strings.Contains(string(out), "--- FAIL: TestNaiveLocatorRun/"+sub) {
			t.Errorf("subtest %s did not catch the naive locator", sub)
		}
	}
	for _, sub := range []string{"Unknown", "SingleCell", "Concurrent"} {
		if !strings.Contains(string(out), "--- PASS: TestNaiveLocatorRun/"+sub) {
			t.Errorf("subtest %s should pass for the naive locator", sub)
		}
	}
}

// mutating is a correct CellDB that scribbles on its caller's slice.
type mutating struct{ db *geo.CellDB }

func (m mutating) Locate(ctx context.Context, obs []geo.CellObservation) (geo.Position, error) {
	p, err := m.db.Locate(ctx, obs)
	for i := range obs {
		obs[i].SignalDBm = -1
	}
	return p, err
}

// TestMutatingLocatorRun is run in a child process by TestSuiteCatchesMutation.
func TestMutatingLocatorRun(t *testing.T) {
	if os.Getenv("GEOTEST_CHILD") != "2" {
		t.Skip("run only as a child of TestSuiteCatchesMutation")
	}
	geotest.Run(t, func(t *testing.T, cells []geotest.Cell) geo.CellLocator {
		recs := make([]geo.CellRecord, len(cells))
		for i, c := range cells {
			recs[i] = geo.CellRecord{ID: c.ID, Location: c.Location, RangeM: c.RangeM, Samples: c.Samples}
		}
		db, err := geo.NewCellDB(recs, geo.DBConfig{})
		if err != nil {
			t.Fatal(err)
		}
		return mutating{db}
	})
}

func TestSuiteCatchesMutation(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestMutatingLocatorRun$", "-test.v")
	cmd.Env = append(os.Environ(), "GEOTEST_CHILD=2")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Locate modified its argument") {
		t.Fatalf("the suite passed a locator that modifies its argument:\n%s", out)
	}
}
