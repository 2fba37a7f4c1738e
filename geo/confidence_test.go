package geo

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/payedge/payedge/geo/internal/riceref"
)

// besselI0 is the power series I₀(x) = Σ (x²/4)ᵏ/(k!)², independent of the
// polynomial approximation under test.
func besselI0(x float64) float64 {
	q := x * x / 4
	sum, term := 1.0, 1.0
	for k := 1; k < 200; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < 1e-17*sum {
			break
		}
	}
	return sum
}

func TestI0e(t *testing.T) {
	// I₀(1) = 1.2660658777520082 (Abramowitz & Stegun, Table 9.8).
	if got := riceref.I0e(1) * math.E; math.Abs(got-1.2660658777520082) > 3e-7 {
		t.Errorf("I0(1) = %v", got)
	}
	for _, x := range []float64{0, 0.1, 1, 3.7, 3.8, 5, 10, 20, 30} {
		want := besselI0(x) * math.Exp(-x)
		if got := riceref.I0e(x); math.Abs(got-want) > 2e-7*want {
			t.Errorf("riceref.I0e(%v) = %v, want %v", x, got, want)
		}
	}
}

// TestProbWithinKnownValues checks the Rice CDF against closed forms:
//   - a fix at the centre: P = 1 − exp(−ρ²/2σ²) (Rayleigh);
//   - Marcum's identity Q₁(a, a) = ½[1 + e^{−a²} I₀(a²)], so P = ½[1 − e^{−a²} I₀(a²)]
//     when the fix lies on the circle (Marcum 1960; e.g. Nuttall, NUSC TR 4297, 1972);
//   - the symmetry Q₁(a, b) + Q₁(b, a) = 1 + e^{−(a²+b²)/2} I₀(ab).
func TestProbWithinKnownValues(t *testing.T) {
	const tol = 2e-6
	acc := 1000.0
	sigma := acc / Sigma95
	// The defining property of the 95 % radius.
	if got := ProbWithin(0, acc, acc); math.Abs(got-0.95) > tol {
		t.Errorf("P(within accuracy | fix at centre) = %v, want 0.95", got)
	}
	for _, rho := range []float64{1, 100, 500, 2000, 5000} {
		want := 1 - math.Exp(-rho*rho/(2*sigma*sigma))
		if got := ProbWithin(0, rho, acc); math.Abs(got-want) > tol {
			t.Errorf("Rayleigh ρ=%v: %v, want %v", rho, got, want)
		}
	}
	// Q₁(1, 1) = 0.7328798, so P = 0.2671202.
	if got := ProbWithin(sigma, sigma, acc); math.Abs(got-0.2671202) > tol {
		t.Errorf("1 − Q1(1,1) = %v, want 0.2671202", got)
	}
	for _, a := range []float64{0.3, 1, 2, 3.5, 4} {
		want := (1 - math.Exp(-a*a)*besselI0(a*a)) / 2
		if got := ProbWithin(a*sigma, a*sigma, acc); math.Abs(got-want) > tol {
			t.Errorf("on the circle a=%v: %v, want %v", a, got, want)
		}
	}
	// A fix 20σ out on a circle 20σ wide: the widest quadrature window.
	// I₀(400)e^{−400} from the asymptotic series 1/√(2πx)·(1 + 1/8x + 9/128x²).
	x := 400.0
	i0e400 := (1 + 1/(8*x) + 9/(128*x*x)) / math.Sqrt(2*math.Pi*x)
	if got, want := ProbWithin(20*sigma, 20*sigma, acc), (1-i0e400)/2; math.Abs(got-want) > tol {
		t.Errorf("on a wide circle: %v, want %v", got, want)
	}
	for _, ab := range [][2]float64{{0.5, 2}, {1, 3}, {2.5, 4}, {0.1, 0.2}} {
		a, b := ab[0], ab[1]
		want := 1 - math.Exp(-(a*a+b*b)/2)*besselI0(a*b)
		got := ProbWithin(a*sigma, b*sigma, acc) + ProbWithin(b*sigma, a*sigma, acc)
		if math.Abs(got-want) > 2*tol {
			t.Errorf("symmetry a=%v b=%v: %v, want %v", a, b, got, want)
		}
	}
	// Far inside and far outside.
	if got := ProbWithin(0, 1e6, acc); got != 1 {
		t.Errorf("huge disc: %v", got)
	}
	if got := ProbWithin(1e7, 100, acc); got != 0 {
		t.Errorf("far outside: %v", got)
	}
	// Special cases.
	for _, c := range []struct{ d, r, a, want float64 }{
		{10, 0, 100, 0}, {10, 20, 0, 1}, {30, 20, 0, 0}, {-5, 20, 0, 1},
		{10, math.Inf(1), 100, 1}, {10, 100, math.Inf(1), 0},
	} {
		if got := ProbWithin(c.d, c.r, c.a); got != c.want {
			t.Errorf("ProbWithin(%v, %v, %v) = %v, want %v", c.d, c.r, c.a, got, c.want)
		}
	}
	if !math.IsNaN(ProbWithin(math.NaN(), 1, 1)) {
		t.Error("NaN distance gave a number")
	}
}

