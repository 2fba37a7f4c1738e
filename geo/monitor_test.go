package geo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// monitorWorld is a synthetic city: a GSM layer (ranges 3–5 km, sparse),
// an LTE layer (dense, ~1 km) and merchants at known sites.
type monitorWorld struct {
	db   *CellDB
	gsm  []CellRecord
	lte  []CellRecord
	rng  *rand.Rand
	t0   time.Time
	site Site
}

func newMonitorWorld(t testing.TB) *monitorWorld {
	rng := rand.New(rand.NewPCG(42, 43))
	w := &monitorWorld{rng: rng, t0: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC), site: Site{Location: berlin, RadiusM: 200}}
	for i := range 300 {
		w.gsm = append(w.gsm, CellRecord{ID: CellID{GSM, 262, 2, uint32(1 + i/50), uint64(i + 1)},
			Location: dest(berlin, rng.Float64()*360, 70000*rng.Float64()), RangeM: 3000 + 2000*rng.Float64(), Samples: 20})
	}
	for i := range 3000 {
		w.lte = append(w.lte, CellRecord{ID: CellID{LTE, 262, 1, uint32(1 + i/300), uint64(i + 1)},
			Location: dest(berlin, rng.Float64()*360, 70000*rng.Float64()), RangeM: 1200, Samples: 50})
	}
	db, err := NewCellDB(append(append([]CellRecord{}, w.gsm...), w.lte...), DBConfig{})
	if err != nil {
		t.Fatal(err)
	}
	w.db = db
	return w
}

