// Command machinemoving tells the machine-moving story: a seeded fleet of
// mobile POS terminals on a synthetic cell map (written and re-read in the
// OpenCelliD CSV format), a few of them moved away from their merchants.
// Every terminal reports the cells it hears; geo.Monitor raises alerts. The
// program prints the alerts' precision and recall, how well the geo
// risk.Signal's calibrated confidence separates honest from moved
// terminals, and plots the per-report "distance − accuracy" of both.
//
//	go run ./examples/machinemoving -terminals 400 -moved 0.08 -out out
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image/color"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/payedge/payedge/geo"
)

type config struct {
	Seed       uint64
	Terminals  int
	MovedFrac  float64
	Reports    int
	GSMOnly    float64 // share of terminals with a 2G-only modem
	BadCells   float64 // share of DB cells with a wrong position
	RegionKM   float64 // half-width of the square region
	OutDir     string
	WritePlots bool
}

func main() {
	var cfg config
	flag.Uint64Var(&cfg.Seed, "seed", 1, "random seed")
	flag.IntVar(&cfg.Terminals, "terminals", 400, "fleet size")
	flag.Float64Var(&cfg.MovedFrac, "moved", 0.08, "share of terminals moved away from their merchant")
	flag.IntVar(&cfg.Reports, "reports", 8, "reports (transactions) per terminal")
	flag.Float64Var(&cfg.GSMOnly, "gsm-only", 0.3, "share of terminals with a 2G-only modem")
	flag.Float64Var(&cfg.BadCells, "bad-cells", 0.01, "share of cell-database entries with a wrong position")
	flag.Float64Var(&cfg.RegionKM, "region", 60, "half-width of the region in km")
	flag.StringVar(&cfg.OutDir, "out", "out", "directory for PNG plots")
	flag.Parse()
	cfg.WritePlots = true
	if err := run(context.Background(), cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "machinemoving:", err)
		os.Exit(1)
	}
}

var centre = geo.LatLng{Lat: 52.52, Lng: 13.405} // Berlin

// at returns the point x km east and y km north of centre.
func at(x, y float64) geo.LatLng {
	p, err := geo.Destination(centre, math.Atan2(x, y)*180/math.Pi, 1000*math.Hypot(x, y))
	if err != nil {
		panic(err) // finite inputs from the simulation
	}
	return p
}

type simCell struct {
	id    geo.CellID
	x, y  float64 // true position, km
	txDBm float64 // signal at 1 m equivalent, by radio
}

type cellMap struct {
	bad   map[geo.CellID]bool // mislocated in the database
	cells []simCell
	grid  map[[2]int][]int // 5 km buckets
}

const bucketKM = 5

func (m *cellMap) add(c simCell) {
	k := [2]int{int(math.Floor(c.x / bucketKM)), int(math.Floor(c.y / bucketKM))}
	m.grid[k] = append(m.grid[k], len(m.cells))
	m.cells = append(m.cells, c)
}

// heard returns what a terminal at (x, y) reports: up to k cells of the
// allowed radios, strongest first, with log-normal shadowing.
func (m *cellMap) heard(rng *rand.Rand, x, y float64, gsmOnly bool, k int) []geo.CellObservation {
	type cand struct {
		i   int
		dbm float64
	}
	var cs []cand
	bx, by := int(math.Floor(x/bucketKM)), int(math.Floor(y/bucketKM))
	for dx := -3; dx <= 3; dx++ {
		for dy := -3; dy <= 3; dy++ {
			for _, i := range m.grid[[2]int{bx + dx, by + dy}] {
				c := m.cells[i]
				if gsmOnly != (c.id.Radio == geo.GSM) {
					continue
				}
				d := math.Max(0.02, math.Hypot(c.x-x, c.y-y)) * 1000
				dbm := c.txDBm - 35*math.Log10(d) + rng.NormFloat64()*6 // γ = 3.5, σ = 6 dB
				if dbm >= -110 {
					cs = append(cs, cand{i, dbm})
				}
			}
		}
	}
	slices.SortFunc(cs, func(a, b cand) int { return int(b.dbm*100) - int(a.dbm*100) })
	if len(cs) > k {
		cs = cs[:k]
	}
	obs := make([]geo.CellObservation, len(cs))
	for j, c := range cs {
		obs[j] = geo.CellObservation{CellID: m.cells[c.i].id, SignalDBm: int(math.Max(-140, math.Min(-25, math.Round(c.dbm))))}
	}
	return obs
}

