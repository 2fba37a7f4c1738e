package risk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/payedge/payedge/risk"
)

// refParseAddr is a slow, obviously correct reference parser.
func refParseAddr(s string) (uint64, bool) {
	var hex string
	switch {
	case len(s) == 17 && (s[2] == ':' || s[2] == '-'):
		parts := strings.Split(s, s[2:3])
		if len(parts) != 6 {
			return 0, false
		}
		for _, p := range parts {
			if len(p) != 2 {
				return 0, false
			}
		}
		hex = strings.Join(parts, "")
	case len(s) == 14:
		parts := strings.Split(s, ".")
		if len(parts) != 3 || len(parts[0]) != 4 || len(parts[1]) != 4 || len(parts[2]) != 4 {
			return 0, false
		}
		hex = strings.Join(parts, "")
	case len(s) == 12:
		hex = s
	default:
		return 0, false
	}
	if strings.ContainsAny(hex, "+-_xX ") {
		return 0, false
	}
	v, err := strconv.ParseUint(hex, 16, 64)
	if err != nil || v == 0 || v == 1<<48-1 {
		return 0, false
	}
	return v, true
}

func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"aa:bb:cc:dd:ee:ff", "AA-BB-CC-DD-EE-F0", "aabb.ccdd.eef0", "0123456789ab",
		"00:00:00:00:00:00", "aa:bb-cc:dd:ee:ff", "+a:bb:cc:dd:ee:f0", "", "aa:bb:cc:dd:ee:f\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := risk.ParseAddr(s)
		want, ok := refParseAddr(s)
		if (err == nil) != ok {
			t.Fatalf("%q: ParseAddr err %v, reference ok %v", s, err, ok)
		}
		if err != nil {
			if !errors.Is(err, risk.ErrIdentifier) {
				t.Fatalf("%q: error %v does not wrap ErrIdentifier", s, err)
			}
			return
		}
		if uint64(a) != want {
			t.Fatalf("%q: %x, reference %x", s, uint64(a), want)
		}
		canon := a.String()
		b, err := risk.ParseAddr(canon)
		if err != nil || b != a || len(canon) != 17 || canon != strings.ToLower(canon) {
			t.Fatalf("%q: canonical %q does not round-trip: %v", s, canon, err)
		}
	})
}

var sentinels = []error{risk.ErrObservation, risk.ErrDuplicateNeighbor, risk.ErrStale, risk.ErrUnauthenticated, risk.ErrIdentifier, risk.ErrNeighborKind, risk.ErrRSSI,
	risk.ErrConfidence, risk.ErrAmount, risk.ErrCurrency, risk.ErrCurrencyMismatch, risk.ErrPolicy, risk.ErrProfile}

func wrapsSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzNeighborObservation decodes a scan from a line format — one
// "ID kind rssi random" per line — then scores and learns it. Neither may
// panic; results stay in range; errors wrap sentinels; learned profiles
// stay valid.
func FuzzNeighborObservation(f *testing.F) {
	f.Add("T1", "aa:bb:cc:dd:10:01 1 -50 0\naa:bb:cc:dd:20:01 1 -60 0\n4a:00:00:00:00:01 3 -70 1")
	f.Add("T1", "")
	f.Add("0", "")                                                                                                            // a terminal without profile
	f.Add("T1", "aa:bb:cc:dd:10:01 1 -50 0\naa:bb:cc:dd:10:01 1 -50 0\naa:bb:cc:dd:10:01 1 -50 0\n00:11:22:33:44:55 1 -80 0") // one clone, repeated
	f.Add("T1", "aa:bb:cc:dd:10:01 1 -50 0\naa:bb:cc:dd:30:01 2 -30 0")
	f.Add("", "aa:bb:cc:dd:10:01 1 -50 0")
	f.Add("T1", "zz 1 -50 0")
	f.Add("T1", "aa:bb:cc:dd:10:01 7 NaN 0")
	f.Add("T1", "aa:bb:cc:dd:10:01 1 -50 0\naa:bb:cc:dd:10:01 1 -40 0")
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	base, err := risk.PreconfiguredProfile("T1", at, []risk.Neighbor{
		{ID: "aa:bb:cc:dd:10:01", Kind: risk.KindWiFi, RSSI: -50},
		{ID: "aa:bb:cc:dd:20:01", Kind: risk.KindWiFi, RSSI: -60},
		{ID: "aa:bb:cc:dd:30:01", Kind: risk.KindBluetooth},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, terminal, body string) {
		if len(body) > 1<<14 {
			t.Skip()
		}
		obs := risk.NeighborObservation{TerminalID: terminal, At: at.Add(time.Hour)}
		for line := range strings.Lines(body) {
			fs := strings.Fields(line)
			n := risk.Neighbor{}
			if len(fs) > 0 {
				n.ID = fs[0]
			}
			if len(fs) > 1 {
				k, _ := strconv.Atoi(fs[1])
				n.Kind = risk.NeighborKind(k)
			}
			if len(fs) > 2 {
				n.RSSI, _ = strconv.ParseFloat(fs[2], 64)
			}
			n.Random = len(fs) > 3 && fs[3] == "1"
			obs.Seen = append(obs.Seen, n)
		}
		st := risk.NewMemoryStore()
		if err := st.Put(ctx, base); err != nil {
			t.Fatal(err)
		}
		sc, _ := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{}), st)
		sig, err := sc.Score(ctx, obs)
		if err != nil {
			if !wrapsSentinel(err) {
				t.Fatalf("unwrapped error %v", err)
			}
			if verr := obs.Validate(); verr == nil {
				t.Fatalf("Score failed (%v) but Validate accepts", err)
			}
			return
		}
		if !(sig.Confidence >= 0 && sig.Confidence <= 1) || len(sig.Reasons) == 0 {
			t.Fatalf("signal %+v", sig)
		}
		if err := obs.Validate(); err != nil {
			t.Fatalf("Score accepted what Validate rejects: %v", err)
		}
		// At most one known neighbour (each a separate device) seen: capped,
		// and never no-PIN at any amount (the cloned-BSSID property).
		keys := map[string]bool{}
		dup := false
		for _, n := range obs.Seen {
			a, _ := risk.NormalizeAddr(n.ID)
			k := n.Kind.String() + a
			dup = dup || keys[k]
			keys[k] = true
		}
		known := 0
		for _, k := range []string{"wifiaa:bb:cc:dd:10:01", "wifiaa:bb:cc:dd:20:01", "bluetoothaa:bb:cc:dd:30:01"} {
			if keys[k] {
				known++
			}
		}
		if known < 2 && obs.TerminalID == "T1" {
			if sig.Confidence > sc.Config().FewKnownCap || !hasCode(sig, risk.ReasonNeighborsFewKnown) && len(obs.Seen) > 0 && !hasCode(sig, risk.ReasonNeighborsRandomizedOnly) {
				t.Fatalf("%d known neighbours scored %+v", known, sig)
			}
			for _, amt := range []int64{1, 1_00, 50_00, 100_00} {
				if d, err := risk.PSD2Policy().Decide(risk.Fuse(0.5, sig), risk.Transaction{Amount: eur(amt)}); err != nil || d == risk.ApproveNoPIN {
					t.Fatalf("%d known neighbours reached %v (%v) at %d", known, d, err, amt)
				}
			}
		}
		// Without duplicate reports the order of the scan does not matter.
		if !dup {
			rev := obs
			rev.Seen = slices.Clone(obs.Seen)
			slices.Reverse(rev.Seen)
			// A second assessor: to the first, the same scan is a replay.
			sc2, _ := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{}), st)
			sig2, err := sc2.Score(ctx, rev)
			if err != nil || math.Abs(sig2.Confidence-sig.Confidence) > 1e-9 {
				t.Fatalf("reversed scan scored %v (%v), forward %v", sig2.Confidence, err, sig.Confidence)
			}
		}
		if err := sc.Learn(ctx, obs); err != nil {
			t.Fatalf("Learn rejected what Score accepted: %v", err)
		}
		if p, err := st.Profile(ctx, obs.TerminalID); err != nil || p.Validate() != nil {
			t.Fatalf("learned profile invalid: %v", err)
		}
	})
}

