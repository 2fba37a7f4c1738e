package geo

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

var sink float64

func BenchmarkHaversine(b *testing.B) {
	x, y := LatLng{52.52, 13.40}, LatLng{48.14, 11.58}
	b.ReportAllocs()
	for b.Loop() {
		sink += Haversine(x, y)
	}
}

func BenchmarkGeodesic(b *testing.B) {
	// A mix of ordinary, short and nearly antipodal pairs.
	pairs := [][2]LatLng{
		{{52.52, 13.40}, {48.14, 11.58}},
		{{-30, 0}, {29.9, 179.8}},
		{{40.6, -73.8}, {49.01666667, 2.55}},
		{{0, 0}, {0.5, 179.5}},
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := pairs[i&3]
		sink += Geodesic(p[0], p[1])
		i++
	}
}

func BenchmarkGeodesicAntipodal(b *testing.B) {
	x, y := LatLng{-30, 0}, LatLng{29.9, 179.8}
	b.ReportAllocs()
	for b.Loop() {
		sink += Geodesic(x, y)
	}
}

// The 1 M-cell table is built in memory once (not via CSV text).
var (
	bench1MOnce sync.Once
	bench1MDB   *CellDB
	bench1MObs  [][]CellObservation
)

func bench1M(b *testing.B) (*CellDB, [][]CellObservation) {
	bench1MOnce.Do(func() {
		rng := rand.New(rand.NewPCG(7, 11))
		const n = 1 << 20
		// Fed straight into the builder: no CSV text, no []CellRecord.
		bld := &builder{est: n}
		id := func(i int) CellID {
			// 64 operators' worth of cells across Europe, 400 per area.
			a := i / 400
			return CellID{LTE, uint16(200 + a%64), uint16((a / 64) % 7), uint32(1 + a/448), uint64(i)}
		}
		var centre LatLng
		for i := range n {
			if i%400 == 0 { // each area's cells lie within a few km of its centre
				centre = LatLng{Lat: 36 + 34*rng.Float64(), Lng: -10 + 40*rng.Float64()}
			}
			rec := CellRecord{
				ID:       id(i),
				Location: LatLng{Lat: centre.Lat + 0.03*rng.NormFloat64(), Lng: centre.Lng + 0.04*rng.NormFloat64()},
				RangeM:   float64(500 + rng.IntN(5000)),
				Samples:  rng.IntN(200),
			}
			bld.add(&rec)
		}
		bench1MDB = bld.build(DBConfig{}.withDefaults())
		// 64 query triples: three cells of one area, as a terminal hears.
		for range 64 {
			j := 400*rng.IntN(n/400) + rng.IntN(397)
			bench1MObs = append(bench1MObs, []CellObservation{
				{CellID: id(j), SignalDBm: -75},
				{CellID: id(j + 1), SignalDBm: -95},
				{CellID: id(j + 2), SignalDBm: -101},
			})
		}
	})
	if bench1MDB.Len() != 1<<20 {
		b.Fatalf("bench table has %d cells", bench1MDB.Len())
	}
	return bench1MDB, bench1MObs
}

func BenchmarkLocate3Of1M(b *testing.B) {
	db, qs := bench1M(b)
	ctx := context.Background()
	defer reportThreadCPU(b)()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := db.Locate(ctx, qs[i&63]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(db.MemoryBytes())/float64(db.Len()), "B/cell")
}

var (
	benchCSVOnce sync.Once
	benchCSV     []byte
)

const benchCSVRows = 200000

// genBenchCSV writes benchCSVRows random rows in the OpenCelliD format.
func genBenchCSV() []byte {
	rng := rand.New(rand.NewPCG(5, 6))
	var buf bytes.Buffer
	buf.WriteString("radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n")
	radios := []string{"GSM", "UMTS", "LTE", "NR"}
	for i := range benchCSVRows {
		fmt.Fprintf(&buf, "%s,%d,%d,%d,%d,%d,%.6f,%.6f,%d,%d,1,1282569574,1300155341,%d\n",
			radios[i%4], 200+i%300, i%100, 1+i%60000, i%65536, i%504,
			-180+360*rng.Float64(), -85+170*rng.Float64(), rng.IntN(20000), rng.IntN(500), -50-rng.IntN(70))
	}
	return buf.Bytes()
}

func BenchmarkLoadCSV(b *testing.B) {
	benchCSVOnce.Do(func() { benchCSV = genBenchCSV() })
	b.SetBytes(int64(len(benchCSV)))
	b.ReportAllocs()
	var db *CellDB
	for b.Loop() {
		var err error
		db, _, err = LoadCSV(context.Background(), bytes.NewReader(benchCSV), LoadOptions{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchCSVRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(db.MemoryBytes())/float64(db.Len()), "B/cell")
}

func BenchmarkParseCellRow(b *testing.B) {
	line := []byte("UMTS,262,2,801,86355,0,13.285512,52.522202,1000,7,1,1282569574,1300155341,0")
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCellRow(line); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLocate3Of1MCold spreads the queries over 16 384 areas of the
// 1 M-cell table, so most lookups miss the CPU caches as on a busy switch
// (BenchmarkLocate3Of1M reuses 64 queries that stay cached).
func BenchmarkLocate3Of1MCold(b *testing.B) {
	db, _ := bench1M(b)
	rng := rand.New(rand.NewPCG(3, 5))
	qs := make([][]CellObservation, 1<<14)
	for i := range qs {
		j := 400*rng.IntN(db.Len()/400) + rng.IntN(397)
		qs[i] = make([]CellObservation, 3)
		for k := range qs[i] {
			rec := db.rec(j + k)
			qs[i][k] = CellObservation{CellID: CellID{Radio(rec.key >> 36), uint16(rec.key >> 26 & 1023), uint16(rec.key >> 16 & 1023), uint32(rec.key & 0xffff), rec.cell}, SignalDBm: -75 - 12*k}
		}
	}
	ctx := context.Background()
	defer reportThreadCPU(b)()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := db.Locate(ctx, qs[i&(1<<14-1)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
