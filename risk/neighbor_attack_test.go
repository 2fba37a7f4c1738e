package risk_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/payedge/payedge/risk"
)

// Property tests for the attack classes of issue 20 (points 1, 2 and 4).
// Each decides under every policy a small payment could meet, at an even
// prior, with the other evidence neutral (0.5) and any fusion weights: an
// attack must never reach ApproveNoPIN.

// device is one physical neighbour: its identifiers and learned strength.
type device struct {
	ids  []risk.Neighbor
	rssi float64
}

func macString(v uint64) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// randomDevice returns a device with identifiers laid out as vendors
// allocate them: one OUI and one block of fewer than 64 addresses across
// radios, in one of several layouts, with locally administered variants.
func randomDevice(rng *rand.Rand) device {
	oui := uint64(rng.IntN(1<<24)) &^ (0x03 << 16) // unicast, universal
	// Base NIC part; sometimes just below an octet or nibble boundary so
	// that +1 carries.
	nic := uint64(rng.IntN(1<<24 - 64))
	switch rng.IntN(3) {
	case 0:
		nic |= 0xff
		nic = min(nic, 1<<24-64)
	case 1:
		nic |= 0x0f
	}
	base := oui<<24 | nic
	var offsets []uint64
	var kinds []risk.NeighborKind
	add := func(off uint64, k risk.NeighborKind) { offsets = append(offsets, off); kinds = append(kinds, k) }
	switch rng.IntN(5) {
	case 0: // multi-SSID access point: base, base+1 …
		for i := range 1 + rng.IntN(4) {
			add(uint64(i), risk.KindWiFi)
		}
	case 1: // dual band: base and base+0x10, each with SSIDs
		for _, band := range []uint64{0, 0x10} {
			for i := range 1 + rng.IntN(3) {
				add(band+uint64(i), risk.KindWiFi)
			}
		}
	case 2: // tri band
		for _, band := range []uint64{0, 0x10, 0x20} {
			add(band, risk.KindWiFi)
		}
	case 3: // WiFi + Bluetooth combo chip: consecutive across radios
		add(0, risk.KindWiFi)
		add(1, risk.KindBluetooth)
		add(2, risk.KindBLE)
	case 4: // other low-byte offsets
		for range 2 + rng.IntN(3) {
			add(uint64(rng.IntN(63)), []risk.NeighborKind{risk.KindWiFi, risk.KindBluetooth}[rng.IntN(2)])
		}
	}
	d := device{rssi: -40 - float64(rng.IntN(50))}
	seen := map[string]bool{}
	for i, off := range offsets {
		v := base + off
		id := risk.Neighbor{ID: macString(v), Kind: kinds[i], RSSI: d.rssi}
		if !seen[id.Kind.String()+id.ID] {
			seen[id.Kind.String()+id.ID] = true
			d.ids = append(d.ids, id)
		}
		if kinds[i] == risk.KindWiFi && rng.IntN(3) == 0 {
			// A locally administered secondary BSSID: U/L bit set and
			// other first-octet bits changed, as vendors derive them.
			first := (byte(v>>40) | 0x02) ^ byte(rng.IntN(16)<<4)
			la := uint64(first)<<40 | v&(1<<40-1)
			id := risk.Neighbor{ID: macString(la), Kind: risk.KindWiFi, RSSI: d.rssi}
			if !seen[id.Kind.String()+id.ID] {
				seen[id.Kind.String()+id.ID] = true
				d.ids = append(d.ids, id)
			}
		}
	}
	return d
}

// learnShop learns scans of devices at T1 (each identifier seen, RSSI with
// noise) and returns the assessor's store and the last time.
func learnShop(t *testing.T, rng *rand.Rand, devs []device, noise float64) (*risk.MemoryStore, time.Time) {
	t.Helper()
	st := risk.NewMemoryStore()
	sc, err := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{}), st)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range 20 {
		at = at.Add(time.Duration(i) * time.Hour)
		var seen []risk.Neighbor
		for _, d := range devs {
			for _, id := range d.ids {
				id.RSSI = clampRSSI(d.rssi + rng.NormFloat64()*noise)
				seen = append(seen, id)
			}
		}
		if err := sc.Learn(context.Background(), risk.NeighborObservation{TerminalID: "T1", At: at, Seen: seen}); err != nil {
			t.Fatal(err)
		}
	}
	return st, at
}

func clampRSSI(v float64) float64 { return max(-120, min(-1, v)) }

