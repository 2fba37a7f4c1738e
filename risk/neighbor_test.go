package risk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/payedge/payedge/risk"
)

func reasonCodes(s risk.Signal) []string {
	var out []string
	for _, r := range s.Reasons {
		out = append(out, r.Code)
	}
	return out
}

func hasCode(s risk.Signal, code string) bool {
	for _, r := range s.Reasons {
		if r.Code == code {
			return true
		}
	}
	return false
}

func newScorer(t testing.TB, st risk.ProfileStore) *risk.NeighborAssessor {
	t.Helper()
	sc, err := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{}), st)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestNeighborScenarios(t *testing.T) {
	s := newShop(1, 12)
	st, at := s.learned(t, 10)
	sc := newScorer(t, st)
	ctx := context.Background()
	score := func(seen []risk.Neighbor) risk.Signal {
		t.Helper()
		sig, err := sc.Score(ctx, risk.NeighborObservation{TerminalID: "T1", At: at.Add(time.Hour), Seen: seen})
		if err != nil {
			t.Fatal(err)
		}
		if sig.Source != risk.NeighborSource {
			t.Fatalf("source %q", sig.Source)
		}
		return sig
	}
	// PSD2 with readers whose CVM limit (EUR 25) is below the Art. 11 cap:
	// EUR 45 is in the passwordless band.
	pol := risk.PSD2Policy()
	pol.Limits.CVMRequired = 25_00
	passwordless := risk.Transaction{Amount: eur(45_00)}

	ev, err := sc.Evaluate(ctx, risk.NeighborObservation{TerminalID: "T1", At: at, Seen: s.scan(1, 0, 0)})
	if err != nil || !ev.Has(risk.ReasonNeighborsMatch) || ev.Has(risk.ReasonNeighborsFewKnown) || ev.Has("nope") ||
		ev.Matched != 12 || ev.Expected != 12 || ev.Unknown != 0 || ev.Recall < 0.999 {
		t.Errorf("Evaluate: %+v %v", ev, err)
	}
	genuine := score(s.scan(0.85, 4, 3))
	if genuine.Confidence < pol.PasswordlessConfidence || !hasCode(genuine, risk.ReasonNeighborsMatch) {
		t.Errorf("genuine: %+v", genuine)
	}
	if d, _ := pol.Decide(genuine.Confidence, passwordless); d != risk.ApproveNoPIN {
		t.Errorf("genuine decision %v", d)
	}

	relocated := score(elsewhere(s.rng, 10))
	if relocated.Confidence > 0.1 || !hasCode(relocated, risk.ReasonNeighborsFewKnown) || !hasCode(relocated, risk.ReasonNeighborsUnknown) {
		t.Errorf("relocated: %+v", relocated)
	}

	empty := score(nil)
	if empty.Confidence > 0.2 || !cmp.Equal(reasonCodes(empty), []string{risk.ReasonNeighborsEmpty}) {
		t.Errorf("empty: %+v", empty)
	}

	var phones []risk.Neighbor
	for range 5 {
		phones = append(phones, risk.Neighbor{ID: randomMAC(s.rng), Kind: risk.KindWiFi, RSSI: -60})
	}
	phones = append(phones, risk.Neighbor{ID: "4a:00:00:00:00:01", Kind: risk.KindBLE, Random: true, RSSI: -70})
	rnd := score(phones)
	if rnd.Confidence > 0.2 || !hasCode(rnd, risk.ReasonNeighborsRandomizedOnly) {
		t.Errorf("randomised only: %+v", rnd)
	}

	// Shop APs but every RSSI 25 dB off: the terminal is not where it was.
	shifted := s.scan(1, 0, 0)
	for i := range shifted {
		shifted[i].RSSI = max(-120, shifted[i].RSSI-25)
	}
	sh := score(shifted)
	if !hasCode(sh, risk.ReasonNeighborsRSSIShift) || sh.Confidence >= genuine.Confidence {
		t.Errorf("shifted: %+v (genuine %v)", sh, genuine.Confidence)
	}

	// Without the RSSIs the profile learned, the shop's identifiers are no
	// match: a scan that leaves out every strength escapes the strength
	// checks (cloned identifiers listed without RSSI were approved). A
	// profile learned without RSSI still matches on presence
	// (TestNoRSSIProfileMatchesOnPresence).
	noRSSI := s.scan(1, 0, 0)
	for i := range noRSSI {
		noRSSI[i].RSSI = 0
	}
	if nr := score(noRSSI); nr.Confidence > 0.2 || hasCode(nr, risk.ReasonNeighborsMatch) {
		t.Errorf("no RSSI: %+v", nr)
	}

	// No profile: low confidence with a reason, not an error.
	sig, err := sc.Score(ctx, risk.NeighborObservation{TerminalID: "T2", At: at, Seen: s.scan(1, 0, 0)})
	if err != nil || !hasCode(sig, risk.ReasonNeighborsNoProfile) || sig.Confidence > 0.5 {
		t.Errorf("no profile: %+v %v", sig, err)
	}
}

