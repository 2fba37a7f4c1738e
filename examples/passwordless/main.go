// Command passwordless simulates the neighbour-device evidence behind
// passwordless (no-PIN) payments: many terminals learn their shops' radio
// neighbourhoods, then score genuine scans, scans after the terminal was
// relocated (to another town or next door) and spoofed scans (an attacker
// replaying cloned BSSIDs from one radio). It plots the score distributions
// and the ROC curve to PNG and prints the operating point.
//
//	go run ./examples/passwordless -seed 1 -out out
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"image/color"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/payedge/payedge/risk"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

type config struct {
	Seed      uint64
	Terminals int     // simulated terminals, one shop each
	Days      int     // days of learning scans per terminal
	Trials    int     // test scans per class per terminal
	TargetFPR float64 // false-positive rate for the second operating point
	Out       string  // directory for the PNG plots
}

func main() {
	var cfg config
	flag.Uint64Var(&cfg.Seed, "seed", 1, "simulation seed")
	flag.IntVar(&cfg.Terminals, "terminals", 60, "simulated terminals")
	flag.IntVar(&cfg.Days, "days", 14, "days of learning scans per terminal")
	flag.IntVar(&cfg.Trials, "trials", 30, "test scans per class per terminal")
	flag.Float64Var(&cfg.TargetFPR, "fpr", 0.01, "target false-positive rate for the tuned operating point")
	flag.StringVar(&cfg.Out, "out", "out", "directory for PNG plots")
	flag.Parse()
	if err := run(context.Background(), cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "passwordless:", err)
		os.Exit(1)
	}
}

// Scan classes.
const (
	genuine = iota
	relocated
	spoofed
	nClasses
)

var classNames = [nClasses]string{"genuine", "relocated", "spoofed"}

func run(ctx context.Context, cfg config, w io.Writer) error {
	switch {
	case cfg.Terminals < 1 || cfg.Terminals > 10_000:
		return fmt.Errorf("terminals %d not in [1, 10000]", cfg.Terminals)
	case cfg.Days < 1 || cfg.Days > 365:
		return fmt.Errorf("days %d not in [1, 365]", cfg.Days)
	case cfg.Trials < 1 || cfg.Trials > 10_000:
		return fmt.Errorf("trials %d not in [1, 10000]", cfg.Trials)
	case !(cfg.TargetFPR > 0 && cfg.TargetFPR < 1):
		return fmt.Errorf("fpr %v not in (0, 1)", cfg.TargetFPR)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xfeed))
	store := risk.NewMemoryStore()
	scorer, err := risk.NewNeighborAssessor(risk.NeighborConfig{}, store)
	if err != nil {
		return err
	}
	start := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	end := start.Add(time.Duration(cfg.Days) * 24 * time.Hour)

	scores := [nClasses][]float64{}
	reasons := [nClasses]map[string]int{{}, {}, {}}
	record := func(class int, id string, seen []risk.Neighbor) error {
		sig, err := scorer.Score(ctx, risk.NeighborObservation{TerminalID: id, At: end, Seen: seen})
		if err != nil {
			return err
		}
		scores[class] = append(scores[class], sig.Confidence)
		for _, r := range sig.Reasons {
			reasons[class][r.Code]++
		}
		return nil
	}
	for t := range cfg.Terminals {
		id := fmt.Sprintf("term-%04d", t)
		shop := newPlace(rng)
		for d := range cfg.Days {
			for h := 0; h < 12; h += 3 {
				at := start.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour)
				if err := scorer.Learn(ctx, risk.NeighborObservation{TerminalID: id, At: at, Seen: shop.scan(rng)}); err != nil {
					return err
				}
			}
		}
		for range cfg.Trials {
			if err := record(genuine, id, shop.scan(rng)); err != nil {
				return err
			}
			other := newPlace(rng)
			var moved []risk.Neighbor
			if rng.IntN(2) == 0 {
				moved = other.scan(rng) // another town
			} else {
				moved = nextDoor(rng, shop, other) // next door: a few shared APs, weaker
			}
			if err := record(relocated, id, moved); err != nil {
				return err
			}
			if err := record(spoofed, id, spoof(rng, shop, newPlace(rng))); err != nil {
				return err
			}
		}
	}

	fmt.Fprintf(w, "%d terminals learned %d days of scans; %d test scans per class.\n\n", cfg.Terminals, cfg.Days, cfg.Terminals*cfg.Trials)
	fmt.Fprintf(w, "%-10s %6s %6s %6s %6s %6s\n", "class", "p05", "p25", "median", "p75", "p95")
	for c := range nClasses {
		s := slices.Clone(scores[c])
		slices.Sort(s)
		fmt.Fprintf(w, "%-10s %6.3f %6.3f %6.3f %6.3f %6.3f\n", classNames[c], q(s, 0.05), q(s, 0.25), q(s, 0.5), q(s, 0.75), q(s, 0.95))
	}
	fmt.Fprintln(w, "\nMost frequent reasons:")
	for c := range nClasses {
		fmt.Fprintf(w, "  %-10s %s\n", classNames[c], topReasons(reasons[c], 4, len(scores[c])))
	}

	// The neighbour signal alone, fused with a neutral prior, is what the
	// policy sees (Fuse of one signal around 0.5 returns it unchanged).
	noPIN := risk.PSD2Policy().NoPINConfidence
	fmt.Fprintf(w, "\nPSD2Policy no-PIN threshold %.2f (payments up to EUR 50 within the Art. 11 caps):\n", noPIN)
	printPoint(w, noPIN, scores)
	thr := risk.QuickPassPolicy().PasswordlessConfidence
	fmt.Fprintf(w, "QuickPassPolicy passwordless threshold %.2f (CNY 1,000.01–2,000 without PIN):\n", thr)
	printPoint(w, thr, scores)
	// Tune so that each attack class separately stays within the target.
	tuned := max(thresholdForFPR(scores[relocated], cfg.TargetFPR), thresholdForFPR(scores[spoofed], cfg.TargetFPR))
	fmt.Fprintf(w, "Tuned for FPR ≤ %.3g per attack class (threshold %.3f):\n", cfg.TargetFPR, tuned)
	printPoint(w, tuned, scores)

	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	hist := filepath.Join(cfg.Out, "passwordless_scores.png")
	if err := plotHistograms(hist, scores, thr); err != nil {
		return err
	}
	roc := filepath.Join(cfg.Out, "passwordless_roc.png")
	if err := plotROC(roc, scores, thr); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nWrote %s and %s.\n", hist, roc)
	return nil
}

