package risk_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/payedge/payedge/risk"
)

// shop is a synthetic neighbourhood: fixed access points with mean RSSI.
type shop struct {
	aps  []risk.Neighbor
	rng  *rand.Rand
	base time.Time
}

func newShop(seed uint64, n int) *shop {
	rng := rand.New(rand.NewPCG(seed, 7))
	s := &shop{rng: rng, base: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	for i := 0; i < n; i++ {
		s.aps = append(s.aps, risk.Neighbor{ID: universalMAC(rng), Kind: risk.KindWiFi, RSSI: -40 - float64(rng.IntN(50))})
	}
	return s
}

// universalMAC returns a random unicast, universally administered MAC.
func universalMAC(rng *rand.Rand) string {
	var b [6]byte
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	b[0] &^= 0x03
	b[0] |= 0x04 // never all-zero
	return fmt.Sprintf("%02X:%02X:%02X:%02X:%02X:%02X", b[0], b[1], b[2], b[3], b[4], b[5])
}

// randomMAC returns a locally administered (randomised client) MAC.
func randomMAC(rng *rand.Rand) string {
	var b [6]byte
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	b[0] = b[0]&^0x01 | 0x02
	return fmt.Sprintf("%02x-%02x-%02x-%02x-%02x-%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}

// scan returns what the terminal sees at the shop: each AP with probability
// keep, RSSI noise of noise dB, plus phones with randomised MACs.
func (s *shop) scan(keep, noise float64, phones int) []risk.Neighbor {
	var out []risk.Neighbor
	for _, ap := range s.aps {
		if s.rng.Float64() < keep {
			n := ap
			n.RSSI = max(-120, min(-1, ap.RSSI+s.rng.NormFloat64()*noise))
			out = append(out, n)
		}
	}
	for range phones {
		out = append(out, risk.Neighbor{ID: randomMAC(s.rng), Kind: risk.KindWiFi, RSSI: -70})
	}
	return out
}

// learned returns a store holding a profile of terminal "T1" learned from
// days of scans at s, and the time of the last scan.
func (s *shop) learned(t testing.TB, days int) (*risk.MemoryStore, time.Time) {
	t.Helper()
	st := risk.NewMemoryStore()
	sc, err := risk.NewNeighborAssessor(timeless(risk.NeighborConfig{}), st)
	if err != nil {
		t.Fatal(err)
	}
	at := s.base
	for d := 0; d < days; d++ {
		for h := 0; h < 4; h++ {
			at = s.base.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*2*time.Hour)
			obs := risk.NeighborObservation{TerminalID: "T1", At: at, Seen: s.scan(0.9, 3, 2)}
			if err := sc.Learn(context.Background(), obs); err != nil {
				t.Fatal(err)
			}
		}
	}
	return st, at
}

// elsewhere returns a scan of n unknown universal APs.
func elsewhere(rng *rand.Rand, n int) []risk.Neighbor {
	out := make([]risk.Neighbor, n)
	for i := range out {
		out[i] = risk.Neighbor{ID: universalMAC(rng), Kind: risk.KindWiFi, RSSI: -50 - float64(rng.IntN(40))}
	}
	return out
}

// timeless returns c with a clock and freshness window that admit every
// time these tests use (2000–2049): freshness has its own tests.
func timeless(c risk.NeighborConfig) risk.NeighborConfig {
	c.Clock = func() time.Time { return time.Date(2049, 1, 1, 0, 0, 0, 0, time.UTC) }
	c.MaxAge = 50 * 365 * 24 * time.Hour
	c.MaxSkew = time.Nanosecond
	return c
}