// neverNoPIN fails t if the signal, fused at an even prior with neutral
// other evidence under random weights, is approved without PIN by any
// policy for any small amount.
func neverNoPIN(t *testing.T, rng *rand.Rand, sig risk.Signal, what string) {
	t.Helper()
	psd2 := risk.PSD2Policy()
	band := risk.PSD2Policy()
	band.Limits.CVMRequired = 25_00 // with a passwordless band
	for _, pol := range []risk.Policy{psd2, band, risk.QuickPassPolicy()} {
		f, err := risk.NewFuser(risk.FuseConfig{Weights: map[string]float64{risk.NeighborSource: 0.1 + 3*rng.Float64(), "vision": rng.Float64() * 2}})
		if err != nil {
			t.Fatal(err)
		}
		sigs := []risk.Signal{sig, {Source: "vision", Confidence: 0.5}, {Source: "geo", Confidence: 0.5}}
		tx := risk.Transaction{Amount: risk.Amount{Minor: 1 + rng.Int64N(pol.NoPIN.MaxAmount), Currency: pol.Currency}}
		a, err := f.DecideExplained(pol, 0.5, tx, sigs...)
		if err != nil {
			t.Fatal(err)
		}
		if a.Decision == risk.ApproveNoPIN {
			t.Fatalf("%s reached ApproveNoPIN: %v", what, a)
		}
	}
}

// Issue 20 point 1: cloning every identifier of any single device — any
// radios, any address layout — never reaches ApproveNoPIN.
func TestClonedDeviceNeverNoPIN(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 1))
	ctx := context.Background()
	for iter := range 150 {
		devs := make([]device, 2+rng.IntN(3))
		for i := range devs {
			devs[i] = randomDevice(rng)
		}
		st, at := learnShop(t, rng, devs, 2)
		sc, err := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{}), st)
		if err != nil {
			t.Fatal(err)
		}
		for trial := range 10 {
			victim := devs[rng.IntN(len(devs))]
			var seen []risk.Neighbor
			for _, id := range victim.ids {
				id.RSSI = clampRSSI(victim.rssi + rng.NormFloat64()) // at its learned strength
				seen = append(seen, id)
			}
			seen = append(seen, elsewhere(rng, rng.IntN(4))...)
			rng.Shuffle(len(seen), func(i, j int) { seen[i], seen[j] = seen[j], seen[i] })
			obs := risk.NeighborObservation{TerminalID: "T1", At: at.Add(time.Duration(trial+1) * time.Minute), Seen: seen}
			ev, err := sc.Evaluate(ctx, obs)
			if err != nil {
				t.Fatal(err)
			}
			if ev.MatchedDevices > 1 {
				t.Fatalf("iter %d: one cloned device counted as %d: %v", iter, ev.MatchedDevices, victim.ids)
			}
			sig := risk.Signal{Source: risk.NeighborSource, Confidence: ev.Confidence, Reasons: ev.Reasons()}
			neverNoPIN(t, rng, sig, fmt.Sprintf("iter %d: clone of %v", iter, victim.ids))
		}
	}
}

// The genuine side of point 1: a shop of several such devices is still
// approved from its own scans.
func TestMultiRadioShopStillApproved(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 2))
	ctx := context.Background()
	approved, total := 0, 0
	for range 40 {
		devs := make([]device, 3+rng.IntN(3))
		for i := range devs {
			devs[i] = randomDevice(rng)
		}
		st, at := learnShop(t, rng, devs, 2)
		sc, err := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{}), st)
		if err != nil {
			t.Fatal(err)
		}
		var seen []risk.Neighbor
		for _, d := range devs {
			for _, id := range d.ids {
				id.RSSI = clampRSSI(d.rssi + rng.NormFloat64()*2)
				seen = append(seen, id)
			}
		}
		sig, err := sc.Score(ctx, risk.NeighborObservation{TerminalID: "T1", At: at.Add(time.Minute), Seen: seen})
		if err != nil {
			t.Fatal(err)
		}
		total++
		if d, _ := risk.PSD2Policy().Decide(risk.Fuse(0.5, sig), risk.Transaction{Amount: eur(10_00)}); d == risk.ApproveNoPIN {
			approved++
		}
	}
	// Devices of one vendor drawn at random rarely share a block; a shop
	// whose devices all did would be one device and capped.
	if approved < total*9/10 {
		t.Errorf("genuine multi-radio shops approved %d of %d", approved, total)
	}
}

