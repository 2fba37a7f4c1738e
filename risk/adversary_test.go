package risk_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/payedge/payedge/risk"
)

// Attacks found by the second review of issue 20 (an outside checker's
// view: random scenarios through the public API, fused with neutral other
// evidence and decided under the policies a small payment meets).

// shopScan is one scan of devs at their learned strengths with noise.
func shopScan(rng *rand.Rand, devs []device, noise float64) []risk.Neighbor {
	var seen []risk.Neighbor
	for _, d := range devs {
		for _, id := range d.ids {
			id.RSSI = clampRSSI(d.rssi + rng.NormFloat64()*noise)
			seen = append(seen, id)
		}
	}
	rng.Shuffle(len(seen), func(i, j int) { seen[i], seen[j] = seen[j], seen[i] })
	return seen
}

// A routine scan that the host learned from, captured and sent again with a
// new time, is a replay: it was approved without PIN before Learn recorded
// learned scans for replay detection.
func TestReplayedLearnedScanNeverNoPIN(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 1))
	ctx := context.Background()
	for iter := range 60 {
		devs := make([]device, 2+rng.IntN(5))
		for i := range devs {
			devs[i] = randomDevice(rng)
		}
		st, at := learnShop(t, rng, devs, 2)
		now := at.Add(time.Hour)
		sc, err := risk.NewNeighborAssessor(risk.NeighborConfig{Clock: func() time.Time { return now }}, st)
		if err != nil {
			t.Fatal(err)
		}
		routine := shopScan(rng, devs, 2)
		if err := sc.Learn(ctx, risk.NeighborObservation{TerminalID: "T1", At: now.Add(-3 * time.Minute), Seen: routine}); err != nil {
			t.Fatal(err)
		}
		replay := append([]risk.Neighbor(nil), routine...)
		rng.Shuffle(len(replay), func(i, j int) { replay[i], replay[j] = replay[j], replay[i] })
		sig, err := sc.Score(ctx, risk.NeighborObservation{TerminalID: "T1", At: now, Seen: replay})
		if err != nil {
			t.Fatal(err)
		}
		if !hasCode(sig, risk.ReasonNeighborsReplayed) {
			t.Fatalf("iter %d: replayed learned scan not detected: %+v", iter, sig)
		}
		neverNoPIN(t, rng, sig, fmt.Sprintf("iter %d: replayed learned scan", iter))
		// A fresh scan of the same shop still passes.
		fresh, err := sc.Score(ctx, risk.NeighborObservation{TerminalID: "T1", At: now, Seen: shopScan(rng, devs, 2)})
		if err != nil || hasCode(fresh, risk.ReasonNeighborsReplayed) {
			t.Fatalf("iter %d: fresh scan: %+v %v", iter, fresh, err)
		}
	}
}