// TestFixLogOddsMonotone: for every accuracy and radius, moving the fix
// away from the site never raises the log-odds, they stay within
// ±MaxFixLogOdds, and they cross zero near the alert boundary
// distance − accuracy − radius = 0.
func TestFixLogOddsMonotone(t *testing.T) {
	for _, acc := range []float64{50, 150, 300, 1200, 3000, 35000} {
		for _, r := range []float64{0, 50, 200, 1000, 5000} {
			prev := math.Inf(1)
			for d := 0.0; d <= 200000; d += math.Max(5, d/50) {
				l := fixLogOdds(d, acc, r, 10000)
				if math.IsNaN(l) || math.Abs(l) > MaxFixLogOdds {
					t.Fatalf("acc %v r %v d %v: log-odds %v", acc, r, d, l)
				}
				if l > prev+1e-6 { // quadrature noise where the odds are flat
					t.Fatalf("acc %v r %v: log-odds rise from %v to %v at d=%v", acc, r, prev, l, d)
				}
				prev = l
			}
			if prev > -5 { // even a 35 km GSM fix 200 km away is ~300 : 1 against
				t.Errorf("acc %v r %v: 200 km away gives %v", acc, r, prev)
			}
		}
	}
	// Precise fixes well inside favour the site strongly; the alert
	// boundary sits near even odds for LTE and GSM-class fixes.
	if l := fixLogOdds(0, 150, 200, 10000); l != MaxFixLogOdds {
		t.Errorf("precise fix at the site: %v", l)
	}
	for _, c := range []struct{ acc, r float64 }{{300, 200}, {3000, 200}, {1200, 500}} {
		d := c.acc + c.r // margin 0
		if l := fixLogOdds(d, c.acc, c.r, 10000); math.Abs(l) > 3 {
			t.Errorf("acc %v r %v: log-odds at margin 0 = %v, want near 0", c.acc, c.r, l)
		}
		if l := fixLogOdds(d+2*c.acc, c.acc, c.r, 10000); l > -3 {
			t.Errorf("acc %v r %v: log-odds two accuracies outside = %v", c.acc, c.r, l)
		}
	}
	if l := fixLogOdds(10, 0, 200, 10000); l != 0 {
		t.Errorf("no accuracy: %v", l)
	}
}