// Issue 20 point 2: two or more cloned devices replayed at one strength,
// whose learned strengths differ by 20 dB or more, never reach
// ApproveNoPIN — however many clones, and even when they are all of the
// shop's devices (full recall).
func TestLookAlikeClonesNeverNoPIN(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 3))
	ctx := context.Background()
	checked := 0
	for iter := 0; checked < 300; iter++ {
		devs := make([]device, 2+rng.IntN(6))
		for i := range devs {
			a := uint64(rng.IntN(1<<46)) << 2 &^ (0x03 << 40)
			devs[i] = device{rssi: -40 - float64(rng.IntN(55))}
			devs[i].ids = []risk.Neighbor{{ID: macString(a), Kind: risk.KindWiFi}}
		}
		st, at := learnShop(t, rng, devs, 2)
		sc, err := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{}), st)
		if err != nil {
			t.Fatal(err)
		}
		// Clone a subset of two or more (often all) at one strength.
		k := len(devs)
		if rng.IntN(2) == 0 {
			k = 2 + rng.IntN(len(devs)-1)
		}
		clones := slices.Clone(devs)
		rng.Shuffle(len(clones), func(i, j int) { clones[i], clones[j] = clones[j], clones[i] })
		clones = clones[:k]
		lo, hi := 0.0, -200.0
		for _, d := range clones {
			lo, hi = min(lo, d.rssi), max(hi, d.rssi)
		}
		if hi-lo < 20 {
			continue
		}
		checked++
		level := -30 - 40*rng.Float64()
		var seen []risk.Neighbor
		for _, d := range clones {
			id := d.ids[0]
			id.RSSI = clampRSSI(level + 0.5*rng.NormFloat64())
			seen = append(seen, id)
		}
		obs := risk.NeighborObservation{TerminalID: "T1", At: at.Add(time.Minute), Seen: seen}
		ev, err := sc.Evaluate(ctx, obs)
		if err != nil {
			t.Fatal(err)
		}
		sig := risk.Signal{Source: risk.NeighborSource, Confidence: ev.Confidence, Reasons: ev.Reasons()}
		if !ev.Has(risk.ReasonNeighborsRSSIUniform) {
			t.Fatalf("iter %d: %d clones at %.0f dBm (learned %.0f…%.0f) not flagged: %+v", iter, k, level, lo, hi, ev)
		}
		neverNoPIN(t, rng, sig, fmt.Sprintf("iter %d: %d clones at one strength", iter, k))
	}
}

// The genuine side of point 2: scans of the same shops at their learned
// strengths (with a common offset and noise) are not flagged as uniform.
func TestGenuineRSSIPatternNotUniform(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 4))
	ctx := context.Background()
	flagged, total := 0, 0
	for range 60 {
		devs := make([]device, 2+rng.IntN(8))
		for i := range devs {
			a := uint64(rng.IntN(1<<46)) << 2 &^ (0x03 << 40)
			devs[i] = device{rssi: -40 - float64(rng.IntN(55))}
			devs[i].ids = []risk.Neighbor{{ID: macString(a), Kind: risk.KindWiFi}}
		}
		st, at := learnShop(t, rng, devs, 4)
		sc, err := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{}), st)
		if err != nil {
			t.Fatal(err)
		}
		for trial := range 10 {
			offset := rng.NormFloat64() * 3
			var seen []risk.Neighbor
			for _, d := range devs {
				id := d.ids[0]
				id.RSSI = clampRSSI(d.rssi + offset + rng.NormFloat64()*4)
				seen = append(seen, id)
			}
			ev, err := sc.Evaluate(ctx, risk.NeighborObservation{TerminalID: "T1", At: at.Add(time.Duration(trial+1) * time.Minute), Seen: seen})
			if err != nil {
				t.Fatal(err)
			}
			total++
			if ev.Has(risk.ReasonNeighborsRSSIUniform) {
				flagged++
			}
		}
	}
	if flagged*100 > total*3 {
		t.Errorf("genuine scans flagged uniform: %d of %d", flagged, total)
	}
}