// buildMap lays out GSM (sparse), LTE (dense in the core) and NR (core
// only) cells and writes them as an OpenCelliD CSV, with a few junk rows
// and some mislocated entries, as real exports have.
func buildMap(rng *rand.Rand, cfg config) (*cellMap, []byte) {
	m := &cellMap{grid: make(map[[2]int][]int), bad: make(map[geo.CellID]bool)}
	var csv bytes.Buffer
	csv.WriteString("radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n")
	r := cfg.RegionKM
	// Each layer has a local site spacing s (km). A cell's transmit level is
	// set so that its median signal falls to −110 dBm at distance s, and the
	// database records the distance within which 99 % of its measurements
	// fall (shadowing σ = 6 dB, +2.33σ at γ = 3.5 ⇒ about 2.5·s), the way
	// OpenCelliD derives "range" from where a cell was heard.
	type layer struct {
		radio   geo.Radio
		spacing func(dist float64) float64 // km, by distance from centre
		maxDist float64
	}
	layers := []layer{
		{geo.GSM, func(d float64) float64 { return 4 + d/15 }, math.Inf(1)},
		{geo.LTE, func(d float64) float64 { return 0.8 + d/12 }, math.Inf(1)},
		{geo.NR, func(d float64) float64 { return 0.4 + d/20 }, 8},
	}
	next := map[geo.Radio]uint64{}
	for _, l := range layers {
		for x := -r; x <= r; x += 0.4 {
			for y := -r; y <= r; y += 0.4 {
				dc := math.Hypot(x, y)
				if dc > l.maxDist {
					continue
				}
				s := l.spacing(dc)
				if rng.Float64() > 0.16/(s*s) { // one site per s² km² on average
					continue
				}
				next[l.radio]++
				area := uint32(1 + int((x+r)/10)*20 + int((y+r)/10))
				tx := -110 + 35*math.Log10(1000*s)
				c := simCell{id: geo.CellID{Radio: l.radio, MCC: 262, MNC: 1, Area: area, Cell: next[l.radio]}, x: x, y: y, txDBm: tx}
				m.add(c)
				rangeKM := 2.5 * s * (0.85 + 0.3*rng.Float64())
				// The database position is the centroid of measurements: near
				// the truth, or (BadCells) somewhere wrong entirely.
				dx, dy := rng.NormFloat64()*0.1*s, rng.NormFloat64()*0.1*s
				if rng.Float64() < cfg.BadCells {
					dx, dy = rng.Float64()*100-50, rng.Float64()*100-50
					m.bad[c.id] = true
				}
				p := at(x+dx, y+dy)
				fmt.Fprintf(&csv, "%v,262,1,%d,%d,0,%.6f,%.6f,%.0f,%d,1,1700000000,1760000000,0\n",
					l.radio, area, c.id.Cell, p.Lng, p.Lat, 1000*rangeKM, 1+rng.IntN(300))
			}
		}
	}
	// Junk rows real exports contain: missing coordinates, a CDMA row, a
	// truncated line.
	csv.WriteString("LTE,262,1,5,999999,0,,,1000,1,1,1,1,0\n")
	csv.WriteString("CDMA,310,4,7,8,0,13.27,52.52,5716,9,1,1,1,0\n")
	csv.WriteString("GSM,262,1,5\n")
	return m, csv.Bytes()
}

type terminal struct {
	id         string
	sx, sy     float64 // merchant site, km
	radiusM    float64
	moved      bool
	mx, my     float64 // where a moved terminal really is
	gsmOnly    bool
	alerted    bool
	firstAlert int
	heardBad   bool    // heard a cell the database mislocates
	confidence float64 // geo risk.Signal confidence after its last located report
	located    bool
}

