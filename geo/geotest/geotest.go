// Package geotest holds the conformance suites of the geo interfaces, in
// the spirit of testing/fstest.TestFS: a host that brings its own cell
// database (SQL, key-value store, vendor API) checks it with one call to
// TestCellLocator, and its own merchant-site store with TestSiteStore.
//
//	func TestMyLocator(t *testing.T) {
//		geotest.TestCellLocator(t, func(t *testing.T, cells []geotest.Cell) geo.CellLocator {
//			return loadMyLocator(t, cells)
//		})
//	}
package geotest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/payedge/payedge/geo"
)

// Cell is one cell the suite asks the implementation under test to know.
type Cell struct {
	ID       geo.CellID
	Location geo.LatLng // estimated cell position (the CSV's lat/lon)
	RangeM   float64    // coverage radius, metres
	Samples  int        // measurements behind the estimate (the CSV's samples)
}

// NewLocator returns the implementation under test, loaded with exactly
// cells (and no others). It may call t.Fatal.
type NewLocator func(t *testing.T, cells []Cell) geo.CellLocator

// The suite's world: three LTE cells around a site in Berlin, a GSM cell in
// the same city, one LTE cell in Munich (the outlier) and cells at the
// antimeridian and near the pole.
var (
	site     = geo.LatLng{Lat: 52.520008, Lng: 13.404954}
	munich   = geo.LatLng{Lat: 48.137154, Lng: 11.576124}
	dateline = geo.LatLng{Lat: -16.5, Lng: 179.999}
	polar    = geo.LatLng{Lat: 89.9, Lng: -45}
)

func lte(area uint32, cell uint64) geo.CellID {
	return geo.CellID{Radio: geo.LTE, MCC: 262, MNC: 1, Area: area, Cell: cell}
}

func offset(p geo.LatLng, bearing, dist float64) geo.LatLng {
	q, err := geo.Destination(p, bearing, dist)
	if err != nil {
		panic(err) // constant inputs; cannot happen
	}
	return q
}

// Cells returns the cells Run loads into the implementation.
func Cells() []Cell {
	return []Cell{
		{ID: lte(100, 1), Location: offset(site, 0, 400), RangeM: 1000, Samples: 50},
		{ID: lte(100, 2), Location: offset(site, 120, 400), RangeM: 1000, Samples: 50},
		{ID: lte(100, 3), Location: offset(site, 240, 400), RangeM: 1000, Samples: 50},
		{ID: geo.CellID{Radio: geo.GSM, MCC: 262, MNC: 2, Area: 801, Cell: 1795}, Location: offset(site, 45, 2000), RangeM: 5000, Samples: 9},
		{ID: lte(200, 7), Location: munich, RangeM: 1000, Samples: 50},
		{ID: geo.CellID{Radio: geo.LTE, MCC: 542, MNC: 1, Area: 5, Cell: 9}, Location: dateline, RangeM: 2000, Samples: 5},
		{ID: geo.CellID{Radio: geo.LTE, MCC: 542, MNC: 1, Area: 5, Cell: 10}, Location: geo.LatLng{Lat: -16.5, Lng: -179.999}, RangeM: 2000, Samples: 5},
		{ID: geo.CellID{Radio: geo.NR, MCC: 238, MNC: 1, Area: 9, Cell: 1 << 35}, Location: polar, RangeM: 500, Samples: 3},
	}
}

func obs(ids ...geo.CellID) []geo.CellObservation {
	out := make([]geo.CellObservation, len(ids))
	for i, id := range ids {
		out[i] = geo.CellObservation{CellID: id, SignalDBm: -90}
	}
	return out
}

// Run is the former name of TestCellLocator.
//
// Deprecated: use TestCellLocator.
func Run(t *testing.T, newLocator NewLocator) {
	t.Helper()
	TestCellLocator(t, newLocator)
}