// Issue 20 point 4: a replayed scan — the same bytes, or the same
// neighbours and RSSIs under a new time — never reaches ApproveNoPIN; stale
// and future scans are refused with a *FreshnessError; an idle profile ages
// when scored.
func TestReplayedAndStaleScans(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 5))
	ctx := context.Background()
	for iter := range 100 {
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
		var seen []risk.Neighbor
		for _, d := range devs {
			for _, id := range d.ids {
				id.RSSI = clampRSSI(d.rssi + rng.NormFloat64()*2)
				seen = append(seen, id)
			}
		}
		orig := risk.NeighborObservation{TerminalID: "T1", At: now.Add(-10 * time.Second), Seen: seen}
		first, err := sc.Score(ctx, orig)
		if err != nil {
			t.Fatal(err)
		}
		// The same bytes again, later, reordered, or under a new time.
		reordered := slices.Clone(seen)
		rng.Shuffle(len(reordered), func(i, j int) { reordered[i], reordered[j] = reordered[j], reordered[i] })
		for _, replay := range []risk.NeighborObservation{
			orig,
			{TerminalID: "T1", At: now, Seen: seen},
			{TerminalID: "T1", At: now.Add(30 * time.Second), Seen: reordered},
		} {
			sig, err := sc.Score(ctx, replay)
			if err != nil {
				t.Fatal(err)
			}
			if !hasCode(sig, risk.ReasonNeighborsReplayed) {
				t.Fatalf("iter %d: replay not detected (first %v): %+v", iter, first.Confidence, sig)
			}
			neverNoPIN(t, rng, sig, fmt.Sprintf("iter %d: replay", iter))
		}
		// A fresh scan (one reading differs) is scored normally.
		fresh := slices.Clone(seen)
		fresh[0].RSSI = clampRSSI(fresh[0].RSSI - 1)
		if sig, err := sc.Score(ctx, risk.NeighborObservation{TerminalID: "T1", At: now, Seen: fresh}); err != nil || hasCode(sig, risk.ReasonNeighborsReplayed) {
			t.Fatalf("iter %d: fresh scan: %+v %v", iter, sig, err)
		}
		// Stale and future scans are errors.
		for _, c := range []struct {
			at     time.Time
			future bool
		}{{now.Add(-6 * time.Minute), false}, {now.Add(-30 * 24 * time.Hour), false}, {now.Add(2 * time.Minute), true}} {
			_, err := sc.Score(ctx, risk.NeighborObservation{TerminalID: "T1", At: c.at, Seen: fresh})
			fe, ok := errors.AsType[*risk.FreshnessError](err)
			if !ok || !errors.Is(err, risk.ErrStale) || fe.Future != c.future {
				t.Fatalf("iter %d: scan at %v (now %v): %v", iter, c.at, now, err)
			}
		}
	}
}

// Scored long after its last update, a profile has aged: it no longer
// vouches for a scan (issue 20 point 4: "a profile never ages when
// scored").
func TestIdleProfileAgesWhenScored(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 6))
	devs := []device{randomDevice(rng), randomDevice(rng), randomDevice(rng)}
	st, at := learnShop(t, rng, devs, 2)
	var seen []risk.Neighbor
	for _, d := range devs {
		seen = append(seen, d.ids...)
	}
	for _, c := range []struct {
		later time.Duration
		match bool
	}{{time.Hour, true}, {60 * 24 * time.Hour, false}} {
		now := at.Add(c.later)
		sc, err := risk.NewNeighborAssessor(risk.NeighborConfig{Clock: func() time.Time { return now }}, st)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := sc.Score(context.Background(), risk.NeighborObservation{TerminalID: "T1", At: now, Seen: seen})
		if err != nil || hasCode(sig, risk.ReasonNeighborsMatch) != c.match {
			t.Errorf("%v after the last scan: %+v %v", c.later, sig, err)
		}
		if !c.match && sig.Confidence > 0.5 {
			t.Errorf("aged profile vouches: %v", sig.Confidence)
		}
	}
}