// A freshly learned profile is no evidence yet: it scores like no profile,
// never below it, and only a mature profile can rise above it.
func TestNeighborYoungProfile(t *testing.T) {
	ctx := context.Background()
	s := newShop(31, 12)
	st := risk.NewMemoryStore()
	sc := newScorer(t, st)
	cfg := sc.Config()
	at := time.Unix(1e9, 0) // one instant: no decay, Weight counts scans
	obs := func() risk.NeighborObservation {
		return risk.NeighborObservation{TerminalID: "T1", At: at, Seen: s.scan(0.9, 3, 1)}
	}
	none, err := sc.Evaluate(ctx, obs())
	if err != nil || none.Confidence != cfg.NoProfileConfidence {
		t.Fatalf("no profile: %+v %v", none, err)
	}
	for i := 1; float64(i) < cfg.MinObservations; i++ {
		if err := sc.Learn(ctx, obs()); err != nil {
			t.Fatal(err)
		}
		young, err := sc.Evaluate(ctx, obs())
		if err != nil || young.Confidence != cfg.NoProfileConfidence || !young.Has(risk.ReasonNeighborsThinProfile) || young.Has(risk.ReasonNeighborsMatch) {
			t.Fatalf("after %d scans: %+v %v", i, young, err)
		}
		moved, err := sc.Evaluate(ctx, risk.NeighborObservation{TerminalID: "T1", At: at, Seen: elsewhere(s.rng, 10)})
		if err != nil || moved.Confidence > cfg.NoProfileConfidence*(1-cfg.UnknownPenalty)+1e-12 || !moved.Has(risk.ReasonNeighborsUnknown) {
			t.Fatalf("after %d scans, elsewhere: %+v %v", i, moved, err)
		}
	}
	if err := sc.Learn(ctx, obs()); err != nil {
		t.Fatal(err)
	}
	mature, err := sc.Evaluate(ctx, obs())
	if err != nil || mature.Confidence <= cfg.NoProfileConfidence || !mature.Has(risk.ReasonNeighborsMatch) {
		t.Fatalf("mature: %+v %v", mature, err)
	}
}

// Several identifiers replayed by one radio arrive at one strength.
func TestNeighborUniformClones(t *testing.T) {
	ctx := context.Background()
	var aps []risk.Neighbor
	for i, r := range []float64{-40, -55, -70, -85, -60, -75} {
		// Six access points of one vendor, each in its own address block.
		aps = append(aps, risk.Neighbor{ID: "00:11:22:3" + string("0123456789"[i]) + ":44:00", Kind: risk.KindWiFi, RSSI: r})
	}
	p, err := risk.PreconfiguredProfile("T1", time.Unix(1e9, 0), aps)
	if err != nil {
		t.Fatal(err)
	}
	st := risk.NewMemoryStore()
	if err := st.Put(ctx, p); err != nil {
		t.Fatal(err)
	}
	sc := newScorer(t, st)
	clones := make([]risk.Neighbor, len(aps))
	for i, ap := range aps {
		ap.RSSI = -62 + float64(i%2)
		clones[i] = ap
	}
	sig, err := sc.Score(ctx, risk.NeighborObservation{TerminalID: "T1", At: time.Unix(1e9, 0), Seen: clones})
	if err != nil {
		t.Fatal(err)
	}
	if !hasCode(sig, risk.ReasonNeighborsRSSIUniform) || sig.Confidence >= risk.PSD2Policy().PasswordlessConfidence {
		t.Errorf("uniform clones: %+v", sig)
	}
	sig, _ = sc.Score(ctx, risk.NeighborObservation{TerminalID: "T1", At: time.Unix(1e9, 0), Seen: aps})
	if hasCode(sig, risk.ReasonNeighborsRSSIUniform) || sig.Confidence < 0.95 {
		t.Errorf("genuine preconfigured: %+v", sig)
	}
}

// Property: an attacker with one cloned BSSID — at any RSSI, with any number
// of other unknown or randomised neighbours — never reaches ApproveNoPIN,
// for any amount or counter state, because one match is below MinExpected.
func TestClonedSingleBSSIDNeverNoPIN(t *testing.T) {
	s := newShop(5, 15)
	st, at := s.learned(t, 8)
	sc := newScorer(t, st)
	pols := []risk.Policy{risk.PSD2Policy(), risk.QuickPassPolicy()}
	rng := rand.New(rand.NewPCG(77, 0))
	for iter := 0; iter < 3000; iter++ {
		clone := s.aps[rng.IntN(len(s.aps))]
		if rng.IntN(2) == 0 {
			clone.RSSI = -30 - float64(rng.IntN(80))
		}
		seen := []risk.Neighbor{clone}
		seen = append(seen, elsewhere(rng, rng.IntN(20))...)
		for range rng.IntN(10) {
			seen = append(seen, risk.Neighbor{ID: randomMAC(rng), Kind: risk.KindWiFi, RSSI: -50})
		}
		rng.Shuffle(len(seen), func(i, j int) { seen[i], seen[j] = seen[j], seen[i] })
		sig, err := sc.Score(context.Background(), risk.NeighborObservation{TerminalID: "T1", At: at, Seen: seen})
		if err != nil {
			t.Fatal(err)
		}
		if !hasCode(sig, risk.ReasonNeighborsFewKnown) {
			t.Fatalf("clone without few_known: %+v", sig)
		}
		// Repeated reports of the clone are a malformed scan.
		rep := append(slices.Clone(seen), clone)
		if _, err := sc.Score(context.Background(), risk.NeighborObservation{TerminalID: "T1", At: at, Seen: rep}); !errors.Is(err, risk.ErrDuplicateNeighbor) {
			t.Fatalf("repeated clone: %v", err)
		}
		for _, pol := range pols {
			// Fused with a neutral prior, as the host would.
			conf := risk.Fuse(0.5, sig)
			tx := risk.Transaction{Amount: risk.Amount{Minor: 1 + rng.Int64N(pol.NoPIN.MaxAmount), Currency: pol.Currency}}
			if d, err := pol.Decide(conf, tx); err != nil || d == risk.ApproveNoPIN {
				t.Fatalf("clone reached %v (%v) with %+v", d, err, sig)
			}
		}
	}
}