// TestCellLocator checks the CellLocator contract: bad input is an error,
// never a panic; unknown cells give geo.ErrCellNotFound; a done context is
// honoured; the observations are not modified; fixes are valid positions
// whose 95 % circle covers the cells they rest on; a far outlier cell does
// not drag a fix; and Locate is safe for concurrent use (run the suite with
// -race). newLocator is called once, with Cells().
func TestCellLocator(t *testing.T, newLocator NewLocator) {
	t.Helper()
	cells := Cells()
	loc := newLocator(t, cells)
	ctx := context.Background()

	locate := func(t *testing.T, o []geo.CellObservation) (geo.Position, error) {
		t.Helper()
		var p geo.Position
		var err error
		before := slices.Clone(o)
		defer func() {
			if !slices.Equal(before, o) {
				t.Errorf("Locate modified its argument: %v, was %v", o, before)
			}
		}()
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("Locate(%v) panicked: %v", o, r)
				}
			}()
			p, err = loc.Locate(ctx, o)
		}()
		if err == nil {
			if verr := p.LatLng.Validate(); verr != nil {
				t.Fatalf("Locate(%v) returned invalid position: %v", o, verr)
			}
			if !(p.AccuracyM > 0) || math.IsInf(p.AccuracyM, 0) {
				t.Fatalf("Locate(%v) accuracy %v, want finite > 0", o, p.AccuracyM)
			}
		}
		return p, err
	}
	wantErr := func(t *testing.T, o []geo.CellObservation, target error) {
		t.Helper()
		if _, err := locate(t, o); !errors.Is(err, target) {
			t.Errorf("Locate(%v) error = %v, want %v", o, err, target)
		}
	}

	t.Run("Empty", func(t *testing.T) {
		wantErr(t, nil, geo.ErrNoObservations)
		wantErr(t, []geo.CellObservation{}, geo.ErrNoObservations)
	})
	t.Run("InvalidCellID", func(t *testing.T) {
		wantErr(t, obs(geo.CellID{Radio: geo.LTE, MCC: 262, MNC: 1, Area: 0, Cell: 1}), geo.ErrInvalidCellID)
		wantErr(t, obs(geo.CellID{Radio: geo.GSM, MCC: 262, MNC: 1, Area: 5, Cell: 1 << 16}), geo.ErrInvalidCellID)
		wantErr(t, obs(geo.CellID{Radio: 0, MCC: 262, MNC: 1, Area: 5, Cell: 1}), geo.ErrUnknownRadio)
		wantErr(t, obs(geo.CellID{Radio: 99, MCC: 262, MNC: 1, Area: 5, Cell: 1}), geo.ErrUnknownRadio)
	})
	t.Run("InvalidObservation", func(t *testing.T) {
		o := obs(cells[0].ID)
		o[0].SignalDBm = 12
		wantErr(t, o, geo.ErrInvalidObservation)
		o = obs(cells[0].ID)
		o[0].Age = -1
		wantErr(t, o, geo.ErrInvalidObservation)
	})
	t.Run("Duplicate", func(t *testing.T) {
		wantErr(t, obs(cells[0].ID, cells[1].ID, cells[0].ID), geo.ErrDuplicateObservation)
	})
	t.Run("TooMany", func(t *testing.T) {
		ids := make([]geo.CellID, geo.MaxObservations+1)
		for i := range ids {
			ids[i] = lte(100, uint64(1000+i))
		}
		wantErr(t, obs(ids...), geo.ErrTooManyObservations)
	})
	t.Run("Unknown", func(t *testing.T) {
		wantErr(t, obs(geo.CellID{Radio: geo.UMTS, MCC: 999, MNC: 99, Area: 4242, Cell: 77}), geo.ErrCellNotFound)
	})
	t.Run("Cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := loc.Locate(cctx, obs(cells[0].ID)); !errors.Is(err, context.Canceled) {
			t.Errorf("Locate with cancelled context: %v, want context.Canceled", err)
		}
	})
	t.Run("SingleCell", func(t *testing.T) {
		for _, c := range cells {
			p, err := locate(t, obs(c.ID))
			if err != nil {
				t.Errorf("%v: %v", c.ID, err)
				continue
			}
			if d := geo.Haversine(p.LatLng, c.Location); d > p.AccuracyM || d > c.RangeM {
				t.Errorf("%v: fix %v is %.0f m from the cell (accuracy %.0f m, range %.0f m)", c.ID, p.LatLng, d, p.AccuracyM, c.RangeM)
			}
		}
	})
	t.Run("ThreeCells", func(t *testing.T) {
		p, err := locate(t, obs(cells[0].ID, cells[1].ID, cells[2].ID))
		if err != nil {
			t.Fatal(err)
		}
		if d := geo.Haversine(p.LatLng, site); d > p.AccuracyM || d > 1000 {
			t.Errorf("fix %v is %.0f m from the true site (accuracy %.0f m)", p.LatLng, d, p.AccuracyM)
		}
	})
	t.Run("Outlier", func(t *testing.T) {
		p, err := locate(t, obs(cells[0].ID, cells[1].ID, cells[4].ID, cells[2].ID))
		if err != nil {
			t.Fatal(err)
		}
		if d := geo.Haversine(p.LatLng, site); d > 2000 {
			t.Errorf("one Munich cell dragged the Berlin fix %.0f m away to %v", d, p.LatLng)
		}
	})
	t.Run("Antimeridian", func(t *testing.T) {
		p, err := locate(t, obs(cells[5].ID, cells[6].ID))
		if err != nil {
			t.Fatal(err)
		}
		if d := geo.Haversine(p.LatLng, dateline); d > 5000 {
			t.Errorf("fix %v is %.0f m from the antimeridian cells", p.LatLng, d)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		want, err := locate(t, obs(cells[0].ID, cells[1].ID, cells[2].ID))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := range 8 {
			wg.Go(func() {
				for i := range 50 {
					got, err := loc.Locate(ctx, obs(cells[0].ID, cells[1].ID, cells[2].ID))
					if err != nil || got != want {
						errs <- fmt.Errorf("goroutine %d call %d: %+v, %v; want %+v", g, i, got, err, want)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}
