package geo_test

import (
	"context"
	"testing"

	"github.com/payedge/payedge/geo"
	"github.com/payedge/payedge/geo/geotest"
)

func TestCellDBConformance(t *testing.T) {
	geotest.TestCellLocator(t, func(t *testing.T, cells []geotest.Cell) geo.CellLocator {
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

func TestMemorySiteStoreConformance(t *testing.T) {
	geotest.TestSiteStore(t, func(t *testing.T, sites map[string]geo.Site) geo.SiteStore {
		s := geo.NewMemorySiteStore()
		for id, site := range sites {
			if err := s.Put(context.Background(), id, site); err != nil {
				t.Fatal(err)
			}
		}
		return s
	})
	// The zero MemorySiteStore is an empty, usable store.
	geotest.TestSiteStore(t, func(t *testing.T, sites map[string]geo.Site) geo.SiteStore {
		var s geo.MemorySiteStore
		for id, site := range sites {
			if err := s.Put(context.Background(), id, site); err != nil {
				t.Fatal(err)
			}
		}
		return &s
	})
}
