package risk_test

import (
	"context"
	"fmt"
	"time"

	"github.com/payedge/payedge/risk"
)

func ExampleFuse() {
	// Two independent pieces of evidence, each 90 % sure the shop is
	// genuine, from an undecided prior.
	p := risk.Fuse(0.5,
		risk.Signal{Source: "vision", Confidence: 0.9},
		risk.Signal{Source: "neighbors", Confidence: 0.9},
	)
	fmt.Printf("%.4f\n", p)
	// A missing signal contributes nothing.
	fmt.Printf("%.4f\n", risk.Fuse(0.5, risk.Signal{Source: "vision", Confidence: 0.9}))
	// Output:
	// 0.9878
	// 0.9000
}

func ExampleFuser_Explain() {
	// Two cameras watch the same counter: their evidence is correlated, so
	// each counts half.
	f, err := risk.NewFuser(risk.FuseConfig{Weights: map[string]float64{"cam1": 0.5, "cam2": 0.5}})
	if err != nil {
		panic(err)
	}
	r, err := f.Explain(0.5,
		risk.Signal{Source: "cam1", Confidence: 0.8},
		risk.Signal{Source: "cam2", Confidence: 0.8},
		risk.Signal{Source: "neighbors", Confidence: 0.1, Reasons: []risk.Reason{{Code: "neighbors.few_known"}}},
	)
	if err != nil {
		panic(err)
	}
	fmt.Printf("fused %.3f\n", r.Confidence)
	for _, c := range r.Top(2) {
		fmt.Printf("%-9s %+.2f\n", c.Source, c.LogLR)
	}
	// Output:
	// fused 0.308
	// neighbors -2.20
	// cam1      +0.69
}

func ExamplePolicy() {
	p := risk.PSD2Policy()
	eur := func(minor int64) risk.Amount { return risk.Amount{Minor: minor, Currency: "EUR"} }
	for _, c := range []struct {
		conf float64
		tx   risk.Transaction
	}{
		{0.95, risk.Transaction{Amount: eur(42_00), NoPINCumulative: eur(30_00), NoPINConsecutive: 1}},
		{0.2, risk.Transaction{Amount: eur(42_00), NoPINCumulative: eur(30_00), NoPINConsecutive: 1}},
		{0.95, risk.Transaction{Amount: eur(42_00), NoPINCumulative: eur(120_00), NoPINConsecutive: 3}},
		{0.95, risk.Transaction{Amount: eur(80_00)}}, // above Art. 11(a)
		{0.005, risk.Transaction{Amount: eur(5_00)}},
	} {
		o, err := p.Evaluate(c.conf, c.tx)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%v at %.3f: %-12v %s\n", c.tx.Amount, c.conf, o.Decision, o.Reason.Code)
	}
	// QuickPass has a passwordless band above its CVM-required limit.
	o, _ := risk.QuickPassPolicy().Evaluate(0.95, risk.Transaction{Amount: risk.Amount{Minor: 1500_00, Currency: "CNY"}})
	fmt.Println(o.Decision, o.Reason.Code)
	// A currency mismatch is an error, never a guess.
	_, err := p.Decide(0.95, risk.Transaction{Amount: risk.Amount{Minor: 80_00, Currency: "USD"}})
	fmt.Println(err)
	// Output:
	// 42.00 EUR at 0.950: ApproveNoPIN policy.no_pin
	// 42.00 EUR at 0.200: RequirePIN   policy.no_pin_untrusted
	// 42.00 EUR at 0.950: RequirePIN   policy.cumulative_cap
	// 80.00 EUR at 0.950: RequirePIN   policy.over_no_pin_amount
	// 5.00 EUR at 0.005: Decline      policy.low_confidence
	// ApproveNoPIN policy.passwordless
	// risk: currency mismatch: amount in USD, policy in EUR
}

