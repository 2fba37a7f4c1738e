package geo_test

import (
	"testing"

	"github.com/payedge/payedge/geo"
	"github.com/payedge/payedge/geo/geotest"
)

func TestCellDBConformance(t *testing.T) {
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