func run(ctx context.Context, cfg config, w io.Writer) error {
	if cfg.Terminals < 1 || cfg.Reports < 1 || cfg.MovedFrac < 0 || cfg.MovedFrac > 1 || cfg.RegionKM < 10 {
		return fmt.Errorf("bad configuration %+v", cfg)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6d6d))
	world, csv := buildMap(rng, cfg)

	t0 := time.Now()
	db, stats, err := geo.LoadCSV(ctx, bytes.NewReader(csv), geo.LoadOptions{})
	if err != nil {
		return err
	}
	loadDur := time.Since(t0)
	fmt.Fprintf(w, "cell map: %d rows of OpenCelliD CSV (%.1f MB), loaded %d cells in %v (%.1f bytes/cell)\n",
		stats.Rows, float64(len(csv))/1e6, stats.Kept, loadDur.Round(time.Millisecond), float64(db.MemoryBytes())/float64(db.Len()))
	for r := geo.SkipReason(0); r < geo.NumSkipReasons; r++ {
		if n := stats.Skipped[r]; n > 0 {
			fmt.Fprintf(w, "  skipped %d %v\n", n, r)
		}
	}

	// The fleet: merchants spread over the region, denser in the core.
	sites := geo.NewMemorySiteStore()
	fleet := make([]*terminal, cfg.Terminals)
	nMoved := 0
	for i := range fleet {
		rad := cfg.RegionKM * 0.8 * math.Sqrt(rng.Float64()) * rng.Float64()
		ang := rng.Float64() * 2 * math.Pi
		t := &terminal{id: fmt.Sprintf("T%04d", i), sx: rad * math.Cos(ang), sy: rad * math.Sin(ang),
			radiusM: 100 + 400*rng.Float64(), gsmOnly: rng.Float64() < cfg.GSMOnly, firstAlert: -1}
		if rng.Float64() < cfg.MovedFrac {
			t.moved = true
			nMoved++
			d := 5 + 45*rng.Float64() // moved 5–50 km
			a := rng.Float64() * 2 * math.Pi
			t.mx = math.Max(-cfg.RegionKM, math.Min(cfg.RegionKM, t.sx+d*math.Cos(a)))
			t.my = math.Max(-cfg.RegionKM, math.Min(cfg.RegionKM, t.sy+d*math.Sin(a)))
		}
		if err := sites.Put(ctx, "M"+t.id[1:], geo.Site{Location: at(t.sx, t.sy), RadiusM: t.radiusM}); err != nil {
			return err
		}
		fleet[i] = t
	}
	fmt.Fprintf(w, "fleet: %d terminals (%d moved 5–50 km, %.0f %% with 2G-only modems), %d reports each, seed %d\n",
		cfg.Terminals, nMoved, 100*cfg.GSMOnly, cfg.Reports, cfg.Seed)

	start := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	now := start // the simulation's clock, which the monitor reads
	mon, err := geo.NewMonitor(db, sites, geo.MonitorConfig{N: 3, M: 5, Now: func() time.Time { return now }})
	if err != nil {
		return err
	}
	var honestM, movedM []float64 // distance − accuracy, km
	var accGSM, accLTE []float64
	unknown := 0
	for k := range cfg.Reports {
		now = start.Add(time.Duration(k) * 3 * time.Hour)
		for _, t := range fleet {
			x, y := t.sx, t.sy
			if t.moved {
				x, y = t.mx, t.my
			}
			// The terminal is somewhere on the premises.
			jr := t.radiusM / 1000 * math.Sqrt(rng.Float64())
			ja := rng.Float64() * 2 * math.Pi
			x, y = x+jr*math.Cos(ja), y+jr*math.Sin(ja)
			obs := world.heard(rng, x, y, t.gsmOnly, 1+rng.IntN(4))
			v, err := mon.Check(ctx, geo.Report{TerminalID: t.id, MerchantID: "M" + t.id[1:],
				At: now, Cells: obs})
			if err != nil {
				return fmt.Errorf("%s: %w", t.id, err)
			}
			if v.Status == geo.StatusUnknown {
				unknown++
				continue
			}
			dm := (v.DistanceM - v.AccuracyM) / 1000
			if t.moved {
				movedM = append(movedM, dm)
			} else {
				honestM = append(honestM, dm)
			}
			if t.gsmOnly {
				accGSM = append(accGSM, v.AccuracyM)
			} else {
				accLTE = append(accLTE, v.AccuracyM)
			}
			for _, o := range obs {
				t.heardBad = t.heardBad || world.bad[o.CellID]
			}
			t.confidence, t.located = v.Signal().Confidence, true
			if v.Status == geo.StatusMoved && !t.alerted {
				t.alerted, t.firstAlert = true, k+1
			}
		}
	}

	var tp, fp, fn, fpBad int
	var firsts []float64
	var missed []string
	for _, t := range fleet {
		switch {
		case t.alerted && t.moved:
			tp++
			firsts = append(firsts, float64(t.firstAlert))
		case t.alerted:
			fp++
			if t.heardBad {
				fpBad++
			}
		case t.moved:
			fn++
			kind := "LTE/NR"
			if t.gsmOnly {
				kind = "2G-only"
			}
			missed = append(missed, fmt.Sprintf("%s (%s, moved %.1f km)", t.id, kind, math.Hypot(t.mx-t.sx, t.my-t.sy)))
		}
	}
	fmt.Fprintf(w, "fixes: %d located, %d unknown; median 95%% accuracy %.2f km (2G-only) vs %.2f km (LTE/NR)\n",
		len(honestM)+len(movedM), unknown, median(accGSM)/1000, median(accLTE)/1000)
	fmt.Fprintf(w, "alerts (3 of 5 reports outside): %d true, %d false, %d missed\n", tp, fp, fn)
	fmt.Fprintf(w, "precision %.3f  recall %.3f\n", ratio(tp, tp+fp), ratio(tp, tp+fn))
	if fp > 0 {
		fmt.Fprintf(w, "%d of the %d false alerts come from terminals whose cells include one the database mislocates (%d of %d cells, -bad-cells %.2f)\n",
			fpBad, fp, len(world.bad), len(world.cells), cfg.BadCells)
	}
	if len(firsts) > 0 {
		fmt.Fprintf(w, "a moved terminal is flagged at its report %.0f (median)\n", median(firsts))
	}
	if len(missed) > 0 {
		fmt.Fprintf(w, "missed: %v\n", missed)
	}
	fmt.Fprintf(w, "distance − accuracy: honest median %.2f km, max %.2f km; moved median %.2f km\n",
		median(honestM), slices.Max(append([]float64{math.Inf(-1)}, honestM...)), median(movedM))

	// The risk.Signal a checkout would fuse: P(at the site) from the fixes
	// of the hysteresis window, at even prior odds.
	var confHonest, confMoved []float64
	for _, t := range fleet {
		switch {
		case !t.located:
		case t.moved:
			confMoved = append(confMoved, t.confidence)
		default:
			confHonest = append(confHonest, t.confidence)
		}
	}
	below := 0
	for _, c := range confHonest {
		if c < 0.5 {
			below++
		}
	}
	fmt.Fprintf(w, "geo signal confidence after the last report: honest median %.3f (%d of %d below 0.5), moved median %.3f; ROC AUC %.3f\n",
		median(confHonest), below, len(confHonest), median(confMoved), auc(confHonest, confMoved))

	if cfg.WritePlots {
		path, err := plotMargins(cfg.OutDir, honestM, movedM)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "plot: %s\n", path)
	}
	return nil
}