// One physical access point advertises several BSSIDs: a dual-band pair
// differing in the last hex digit and a locally administered secondary.
// Cloning all of them is still one cloned device and stays capped; a
// second, separate device lifts the cap.
func TestClonedMultiBSSIDAccessPoint(t *testing.T) {
	ctx := context.Background()
	at := time.Unix(1e9, 0)
	ap := []risk.Neighbor{
		{ID: "00:21:9b:00:10:50", Kind: risk.KindWiFi, RSSI: -50}, // 2.4 GHz
		{ID: "00:21:9b:00:10:58", Kind: risk.KindWiFi, RSSI: -55}, // 5 GHz, same AP
		{ID: "02:21:9b:00:10:50", Kind: risk.KindWiFi, RSSI: -50}, // guest SSID, same AP
	}
	other := risk.Neighbor{ID: "00:33:44:00:20:10", Kind: risk.KindWiFi, RSSI: -70}
	for _, tc := range []struct {
		name    string
		learned []risk.Neighbor
		scan    []risk.Neighbor
		capped  bool
	}{
		{"one-AP shop, all its BSSIDs cloned", ap, ap, true},
		{"two-AP shop, one AP's BSSIDs cloned", append(slices.Clone(ap), other), ap, true},
		{"two-AP shop, genuine", append(slices.Clone(ap), other), append(slices.Clone(ap), other), false},
	} {
		st := risk.NewMemoryStore()
		sc := newScorer(t, st)
		for range 5 {
			if err := sc.Learn(ctx, risk.NeighborObservation{TerminalID: "T", At: at, Seen: tc.learned}); err != nil {
				t.Fatal(err)
			}
		}
		ev, err := sc.Evaluate(ctx, risk.NeighborObservation{TerminalID: "T", At: at, Seen: tc.scan})
		if err != nil {
			t.Fatal(err)
		}
		if ev.Matched != len(tc.scan) {
			t.Fatalf("%s: matched %d of %d (is the secondary learned?): %+v", tc.name, ev.Matched, len(tc.scan), ev)
		}
		capped := ev.Has(risk.ReasonNeighborsFewKnown)
		if capped != tc.capped || capped && ev.Confidence > sc.Config().FewKnownCap {
			t.Errorf("%s: capped %v, want %v: %+v", tc.name, capped, tc.capped, ev)
		}
		if d, err := risk.PSD2Policy().Decide(risk.Fuse(0.5, risk.Signal{Confidence: ev.Confidence}), risk.Transaction{Amount: eur(10_00)}); tc.capped && (err != nil || d == risk.ApproveNoPIN) {
			t.Errorf("%s: cloned AP reached %v (%v)", tc.name, d, err)
		}
	}
}

// The same property against thin and preconfigured profiles of one to
// five access points.
func TestClonedSingleBSSIDPreconfigured(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(78, 0))
	at := time.Unix(1e9, 0)
	for iter := 0; iter < 500; iter++ {
		aps := elsewhere(rng, 1+rng.IntN(5))
		p, err := risk.PreconfiguredProfile("T", at, aps)
		if err != nil {
			t.Fatal(err)
		}
		st := risk.NewMemoryStore()
		if err := st.Put(ctx, p); err != nil {
			t.Fatal(err)
		}
		clone := aps[rng.IntN(len(aps))]
		seen := append(elsewhere(rng, rng.IntN(10)), clone)
		sig, err := newScorer(t, st).Score(ctx, risk.NeighborObservation{TerminalID: "T", At: at, Seen: seen})
		if err != nil {
			t.Fatal(err)
		}
		pol := risk.PSD2Policy()
		for _, amt := range []int64{1, 10_00, 50_00, 80_00, 100_00} {
			if d, err := pol.Decide(risk.Fuse(0.5, sig), risk.Transaction{Amount: eur(amt)}); err != nil || d == risk.ApproveNoPIN {
				t.Fatalf("%d-AP profile, clone reached %v (%v): %+v", len(aps), d, err, sig)
			}
		}
	}
}