// FuzzFusePolicy drives fusion and policy with arbitrary numbers.
func FuzzFusePolicy(f *testing.F) {
	f.Add(0.5, 0.9, 0.1, 1.0, int64(5000), int64(0), 0)
	f.Add(math.NaN(), 2.0, -1.0, 0.0, int64(-1), int64(1<<62), -3)
	f.Add(1.0, 1.0, 0.0, 1e300, int64(math.MaxInt64), int64(math.MaxInt64), 1<<30)
	f.Fuzz(func(t *testing.T, prior, c1, c2, w float64, amt, cum int64, n int) {
		sigs := []risk.Signal{{Source: "a", Confidence: c1}, {Source: "b", Confidence: c2}}
		fu, err := risk.NewFuser(risk.FuseConfig{Weights: map[string]float64{"a": w}})
		if err != nil {
			if !errors.Is(err, risk.ErrWeight) {
				t.Fatal(err)
			}
			fu, _ = risk.NewFuser(risk.FuseConfig{})
		}
		p := fu.Fuse(prior, sigs...)
		if !math.IsNaN(p) && !(p >= 0 && p <= 1) {
			t.Fatalf("fused %v", p)
		}
		// Fuse and Explain reject the same inputs and agree otherwise.
		r, err := fu.Explain(prior, sigs...)
		switch {
		case (err != nil) != math.IsNaN(p):
			t.Fatalf("Fuse %v but Explain err %v", p, err)
		case err != nil && !errors.Is(err, risk.ErrConfidence):
			t.Fatal(err)
		case err == nil && r.Confidence != p:
			t.Fatalf("Explain %v != Fuse %v", r.Confidence, p)
		}
		// Fusion is symmetric in signal order and monotone in each
		// confidence (weights are non-negative).
		if q := fu.Fuse(prior, sigs[1], sigs[0]); !math.IsNaN(p) && math.Abs(q-p) > 1e-12 {
			t.Fatalf("order changed fusion: %v vs %v", p, q)
		}
		if !math.IsNaN(p) && !math.IsNaN(c1) {
			up := []risk.Signal{{Source: "a", Confidence: c1 + (1-c1)/2}, sigs[1]}
			if q := fu.Fuse(prior, up...); q < p-1e-12 {
				t.Fatalf("raising a confidence lowered fusion: %v → %v", p, q)
			}
		}
		pol := risk.PSD2Policy()
		tx := risk.Transaction{Amount: eur(amt), NoPINCumulative: eur(cum), NoPINConsecutive: n}
		o, err := pol.Evaluate(p, tx)
		if err != nil {
			if !wrapsSentinel(err) {
				t.Fatalf("unwrapped error %v", err)
			}
			if o.Decision != risk.Decline {
				t.Fatalf("error %v with decision %v, want the fail-closed Decline", err, o.Decision)
			}
			return
		}
		if o.Decision > risk.Approve || o.Reason.Code == "" {
			t.Fatalf("outcome %+v", o)
		}
		// Monotone: more confidence never stricter; a larger amount,
		// cumulative or streak never more permissive.
		if o2, err := pol.Evaluate(p+(1-p)/2, tx); err != nil || o2.Decision < o.Decision {
			t.Fatalf("higher confidence: %v → %v (%v)", o.Decision, o2.Decision, err)
		}
		bigger := []risk.Transaction{tx, tx, tx}
		bigger[0].Amount.Minor = amt + (math.MaxInt64-amt)/2
		bigger[1].NoPINCumulative.Minor = cum + (math.MaxInt64-cum)/2
		bigger[2].NoPINConsecutive = n + (math.MaxInt-n)/2
		for i, t2 := range bigger {
			if o2, err := pol.Evaluate(p, t2); err != nil || o2.Decision > o.Decision {
				t.Fatalf("larger input %d: %v → %v (%v)", i, o.Decision, o2.Decision, err)
			}
		}
	})
}

