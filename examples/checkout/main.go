// Command checkout tells the payedge story: one terminal, several payments,
// each with its signals, the fused confidence and the decision.
//
// The story is a list of scenes. Each scene carries its inputs (today: the
// terminal's radio scan) and collects one risk.Signal per evidence source.
// To add a source, either prefill a scene's Signals in story (the sources
// append after them), or add its input to scene, build it in story and
// append one evidence function to the sources list in run.
//
//	go run ./examples/checkout -seed 7
package main

import (
	"context"
	"flag"
	"fmt"
	"image"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/payedge/payedge/geo"
	"github.com/payedge/payedge/motion"
	"github.com/payedge/payedge/risk"
)

// config holds the command-line settings.
type config struct {
	Seed uint64 // seed of the synthetic neighbourhoods
	Days int    // days of scans learned before the story starts
	// Prior is the host's base rate of genuine payment environments at
	// this terminal: each signal's log-likelihood ratio is added to its
	// log-odds (risk.Fuse), so a higher prior needs stronger evidence
	// against the environment to refuse it, never more evidence for it.
	Prior float64
	// DB is a postgres:// URL: when set, the story keeps its profiles,
	// scenes and sites on PostgreSQL through pgstore.
	DB string
}

// scene is one payment in the story.
type scene struct {
	Name string
	Tx   risk.Transaction
	// Where the terminal really is and how it moves (the story's truth,
	// from which the evidence inputs below are rendered).
	AtShop bool
	Moving string // motion class: counter, handheld, walking, vehicle
	// Heartbeats is how many cell reports the terminal uploaded from
	// where it is before this payment (terminals report periodically).
	Heartbeats int
	// Inputs of the evidence sources.
	Scan   []risk.Neighbor       // what the terminal's radios saw
	Photo  image.Image           // the terminal's photo of its surroundings
	Window []motion.Sample       // 2.56 s of accelerometer and gyroscope data
	Cells  []geo.CellObservation // the serving and neighbouring cells
	// Signals collected from every evidence source, in source order.
	Signals []risk.Signal
	// Assessment is the decision with its explanation.
	Assessment risk.Assessment
}

// evidence turns a scene's inputs into one Signal.
type evidence func(ctx context.Context, sc *scene) (risk.Signal, error)

func main() {
	var cfg config
	flag.Uint64Var(&cfg.Seed, "seed", 7, "seed of the synthetic neighbourhoods")
	flag.IntVar(&cfg.Days, "days", 14, "days of scans the terminal learns before the story")
	flag.Float64Var(&cfg.Prior, "prior", 0.5, "base rate of genuine payment environments at this terminal (the fusion prior; signals add their evidence to it)")
	flag.StringVar(&cfg.DB, "db", "", "postgres:// URL: keep the story's stores on PostgreSQL (schema "+dbSchema+", recreated on each run)")
	flag.Parse()
	if err := run(context.Background(), cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "checkout:", err)
		os.Exit(1)
	}
}

const terminal = "shop-17/term-1"

func eur(minor int64) risk.Amount { return risk.Amount{Minor: minor, Currency: "EUR"} }