func (w *monitorWorld) monitor(t testing.TB, cfg MonitorConfig) (*Monitor, *MemorySiteStore) {
	sites := NewMemorySiteStore()
	if err := sites.Put(context.Background(), "m1", w.site); err != nil {
		t.Fatal(err)
	}
	m, err := NewMonitor(w.db, sites, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m, sites
}

func TestMonitorHonestCoarseGSMNeverAlerts(t *testing.T) {
	w := newMonitorWorld(t)
	m, _ := w.monitor(t, MonitorConfig{})
	ctx := context.Background()
	located, coarse := 0, 0
	for term := range 100 {
		for k := range 10 {
			// The terminal stays within the site; it hears only 1–2 GSM cells.
			p := dest(w.site.Location, w.rng.Float64()*360, w.site.RadiusM*w.rng.Float64())
			obs := nearestCells(w.gsm, p, 1+k%2)
			v, err := m.Check(ctx, Report{TerminalID: fmt.Sprint("t", term), MerchantID: "m1", At: w.t0.Add(time.Duration(k) * time.Minute), Cells: obs})
			if err != nil {
				t.Fatal(err)
			}
			if v.Status == StatusMoved || v.Status == StatusSuspect {
				t.Fatalf("honest terminal %d accused: %+v", term, v)
			}
			if v.Status == StatusNotMoved {
				located++
				if v.DistanceM > v.Site.RadiusM {
					coarse++ // the fix itself is far off; only its accuracy saves the merchant
				}
			}
		}
	}
	if located != 1000 || coarse < 300 {
		t.Errorf("located %d of 1000, %d coarse fixes: the test is not exercising coarse GSM", located, coarse)
	}
	t.Logf("%d fixes, %d outside the allowed radius, no alerts", located, coarse)
}

func TestMonitorMoved30kmLTE(t *testing.T) {
	w := newMonitorWorld(t)
	m, _ := w.monitor(t, MonitorConfig{N: 3, M: 5})
	ctx := context.Background()
	away := dest(w.site.Location, 75, 30000)
	var statuses []Status
	for k := range 5 {
		p := dest(away, w.rng.Float64()*360, 300*w.rng.Float64())
		v, err := m.Check(ctx, Report{TerminalID: "t-moved", MerchantID: "m1", At: w.t0.Add(time.Duration(k) * time.Hour), Cells: nearestCells(w.lte, p, 3)})
		if err != nil {
			t.Fatal(err)
		}
		if !v.Outside || v.MarginM <= 0 {
			t.Fatalf("report %d: 30 km LTE fix not outside: %+v", k, v)
		}
		statuses = append(statuses, v.Status)
		if k == 2 {
			sig := v.Signal()
			if sig.Source != "geo" || sig.Confidence > 0.1 || len(sig.Reasons) == 0 || sig.Reasons[0].Code != ReasonMoved {
				t.Errorf("signal %+v", sig)
			}
		}
	}
	want := []Status{StatusSuspect, StatusSuspect, StatusMoved, StatusMoved, StatusMoved}
	if fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
}

func TestMonitorOneBadFixDoesNotAlert(t *testing.T) {
	w := newMonitorWorld(t)
	m, _ := w.monitor(t, MonitorConfig{N: 2, M: 4})
	ctx := context.Background()
	far := nearestCells(w.lte, dest(w.site.Location, 200, 40000), 3)
	near := nearestCells(w.lte, w.site.Location, 3)
	for k := range 12 {
		cells := near
		if k%4 == 1 { // one bad fix in every window of 4
			cells = far
		}
		v, err := m.Check(ctx, Report{TerminalID: "t", MerchantID: "m1", At: w.t0.Add(time.Duration(k) * time.Minute), Cells: cells})
		if err != nil {
			t.Fatal(err)
		}
		if v.Status == StatusMoved {
			t.Fatalf("report %d: single bad fix raised an alert: %+v", k, v)
		}
	}
}

func TestMonitorUnknownAndErrors(t *testing.T) {
	w := newMonitorWorld(t)
	m, sites := w.monitor(t, MonitorConfig{})
	ctx := context.Background()
	at := w.t0
	v, err := m.Check(ctx, Report{TerminalID: "t", MerchantID: "m1", At: at, Cells: []CellObservation{{CellID: CellID{LTE, 999, 9, 9, 9}}}})
	if err != nil || v.Status != StatusUnknown || v.Signal().Reasons[0].Code != ReasonUnknown || v.Signal().Confidence != 0.5 {
		t.Errorf("unknown cell: %+v %v", v, err)
	}
	if v, err := m.Check(ctx, Report{TerminalID: "t", MerchantID: "m1", At: at}); err != nil || v.Status != StatusUnknown {
		t.Errorf("no cells: %+v %v", v, err)
	}
	if m.Terminals() != 0 {
		t.Errorf("unknown reports created state")
	}
	if _, err := m.Check(ctx, Report{TerminalID: "t", MerchantID: "nobody", At: at, Cells: nearestCells(w.lte, berlin, 1)}); !errors.Is(err, ErrSiteNotFound) {
		t.Errorf("missing site: %v", err)
	}
	for _, r := range []Report{
		{MerchantID: "m1", At: at},
		{TerminalID: "t", At: at},
		{TerminalID: "t", MerchantID: "m1"},
		{TerminalID: string(make([]byte, MaxIDBytes+1)), MerchantID: "m1", At: at},
	} {
		if _, err := m.Check(ctx, r); !errors.Is(err, ErrInvalidReport) {
			t.Errorf("%+v: %v", r, err)
		}
	}
	dup := nearestCells(w.lte, berlin, 1)
	if _, err := m.Check(ctx, Report{TerminalID: "t", MerchantID: "m1", At: at, Cells: append(dup, dup[0])}); !errors.Is(err, ErrDuplicateObservation) {
		t.Errorf("duplicate: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Check(cctx, Report{TerminalID: "t", MerchantID: "m1", At: at, Cells: dup}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if err := sites.Put(context.Background(), "bad", Site{Location: LatLng{95, 0}}); !errors.Is(err, ErrInvalidSite) {
		t.Errorf("bad site: %v", err)
	}
	if err := sites.Put(context.Background(), "bad", Site{Location: berlin, RadiusM: -1}); !errors.Is(err, ErrInvalidSite) {
		t.Errorf("bad radius: %v", err)
	}
	if err := sites.Delete(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	if _, err := sites.Site(ctx, "m1"); !errors.Is(err, ErrSiteNotFound) {
		t.Errorf("deleted site: %v", err)
	}
	for _, cfg := range []MonitorConfig{{N: 3, M: 2}, {N: 1, M: 65}, {MaxTerminals: -1}, {StateTTL: -1}, {ThresholdM: math.NaN()}} {
		if _, err := NewMonitor(w.db, sites, cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("config %+v: %v", cfg, err)
		}
	}
	if _, err := NewMonitor(nil, sites, MonitorConfig{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nil locator: %v", err)
	}
	if err := sites.Put(context.Background(), "huge", Site{Location: berlin, RadiusM: 1e300}); !errors.Is(err, ErrInvalidSite) {
		t.Errorf("absurd radius: %v", err)
	}
	// A zero Monitor is an error, not a nil-map panic.
	var zero Monitor
	if _, err := zero.Check(ctx, Report{TerminalID: "t", MerchantID: "m1", At: at, Cells: dup}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("zero Monitor: %v", err)
	}
}

// brokenLocator breaks the CellLocator contract.
type brokenLocator Position

func (b brokenLocator) Locate(context.Context, []CellObservation) (Position, error) {
	return Position(b), nil
}

func TestMonitorRejectsBrokenLocator(t *testing.T) {
	var sites MemorySiteStore // the zero value is usable
	if err := sites.Put(context.Background(), "m1", Site{Location: berlin, RadiusM: 100}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	obs := []CellObservation{{CellID: CellID{LTE, 262, 1, 1, 1}}}
	for _, p := range []Position{
		{LatLng: LatLng{math.NaN(), 0}, AccuracyM: 100},
		{LatLng: LatLng{0, 200}, AccuracyM: 100},
		{LatLng: berlin, AccuracyM: 0},
		{LatLng: berlin, AccuracyM: math.NaN()},
		{LatLng: berlin, AccuracyM: math.Inf(1)},
	} {
		m, err := NewMonitor(brokenLocator(p), &sites, MonitorConfig{})
		if err != nil {
			t.Fatal(err)
		}
		v, err := m.Check(ctx, Report{TerminalID: "t", MerchantID: "m1", At: time.Unix(1, 0), Cells: obs})
		if !errors.Is(err, ErrInvalidPosition) || v.Status != StatusUnknown {
			t.Errorf("position %+v: %v %v", p, v.Status, err)
		}
	}
}

func TestMonitorStateBoundedAndReset(t *testing.T) {
	w := newMonitorWorld(t)
	m, sites := w.monitor(t, MonitorConfig{N: 2, M: 3, MaxTerminals: 10, StateTTL: time.Hour})
	ctx := context.Background()
	far := nearestCells(w.lte, dest(w.site.Location, 10, 30000), 3)
	for i := range 100 {
		if _, err := m.Check(ctx, Report{TerminalID: fmt.Sprint("t", i), MerchantID: "m1", At: w.t0, Cells: far}); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.Terminals(); n != 10 {
		t.Errorf("held %d terminals, want 10", n)
	}
	check := func(term, merchant string, at time.Time) Verdict {
		v, err := m.Check(ctx, Report{TerminalID: term, MerchantID: merchant, At: at, Cells: far})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// t99 is held (one outside so far): the second outside alerts.
	if v := check("t99", "m1", w.t0.Add(time.Minute)); v.Status != StatusMoved || v.OutsideCount != 2 {
		t.Errorf("held terminal: %+v", v)
	}
	// t0 was evicted: its history starts again.
	if v := check("t0", "m1", w.t0.Add(time.Minute)); v.Status != StatusSuspect || v.WindowCount != 1 {
		t.Errorf("evicted terminal: %+v", v)
	}
	// After StateTTL of silence the history is forgotten.
	if v := check("t99", "m1", w.t0.Add(3*time.Hour)); v.Status != StatusSuspect || v.WindowCount != 1 {
		t.Errorf("after TTL: %+v", v)
	}
	// Another merchant ID starts its own history ...
	if err := sites.Put(context.Background(), "m2", w.site); err != nil {
		t.Fatal(err)
	}
	if v := check("t99", "m2", w.t0.Add(3*time.Hour+time.Minute)); v.WindowCount != 1 {
		t.Errorf("after merchant change: %+v", v)
	}
	// ... and switching back does not wipe the first one: a terminal that
	// alternates merchant IDs cannot launder its suspicion.
	if v := check("t99", "m1", w.t0.Add(3*time.Hour+2*time.Minute)); v.WindowCount != 2 || v.Status != StatusMoved {
		t.Errorf("after switching back: %+v", v)
	}
}

func TestMonitorConcurrent(t *testing.T) {
	w := newMonitorWorld(t)
	m, _ := w.monitor(t, MonitorConfig{MaxTerminals: 16})
	near := nearestCells(w.lte, w.site.Location, 3)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				r := Report{TerminalID: fmt.Sprint("t", (g*7+i)%40), MerchantID: "m1", At: w.t0.Add(time.Duration(i) * time.Second), Cells: near}
				if s, err := m.Score(context.Background(), r); err != nil || s.Confidence < 0.5 {
					t.Errorf("Score: %+v %v", s, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if m.Terminals() > 16 {
		t.Errorf("state exceeded bound: %d", m.Terminals())
	}
}

func TestVerdictSignal(t *testing.T) {
	site := Site{Location: berlin, RadiusM: 500}
	nan := math.NaN()
	tests := []struct {
		v    Verdict
		code string
		conf float64
	}{
		{Verdict{Status: StatusMoved, Site: site, Confidence: 0.04}, ReasonMoved, 0.04},
		{Verdict{Status: StatusSuspect, Site: site, Confidence: 0.3}, ReasonOutside, 0.3},
		{Verdict{Status: StatusNotMoved, Site: site, DistanceM: 100, AccuracyM: 150, Confidence: 0.97}, ReasonAtSite, 0.97},
		{Verdict{Status: StatusNotMoved, Site: site, DistanceM: 800, AccuracyM: 3000, Confidence: 0.9}, ReasonNear, 0.9},
		{Verdict{Status: StatusNotMoved, Site: site, Confidence: nan}, ReasonAtSite, 0.5},
		{Verdict{Status: StatusMoved, Site: site, Confidence: 1.5}, ReasonMoved, 0.5},
		{Verdict{Confidence: 0.01}, ReasonUnknown, 0.5},
	}
	for _, tt := range tests {
		s := tt.v.Signal()
		if s.Source != SignalSource || s.Confidence != tt.conf || s.Reasons[0].Code != tt.code || s.Validate() != nil {
			t.Errorf("%v: %+v", tt.v.Status, s)
		}
	}
	area := Verdict{Status: StatusNotMoved, Site: site, Position: Position{Method: MethodArea}}
	if s := area.Signal(); len(s.Reasons) != 2 || s.Reasons[1].Code != ReasonArea {
		t.Errorf("area signal %+v", s)
	}
}