// The replay cache is bounded per terminal and in terminals.
func TestReplayCacheBounds(t *testing.T) {
	s := newShop(9, 6)
	st, at := s.learned(t, 4)
	now := at.Add(time.Minute)
	sc, err := risk.NewNeighborAssessor(risk.NeighborConfig{Clock: func() time.Time { return now }, ReplayWindow: 2, ReplayTerminals: 1}, st)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	scans := [][]risk.Neighbor{s.scan(1, 3, 0), s.scan(1, 3, 0), s.scan(1, 3, 0)}
	score := func(id string, seen []risk.Neighbor) bool {
		t.Helper()
		sig, err := sc.Score(ctx, risk.NeighborObservation{TerminalID: id, At: now, Seen: seen})
		if err != nil {
			t.Fatal(err)
		}
		return hasCode(sig, risk.ReasonNeighborsReplayed)
	}
	if score("T1", scans[0]) || score("T1", scans[1]) || !score("T1", scans[1]) {
		t.Fatal("window of 2 does not hold two scans")
	}
	score("T1", scans[2]) // pushes scans[0] out of the window
	if score("T1", scans[0]) {
		t.Error("window of 2 remembered a third scan")
	}
	// A second terminal evicts the first (ReplayTerminals 1).
	if !score("T1", scans[2]) {
		t.Fatal("scans[2] not remembered")
	}
	for i := range 4 {
		if err := sc.Learn(ctx, risk.NeighborObservation{TerminalID: "T2", At: at.Add(time.Duration(i-4) * time.Hour), Seen: s.scan(1, 3, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	score("T2", scans[0])
	if score("T1", scans[2]) {
		t.Error("ReplayTerminals 1 kept two terminals")
	}
}

// The authenticator hook: a terminal MACs SigningBytes with its key; the
// host's authenticator verifies in constant time.
func TestScanAuthenticator(t *testing.T) {
	s := newShop(10, 6)
	st, at := s.learned(t, 4)
	now := at.Add(time.Minute)
	key := []byte("terminal T1 key, 32 bytes long!!")
	mac := func(obs risk.NeighborObservation) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(obs.SigningBytes())
		return m.Sum(nil)
	}
	errBadMAC := errors.New("bad MAC")
	auth := risk.ScanAuthenticatorFunc(func(_ context.Context, obs risk.NeighborObservation) error {
		if !hmac.Equal(obs.Signature, mac(obs)) {
			return errBadMAC
		}
		return nil
	})
	sc, err := risk.NewNeighborAssessor(risk.NeighborConfig{Clock: func() time.Time { return now }, Authenticator: auth}, st)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	obs := risk.NeighborObservation{TerminalID: "T1", At: now, Seen: s.scan(1, 3, 0)}
	obs.Signature = mac(obs)
	if sig, err := sc.Score(ctx, obs); err != nil || !hasCode(sig, risk.ReasonNeighborsMatch) {
		t.Fatalf("signed scan: %+v %v", sig, err)
	}
	tampered := obs
	tampered.Seen = slices.Clone(obs.Seen)
	tampered.Seen[0].RSSI = math.Round(tampered.Seen[0].RSSI) - 1
	unsigned := obs
	unsigned.Signature = nil
	for _, bad := range []risk.NeighborObservation{tampered, unsigned} {
		if _, err := sc.Score(ctx, bad); !errors.Is(err, risk.ErrUnauthenticated) || !errors.Is(err, errBadMAC) {
			t.Errorf("Score: %v", err)
		}
		if err := sc.Learn(ctx, bad); !errors.Is(err, risk.ErrUnauthenticated) {
			t.Errorf("Learn: %v", err)
		}
	}
	if err := (risk.NeighborObservation{TerminalID: "T1", At: now, Signature: make([]byte, risk.MaxSignature+1)}).Validate(); !errors.Is(err, risk.ErrObservation) {
		t.Errorf("oversized signature: %v", err)
	}
}

// The one-pass device count (MinExpected ≤ 2) and the general one agree.
func TestDeviceCountPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 7))
	ctx := context.Background()
	for range 100 {
		devs := make([]device, 1+rng.IntN(4))
		for i := range devs {
			devs[i] = randomDevice(rng)
		}
		st, at := learnShop(t, rng, devs, 2)
		two, err := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{MinExpected: 2}), st)
		if err != nil {
			t.Fatal(err)
		}
		many, err := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{MinExpected: 64}), st)
		if err != nil {
			t.Fatal(err)
		}
		var seen []risk.Neighbor
		for _, d := range devs[:1+rng.IntN(len(devs))] {
			seen = append(seen, d.ids...)
		}
		obs := risk.NeighborObservation{TerminalID: "T1", At: at, Seen: seen}
		a, err := two.Evaluate(ctx, obs)
		if err != nil {
			t.Fatal(err)
		}
		b, err := many.Evaluate(ctx, obs)
		if err != nil {
			t.Fatal(err)
		}
		if a.ExpectedDevices != min(2, b.ExpectedDevices) || a.MatchedDevices != min(2, b.MatchedDevices) || b.ExpectedDevices > len(devs) {
			t.Fatalf("one pass %d/%d, general %d/%d, %d devices", a.ExpectedDevices, a.MatchedDevices, b.ExpectedDevices, b.MatchedDevices, len(devs))
		}
	}
}