// auc is the probability that a random honest terminal has a higher
// confidence than a random moved one (ties count half).
func auc(honest, moved []float64) float64 {
	if len(honest) == 0 || len(moved) == 0 {
		return math.NaN()
	}
	var wins float64
	for _, h := range honest {
		for _, m := range moved {
			switch {
			case h > m:
				wins++
			case h == m:
				wins += 0.5
			}
		}
	}
	return wins / float64(len(honest)*len(moved))
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// plotMargins draws normalised histograms of distance − accuracy for honest
// and moved terminals' reports, with the alert boundary at 0.
func plotMargins(dir string, honest, moved []float64) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	p := plot.New()
	p.Title.Text = "Machine moving: distance − 95% accuracy per report"
	p.X.Label.Text = "distance to registered site − fix accuracy (km; values below −20 are counted at −20)"
	p.Y.Label.Text = "share of reports"
	// Both histograms share 1 km bins from −20 km (lower values are piled
	// into the first bin) to past the largest value, and the x axis is set
	// to that span with a margin, so no bar is cut at the plot's edge.
	const lo, binKM = -20.0, 1.0
	hi := 5.0
	for _, x := range append(slices.Clone(honest), moved...) {
		hi = math.Max(hi, x)
	}
	hi = binKM * (math.Floor(hi/binKM) + 1)
	nBins := int(math.Round((hi - lo) / binKM))
	add := func(v []float64, c color.NRGBA, name string) error {
		if len(v) == 0 {
			return nil
		}
		bins := make([]plotter.HistogramBin, nBins)
		for i := range bins {
			bins[i].Min, bins[i].Max = lo+float64(i)*binKM, lo+float64(i+1)*binKM
		}
		for _, x := range v {
			i := min(max(int(math.Floor((x-lo)/binKM)), 0), nBins-1)
			bins[i].Weight++
		}
		h := &plotter.Histogram{Bins: bins, Width: binKM, FillColor: c, LineStyle: plotter.DefaultLineStyle}
		h.Normalize(1)
		h.LineStyle.Width = vg.Points(0.5)
		p.Add(h)
		p.Legend.Add(fmt.Sprintf("%s (%d reports)", name, len(v)), h)
		return nil
	}
	if err := add(honest, color.NRGBA{R: 60, G: 120, B: 220, A: 150}, "honest"); err != nil {
		return "", err
	}
	if err := add(moved, color.NRGBA{R: 220, G: 60, B: 40, A: 150}, "moved"); err != nil {
		return "", err
	}
	zero, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 0, Y: p.Y.Max}})
	if err != nil {
		return "", err
	}
	zero.LineStyle.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(zero)
	p.Legend.Add("alerts need distance − accuracy > site radius", zero)
	p.Legend.Top = true
	pad := 0.04 * (hi - lo)
	p.X.Min, p.X.Max = lo-pad, hi+pad
	path := filepath.Join(dir, "machinemoving_margin.png")
	if err := p.Save(9*vg.Inch, 5*vg.Inch, path); err != nil {
		return "", err
	}
	return path, nil
}