// q returns the p-quantile of sorted s (nearest rank).
func q(s []float64, p float64) float64 {
	if len(s) == 0 {
		return 0
	}
	i := int(p * float64(len(s)-1))
	return s[i]
}

func rate(s []float64, thr float64) float64 {
	n := 0
	for _, v := range s {
		if v >= thr {
			n++
		}
	}
	return float64(n) / float64(len(s))
}

func printPoint(w io.Writer, thr float64, scores [nClasses][]float64) {
	fmt.Fprintf(w, "  TPR (genuine accepted)      %6.2f %%\n", 100*rate(scores[genuine], thr))
	fmt.Fprintf(w, "  FPR relocated accepted      %6.2f %%\n", 100*rate(scores[relocated], thr))
	fmt.Fprintf(w, "  FPR spoofed accepted        %6.2f %%\n", 100*rate(scores[spoofed], thr))
}

// thresholdForFPR returns the smallest threshold whose false-positive rate
// on negatives is at most fpr.
func thresholdForFPR(negatives []float64, fpr float64) float64 {
	s := slices.Clone(negatives)
	slices.Sort(s)
	allowed := int(fpr * float64(len(s)))
	thr := s[len(s)-1-allowed] + 1e-9
	return min(thr, 1)
}

func topReasons(m map[string]int, n, total int) string {
	type kv struct {
		k string
		v int
	}
	var all []kv
	for k, v := range m {
		all = append(all, kv{k, v})
	}
	slices.SortFunc(all, func(a, b kv) int {
		if c := cmp.Compare(b.v, a.v); c != 0 {
			return c
		}
		return strings.Compare(a.k, b.k)
	})
	var parts []string
	for i := 0; i < len(all) && i < n; i++ {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", all[i].k, 100*float64(all[i].v)/float64(total)))
	}
	return strings.Join(parts, ", ")
}

var classColors = [nClasses]color.Color{
	color.NRGBA{R: 30, G: 150, B: 60, A: 140},
	color.NRGBA{R: 240, G: 150, B: 20, A: 140},
	color.NRGBA{R: 210, G: 30, B: 30, A: 140},
}

func plotHistograms(path string, scores [nClasses][]float64, thr float64) error {
	p := plot.New()
	p.Title.Text = "Neighbour-device confidence by scan class (density clipped at 25)"
	p.X.Label.Text = "confidence that the terminal is at its shop"
	p.Y.Label.Text = "density"
	p.X.Min, p.X.Max = 0, 1
	// Relocated scans pile up at the scorer's floor; clip the axis so the
	// genuine distribution stays readable.
	const yMax = 25
	for c := range nClasses {
		h, err := plotter.NewHist(plotter.Values(scores[c]), 40)
		if err != nil {
			return err
		}
		h.Normalize(1)
		h.FillColor = classColors[c]
		h.LineStyle.Width = 0
		p.Add(h)
		p.Legend.Add(classNames[c], h)
	}
	line, err := plotter.NewLine(plotter.XYs{{X: thr, Y: 0}, {X: thr, Y: yMax}})
	if err != nil {
		return err
	}
	line.LineStyle.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(line)
	p.Legend.Add(fmt.Sprintf("passwordless threshold %.2f", thr), line)
	p.Y.Min, p.Y.Max = 0, yMax // after Add, which widens the axes to the data
	p.Legend.Top = true
	p.Legend.Left = false
	return p.Save(16*vg.Centimeter, 10*vg.Centimeter, path)
}