func TestMonitorConfidence(t *testing.T) {
	w := newMonitorWorld(t)
	ctx := context.Background()

	// Honest terminals with coarse GSM fixes never fall below even odds.
	m, _ := w.monitor(t, MonitorConfig{})
	worst := 1.0
	for term := range 40 {
		for k := range 6 {
			p := dest(w.site.Location, w.rng.Float64()*360, w.site.RadiusM*w.rng.Float64())
			v, err := m.Check(ctx, Report{TerminalID: fmt.Sprint("h", term), MerchantID: "m1",
				At: w.t0.Add(time.Duration(k) * time.Minute), Cells: nearestCells(w.gsm, p, 1+k%2)})
			if err != nil {
				t.Fatal(err)
			}
			worst = math.Min(worst, v.Confidence)
		}
	}
	if worst <= 0.5 {
		t.Errorf("honest coarse GSM terminal got confidence %v", worst)
	}

	// A terminal moved 30 km loses confidence report by report and ends at
	// the floor; each step is monotone.
	m, _ = w.monitor(t, MonitorConfig{N: 3, M: 5})
	near := nearestCells(w.lte, w.site.Location, 3)
	far := nearestCells(w.lte, dest(w.site.Location, 75, 30000), 3)
	var confs []float64
	for k, cells := range [][]CellObservation{near, near, near, far, far, far, far, far} {
		v, err := m.Check(ctx, Report{TerminalID: "mv", MerchantID: "m1", At: w.t0.Add(time.Duration(k) * time.Hour), Cells: cells})
		if err != nil {
			t.Fatal(err)
		}
		confs = append(confs, v.Confidence)
		if got := v.Signal().Confidence; got != v.Confidence {
			t.Errorf("signal confidence %v != verdict %v", got, v.Confidence)
		}
	}
	if confs[2] < 0.9 {
		t.Errorf("at the site: %v", confs)
	}
	for k := 3; k < len(confs); k++ {
		if confs[k] >= confs[k-1] && confs[k-1] > 0.0201 {
			t.Errorf("confidence did not fall at report %d: %v", k, confs)
		}
	}
	if last := confs[len(confs)-1]; math.Abs(last-0.02) > 1e-3 {
		t.Errorf("moved terminal ends at %v, want the 0.02 floor", last)
	}
	// Suppressing cell data does not bring a moved terminal back to 0.5;
	// a terminal without history does get the neutral 0.5.
	unknownCells := []CellObservation{{CellID: CellID{LTE, 999, 9, 9, 9}}}
	for _, tc := range []struct {
		term  string
		cells []CellObservation
		want  float64
	}{{"mv", unknownCells, confs[len(confs)-1]}, {"mv", nil, confs[len(confs)-1]}, {"fresh", unknownCells, 0.5}} {
		v, err := m.Check(ctx, Report{TerminalID: tc.term, MerchantID: "m1", At: w.t0.Add(9 * time.Hour), Cells: tc.cells})
		s := v.Signal()
		if err != nil || v.Status != StatusUnknown || math.Abs(s.Confidence-tc.want) > 1e-12 || s.Reasons[0].Code != ReasonUnknown {
			t.Errorf("%s unknown report: %+v %+v %v", tc.term, v, s, err)
		}
	}
	if v, _ := m.Check(ctx, Report{TerminalID: "mv", MerchantID: "m1", At: w.t0.Add(10 * time.Hour), Cells: far}); v.WindowCount != 5 || v.OutsideCount != 5 {
		t.Errorf("unknown reports changed the history: %+v", v)
	}

	// For the same history, a farther fix never gives a higher confidence.
	prev := 1.0
	for i, d := range []float64{0, 1000, 3000, 10000, 30000} {
		m, _ := w.monitor(t, MonitorConfig{})
		for k := range 2 {
			if _, err := m.Check(ctx, Report{TerminalID: "x", MerchantID: "m1", At: w.t0.Add(time.Duration(k) * time.Minute), Cells: near}); err != nil {
				t.Fatal(err)
			}
		}
		v, err := m.Check(ctx, Report{TerminalID: "x", MerchantID: "m1", At: w.t0.Add(time.Hour), Cells: nearestCells(w.lte, dest(w.site.Location, 30, d), 3)})
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && v.DistanceM > 0 && v.Confidence > prev {
			t.Errorf("d=%v: confidence %v above %v for a nearer fix", d, v.Confidence, prev)
		}
		prev = v.Confidence
	}

	for _, cfg := range []MonitorConfig{{MovedRadiusM: -1}, {MovedRadiusM: math.Inf(1)}, {MinConfidence: 0.5}, {MinConfidence: -0.1}, {MinConfidence: math.NaN()}} {
		if err := cfg.Validate(); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
	// Partial hysteresis settings fill in the other half.
	for _, c := range []struct{ in, want [2]int }{{[2]int{2, 0}, [2]int{2, 5}}, {[2]int{7, 0}, [2]int{7, 7}}, {[2]int{0, 2}, [2]int{2, 2}}, {[2]int{0, 9}, [2]int{3, 9}}} {
		got := MonitorConfig{N: c.in[0], M: c.in[1]}.withDefaults()
		if got.N != c.want[0] || got.M != c.want[1] || got.Validate() != nil {
			t.Errorf("N,M %v → %d,%d, want %v", c.in, got.N, got.M, c.want)
		}
	}
}

func BenchmarkFixLogOdds(b *testing.B) {
	defer reportThreadCPU(b)()
	b.ReportAllocs()
	for b.Loop() {
		sink += fixLogOdds(3200, 3000, 200, 10000)
	}
}

// reportThreadCPU locks the benchmark to its OS thread and returns a
// function, to defer, that reports the thread's CPU time per op as
// cpu-ns/op: on a machine shared with other work it is steadier than the
// wall-clock ns/op.
func reportThreadCPU(b *testing.B) func() {
	runtime.LockOSThread()
	c0 := threadCPU()
	return func() {
		c := threadCPU() - c0
		runtime.UnlockOSThread()
		if b.N > 0 && c > 0 {
			b.ReportMetric(float64(c.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

// The v − u > 9 shortcut is seamless: just inside and just outside it
// the probability is 1 to float64 precision.
func TestProbWithinShortcutSeamless(t *testing.T) {
	sigma := 1000 / Sigma95
	for _, gap := range []float64{8.5, 8.99, 9.01} {
		if p := ProbWithin(2000, 2000+gap*sigma, 1000); math.Abs(p-1) > 1e-15 {
			t.Errorf("gap %vσ: %v", gap, p)
		}
	}
	if p := ProbWithin(2000, 2000+6*sigma, 1000); p > 1 || p < 1-1e-8 {
		t.Errorf("gap 6σ: %v, want 1 − O(1e-9)", p)
	}
}

func BenchmarkMonitorCheck(b *testing.B) {
	w := newMonitorWorld(b)
	var at time.Time // the report time, which is also the monitor's clock
	m, _ := w.monitor(b, MonitorConfig{Now: func() time.Time { return at }})
	near := nearestCells(w.lte, w.site.Location, 3)
	ctx := context.Background()
	defer reportThreadCPU(b)()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		at = w.t0.Add(time.Duration(i) * time.Minute)
		if _, err := m.Check(ctx, Report{TerminalID: "t", MerchantID: "m1", At: at, Cells: near}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkMonitorCheckFar: a terminal 30 km from its site (the moved
// case), where the fix lies far outside the allowed disc.
func BenchmarkMonitorCheckFar(b *testing.B) {
	w := newMonitorWorld(b)
	var at time.Time // the report time, which is also the monitor's clock
	m, _ := w.monitor(b, MonitorConfig{Now: func() time.Time { return at }})
	far := nearestCells(w.lte, dest(w.site.Location, 75, 30000), 3)
	ctx := context.Background()
	defer reportThreadCPU(b)()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		at = w.t0.Add(time.Duration(i) * time.Minute)
		if _, err := m.Check(ctx, Report{TerminalID: "t", MerchantID: "m1", At: at, Cells: far}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkMonitorCheckEdge: a coarse fix 3 km from a 200 m site, where
// neither likelihood is negligible and both quadratures run.
func BenchmarkMonitorCheckEdge(b *testing.B) {
	w := newMonitorWorld(b)
	var at time.Time // the report time, which is also the monitor's clock
	m, _ := w.monitor(b, MonitorConfig{Now: func() time.Time { return at }})
	edge := nearestCells(w.gsm, dest(w.site.Location, 75, 3000), 2)
	ctx := context.Background()
	defer reportThreadCPU(b)()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		at = w.t0.Add(time.Duration(i) * time.Minute)
		if _, err := m.Check(ctx, Report{TerminalID: "t", MerchantID: "m1", At: at, Cells: edge}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// TestFixLogOddsCalibrated simulates the model the log-odds assume — half
// the terminals uniformly within the allowed radius, half moved uniformly
// within radius + MovedRadiusM, fixes scattered by a circular normal with
// σ = accuracy/Sigma95 — and checks calibration: among fixes given
// probability ≈ p of being at the site, a share ≈ p really is.
func TestFixLogOddsCalibrated(t *testing.T) {
	rng := newTestRand(77)
	const moved = 10000.0
	for _, c := range []struct{ acc, r float64 }{{300, 200}, {3000, 200}, {1200, 1000}} {
		sigma := c.acc / Sigma95
		const bins = 10
		var n, honest, sumP [bins]float64
		for range 20000 {
			isHonest := rng.IntN(2) == 0
			rad := c.r
			if !isHonest {
				rad = c.r + moved
			}
			// Uniform in the disc, then the fix error.
			rho, th := rad*math.Sqrt(rng.Float64()), 2*math.Pi*rng.Float64()
			x := rho*math.Cos(th) + sigma*rng.NormFloat64()
			y := rho*math.Sin(th) + sigma*rng.NormFloat64()
			p := logistic(fixLogOdds(math.Hypot(x, y), c.acc, c.r, moved))
			b := min(int(p*bins), bins-1)
			n[b]++
			sumP[b] += p
			if isHonest {
				honest[b]++
			}
		}
		checked := 0
		for b := range bins {
			if n[b] < 200 {
				continue
			}
			checked++
			got, want := honest[b]/n[b], sumP[b]/n[b]
			tol := 3*math.Sqrt(want*(1-want)/n[b]) + 0.01 // 3σ sampling noise
			t.Logf("acc %v r %v: scored %.3f, honest %.3f (%v fixes)", c.acc, c.r, want, got, n[b])
			if math.Abs(got-want) > tol {
				t.Errorf("acc %v r %v: fixes scored %.3f on average are honest %.3f of the time (%v fixes)", c.acc, c.r, want, got, n[b])
			}
		}
		if checked < 2 {
			t.Errorf("acc %v r %v: only %d populated bins", c.acc, c.r, checked)
		}
	}
}

// TestMonitorRelocatedAfterHonestHistory is the relocated scene of
// examples/checkout (issue 17, point 7): three fixes at the shop, then two
// precise fixes 30 km away. The newest fix is outside, so the signal must
// say so — under the neutral-0.5 contract a confidence above 0.5 would be
// evidence *for* the terminal being at its site. (The window mean of the
// former model gave 0.72 here.) One honest fix after the move brings the
// confidence back above 0.5, but not to the top: the history is worth at
// most ln M.
func TestMonitorRelocatedAfterHonestHistory(t *testing.T) {
	w := newMonitorWorld(t)
	ctx := context.Background()
	m, _ := w.monitor(t, MonitorConfig{})
	near := nearestCells(w.lte, w.site.Location, 3)
	far := nearestCells(w.lte, dest(w.site.Location, 75, 30000), 3)
	var v Verdict
	for k, cells := range [][]CellObservation{near, near, near, far, far} {
		var err error
		v, err = m.Check(ctx, Report{TerminalID: "rel", MerchantID: "m1", At: w.t0.Add(time.Duration(k) * 10 * time.Minute), Cells: cells})
		if err != nil {
			t.Fatal(err)
		}
	}
	s := v.Signal()
	if v.Status != StatusSuspect || s.Reasons[0].Code != ReasonOutside || s.Confidence > 0.05 {
		t.Errorf("relocated after an honest history: status %v, signal %+v; want geo.outside below 0.05", v.Status, s)
	}
	v, err := m.Check(ctx, Report{TerminalID: "rel", MerchantID: "m1", At: w.t0.Add(time.Hour), Cells: near})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := m.Check(ctx, Report{TerminalID: "fresh", MerchantID: "m1", At: w.t0.Add(time.Hour), Cells: near})
	if err != nil {
		t.Fatal(err)
	}
	if v.Confidence < 0.5 || v.Confidence >= fresh.Confidence {
		t.Errorf("back at the shop: %v, want in [0.5, %v) (a terminal without history)", v.Confidence, fresh.Confidence)
	}
	// For every history, a fix that lies outside and is precise enough to
	// tell gives a confidence below 0.5.
	for _, hist := range [][]CellObservation{nil, near, far} {
		m, _ := w.monitor(t, MonitorConfig{})
		for k := range 4 {
			if hist == nil {
				break
			}
			if _, err := m.Check(ctx, Report{TerminalID: "x", MerchantID: "m1", At: w.t0.Add(time.Duration(k) * time.Minute), Cells: hist}); err != nil {
				t.Fatal(err)
			}
		}
		v, err := m.Check(ctx, Report{TerminalID: "x", MerchantID: "m1", At: w.t0.Add(time.Hour), Cells: far})
		if err != nil || !v.Outside || v.Confidence >= 0.5 {
			t.Errorf("history %d cells: outside fix gave %+v, %v", len(hist), v, err)
		}
	}
}
