package geo_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/payedge/payedge/geo"
)

func ExampleGeodesic() {
	// Nearly antipodal points, where Vincenty's method fails to converge
	// (Karney 2013, §9).
	a := geo.LatLng{Lat: -30, Lng: 0}
	b := geo.LatLng{Lat: 29.9, Lng: 179.8}
	fmt.Printf("geodesic  %.3f m\n", geo.Geodesic(a, b))
	fmt.Printf("haversine %.0f m\n", geo.Haversine(a, b))
	// Output:
	// geodesic  19989832.828 m
	// haversine 19992867 m
}

func ExampleLoadCSV() {
	csv := "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n" +
		"UMTS,262,2,801,86355,0,13.285512,52.522202,1000,7,1,1282569574,1300155341,0\n" +
		"GSM,262,2,801,1795,0,13.276907,52.525714,5716,9,1,1282569574,1300155341,0\n" +
		"GSM,262,2,801,1794,0,200.0,52.524,6280,13,1,1282569574,1300796207,0\n"
	db, stats, err := geo.LoadCSV(context.Background(), strings.NewReader(csv), geo.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("kept", stats.Kept, "skipped", stats.Skipped[geo.SkipBadCoordinates], "bad coordinates")

	pos, err := db.Locate(context.Background(), []geo.CellObservation{
		{CellID: geo.CellID{Radio: geo.UMTS, MCC: 262, MNC: 2, Area: 801, Cell: 86355}, SignalDBm: -70},
		{CellID: geo.CellID{Radio: geo.GSM, MCC: 262, MNC: 2, Area: 801, Cell: 1795}, SignalDBm: -95},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%v ±%.0f m from %d cells\n", pos.LatLng, pos.AccuracyM, pos.Cells)
	// Output:
	// kept 2 skipped 1 bad coordinates
	// 52.522687,13.284324 ±1168 m from 2 cells
}

func ExampleMonitor_Check() {
	cell := geo.CellID{Radio: geo.LTE, MCC: 262, MNC: 1, Area: 4711, Cell: 1}
	far := geo.CellID{Radio: geo.LTE, MCC: 262, MNC: 1, Area: 4712, Cell: 2}
	db, _ := geo.NewCellDB([]geo.CellRecord{
		{ID: cell, Location: geo.LatLng{Lat: 52.5200, Lng: 13.4050}, RangeM: 800},
		{ID: far, Location: geo.LatLng{Lat: 52.3906, Lng: 13.0645}, RangeM: 800}, // Potsdam, ~27 km
	}, geo.DBConfig{})
	sites := geo.NewMemorySiteStore()
	_ = sites.Put("shop", geo.Site{Location: geo.LatLng{Lat: 52.5201, Lng: 13.4049}, RadiusM: 300})
	mon, _ := geo.NewMonitor(db, sites, geo.MonitorConfig{N: 2, M: 3})

	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i, id := range []geo.CellID{cell, far, far} {
		v, err := mon.Check(context.Background(), geo.Report{
			TerminalID: "T-1", MerchantID: "shop", At: t0.Add(time.Duration(i) * time.Hour),
			Cells: []geo.CellObservation{{CellID: id, SignalDBm: -80}},
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		s := v.Signal()
		fmt.Printf("%-9s %5.1f km  %s %.2f\n", v.Status, v.DistanceM/1000, s.Reasons[0].Code, s.Confidence)
	}
	// Output:
	// not-moved   0.0 km  geo.near 0.98
	// suspect    27.3 km  geo.outside 0.39
	// moved      27.3 km  geo.moved 0.09
}
