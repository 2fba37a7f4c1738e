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
	geotest.TestCellLocator(t, newNaive)
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
	geotest.TestCellLocator(t, func(t *testing.T, cells []geotest.Cell) geo.CellLocator {
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

// foldingStore is a SiteStore with two contract violations: it folds
// merchant IDs to lower case and ignores its context.
type foldingStore map[string]geo.Site

func (s foldingStore) Site(_ context.Context, id string) (geo.Site, error) {
	site, ok := s[strings.ToLower(id)]
	if !ok {
		return geo.Site{}, geo.ErrSiteNotFound
	}
	return site, nil
}

// TestFoldingStoreRun is run in a child process by TestSiteSuiteCatchesViolations.
func TestFoldingStoreRun(t *testing.T) {
	if os.Getenv("GEOTEST_CHILD") != "3" {
		t.Skip("run only as a child of TestSiteSuiteCatchesViolations")
	}
	geotest.TestSiteStore(t, func(t *testing.T, sites map[string]geo.Site) geo.SiteStore {
		s := foldingStore{}
		for id, site := range sites {
			s[strings.ToLower(id)] = site
		}
		return s
	})
}

func TestSiteSuiteCatchesViolations(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestFoldingStoreRun$", "-test.v")
	cmd.Env = append(os.Environ(), "GEOTEST_CHILD=3")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the suite passed a store that breaks the contract:\n%s", out)
	}
	for _, sub := range []string{"Known", "Unknown", "Cancelled"} {
		if !strings.Contains(string(out), "--- FAIL: TestFoldingStoreRun/"+sub) {
			t.Errorf("subtest %s did not catch the folding store:\n%s", sub, out)
		}
	}
}

// The deprecated Run still runs the locator suite.
func TestRunIsTestCellLocator(t *testing.T) {
	geotest.Run(t, func(t *testing.T, cells []geotest.Cell) geo.CellLocator {
		recs := make([]geo.CellRecord, len(cells))
		for i, c := range cells {
			recs[i] = geo.CellRecord{ID: c.ID, Location: c.Location, RangeM: c.RangeM, Samples: c.Samples}
		}
		db, err := geo.NewCellDB(recs, geo.DBConfig{})
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}