func run(ctx context.Context, cfg config, w io.Writer) error {
	if cfg.Days < 1 || cfg.Days > 365 {
		return fmt.Errorf("days %d not in [1, 365]", cfg.Days)
	}
	if !(cfg.Prior > 0 && cfg.Prior < 1) {
		return fmt.Errorf("prior %v not in (0, 1)", cfg.Prior)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	start := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	shop := newPlace(rng, 14)

	st := memoryStores()
	if cfg.DB != "" {
		var err error
		if st, err = postgresStores(ctx, cfg.DB); err != nil {
			return err
		}
	}
	defer st.close()
	fmt.Fprintf(w, "Stores: %s.\n", st.where)

	// The terminal learns its neighbourhood from routine scans.
	store := st.profiles
	now := start
	// The story's clock: Score checks each scan's freshness against it
	// (time.Now when not set).
	scorer, err := risk.NewNeighborAssessor(risk.NeighborConfig{Clock: func() time.Time { return now }}, store)
	if err != nil {
		return err
	}
	for d := range cfg.Days {
		for h := 0; h < 10; h += 2 {
			now = start.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour)
			obs := risk.NeighborObservation{TerminalID: terminal, At: now, Seen: shop.scan(rng, 0.9, 3, rng.IntN(4))}
			if err := scorer.Learn(ctx, obs); err != nil {
				return err
			}
		}
	}
	p, err := store.Profile(ctx, terminal)
	if err != nil {
		return err
	}
	regular := 0
	for _, n := range p.Neighbors {
		if n.Frequency >= 0.5 {
			regular++
		}
	}
	fmt.Fprintf(w, "Terminal %s learned %d neighbours (%d seen in most scans; randomised phone MACs are not learned) from %.0f decayed scans over %d days.\n\n",
		terminal, len(p.Neighbors), regular, p.Weight, cfg.Days)

	scenes := story(rng, shop)
	now = now.Add(time.Hour)
	sources := []evidence{
		func(ctx context.Context, sc *scene) (risk.Signal, error) {
			return scorer.Score(ctx, risk.NeighborObservation{TerminalID: terminal, At: now, Seen: sc.Scan})
		},
	}
	more, err := otherEvidence(ctx, cfg.Seed, now, scenes, st)
	if err != nil {
		return err
	}
	sources = append(sources, more...)
	// Pay by face: the customer looks into the terminal's camera.
	bio, err := biometricEvidence(ctx, cfg.Seed)
	if err != nil {
		return err
	}
	sources = append(sources, bio)
	// The shop's readers ask for a PIN from EUR 25 (their CVM-required
	// limit); between that and the PSD2 Art. 11 cap of EUR 50 the payment may
	// still skip the PIN when the environment evidence is strong: that is the
	// passwordless band.
	policy := risk.PSD2Policy()
	policy.Limits.CVMRequired = 25_00
	if err := policy.Validate(); err != nil {
		return err
	}
	preset := risk.PSD2Policy()
	fmt.Fprintf(w, "Policy: PSD2Policy() (floor %v: every payment online; CVM-required limit %v, so no passwordless band)\n",
		eur(preset.Limits.Floor), eur(preset.Limits.CVMRequired))
	fmt.Fprintf(w, "  with this shop's readers' CVM-required limit lowered to %v (Limits.CVMRequired): no PIN below it at fused confidence ≥ %.2f;\n",
		eur(policy.Limits.CVMRequired), policy.NoPINConfidence)
	fmt.Fprintf(w, "  passwordless from %v up to %v at fused confidence ≥ %.2f; caps %v cumulative / %d in a row; prior %.2f.\n\n",
		eur(policy.Limits.CVMRequired), eur(policy.NoPIN.MaxAmount), policy.PasswordlessConfidence,
		eur(policy.NoPIN.MaxCumulative), policy.NoPIN.MaxConsecutive, cfg.Prior)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scene\tamount\tsignals\tfused\tdecision\twhy")
	for i := range scenes {
		sc := &scenes[i]
		for _, src := range sources {
			sig, err := src(ctx, sc)
			if err != nil {
				return fmt.Errorf("scene %q: %w", sc.Name, err)
			}
			sc.Signals = append(sc.Signals, sig)
		}
		// One call: fuse around the prior, decide, and explain.
		out, err := policy.DecideExplained(cfg.Prior, sc.Tx, sc.Signals...)
		if err != nil {
			return fmt.Errorf("scene %q: %w", sc.Name, err)
		}
		fused := out.Fusion.Confidence
		sc.Assessment = out
		var sigs []string
		for _, s := range sc.Signals {
			sigs = append(sigs, fmt.Sprintf("%s=%.2f", s.Source, s.Confidence))
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t%.3f\t%v\t%s\n", sc.Name, sc.Tx.Amount, strings.Join(sigs, " "), fused, out.Decision, out.Reason.Code)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nTop reasons per scene (signals that moved the fused log-odds most first):")
	for _, sc := range scenes {
		var codes []string
		for _, r := range sc.Assessment.TopReasons(4) {
			codes = append(codes, r.Code)
		}
		fmt.Fprintf(w, "  %-22s %s\n", sc.Name, strings.Join(codes, ", "))
	}
	return nil
}

// story builds the scenes: the terminal pays at its shop, is moved to a
// strange place, and an attacker clones one of the shop's BSSIDs.
func story(rng *rand.Rand, shop *place) []scene {
	elsewhere := newPlace(rng, 11)
	// The attacker copies the shop's strongest BSSID onto a hotspot next to
	// the stolen terminal; everything else around is the attacker's street.
	clone := shop.aps[0]
	for _, ap := range shop.aps {
		if ap.RSSI > clone.RSSI {
			clone = ap
		}
	}
	clone.RSSI = -35
	spoof := append(elsewhere.scan(rng, 0.9, 3, 2), clone)
	return []scene{
		{Name: "coffee at the shop", Tx: risk.Transaction{Amount: eur(4_50)}, AtShop: true, Moving: "counter", Scan: shop.scan(rng, 0.85, 3, 2)},
		{Name: "groceries at the shop", Tx: risk.Transaction{Amount: eur(38_20), NoPINCumulative: eur(4_50), NoPINConsecutive: 1}, AtShop: true, Moving: "handheld", Scan: shop.scan(rng, 0.85, 3, 3)},
		{Name: "sixth no-PIN in a row", Tx: risk.Transaction{Amount: eur(9_90), NoPINCumulative: eur(60_00), NoPINConsecutive: 5}, AtShop: true, Moving: "counter", Scan: shop.scan(rng, 0.85, 3, 1)},
		{Name: "relocated terminal", Tx: risk.Transaction{Amount: eur(24_90)}, Moving: "handheld", Heartbeats: 1, Scan: elsewhere.scan(rng, 0.9, 3, 3)},
		{Name: "cloned-BSSID spoof", Tx: risk.Transaction{Amount: eur(24_90)}, Moving: "vehicle", Scan: spoof},
	}
}

// place is a synthetic radio neighbourhood of fixed access points.
type place struct{ aps []risk.Neighbor }

func newPlace(rng *rand.Rand, n int) *place {
	p := &place{}
	for range n {
		p.aps = append(p.aps, risk.Neighbor{ID: mac(rng, false), Kind: risk.KindWiFi, RSSI: float64(-40 - rng.IntN(50))})
	}
	// A Bluetooth LE beacon with a static random address.
	b := mac(rng, false)
	p.aps = append(p.aps, risk.Neighbor{ID: "c" + b[1:], Kind: risk.KindBLE, Random: true, RSSI: -72})
	return p
}

// scan is one radio scan at p: each access point with probability keep,
// RSSI noise of noise dB, plus phones with randomised MACs.
func (p *place) scan(rng *rand.Rand, keep, noise float64, phones int) []risk.Neighbor {
	var out []risk.Neighbor
	for _, ap := range p.aps {
		if rng.Float64() < keep {
			n := ap
			n.RSSI = max(-120, min(-1, ap.RSSI+rng.NormFloat64()*noise))
			out = append(out, n)
		}
	}
	for range phones {
		out = append(out, risk.Neighbor{ID: mac(rng, true), Kind: risk.KindWiFi, RSSI: float64(-50 - rng.IntN(40))})
	}
	return out
}

// mac returns a random unicast MAC, locally administered when local.
func mac(rng *rand.Rand, local bool) string {
	var b [6]byte
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	b[0] &^= 0x03
	if local {
		b[0] |= 0x02
	}
	b[5] |= 1 // never all-zero
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}
