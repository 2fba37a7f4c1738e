package risk_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/payedge/payedge/risk"
)

var sink float64

func fiveSignals() []risk.Signal {
	return []risk.Signal{
		{Source: "vision", Confidence: 0.8},
		{Source: "motion", Confidence: 0.7},
		{Source: "geo", Confidence: 0.95},
		{Source: "neighbors", Confidence: 0.9},
		{Source: "biometric", Confidence: 0.6},
	}
}

func BenchmarkFuse5(b *testing.B) {
	sigs := fiveSignals()
	b.ReportAllocs()
	for b.Loop() {
		sink = risk.Fuse(0.5, sigs...)
	}
}

func BenchmarkFuserWeighted5(b *testing.B) {
	sigs := fiveSignals()
	f, err := risk.NewFuser(risk.FuseConfig{Weights: map[string]float64{"vision": 0.5, "motion": 0.7}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		sink = f.Fuse(0.5, sigs...)
	}
}

func BenchmarkExplain5(b *testing.B) {
	sigs := fiveSignals()
	f, _ := risk.NewFuser(risk.FuseConfig{})
	b.ReportAllocs()
	for b.Loop() {
		r, _ := f.Explain(0.5, sigs...)
		sink = r.Confidence
	}
}

func BenchmarkPolicyDecide(b *testing.B) {
	// Readers with a EUR 25 CVM limit: EUR 42 walks every rule down to the
	// passwordless band.
	p := risk.PSD2Policy()
	p.Limits.CVMRequired = 25_00
	tx := risk.Transaction{Amount: eur(42_00), NoPINCumulative: eur(40_00), NoPINConsecutive: 2}
	b.ReportAllocs()
	for b.Loop() {
		d, err := p.Decide(0.9, tx)
		if err != nil || d != risk.ApproveNoPIN {
			b.Fatal(d, err)
		}
	}
}

// bench40 returns a store with a 40-neighbour learned profile and a 40-ID
// scan of the same place (34 known, 6 unknown).
func bench40(b *testing.B) (*risk.MemoryStore, risk.NeighborObservation) {
	s := newShop(1, 40)
	st := risk.NewMemoryStore()
	sc, _ := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{}), st)
	at := s.base
	for i := range 20 {
		at = s.base.Add(time.Duration(i) * time.Hour)
		if err := sc.Learn(context.Background(), risk.NeighborObservation{TerminalID: "T1", At: at, Seen: s.scan(1, 3, 0)}); err != nil {
			b.Fatal(err)
		}
	}
	seen := append(s.scan(1, 3, 0)[:34], elsewhere(s.rng, 6)...)
	p, _ := st.Profile(context.Background(), "T1")
	if len(p.Neighbors) != 40 || len(seen) != 40 {
		b.Fatalf("profile %d, scan %d", len(p.Neighbors), len(seen))
	}
	return st, risk.NeighborObservation{TerminalID: "T1", At: at, Seen: seen}
}

func BenchmarkNeighborScore40x40(b *testing.B) {
	st, obs := bench40(b)
	sc, _ := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{}), st)
	ctx := context.Background()
	vs := variants(obs)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		sig, err := sc.Score(ctx, vs[i%len(vs)])
		if err != nil {
			b.Fatal(err)
		}
		sink = sig.Confidence
	}
}

func BenchmarkNeighborEvaluate40x40(b *testing.B) {
	st, obs := bench40(b)
	sc, _ := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{}), st)
	ctx := context.Background()
	vs := variants(obs)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		r, err := sc.Evaluate(ctx, vs[i%len(vs)])
		if err != nil {
			b.Fatal(err)
		}
		sink = r.Confidence
	}
}

// BenchmarkJaccardBaseline40x40 is the naive baseline the scorer replaces:
// normalise both ID lists to strings and compute a map-based Jaccard index.
func BenchmarkJaccardBaseline40x40(b *testing.B) {
	st, obs := bench40(b)
	p, _ := st.Profile(context.Background(), "T1")
	b.ReportAllocs()
	for b.Loop() {
		known := make(map[string]struct{}, len(p.Neighbors))
		for _, n := range p.Neighbors {
			known[n.Addr.String()] = struct{}{}
		}
		inter := 0
		for _, n := range obs.Seen {
			if _, ok := known[strings.ToLower(strings.ReplaceAll(n.ID, "-", ":"))]; ok {
				inter++
			}
		}
		sink = float64(inter) / float64(len(known)+len(obs.Seen)-inter)
	}
}

func BenchmarkParseAddr(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		a, err := risk.ParseAddr("A4:2B:B0:C1:D2:E3")
		if err != nil {
			b.Fatal(err)
		}
		sink = float64(a)
	}
}

func BenchmarkLearn40(b *testing.B) {
	st, obs := bench40(b)
	p, _ := st.Profile(context.Background(), "T1")
	b.ReportAllocs()
	for b.Loop() {
		q, err := p.Learn(obs, risk.LearnConfig{})
		if err != nil {
			b.Fatal(err)
		}
		sink = q.Weight
	}
}

// BenchmarkMemoryStoreParallel runs scorers (readers) and learners
// (writers, one in eight operations) over 64 terminals in parallel; run it
// with -race to check the store.
func BenchmarkMemoryStoreParallel(b *testing.B) {
	st := risk.NewMemoryStore()
	sc, _ := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{}), st)
	s := newShop(2, 20)
	ctx := context.Background()
	at := time.Unix(1e9, 0)
	const terminals = 64
	scan := s.scan(0.9, 3, 2)
	for i := range terminals {
		if err := sc.Learn(ctx, risk.NeighborObservation{TerminalID: fmt.Sprint("T", i), At: at, Seen: scan}); err != nil {
			b.Fatal(err)
		}
	}
	ids := make([]string, terminals)
	for i := range ids {
		ids[i] = fmt.Sprint("T", i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewPCG(rand.Uint64(), 0))
		for pb.Next() {
			obs := risk.NeighborObservation{TerminalID: ids[rng.IntN(terminals)], At: at, Seen: scan}
			var err error
			if rng.IntN(8) == 0 {
				err = sc.Learn(ctx, obs)
			} else {
				_, err = sc.Score(ctx, obs)
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
