package geo

import (
	"math"
	"testing"

	"github.com/payedge/payedge/geo/internal/riceref"
)

// TestRiceTablesRegenerate rebuilds the tables of logRiceCDF from the
// reference quadrature (what go generate writes to ricetable.go) and
// compares them with the committed ones: same grids, same values up to
// rounding (an architecture that fuses multiply-adds may differ in the
// last bits).
func TestRiceTablesRegenerate(t *testing.T) {
	committed := map[string]*riceTable{"riceA2": &riceA2, "riceA1": &riceA1, "riceB1": &riceB1, "riceB2": &riceB2}
	if riceUA != riceref.UA || riceWMin != riceref.WMin || riceWMax != riceref.WMax || riceCB != riceref.CB {
		t.Fatalf("constants differ from riceref: run go generate ./geo")
	}
	tables := riceref.Tables()
	if len(tables) != len(committed) {
		t.Fatalf("riceref builds %d tables, ricetable.go has %d: run go generate ./geo", len(tables), len(committed))
	}
	for _, want := range tables {
		got := committed[want.Name]
		switch {
		case got == nil:
			t.Fatalf("%s missing from ricetable.go: run go generate ./geo", want.Name)
		case got.x0 != want.X0 || got.idx != 1/want.DX || got.nx != want.NX ||
			got.y0 != want.Y0 || got.idy != 1/want.DY || got.ny != want.NY || len(got.v) != len(want.Values):
			t.Fatalf("%s: grid %+v, riceref %+v: run go generate ./geo", want.Name,
				[]float64{got.x0, 1 / got.idx, float64(got.nx), got.y0, 1 / got.idy, float64(got.ny)}, want.Grid)
		}
		for k, w := range want.Values {
			if g := got.v[k]; !(math.Abs(g-w) <= 1e-12*math.Max(1, math.Abs(w))) {
				t.Fatalf("%s[%d] (x=%v, y=%v) = %v, riceref %v: run go generate ./geo", want.Name, k,
					want.X0+float64(k%want.NX)*want.DX, want.Y0+float64(k/want.NX)*want.DY, g, w)
			}
		}
	}
}

// TestRiceTableAt: the interpolation reproduces the table at its nodes,
// a quintic exactly anywhere (including the edge cells and clamped points
// outside), and answers NaN with NaN, never an out-of-range index.
func TestRiceTableAt(t *testing.T) {
	const nx, ny = 9, 7
	poly := func(x, y float64) float64 { return 1 + x - 2*x*x*x + x*x*x*x*x/7 + y*y*y*y*y/3 - x*y*y + x*x*y*y*y }
	tab := riceTable{x0: -1, idx: 4, nx: nx, y0: 2, idy: 2, ny: ny, v: make([]float64, nx*ny)}
	for j := range ny {
		for i := range nx {
			tab.v[j*nx+i] = poly(-1+float64(i)/4, 2+float64(j)/2)
		}
	}
	for x := -1.0; x <= 1; x += 1.0 / 64 {
		for y := 2.0; y <= 5; y += 1.0 / 32 {
			if got, want := tab.at(x, y), poly(x, y); math.Abs(got-want) > 1e-10*math.Max(1, math.Abs(want)) {
				t.Fatalf("at(%v, %v) = %v, want %v", x, y, got, want)
			}
		}
	}
	if got, want := tab.at(-7, 99), poly(-1, 5); math.Abs(got-want) > 1e-10*math.Abs(want) {
		t.Errorf("outside the grid: %v, want the corner %v", got, want)
	}
	for _, p := range [][2]float64{{math.NaN(), 3}, {0, math.NaN()}, {math.Inf(1), 3}, {0, math.Inf(-1)}} {
		v := tab.at(p[0], p[1])
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) {
			if !math.IsNaN(v) {
				t.Errorf("at(%v, %v) = %v, want NaN", p[0], p[1], v)
			}
		} else if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("at(%v, %v) = %v, want the edge value", p[0], p[1], v)
		}
	}
}

// BenchmarkLogRiceCDF times logRiceCDF on one point of each table (and
// the shortcut), in turn.
func BenchmarkLogRiceCDF(b *testing.B) {
	pts := [][2]float64{{1.5, 2}, {30, 29.5}, {10, 2}, {60, 40}, {1, 12}}
	defer reportThreadCPU(b)()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := pts[i%len(pts)]
		sink += logRiceCDF(p[0], p[1])
		i++
	}
}