// FuzzObservationJSON decodes observations from JSON, the form a host's
// terminal endpoint receives, and scores them. Inputs over 64 KiB are
// skipped, as a host bounds its request bodies.
func FuzzObservationJSON(f *testing.F) {
	f.Add([]byte(`{"terminal_id":"T1","at":"2026-01-01T01:00:00Z","seen":[{"id":"AA-BB-CC-DD-EE-01","kind":"wifi","rssi":-50},{"id":"c0:00:00:00:00:09","kind":"ble","random":true}]}`))
	// Issue 20 point 5: duplicate and case-folded keys, control characters,
	// year 9999, repeated neighbours, a signature.
	f.Add([]byte(`{"terminal_id":"T1","terminal_id":"T2","at":"2026-01-01T01:00:00Z"}`))
	f.Add([]byte(`{"Terminal_ID":"T1","at":"2026-01-01T01:00:00Z","seen":[{"ID":"aa:bb:cc:dd:ee:01","kind":"wifi"}]}`))
	f.Add([]byte(`{"terminal_id":"T\u0007","at":"9999-12-31T23:59:59Z"}`))
	f.Add([]byte(`{"terminal_id":"T1","at":"2026-01-01T01:00:00Z","seen":[{"id":"aa:bb:cc:dd:ee:01","kind":"wifi"},{"id":"AABB.CCDD.EE01","kind":"wifi"}]}`))
	f.Add([]byte(`{"terminal_id":"T1","at":"2026-01-01T01:00:00Z","sig":"AAEC","x":{"a":[{"b":1,"b":2}]}}`))
	f.Add([]byte(`{"terminal_id":"T1","at":"2026-01-01T01:00:00Z","seen":[]}`))
	f.Add([]byte(`{"terminal_id":"T1","at":"2026-01-01T01:00:00Z","seen":[{"id":"x","kind":"zigbee"}]}`))
	f.Add([]byte(`{"seen":[{"kind":"wifi","rssi":1e309}]}`))
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	base, err := risk.PreconfiguredProfile("T1", at, []risk.Neighbor{
		{ID: "aa:bb:cc:dd:ee:01", Kind: risk.KindWiFi, RSSI: -50},
		{ID: "aa:bb:cc:dd:ee:02", Kind: risk.KindWiFi, RSSI: -60},
	})
	if err != nil {
		f.Fatal(err)
	}
	st := risk.NewMemoryStore()
	if err := st.Put(ctx, base); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, _ := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{}), st)
		if len(data) > 64<<10 {
			t.Skip()
		}
		var obs risk.NeighborObservation
		if err := json.Unmarshal(data, &obs); err != nil {
			if _, derr := risk.DecodeObservation(bytes.NewReader(data)); !errors.Is(derr, risk.ErrObservation) {
				t.Fatalf("DecodeObservation of bad JSON: %v", derr)
			}
			return
		}
		dobs, derr := risk.DecodeObservation(bytes.NewReader(data))
		if derr != nil && !wrapsSentinel(derr) {
			t.Fatalf("DecodeObservation: unwrapped error %v", derr)
		}
		if (derr == nil) != (obs.Validate() == nil) && !errors.Is(derr, risk.ErrObservation) {
			t.Fatalf("DecodeObservation %v disagrees with Validate %v", derr, obs.Validate())
		}
		if derr == nil && (dobs.TerminalID != obs.TerminalID || !dobs.At.Equal(obs.At) || len(dobs.Seen) != len(obs.Seen)) {
			t.Fatalf("DecodeObservation %+v, json.Unmarshal %+v", dobs, obs)
		}
		sig, err := sc.Score(ctx, obs)
		if err != nil {
			if !wrapsSentinel(err) {
				t.Fatalf("unwrapped error %v", err)
			}
			return
		}
		if sig.Validate() != nil {
			t.Fatalf("signal %+v", sig)
		}
		// Accepted observations round-trip through JSON unchanged.
		b, err := json.Marshal(obs)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var again risk.NeighborObservation
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("re-decode %s: %v", b, err)
		}
		sc2, _ := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{}), st)
		sig2, err := sc2.Score(ctx, again)
		if err != nil || sig2.Confidence != sig.Confidence {
			t.Fatalf("round trip changed score %v → %v (%v)", sig.Confidence, sig2.Confidence, err)
		}
	})
}
