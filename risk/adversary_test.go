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

// Two or more of the shop's devices cloned (every identifier) and replayed
// by one radio at one strength — exactly one, or within half a dB — never
// reach ApproveNoPIN, whatever the devices' learned strengths: the
// likelihood test alone let through clones of devices learned within about
// 11 dB of each other (2–7 % of random shops, more when the attacker's
// level is the devices' mean strength).
func TestLookAlikeClonesAnyStrengthsNeverNoPIN(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 2))
	ctx := context.Background()
	for iter := range 200 {
		devs := make([]device, 2+rng.IntN(5))
		for i := range devs {
			devs[i] = randomDevice(rng)
			if rng.IntN(2) == 0 {
				devs[i].rssi = devs[0].rssi + float64(rng.IntN(9)-4) // learned close together
			}
		}
		st, at := learnShop(t, rng, devs, 2)
		now := at.Add(time.Hour)
		sc, err := risk.NewNeighborAssessor(risk.NeighborConfig{Clock: func() time.Time { return now }}, st)
		if err != nil {
			t.Fatal(err)
		}
		for trial := range 8 {
			k := len(devs)
			if rng.IntN(2) == 0 {
				k = 2 + rng.IntN(len(devs)-1)
			}
			cloned := rng.Perm(len(devs))[:k]
			var level float64
			switch trial % 4 {
			case 0: // anywhere
				level = -30 - 60*rng.Float64()
			case 1: // the cloned devices' mean learned strength
				for _, i := range cloned {
					level += devs[i].rssi / float64(k)
				}
			case 2: // one device's learned strength
				level = devs[cloned[0]].rssi
			case 3: // a whole dBm
				level = float64(-30 - rng.IntN(60))
			}
			jitter := float64(trial/4) * 0.5 // exact, then within ±0.5 dB
			var seen []risk.Neighbor
			for _, i := range cloned {
				for _, id := range devs[i].ids {
					id.RSSI = clampRSSI(level + jitter*(2*rng.Float64()-1))
					seen = append(seen, id)
				}
			}
			if rng.IntN(2) == 0 {
				seen = append(seen, elsewhere(rng, rng.IntN(5))...)
			}
			obs := risk.NeighborObservation{TerminalID: "T1", At: now.Add(time.Duration(trial) * time.Second), Seen: seen}
			ev, err := sc.Evaluate(ctx, obs)
			if err != nil {
				t.Fatal(err)
			}
			sig := risk.Signal{Source: risk.NeighborSource, Confidence: ev.Confidence, Reasons: ev.Reasons()}
			neverNoPIN(t, rng, sig, fmt.Sprintf("iter %d trial %d: %d of %d devices cloned at %.1f dBm: %+v", iter, trial, k, len(devs), level, ev))
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

// Scans that do not vouch for the terminal are not remembered, so an
// attacker cannot flush a terminal's recent genuine scans out of the replay
// window with junk: sixteen scans of unknown access points (declined or
// stepped up) were enough, after which the captured genuine scan, sent
// again, was approved without PIN.
func TestReplayWindowNotFlushedByJunk(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 5))
	ctx := context.Background()
	for iter := range 30 {
		devs := make([]device, 3+rng.IntN(4))
		for i := range devs {
			devs[i] = randomDevice(rng)
		}
		st, at := learnShop(t, rng, devs, 2)
		now := at.Add(time.Hour)
		sc, err := risk.NewNeighborAssessor(risk.NeighborConfig{Clock: func() time.Time { return now }}, st)
		if err != nil {
			t.Fatal(err)
		}
		genuine := shopScan(rng, devs, 2)
		first, err := sc.Score(ctx, risk.NeighborObservation{TerminalID: "T1", At: now.Add(-time.Minute), Seen: genuine})
		if err != nil || !hasCode(first, risk.ReasonNeighborsMatch) {
			t.Fatalf("iter %d: genuine scan: %+v %v", iter, first, err)
		}
		window := sc.Config().ReplayWindow
		for j := range 2 * window {
			junk := elsewhere(rng, 1+rng.IntN(4))
			if _, err := sc.Score(ctx, risk.NeighborObservation{TerminalID: "T1", At: now.Add(-time.Duration(j) * time.Second), Seen: junk}); err != nil {
				t.Fatal(err)
			}
		}
		sig, err := sc.Score(ctx, risk.NeighborObservation{TerminalID: "T1", At: now, Seen: genuine})
		if err != nil {
			t.Fatal(err)
		}
		if !hasCode(sig, risk.ReasonNeighborsReplayed) {
			t.Fatalf("iter %d: replay after %d junk scans not detected: %+v", iter, 2*window, sig)
		}
		neverNoPIN(t, rng, sig, fmt.Sprintf("iter %d: replay after junk", iter))
	}
}