func ExampleNeighborAssessor() {
	ctx := context.Background()
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	// The acquirer surveyed the shop: three access points and a beacon.
	shop := []risk.Neighbor{
		{ID: "00:1A:2B:00:10:01", Kind: risk.KindWiFi, RSSI: -48},
		{ID: "00:1A:2B:00:20:01", Kind: risk.KindWiFi, RSSI: -63},
		{ID: "00-1a-2b-00-30-01", Kind: risk.KindWiFi, RSSI: -77},
		{ID: "c4:00:00:00:00:09", Kind: risk.KindBLE, Random: true, RSSI: -70},
	}
	profile, err := risk.PreconfiguredProfile("term-42", at, shop)
	if err != nil {
		panic(err)
	}
	store := risk.NewMemoryStore()
	if err := store.Put(ctx, profile); err != nil {
		panic(err)
	}
	// Score checks freshness against the clock: inject it (time.Now by
	// default).
	clock := func() time.Time { return at.Add(30 * time.Second) }
	scorer, err := risk.NewNeighborAssessor(risk.NeighborConfig{Clock: clock}, store)
	if err != nil {
		panic(err)
	}
	scans := map[string][]risk.Neighbor{
		"at the shop": {
			{ID: "001a2b001001", Kind: risk.KindWiFi, RSSI: -50},
			{ID: "001a.2b00.2001", Kind: risk.KindWiFi, RSSI: -61},
			{ID: "00:1a:2b:00:30:01", Kind: risk.KindWiFi, RSSI: -80},
			{ID: "da:11:22:33:44:55", Kind: risk.KindWiFi, RSSI: -55}, // a passing phone
		},
		"one cloned BSSID": {
			{ID: "00:1a:2b:00:10:01", Kind: risk.KindWiFi, RSSI: -40},
			{ID: "10:99:88:77:66:55", Kind: risk.KindWiFi, RSSI: -70},
		},
	}
	for _, name := range []string{"at the shop", "one cloned BSSID"} {
		sig, err := scorer.Score(ctx, risk.NeighborObservation{TerminalID: "term-42", At: at, Seen: scans[name]})
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-16s %.2f", name, sig.Confidence)
		for _, r := range sig.Reasons {
			fmt.Printf(" %s", r.Code)
		}
		fmt.Println()
	}
	// A malformed identifier is an error that names it.
	_, err = scorer.Score(ctx, risk.NeighborObservation{TerminalID: "term-42", At: at,
		Seen: []risk.Neighbor{{ID: "00:1a:2b:00:00:0g", Kind: risk.KindWiFi}}})
	fmt.Println(err)
	// Output:
	// at the shop      0.99 neighbors.match
	// one cloned BSSID 0.06 neighbors.few_known neighbors.missing
	// risk: neighbour 0 "00:1a:2b:00:00:0g": risk: malformed neighbour identifier: not a MAC address
}

func ExampleNormalizeAddr() {
	for _, s := range []string{"00-1A-2B-3C-4D-5E", "001a.2b3c.4d5e", "001A2B3C4D5E"} {
		a, err := risk.NormalizeAddr(s)
		fmt.Println(a, err)
	}
	// Output:
	// 00:1a:2b:3c:4d:5e <nil>
	// 00:1a:2b:3c:4d:5e <nil>
	// 00:1a:2b:3c:4d:5e <nil>
}

// The whole flow in one place: a terminal learns its shop from routine
// scans, then a payment is decided with its explanation in one call.
func ExamplePolicy_DecideExplained() {
	ctx := context.Background()
	start := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	now := start.Add(5 * time.Hour)
	clock := func() time.Time { return now } // time.Now when not set
	neighbors, err := risk.NewNeighborAssessor(risk.NeighborConfig{Clock: clock}, risk.NewMemoryStore())
	if err != nil {
		panic(err)
	}
	shop := []risk.Neighbor{
		{ID: "00:1a:2b:00:10:01", Kind: risk.KindWiFi, RSSI: -48},
		{ID: "00:1a:2b:00:20:01", Kind: risk.KindWiFi, RSSI: -63},
		{ID: "3c:5d:00:00:30:01", Kind: risk.KindWiFi, RSSI: -77},
	}
	// Routine scans the host trusts (the terminal is known to be in
	// place): a profile needs NeighborConfig.MinObservations (3) of them.
	for i := range 4 {
		at := start.Add(time.Duration(i) * time.Hour)
		if err := neighbors.Learn(ctx, risk.NeighborObservation{TerminalID: "term-42", At: at, Seen: shop}); err != nil {
			panic(err)
		}
	}
	// Payment time: score the terminal's fresh scan (strengths vary from
	// scan to scan; a scan identical to a learned one is a replay), add
	// other evidence, decide.
	payment := []risk.Neighbor{
		{ID: "00:1a:2b:00:10:01", Kind: risk.KindWiFi, RSSI: -50},
		{ID: "00:1a:2b:00:20:01", Kind: risk.KindWiFi, RSSI: -61},
		{ID: "3c:5d:00:00:30:01", Kind: risk.KindWiFi, RSSI: -78},
	}
	sig, err := neighbors.Score(ctx, risk.NeighborObservation{TerminalID: "term-42", At: now, Seen: payment})
	if err != nil {
		panic(err)
	}
	camera := risk.Signal{Source: "vision", Confidence: 0.3, Reasons: []risk.Reason{{Code: "vision.blurred"}}}
	tx := risk.Transaction{Amount: risk.Amount{Minor: 12_50, Currency: "EUR"}}
	a, err := risk.PSD2Policy().DecideExplained(0.5, tx, sig, camera)
	if err != nil {
		panic(err)
	}
	fmt.Println(a.Decision, a.Reason.Code)
	fmt.Printf("fused %.3f\n", a.Fusion.Confidence)
	for _, c := range a.Fusion.Contributions {
		fmt.Printf("  %-9s %.2f → %+.2f log-odds\n", c.Source, c.Confidence, c.LogLR)
	}
	fmt.Println(a.TopReasons(2))
	// Output:
	// ApproveNoPIN policy.no_pin
	// fused 0.972
	//   neighbors 0.99 → +4.38 log-odds
	//   vision    0.30 → -0.85 log-odds
	// [{neighbors.match scan matches the learned neighbourhood} {vision.blurred }]
}