func TestNeighborErrors(t *testing.T) {
	ctx := context.Background()
	sc := newScorer(t, risk.NewMemoryStore())
	at := time.Unix(1e9, 0)
	ok := risk.Neighbor{ID: "00:11:22:33:44:55", Kind: risk.KindWiFi, RSSI: -50}
	tests := []struct {
		name  string
		obs   risk.NeighborObservation
		want  error
		index int
	}{
		{"no terminal", risk.NeighborObservation{At: at}, risk.ErrObservation, -1},
		{"long terminal", risk.NeighborObservation{TerminalID: strings.Repeat("x", 300), At: at}, risk.ErrObservation, -1},
		{"no time", risk.NeighborObservation{TerminalID: "T"}, risk.ErrObservation, -1},
		{"too many", risk.NeighborObservation{TerminalID: "T", At: at, Seen: make([]risk.Neighbor, risk.MaxScan+1)}, risk.ErrObservation, -1},
		{"malformed MAC", risk.NeighborObservation{TerminalID: "T", At: at, Seen: []risk.Neighbor{ok, {ID: "00:11:22:33:44:5G", Kind: risk.KindWiFi}}}, risk.ErrIdentifier, 1},
		{"multicast BSSID", risk.NeighborObservation{TerminalID: "T", At: at, Seen: []risk.Neighbor{{ID: "01:00:5e:00:00:01", Kind: risk.KindWiFi}}}, risk.ErrIdentifier, 0},
		{"unknown kind", risk.NeighborObservation{TerminalID: "T", At: at, Seen: []risk.Neighbor{ok, {ID: ok.ID}}}, risk.ErrNeighborKind, 1},
		// Issue 20 point 5: DecodeObservation accepted each of these.
		{"duplicate", risk.NeighborObservation{TerminalID: "T", At: at, Seen: []risk.Neighbor{ok, {ID: "00:11:22:33:44:66", Kind: risk.KindWiFi}, {ID: "00-11-22-33-44-55", Kind: risk.KindWiFi, RSSI: -70}}}, risk.ErrDuplicateNeighbor, 2},
		{"1024 copies", risk.NeighborObservation{TerminalID: "T", At: at, Seen: slices.Repeat([]risk.Neighbor{ok}, risk.MaxScan)}, risk.ErrDuplicateNeighbor, 1},
		{"duplicate private", risk.NeighborObservation{TerminalID: "T", At: at, Seen: []risk.Neighbor{{ID: "4a:00:00:00:00:01", Kind: risk.KindBLE, Random: true}, {ID: "4a:00:00:00:00:01", Kind: risk.KindBLE, Random: true}}}, risk.ErrDuplicateNeighbor, 1},
		{"year 9999", risk.NeighborObservation{TerminalID: "T", At: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}, risk.ErrObservation, -1},
		{"year 1999", risk.NeighborObservation{TerminalID: "T", At: time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)}, risk.ErrObservation, -1},
		{"control character", risk.NeighborObservation{TerminalID: "T\n1", At: at}, risk.ErrObservation, -1},
		{"NUL", risk.NeighborObservation{TerminalID: "T\x001", At: at}, risk.ErrObservation, -1},
		{"C1 control", risk.NeighborObservation{TerminalID: "T\u00851", At: at}, risk.ErrObservation, -1},
		{"bidi override", risk.NeighborObservation{TerminalID: "T\u202e1", At: at}, risk.ErrObservation, -1},
		{"invalid UTF-8", risk.NeighborObservation{TerminalID: "T\xff1", At: at}, risk.ErrObservation, -1},
		{"kind out of range", risk.NeighborObservation{TerminalID: "T", At: at, Seen: []risk.Neighbor{{ID: ok.ID, Kind: 9}}}, risk.ErrNeighborKind, 0},
		{"positive RSSI", risk.NeighborObservation{TerminalID: "T", At: at, Seen: []risk.Neighbor{{ID: ok.ID, Kind: risk.KindWiFi, RSSI: 3}}}, risk.ErrRSSI, 0},
		{"NaN RSSI", risk.NeighborObservation{TerminalID: "T", At: at, Seen: []risk.Neighbor{{ID: ok.ID, Kind: risk.KindWiFi, RSSI: math.NaN()}}}, risk.ErrRSSI, 0},
		{"RSSI too low", risk.NeighborObservation{TerminalID: "T", At: at, Seen: []risk.Neighbor{{ID: ok.ID, Kind: risk.KindWiFi, RSSI: -200}}}, risk.ErrRSSI, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, err := range []error{
				func() error { _, err := sc.Score(ctx, tc.obs); return err }(),
				sc.Learn(ctx, tc.obs),
				tc.obs.Validate(),
			} {
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				if tc.index >= 0 {
					ne, ok := errors.AsType[*risk.NeighborError](err)
					if !ok || ne.Index != tc.index || !strings.Contains(err.Error(), tc.obs.Seen[tc.index].ID) {
						t.Fatalf("err = %v, want NeighborError at %d naming the ID", err, tc.index)
					}
				}
			}
		})
	}
	if _, err := risk.NewNeighborAssessor(risk.NeighborConfig{}, nil); !errors.Is(err, risk.ErrConfig) {
		t.Errorf("nil store: %v", err)
	}
	for _, c := range []risk.NeighborConfig{{MinExpected: -1}, {Floor: 0.9, Ceiling: 0.5}, {RSSIPenalty: 2}, {LocalWeight: math.NaN()}, {Learn: risk.LearnConfig{HalfLife: -1}}} {
		if _, err := risk.NewNeighborAssessor(c, risk.NewMemoryStore()); !errors.Is(err, risk.ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

// failingStore is a ProfileStore whose backend is down.
type failingStore struct{ err error }

func (f failingStore) Profile(context.Context, string) (*risk.Profile, error) { return nil, f.err }
func (f failingStore) Update(context.Context, string, func(*risk.Profile) (*risk.Profile, error)) error {
	return f.err
}

// unsortedStore returns a hand-built, unsorted profile.
type unsortedStore struct{ failingStore }

func (unsortedStore) Profile(context.Context, string) (*risk.Profile, error) {
	return &risk.Profile{TerminalID: "T", Weight: 5, Neighbors: []risk.ProfileNeighbor{
		{Addr: 9, Kind: risk.KindWiFi, Frequency: 1}, {Addr: 3, Kind: risk.KindWiFi, Frequency: 1}}}, nil
}

// nanStore returns a profile whose frequency is NaN.
type nanStore struct{ failingStore }

func (nanStore) Profile(context.Context, string) (*risk.Profile, error) {
	return &risk.Profile{TerminalID: "T", Weight: 5, Neighbors: []risk.ProfileNeighbor{
		{Addr: 3, Kind: risk.KindWiFi, Frequency: math.NaN()}, {Addr: 9, Kind: risk.KindWiFi, Frequency: 1}}}, nil
}

// wrongStore returns a valid profile of another terminal.
type wrongStore struct{ failingStore }

func (wrongStore) Profile(context.Context, string) (*risk.Profile, error) {
	return &risk.Profile{TerminalID: "U", Weight: 5, Neighbors: []risk.ProfileNeighbor{
		{Addr: 3, Kind: risk.KindWiFi, Frequency: 1}, {Addr: 9, Kind: risk.KindWiFi, Frequency: 1}}}, nil
}

func TestNeighborStoreErrors(t *testing.T) {
	ctx := context.Background()
	obs := risk.NeighborObservation{TerminalID: "T", At: time.Unix(1e9, 0), Seen: []risk.Neighbor{{ID: "00:11:22:33:44:55", Kind: risk.KindWiFi}}}
	down := errors.New("redis: connection refused")
	sc := newScorer(t, failingStore{down})
	if _, err := sc.Score(ctx, obs); !errors.Is(err, risk.ErrStore) || !errors.Is(err, down) {
		t.Errorf("Score: %v", err)
	}
	if err := sc.Learn(ctx, obs); !errors.Is(err, risk.ErrStore) || !errors.Is(err, down) {
		t.Errorf("Learn: %v", err)
	}
	if _, err := newScorer(t, unsortedStore{}).Score(ctx, obs); !errors.Is(err, risk.ErrProfile) {
		t.Errorf("unsorted profile: %v", err)
	}
	if _, err := newScorer(t, nanStore{}).Score(ctx, obs); !errors.Is(err, risk.ErrProfile) {
		t.Errorf("NaN profile: %v", err)
	}
	if _, err := newScorer(t, wrongStore{}).Score(ctx, obs); !errors.Is(err, risk.ErrProfile) {
		t.Errorf("another terminal's profile: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := newScorer(t, risk.NewMemoryStore()).Score(cctx, obs); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

func TestLearnDecay(t *testing.T) {
	cfg := risk.LearnConfig{HalfLife: 24 * time.Hour}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := risk.Neighbor{ID: "00:00:00:00:00:0a", Kind: risk.KindWiFi, RSSI: -50}
	b := risk.Neighbor{ID: "00:00:00:00:00:0b", Kind: risk.KindWiFi, RSSI: -70}
	obs := func(at time.Time, seen ...risk.Neighbor) risk.NeighborObservation {
		return risk.NeighborObservation{TerminalID: "T", At: at, Seen: seen}
	}
	var p *risk.Profile
	p, err := p.Learn(obs(t0, a, b), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// One half-life later only a is seen, 10 dB weaker:
	// W = 0.5·1 + 1 = 1.5; f_a = (0.5+1)/1.5 = 1; f_b = 0.5/1.5 = 1/3;
	// mean_a = (0.5·(−50) − 60)/1.5 = −56.67, var_a = (0.5·6.67² + 3.33²)/1.5 = 200/9.
	a2 := a
	a2.RSSI = -60
	q, err := p.Learn(obs(t0.Add(24*time.Hour), a2), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Neighbors) != 2 || p.Weight != 1 {
		t.Fatalf("Learn modified its receiver: %+v", p)
	}
	want := []risk.ProfileNeighbor{
		{Addr: 0x0a, Kind: risk.KindWiFi, Frequency: 1, MeanRSSI: -85.0 / 1.5, RSSIWeight: 1.5, RSSIVar: 200.0 / 9},
		{Addr: 0x0b, Kind: risk.KindWiFi, Frequency: 1.0 / 3, MeanRSSI: -70, RSSIWeight: 0.5},
	}
	approx := cmp.Comparer(func(x, y float64) bool { return math.Abs(x-y) < 1e-9 })
	if diff := cmp.Diff(want, q.Neighbors, approx); diff != "" || math.Abs(q.Weight-1.5) > 1e-12 {
		t.Errorf("weight %v; neighbours (-want +got):\n%s", q.Weight, diff)
	}
	// Long absence prunes b (decayed sightings below 0.5).
	r := q
	for i := 2; i < 8; i++ {
		r, err = r.Learn(obs(t0.Add(time.Duration(i)*24*time.Hour), a), cfg)
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(r.Neighbors) != 1 {
		t.Errorf("b not pruned: %+v", r.Neighbors)
	}
	// Out-of-order observation one half-life late: no decay, Updated
	// unchanged, and it counts e = 0.5, as if learned in order:
	// W = 1.5 + 0.5 = 2; f_a = 1.5/2; f_b = (0.5 + 0.5)/2; mean_b = −70
	// with RSSI weight 0.5 + 0.5.
	old, err := q.Learn(obs(t0, b), cfg)
	if err != nil || !old.Updated.Equal(q.Updated) || math.Abs(old.Weight-2) > 1e-12 {
		t.Fatalf("out of order: %+v %v", old, err)
	}
	wantOld := []risk.ProfileNeighbor{
		{Addr: 0x0a, Kind: risk.KindWiFi, Frequency: 0.75, MeanRSSI: -85.0 / 1.5, RSSIWeight: 1.5, RSSIVar: 200.0 / 9},
		{Addr: 0x0b, Kind: risk.KindWiFi, Frequency: 0.5, MeanRSSI: -70, RSSIWeight: 1},
	}
	if diff := cmp.Diff(wantOld, old.Neighbors, approx); diff != "" {
		t.Errorf("out of order (-want +got):\n%s", diff)
	}
	// A replay flood of one stale scan a year late barely moves the profile.
	flood := q
	for range 100 {
		if flood, err = flood.Learn(obs(t0.Add(-365*24*time.Hour), b), cfg); err != nil {
			t.Fatal(err)
		}
	}
	if math.Abs(flood.Weight-q.Weight) > 1e-9 || math.Abs(flood.Neighbors[1].Frequency-q.Neighbors[1].Frequency) > 1e-9 {
		t.Errorf("stale replays moved the profile: weight %v → %v", q.Weight, flood.Weight)
	}
	// A profile from a host's store that breaks the invariants is refused,
	// not merged into garbage.
	unsorted := &risk.Profile{TerminalID: "T", Weight: 1, Neighbors: []risk.ProfileNeighbor{q.Neighbors[1], q.Neighbors[0]}}
	if _, err := unsorted.Learn(obs(t0, a), cfg); !errors.Is(err, risk.ErrProfile) {
		t.Errorf("unsorted profile: %v", err)
	}
	// Wrong terminal.
	if _, err := q.Learn(risk.NeighborObservation{TerminalID: "U", At: t0, Seen: nil}, cfg); !errors.Is(err, risk.ErrObservation) {
		t.Errorf("wrong terminal: %v", err)
	}
	// Rotating private BLE addresses are never learned.
	priv := risk.Neighbor{ID: "4a:00:00:00:00:01", Kind: risk.KindBLE, Random: true, RSSI: -60}
	var z *risk.Profile
	z, err = z.Learn(obs(t0, priv, a), cfg)
	if err != nil || len(z.Neighbors) != 1 {
		t.Errorf("private address learned: %+v %v", z, err)
	}
}

// A new access point at a mature shop is learned from its first sighting
// and becomes expected once it has been seen in most scans.
func TestLearnNewAccessPoint(t *testing.T) {
	s := newShop(21, 10)
	st, at := s.learned(t, 20)
	sc := newScorer(t, st)
	ctx := context.Background()
	fresh := risk.Neighbor{ID: "00:aa:bb:cc:dd:ee", Kind: risk.KindWiFi, RSSI: -55}
	addr, _ := risk.ParseAddr(fresh.ID)
	frequency := func() (float64, bool) {
		p, err := st.Profile(ctx, "T1")
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range p.Neighbors {
			if n.Addr == addr {
				return n.Frequency, true
			}
		}
		return 0, false
	}
	for i := 1; i <= 4*14; i++ { // two weeks of scans every 6 hours
		at = at.Add(6 * time.Hour)
		if err := sc.Learn(ctx, risk.NeighborObservation{TerminalID: "T1", At: at, Seen: append(s.scan(0.9, 3, 1), fresh)}); err != nil {
			t.Fatal(err)
		}
		if _, ok := frequency(); !ok {
			t.Fatalf("new AP forgotten after %d scans", i)
		}
	}
	if f, _ := frequency(); f < 0.5 {
		t.Errorf("new AP frequency %v after two weeks, want ≥ 0.5 (expected)", f)
	}
}

func TestLearnBounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var p *risk.Profile
	t0 := time.Unix(1e9, 0)
	pinned, err := risk.PreconfiguredProfile("T", t0, []risk.Neighbor{{ID: "00:00:00:00:00:01", Kind: risk.KindWiFi}})
	if err != nil {
		t.Fatal(err)
	}
	p = pinned
	for i := 0; i < 20; i++ {
		p, err = p.Learn(risk.NeighborObservation{TerminalID: "T", At: t0.Add(time.Duration(i) * time.Minute), Seen: elsewhere(rng, 50)}, risk.LearnConfig{MaxNeighbors: 64})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Neighbors) > 64 {
			t.Fatalf("profile grew to %d", len(p.Neighbors))
		}
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range p.Neighbors {
		found = found || (n.Pinned && n.Addr == 1 && n.Frequency == 1)
	}
	if !found {
		t.Error("pinned neighbour lost")
	}
}

// A site survey larger than MaxNeighbors keeps every pinned neighbour.
func TestLearnKeepsPinnedBeyondMax(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	t0 := time.Unix(1e9, 0)
	p, err := risk.PreconfiguredProfile("T", t0, elsewhere(rng, 40))
	if err != nil {
		t.Fatal(err)
	}
	q, err := p.Learn(risk.NeighborObservation{TerminalID: "T", At: t0.Add(time.Hour), Seen: elsewhere(rng, 10)}, risk.LearnConfig{MaxNeighbors: 16})
	if err != nil {
		t.Fatal(err)
	}
	pinned := 0
	for _, n := range q.Neighbors {
		if n.Pinned {
			pinned++
		}
	}
	if pinned != len(p.Neighbors) || len(q.Neighbors) != pinned || q.Validate() != nil {
		t.Errorf("%d of %d pinned kept, %d in all", pinned, len(p.Neighbors), len(q.Neighbors))
	}
}

func TestProfileValidate(t *testing.T) {
	good := risk.ProfileNeighbor{Addr: 5, Kind: risk.KindWiFi, Frequency: 0.5}
	for i, ns := range [][]risk.ProfileNeighbor{
		{{Addr: 5, Kind: 0}},
		{{Addr: 0, Kind: risk.KindWiFi}},
		{{Addr: 1 << 50, Kind: risk.KindWiFi}},
		{{Addr: 5, Kind: risk.KindWiFi, Frequency: 2}},
		{{Addr: 5, Kind: risk.KindWiFi, RSSIWeight: 1, MeanRSSI: 10}},
		{{Addr: 5, Kind: risk.KindWiFi, Class: 9}},
		{good, good},
	} {
		if _, err := risk.NewProfile("T", time.Time{}, 1, ns); !errors.Is(err, risk.ErrProfile) {
			t.Errorf("%d: %v", i, err)
		}
	}
	if _, err := risk.NewProfile("", time.Time{}, 1, nil); !errors.Is(err, risk.ErrProfile) {
		t.Error("empty terminal accepted")
	}
	if _, err := risk.NewProfile("T", time.Time{}, math.NaN(), nil); !errors.Is(err, risk.ErrProfile) {
		t.Error("NaN weight accepted")
	}
	if _, err := risk.PreconfiguredProfile("T", time.Unix(1e9, 0), []risk.Neighbor{{ID: "x", Kind: risk.KindWiFi}}); !errors.Is(err, risk.ErrIdentifier) || !errors.Is(err, risk.ErrProfile) {
		t.Errorf("bad preconfigured: %v", err)
	}
}

func TestObservationJSON(t *testing.T) {
	in := `{"terminal_id":"T9","at":"2026-02-03T04:05:06Z","seen":[{"id":"AA-BB-CC-DD-EE-01","kind":"WiFi","rssi":-51.5},{"id":"c0:00:00:00:00:09","kind":"ble","random":true}]}`
	var obs risk.NeighborObservation
	if err := json.Unmarshal([]byte(in), &obs); err != nil {
		t.Fatal(err)
	}
	want := risk.NeighborObservation{TerminalID: "T9", At: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC), Seen: []risk.Neighbor{
		{ID: "AA-BB-CC-DD-EE-01", Kind: risk.KindWiFi, RSSI: -51.5},
		{ID: "c0:00:00:00:00:09", Kind: risk.KindBLE, Random: true},
	}}
	if diff := cmp.Diff(want, obs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	out, err := json.Marshal(obs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"kind":"wifi"`) {
		t.Errorf("marshal: %s", out)
	}
	if err := json.Unmarshal([]byte(`{"seen":[{"kind":"zigbee"}]}`), &obs); !errors.Is(err, risk.ErrNeighborKind) {
		t.Errorf("bad kind: %v", err)
	}
	if _, err := json.Marshal(risk.Neighbor{ID: "x"}); !errors.Is(err, risk.ErrNeighborKind) {
		t.Errorf("marshal unknown kind: %v", err)
	}
}

func TestSignalValidate(t *testing.T) {
	for _, c := range []float64{0, 0.5, 1} {
		if err := (risk.Signal{Confidence: c}).Validate(); err != nil {
			t.Errorf("%v: %v", c, err)
		}
	}
	for _, c := range []float64{-1e-9, 1.0000001, math.NaN(), math.Inf(-1)} {
		if err := (risk.Signal{Source: "s", Confidence: c}).Validate(); !errors.Is(err, risk.ErrConfidence) {
			t.Errorf("%v: %v", c, err)
		}
	}
}

func TestLearnSkipsRandomisedKeepsSecondaryBSSIDs(t *testing.T) {
	t0 := time.Unix(1e9, 0)
	seen := []risk.Neighbor{
		{ID: "00:11:22:33:44:50", Kind: risk.KindWiFi, RSSI: -50}, // primary BSSID
		{ID: "02:11:22:33:44:50", Kind: risk.KindWiFi, RSSI: -50}, // secondary: LA bit set
		{ID: "06:11:22:33:44:50", Kind: risk.KindWiFi, RSSI: -51}, // secondary: same low 40 bits
		{ID: "02:11:22:33:44:57", Kind: risk.KindWiFi, RSSI: -51}, // secondary: LA bit + last nibble
		{ID: "da:a1:19:5e:77:01", Kind: risk.KindWiFi, RSSI: -60}, // a phone
		{ID: "02:11:22:33:44:50", Kind: risk.KindBluetooth},       // same bits, other radio: not derived
	}
	var p *risk.Profile
	p, err := p.Learn(risk.NeighborObservation{TerminalID: "T", At: t0, Seen: seen}, risk.LearnConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range p.Neighbors {
		got = append(got, n.Kind.String()+" "+n.Addr.String())
	}
	want := []string{"wifi 00:11:22:33:44:50", "wifi 02:11:22:33:44:50", "wifi 02:11:22:33:44:57", "wifi 06:11:22:33:44:50"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("learned (-want +got):\n%s", diff)
	}
}

func TestDecodeObservation(t *testing.T) {
	good := `{"terminal_id":"T1","at":"2026-01-01T01:00:00Z","seen":[{"id":"AA-BB-CC-DD-EE-01","kind":"wifi","rssi":-50},{"id":"c0:00:00:00:00:09","kind":"ble","random":true}]}`
	obs, err := risk.DecodeObservation(strings.NewReader(good))
	if err != nil || obs.TerminalID != "T1" || len(obs.Seen) != 2 || obs.Seen[1].Kind != risk.KindBLE || !obs.Seen[1].Random || obs.Seen[0].RSSI != -50 {
		t.Fatalf("%+v %v", obs, err)
	}
	huge := `{"terminal_id":"T1","at":"2026-01-01T01:00:00Z","seen":[` + strings.Repeat(`{"id":"aa:bb:cc:dd:ee:01","kind":"wifi"},`, 4000) + `]}`
	for _, tc := range []struct {
		in   string
		want error
	}{
		{good + ` {}`, risk.ErrObservation},
		{`{"terminal_id":`, risk.ErrObservation},
		{huge, risk.ErrObservation},
		{`{"terminal_id":"T1","seen":[]}`, risk.ErrObservation},
		{`{"terminal_id":"T1","at":"2026-01-01T01:00:00Z","seen":[{"id":"aa:bb:cc:dd:ee:0g","kind":"wifi"}]}`, risk.ErrIdentifier},
		{`{"terminal_id":"T1","at":"2026-01-01T01:00:00Z","seen":[{"id":"aa:bb:cc:dd:ee:01","kind":"zigbee"}]}`, risk.ErrObservation},
	} {
		if _, err := risk.DecodeObservation(strings.NewReader(tc.in)); !errors.Is(err, tc.want) {
			t.Errorf("%.60q: %v, want %v", tc.in, err, tc.want)
		}
	}
}

func TestDecodeObservationTrailing(t *testing.T) {
	for _, in := range []string{`{"terminal_id":"T1","at":"2026-01-01T01:00:00Z"} }`, `{"terminal_id":"T1","at":"2026-01-01T01:00:00Z"} ]`, `{"terminal_id":"T1","at":"2026-01-01T01:00:00Z"}{}`} {
		if _, err := risk.DecodeObservation(strings.NewReader(in)); !errors.Is(err, risk.ErrObservation) {
			t.Errorf("%q: %v", in, err)
		}
	}
	if _, err := risk.DecodeObservation(strings.NewReader(" {\"terminal_id\":\"T1\",\"at\":\"2026-01-01T01:00:00Z\"}\n")); err != nil {
		t.Errorf("surrounding space: %v", err)
	}
}

func TestPreconfiguredProfileFirstDuplicateWins(t *testing.T) {
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	// 30 access points, each listed twice with different RSSI, in an
	// order that makes an unstable sort (pdqsort above 12 elements)
	// reorder equal keys.
	var list []risk.Neighbor
	for round, rssi := range []float64{-50, -80} {
		for i := range 30 {
			j := i
			if round == 1 {
				j = 29 - i
			}
			list = append(list, risk.Neighbor{ID: fmt.Sprintf("00:1a:2b:00:00:%02x", j+1), Kind: risk.KindWiFi, RSSI: rssi})
		}
	}
	p, err := risk.PreconfiguredProfile("term-1", at, list)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Neighbors) != 30 {
		t.Fatalf("kept %d neighbours, want 30", len(p.Neighbors))
	}
	for _, n := range p.Neighbors {
		if n.MeanRSSI != -50 {
			t.Errorf("%v kept RSSI %v, want the first listing's -50", n.Addr, n.MeanRSSI)
		}
	}
}

// Issue 20 point 5: a never-learned terminal is no evidence (0.5), so fused
// it leaves any prior unchanged, and PSD2Policy does not approve it without
// PIN at an even prior (it scored exactly the old 0.3 threshold before).
func TestNeverLearnedIsNeutral(t *testing.T) {
	s := newShop(8, 12)
	sc := newScorer(t, risk.NewMemoryStore())
	sig, err := sc.Score(context.Background(), risk.NeighborObservation{TerminalID: "new", At: s.base, Seen: s.scan(1, 3, 2)})
	if err != nil || sig.Confidence != 0.5 || !hasCode(sig, risk.ReasonNeighborsNoProfile) {
		t.Fatalf("never learned: %+v, %v", sig, err)
	}
	for _, prior := range []float64{0.01, 0.3, 0.5, 0.9, 0.999} {
		if got := risk.Fuse(prior, sig); !near(got, prior, 1e-12) {
			t.Errorf("prior %v: fused %v", prior, got)
		}
	}
	for _, amt := range []int64{1, 5_00, 50_00} {
		if d, err := risk.PSD2Policy().Decide(risk.Fuse(0.5, sig), risk.Transaction{Amount: eur(amt)}); err != nil || d != risk.RequirePIN {
			t.Errorf("EUR %d minor: %v, %v; want RequirePIN", amt, d, err)
		}
	}
}