func plotROC(path string, scores [nClasses][]float64, thr float64) error {
	p := plot.New()
	p.Title.Text = "ROC: genuine vs relocated and spoofed scans"
	p.X.Label.Text = "false-positive rate"
	p.Y.Label.Text = "true-positive rate"
	// Zoom on low false-positive rates, where an operating point lives.
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 0.2, 0, 1
	for c := relocated; c < nClasses; c++ {
		var pts plotter.XYs
		for i := 0; i <= 200; i++ {
			t := float64(i) / 200
			pts = append(pts, plotter.XY{X: rate(scores[c], t), Y: rate(scores[genuine], t)})
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.LineStyle.Color = classColors[c]
		l.LineStyle.Width = vg.Points(2)
		p.Add(l)
		p.Legend.Add("vs "+classNames[c], l)
		op, err := plotter.NewScatter(plotter.XYs{{X: rate(scores[c], thr), Y: rate(scores[genuine], thr)}})
		if err != nil {
			return err
		}
		op.Color = classColors[c]
		p.Add(op)
	}
	p.Legend.Top = false
	p.Legend.Left = false
	return p.Save(12*vg.Centimeter, 12*vg.Centimeter, path)
}

// place is a synthetic shop: fixed access points (some multi-BSSID with
// locally administered secondary BSSIDs) and Bluetooth LE beacons.
type place struct {
	aps []risk.Neighbor
}

func newPlace(rng *rand.Rand) *place {
	p := &place{}
	n := 6 + rng.IntN(20)
	for range n {
		ap := risk.Neighbor{ID: mac(rng, false), Kind: risk.KindWiFi, RSSI: float64(-40 - rng.IntN(52))}
		p.aps = append(p.aps, ap)
		if rng.IntN(8) == 0 { // a second SSID on the same radio: LA bit set
			sec := ap
			sec.ID = "0a" + ap.ID[2:]
			p.aps = append(p.aps, sec)
		}
	}
	for range rng.IntN(3) {
		p.aps = append(p.aps, risk.Neighbor{ID: "c" + mac(rng, false)[1:], Kind: risk.KindBLE, Random: true, RSSI: float64(-60 - rng.IntN(30))})
	}
	return p
}

// scan is one scan at p: each AP seen with a per-scan probability, RSSI
// with a per-scan offset and per-AP noise, plus phones (randomised MACs)
// and rotating BLE private addresses.
func (p *place) scan(rng *rand.Rand) []risk.Neighbor {
	keep := 0.6 + 0.35*rng.Float64()
	offset := rng.NormFloat64() * 2
	var out []risk.Neighbor
	for _, ap := range p.aps {
		if rng.Float64() < keep {
			n := ap
			n.RSSI = clampRSSI(ap.RSSI + offset + rng.NormFloat64()*4)
			out = append(out, n)
		}
	}
	for range rng.IntN(7) {
		out = append(out, risk.Neighbor{ID: mac(rng, true), Kind: risk.KindWiFi, RSSI: float64(-45 - rng.IntN(45))})
	}
	for range rng.IntN(5) {
		rpa := "4" + mac(rng, false)[1:]
		out = append(out, risk.Neighbor{ID: rpa, Kind: risk.KindBLE, Random: true, RSSI: float64(-55 - rng.IntN(40))})
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// nextDoor is a scan one building away: the new place's APs plus two to
// four of the shop's, 10–25 dB weaker.
func nextDoor(rng *rand.Rand, shop, other *place) []risk.Neighbor {
	out := other.scan(rng)
	k := min(len(shop.aps), 2+rng.IntN(3))
	for _, i := range rng.Perm(len(shop.aps))[:k] {
		n := shop.aps[i]
		n.RSSI = clampRSSI(n.RSSI - 10 - 15*rng.Float64())
		out = append(out, n)
	}
	return out
}

// spoof is an attacker's scan: the attacker's street plus one to six of the
// shop's BSSIDs replayed by one radio next to the terminal.
func spoof(rng *rand.Rand, shop, street *place) []risk.Neighbor {
	out := street.scan(rng)
	k := min(len(shop.aps), 1+rng.IntN(6))
	base := float64(-35 - rng.IntN(20))
	for _, i := range rng.Perm(len(shop.aps))[:k] {
		n := shop.aps[i]
		n.RSSI = clampRSSI(base + rng.NormFloat64())
		out = append(out, n)
	}
	return out
}

func clampRSSI(v float64) float64 { return max(-120, min(-1, v)) }

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
	b[5] |= 1
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}