// wideDevice is a device whose identifiers spread over the low byte of its
// block: base, and base plus offsets up to 0xff across radios (issue 20:
// "base and base+0x10, or other offsets in the low byte").
func wideDevice(rng *rand.Rand) device {
	oui := uint64(rng.IntN(1<<24)) &^ (0x03 << 16)
	base := oui<<24 | uint64(rng.IntN(1<<24-256))
	d := device{rssi: -40 - float64(rng.IntN(50))}
	kinds := []risk.NeighborKind{risk.KindWiFi, risk.KindBluetooth, risk.KindBLE}
	used := map[uint64]bool{0: true}
	d.ids = append(d.ids, risk.Neighbor{ID: macString(base), Kind: risk.KindWiFi, RSSI: d.rssi})
	for range 1 + rng.IntN(3) {
		off := uint64(1 + rng.IntN(255))
		if used[off] {
			continue
		}
		used[off] = true
		d.ids = append(d.ids, risk.Neighbor{ID: macString(base + off), Kind: kinds[rng.IntN(3)], RSSI: d.rssi})
	}
	return d
}

// Cloning every identifier of a device whose identifiers lie anywhere in
// one low byte — each at its learned strength with up to 3 dB of the
// attacker's noise — never reaches ApproveNoPIN: with DeviceBlock 64 such a
// device counted as two and its clone was approved (1.4 % of random shops).
func TestClonedWideDeviceNeverNoPIN(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 6))
	ctx := context.Background()
	for iter := range 200 {
		devs := []device{wideDevice(rng)}
		for range 1 + rng.IntN(3) {
			if rng.IntN(2) == 0 {
				devs = append(devs, wideDevice(rng))
			} else {
				devs = append(devs, randomDevice(rng))
			}
		}
		st, at := learnShop(t, rng, devs, 2)
		now := at.Add(time.Hour)
		sc, err := risk.NewNeighborAssessor(risk.NeighborConfig{Clock: func() time.Time { return now }}, st)
		if err != nil {
			t.Fatal(err)
		}
		for trial, d := range devs {
			noise := 3 * rng.Float64()
			var seen []risk.Neighbor
			for _, id := range d.ids {
				id.RSSI = clampRSSI(d.rssi + rng.NormFloat64()*noise)
				seen = append(seen, id)
			}
			ev, err := sc.Evaluate(ctx, risk.NeighborObservation{TerminalID: "T1", At: now.Add(time.Duration(trial) * time.Second), Seen: seen})
			if err != nil {
				t.Fatal(err)
			}
			if ev.MatchedDevices > 1 {
				t.Fatalf("iter %d: one device counted as %d: %v", iter, ev.MatchedDevices, d.ids)
			}
			sig := risk.Signal{Source: risk.NeighborSource, Confidence: ev.Confidence, Reasons: ev.Reasons()}
			neverNoPIN(t, rng, sig, fmt.Sprintf("iter %d: clone of %v", iter, d.ids))
		}
	}
}
