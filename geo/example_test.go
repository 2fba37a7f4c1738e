package geo_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/payedge/payedge/geo"
	"github.com/payedge/payedge/risk"
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
	_ = sites.Put(context.Background(), "shop", geo.Site{Location: geo.LatLng{Lat: 52.5201, Lng: 13.4049}, RadiusM: 300})
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
	// suspect    27.3 km  geo.outside 0.02
	// moved      27.3 km  geo.moved 0.02
}

// The evidence-package shape: NewAssessor(cfg, deps…) and Score, so the
// geo assessor is a risk.Scorer[geo.Report] a host fuses with the others.
func ExampleNewAssessor() {
	ctx := context.Background()
	shopCell := geo.CellID{Radio: geo.LTE, MCC: 262, MNC: 1, Area: 4711, Cell: 1}
	db, err := geo.NewCellDB([]geo.CellRecord{
		{ID: shopCell, Location: geo.LatLng{Lat: 52.5200, Lng: 13.4050}, RangeM: 800},
	}, geo.DBConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	sites := geo.NewMemorySiteStore()
	if err := sites.Put(ctx, "shop", geo.Site{Location: geo.LatLng{Lat: 52.5201, Lng: 13.4049}, RadiusM: 300}); err != nil {
		fmt.Println(err)
		return
	}
	var scorer risk.Scorer[geo.Report]
	scorer, err = geo.NewAssessor(geo.DefaultConfig(), db, sites)
	if err != nil {
		fmt.Println(err)
		return
	}
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i, cells := range [][]geo.CellObservation{
		{{CellID: shopCell, SignalDBm: -80}},
		{{CellID: geo.CellID{Radio: geo.LTE, MCC: 999, MNC: 9, Area: 9, Cell: 9}}}, // nobody knows it: no evidence
	} {
		terminal := fmt.Sprint("T-", i) // two terminals without history
		s, err := scorer.Score(ctx, geo.Report{TerminalID: terminal, MerchantID: "shop", At: at, Cells: cells})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s %.2f %s\n", s.Source, s.Confidence, s.Reasons[0].Code)
	}
	// Output:
	// geo 0.98 geo.near
	// geo 0.50 geo.unknown
}

func ExampleGeodesicInverse() {
	// JFK to Paris CDG on the WGS84 ellipsoid, then back out along the
	// initial azimuth with the direct solution.
	jfk := geo.LatLng{Lat: 40.6413, Lng: -73.7781}
	cdg := geo.LatLng{Lat: 49.0097, Lng: 2.5479}
	s12, azi1, azi2, err := geo.GeodesicInverse(jfk, cdg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.3f km, leaving at %.4f°, arriving at %.4f°\n", s12/1000, azi1, azi2)
	end, _, err := geo.GeodesicDirect(jfk, azi1, s12)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("direct lands on", end)
	// Output:
	// 5849.151 km, leaving at 53.5110°, arriving at 111.6267°
	// direct lands on 49.009700,2.547900
}

func ExampleProbWithin() {
	// A shop with a 200 m allowed radius; a coarse GSM fix (95 % radius
	// 3 km) 1 km away, and sharp LTE fixes (300 m) 100 m and 400 m away.
	fmt.Printf("GSM 1 km:  P(within 200 m) = %.4f\n", geo.ProbWithin(1000, 200, 3000))
	fmt.Printf("LTE 100 m: P(within 200 m) = %.4f\n", geo.ProbWithin(100, 200, 300))
	fmt.Printf("LTE 400 m: P(within 200 m) = %.4f\n", geo.ProbWithin(400, 200, 300))
	// The 95 % radius means what it says.
	fmt.Printf("P(within the accuracy of a fix at the centre) = %.4f\n", geo.ProbWithin(0, 3000, 3000))
	// Output:
	// GSM 1 km:  P(within 200 m) = 0.0095
	// LTE 100 m: P(within 200 m) = 0.6254
	// LTE 400 m: P(within 200 m) = 0.0320
	// P(within the accuracy of a fix at the centre) = 0.9500
}
