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

// Every identifier of the shop cloned and listed without RSSI (or with
// RSSI on one device only) never reaches ApproveNoPIN: with no strength to
// judge, the strength checks were skipped and such scans were approved.
func TestClonesWithoutRSSINeverNoPIN(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 3))
	ctx := context.Background()
	for iter := range 100 {
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
		keep := -1 // the device that keeps its strength, if any
		if iter%2 == 1 {
			keep = rng.IntN(len(devs))
		}
		var seen []risk.Neighbor
		for i, d := range devs {
			for _, id := range d.ids {
				id.RSSI = 0
				if i == keep {
					id.RSSI = clampRSSI(d.rssi + rng.NormFloat64())
				}
				seen = append(seen, id)
			}
		}
		sig, err := sc.Score(ctx, risk.NeighborObservation{TerminalID: "T1", At: now, Seen: seen})
		if err != nil {
			t.Fatal(err)
		}
		neverNoPIN(t, rng, sig, fmt.Sprintf("iter %d: shop cloned without RSSI (kept %d)", iter, keep))
	}
}

// A terminal whose scanner never reports strength learns a profile without
// RSSI, and its scans match on presence.
func TestNoRSSIProfileMatchesOnPresence(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 4))
	ctx := context.Background()
	devs := []device{randomDevice(rng), randomDevice(rng), randomDevice(rng), randomDevice(rng)}
	for i := range devs {
		for j := range devs[i].ids {
			devs[i].ids[j].RSSI = 0
		}
	}
	st := risk.NewMemoryStore()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := at.Add(24 * time.Hour)
	sc, err := risk.NewNeighborAssessor(risk.NeighborConfig{Clock: func() time.Time { return now }}, st)
	if err != nil {
		t.Fatal(err)
	}
	var seen []risk.Neighbor
	for _, d := range devs {
		seen = append(seen, d.ids...)
	}
	for i := range 6 {
		if err := sc.Learn(ctx, risk.NeighborObservation{TerminalID: "T1", At: at.Add(time.Duration(i) * time.Hour), Seen: seen}); err != nil {
			t.Fatal(err)
		}
	}
	// A different subset (one identifier left out), so not a replay.
	sig, err := sc.Score(ctx, risk.NeighborObservation{TerminalID: "T1", At: now, Seen: seen[1:]})
	if err != nil || !hasCode(sig, risk.ReasonNeighborsMatch) || sig.Confidence < 0.9 {
		t.Fatalf("presence-only profile: %+v %v", sig, err)
	}
}
