// Command passwordless simulates the neighbour-device evidence behind
// passwordless (no-PIN) payments: many terminals learn their shops' radio
// neighbourhoods (access points, some dual- or tri-band, WiFi + Bluetooth
// combo chips, BLE beacons), then score genuine scans and attacks:
//
//   - relocated: the terminal was moved (to another town, or next door);
//   - spoofed: an attacker replays one to six of the shop's BSSIDs from one
//     radio near the stolen terminal;
//   - cloned device: every identifier of one of the shop's multi-radio
//     devices is cloned, at its learned strength (issue 20 point 1);
//   - look-alike clones: two or more of the shop's devices are cloned and
//     replayed by one radio at one strength (point 2);
//   - no-RSSI: every identifier of the shop listed without strengths (a
//     hand-made scan that would escape the strength checks);
//   - replayed: one of the terminal's latest genuine scans (scored, or its
//     last routine learned one) sent again with a new time (point 4);
//   - stale: a genuine scan dated more than MaxAge ago (point 4).
//
// It prints score quantiles and the share of each class that the
// PSD2Policy thresholds accept, and plots the score distributions and the
// ROC curves (log false-positive axis) to PNG.
//
//	go run ./examples/passwordless -seed 1 -out out
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"math"
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
	TargetFPR float64 // false-positive rate for the tuned operating point
	Out       string  // directory for the PNG plots
}

func main() {
	var cfg config
	flag.Uint64Var(&cfg.Seed, "seed", 1, "simulation seed")
	flag.IntVar(&cfg.Terminals, "terminals", 60, "simulated terminals")
	flag.IntVar(&cfg.Days, "days", 14, "days of learning scans per terminal")
	flag.IntVar(&cfg.Trials, "trials", 30, "test scans per class per terminal")
	flag.Float64Var(&cfg.TargetFPR, "fpr", 0.01, "target false-positive rate per attack class for the tuned operating point")
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
	clonedDevice
	lookAlike
	noRSSI
	replayed
	stale
	nClasses
)

var classNames = [nClasses]string{"genuine", "relocated", "spoofed", "cloned-device", "look-alike", "no-RSSI", "replayed", "stale"}

// refused marks a scan that Score rejected with an error (a stale one):
// no signal, so never accepted.
var refused = math.Inf(-1)

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
	start := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	now := start // the simulation's clock
	ncfg := risk.NeighborConfig{Clock: func() time.Time { return now }}
	scorer, err := risk.NewNeighborAssessor(ncfg, risk.NewMemoryStore())
	if err != nil {
		return err
	}
	maxAge := scorer.Config().MaxAge

	var scores [nClasses][]float64
	var reasons [nClasses]map[string]int
	for c := range reasons {
		reasons[c] = map[string]int{}
	}
	record := func(class int, id string, at time.Time, seen []risk.Neighbor) error {
		sig, err := scorer.Score(ctx, risk.NeighborObservation{TerminalID: id, At: at, Seen: seen})
		if errors.Is(err, risk.ErrStale) {
			scores[class] = append(scores[class], refused)
			reasons[class]["refused: "+risk.ErrStale.Error()]++
			return nil
		}
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
		var routine []risk.Neighbor // the last learned scan
		for d := range cfg.Days {
			for h := 0; h < 12; h += 3 {
				at := start.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour)
				routine = shop.scan(rng)
				if err := scorer.Learn(ctx, risk.NeighborObservation{TerminalID: id, At: at, Seen: routine}); err != nil {
					return err
				}
			}
		}
		now = start.Add(time.Duration(cfg.Days) * 24 * time.Hour)
		history := [][]risk.Neighbor{routine}
		for range cfg.Trials {
			now = now.Add(time.Minute)
			scan := shop.scan(rng)
			if err := record(genuine, id, now, scan); err != nil {
				return err
			}
			// The same neighbours and strengths again, newly dated: one of
			// the terminal's eight latest scans, learned or scored.
			history = append(history, scan)
			again := history[len(history)-1-rng.IntN(min(8, len(history)))]
			if err := record(replayed, id, now.Add(20*time.Second), slices.Clone(again)); err != nil {
				return err
			}
			if err := record(noRSSI, id, now, withoutRSSI(rng, shop)); err != nil {
				return err
			}
			old := now.Add(-maxAge - time.Duration(1+rng.IntN(60))*time.Minute)
			if err := record(stale, id, old, shop.scan(rng)); err != nil {
				return err
			}
			other := newPlace(rng)
			var moved []risk.Neighbor
			if rng.IntN(2) == 0 {
				moved = other.scan(rng) // another town
			} else {
				moved = nextDoor(rng, shop, other) // next door: a few shared APs, weaker
			}
			if err := record(relocated, id, now, moved); err != nil {
				return err
			}
			if err := record(spoofed, id, now, spoof(rng, shop, newPlace(rng))); err != nil {
				return err
			}
			if err := record(clonedDevice, id, now, cloneDevice(rng, shop, newPlace(rng))); err != nil {
				return err
			}
			if err := record(lookAlike, id, now, lookAlikes(rng, shop, newPlace(rng))); err != nil {
				return err
			}
		}
	}

	fmt.Fprintf(w, "%d terminals learned %d days of scans; %d test scans per class.\n\n", cfg.Terminals, cfg.Days, cfg.Terminals*cfg.Trials)
	fmt.Fprintf(w, "%-14s %6s %6s %6s %6s %6s\n", "class", "p05", "p25", "median", "p75", "p95")
	for c := range nClasses {
		s := slices.Clone(scores[c])
		slices.Sort(s)
		fmt.Fprintf(w, "%-14s %6s %6s %6s %6s %6s\n", classNames[c], qs(s, 0.05), qs(s, 0.25), qs(s, 0.5), qs(s, 0.75), qs(s, 0.95))
	}
	fmt.Fprintln(w, "\nMost frequent reasons:")
	for c := range nClasses {
		fmt.Fprintf(w, "  %-14s %s\n", classNames[c], topReasons(reasons[c], 4, len(scores[c])))
	}

	// The neighbour signal alone, fused at an even prior, is what the
	// policy sees: Fuse(0.5, sig) returns sig.Confidence.
	pol := risk.PSD2Policy()
	tuned := 0.0
	for c := relocated; c < nClasses; c++ {
		tuned = max(tuned, thresholdForFPR(scores[c], cfg.TargetFPR))
	}
	points := []struct {
		name string
		thr  float64
	}{
		{"no-PIN (PSD2Policy.NoPINConfidence)", pol.NoPINConfidence},
		{"passwordless (PSD2Policy.PasswordlessConfidence)", pol.PasswordlessConfidence},
		{fmt.Sprintf("tuned: FPR ≤ %.3g per attack class", cfg.TargetFPR), tuned},
	}
	fmt.Fprintf(w, "\nAccepted at each threshold (neighbour evidence alone, prior 0.5):\n")
	fmt.Fprintf(w, "  %-14s", "class")
	for _, p := range points {
		fmt.Fprintf(w, " %9.3f", p.thr)
	}
	fmt.Fprintln(w)
	for c := range nClasses {
		fmt.Fprintf(w, "  %-14s", classNames[c])
		for _, p := range points {
			fmt.Fprintf(w, " %8.2f%%", 100*rate(scores[c], p.thr))
		}
		fmt.Fprintln(w)
	}
	for _, p := range points {
		fmt.Fprintf(w, "  %.3f = %s\n", p.thr, p.name)
	}

	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	hist := filepath.Join(cfg.Out, "passwordless_scores.png")
	if err := plotHistograms(hist, scores, pol.NoPINConfidence); err != nil {
		return err
	}
	roc := filepath.Join(cfg.Out, "passwordless_roc.png")
	if err := plotROC(roc, scores, pol.NoPINConfidence); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nWrote %s and %s.\n", hist, roc)
	return nil
}

// qs formats the p-quantile of sorted s (nearest rank); refused scans sort
// first and print as "refused".
func qs(s []float64, p float64) string {
	if len(s) == 0 {
		return "-"
	}
	v := s[int(p*float64(len(s)-1))]
	if v == refused {
		return "refused"
	}
	return fmt.Sprintf("%.3f", v)
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

// thresholdForFPR returns the smallest threshold whose false-positive rate
// on negatives is at most fpr.
func thresholdForFPR(negatives []float64, fpr float64) float64 {
	s := slices.Clone(negatives)
	slices.Sort(s)
	allowed := int(fpr * float64(len(s)))
	thr := max(s[len(s)-1-allowed], 0) + 1e-9
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
	color.NRGBA{R: 30, G: 150, B: 60, A: 150},
	color.NRGBA{R: 240, G: 150, B: 20, A: 150},
	color.NRGBA{R: 210, G: 30, B: 30, A: 150},
	color.NRGBA{R: 120, G: 60, B: 200, A: 150},
	color.NRGBA{R: 30, G: 120, B: 220, A: 150},
	color.NRGBA{R: 200, G: 60, B: 150, A: 150},
	color.NRGBA{R: 120, G: 120, B: 120, A: 150},
	color.NRGBA{R: 0, G: 0, B: 0, A: 150},
}

func plotHistograms(path string, scores [nClasses][]float64, thr float64) error {
	p := plot.New()
	p.Title.Text = "Neighbour-device confidence by scan class (density clipped at 25)"
	p.X.Label.Text = "confidence that the terminal is at its shop (stale scans are refused: not shown)"
	p.Y.Label.Text = "density"
	const yMax = 25
	for c := range nClasses {
		var v plotter.Values
		for _, s := range scores[c] {
			if s != refused {
				v = append(v, s)
			}
		}
		if len(v) == 0 {
			continue
		}
		// Bins of 0.025 over [0, 1] for every class, so densities compare.
		const bins = 40
		h := &plotter.Histogram{Bins: make([]plotter.HistogramBin, bins), Width: 1.0 / bins}
		for i := range h.Bins {
			h.Bins[i].Min, h.Bins[i].Max = float64(i)/bins, float64(i+1)/bins
		}
		for _, x := range v {
			h.Bins[min(bins-1, int(x*bins))].Weight++
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
	p.Legend.Add(fmt.Sprintf("PSD2 no-PIN threshold %.2f", thr), line)
	p.X.Min, p.X.Max = 0, 1
	p.Y.Min, p.Y.Max = 0, yMax // after Add, which widens the axes to the data
	// The attack classes pile up at the left; genuine scans at the right.
	// The attack classes pile up at the left, genuine scans at the right:
	// the legend goes in the empty middle.
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(150)
	p.Legend.YOffs = -vg.Points(10)
	return p.Save(18*vg.Centimeter, 11*vg.Centimeter, path)
}

// plotROC draws, per attack class, the true-positive rate on genuine scans
// against the false-positive rate on that class as the threshold sweeps,
// on a log false-positive axis; rates below the floor (one scan in the
// class's sample, halved) are drawn at the floor.
func plotROC(path string, scores [nClasses][]float64, thr float64) error {
	p := plot.New()
	p.Title.Text = "ROC: genuine vs each attack class (log FPR)"
	p.X.Label.Text = "false-positive rate (attack accepted), log scale"
	p.Y.Label.Text = "true-positive rate (genuine accepted)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	for c := relocated; c < nClasses; c++ {
		floor := 0.5 / float64(len(scores[c]))
		var pts plotter.XYs
		for i := 0; i <= 400; i++ {
			t := float64(i) / 400
			pts = append(pts, plotter.XY{X: max(floor, rate(scores[c], t)), Y: rate(scores[genuine], t)})
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.LineStyle.Color = classColors[c]
		l.LineStyle.Width = vg.Points(2)
		if c >= clonedDevice {
			l.LineStyle.Dashes = []vg.Length{vg.Points(5), vg.Points(2)}
		}
		p.Add(l)
		p.Legend.Add("vs "+classNames[c], l)
		op, err := plotter.NewScatter(plotter.XYs{{X: max(floor, rate(scores[c], thr)), Y: rate(scores[genuine], thr)}})
		if err != nil {
			return err
		}
		op.Color = classColors[c]
		p.Add(op)
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 1e-4, 1, 0, 1.02
	p.Legend.Top = false
	p.Legend.Left = false
	return p.Save(14*vg.Centimeter, 12*vg.Centimeter, path)
}

// place is a synthetic shop: physical devices, each with one or more
// identifiers as vendors allocate them.
type place struct {
	aps     []risk.Neighbor // every identifier
	devices [][]int         // the identifiers (indices into aps) of each device
}

func newPlace(rng *rand.Rand) *place {
	p := &place{}
	n := 4 + rng.IntN(14)
	for range n {
		base := macValue(rng)
		rssi := float64(-40 - rng.IntN(52))
		var ids []risk.Neighbor
		add := func(v uint64, k risk.NeighborKind) {
			ids = append(ids, risk.Neighbor{ID: macString(v), Kind: k, RSSI: rssi})
		}
		switch r := rng.IntN(10); {
		case r < 5: // a plain access point, sometimes with a second SSID
			add(base, risk.KindWiFi)
			if rng.IntN(8) == 0 { // locally administered secondary BSSID
				add(base|0x02<<40, risk.KindWiFi)
			}
		case r < 7: // dual band: base and base+0x10
			add(base, risk.KindWiFi)
			add(base+0x10, risk.KindWiFi)
		case r < 8: // tri band
			add(base, risk.KindWiFi)
			add(base+0x10, risk.KindWiFi)
			add(base+0x20, risk.KindWiFi)
		case r < 9: // WiFi + Bluetooth combo chip
			add(base, risk.KindWiFi)
			add(base+1, risk.KindBluetooth)
		default: // a BLE beacon with a static random address
			ids = append(ids, risk.Neighbor{ID: "c" + macString(base)[1:], Kind: risk.KindBLE, Random: true, RSSI: rssi})
		}
		var dev []int
		for _, id := range ids {
			dev = append(dev, len(p.aps))
			p.aps = append(p.aps, id)
		}
		p.devices = append(p.devices, dev)
	}
	return p
}

// scan is one scan at p: each device seen with a per-scan probability
// (each of its identifiers then with 0.9), RSSI with a per-scan offset and
// per-identifier noise, plus phones (randomised MACs) and rotating BLE
// private addresses.
func (p *place) scan(rng *rand.Rand) []risk.Neighbor {
	keep := 0.6 + 0.35*rng.Float64()
	offset := rng.NormFloat64() * 2
	var out []risk.Neighbor
	for _, dev := range p.devices {
		if rng.Float64() >= keep {
			continue
		}
		for _, i := range dev {
			if rng.Float64() < 0.9 {
				n := p.aps[i]
				n.RSSI = clampRSSI(n.RSSI + offset + rng.NormFloat64()*4)
				out = append(out, n)
			}
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
	return dedupe(out)
}

// dedupe drops repeated identifiers (random phone MACs can collide), as a
// terminal merges repeated reports.
func dedupe(in []risk.Neighbor) []risk.Neighbor {
	seen := map[string]bool{}
	out := in[:0]
	for _, n := range in {
		k := n.Kind.String() + strings.ToLower(n.ID)
		if !seen[k] {
			seen[k] = true
			out = append(out, n)
		}
	}
	return out
}

// nextDoor is a scan one building away: the new place's APs plus two to
// four of the shop's identifiers, 10–25 dB weaker.
func nextDoor(rng *rand.Rand, shop, other *place) []risk.Neighbor {
	out := other.scan(rng)
	k := min(len(shop.aps), 2+rng.IntN(3))
	for _, i := range rng.Perm(len(shop.aps))[:k] {
		n := shop.aps[i]
		n.RSSI = clampRSSI(n.RSSI - 10 - 15*rng.Float64())
		out = append(out, n)
	}
	return dedupe(out)
}

// spoof is an attacker's scan: the attacker's street plus one to six of the
// shop's identifiers replayed by one radio next to the terminal.
func spoof(rng *rand.Rand, shop, street *place) []risk.Neighbor {
	out := street.scan(rng)
	k := min(len(shop.aps), 1+rng.IntN(6))
	base := float64(-35 - rng.IntN(20))
	for _, i := range rng.Perm(len(shop.aps))[:k] {
		n := shop.aps[i]
		n.RSSI = clampRSSI(base + rng.NormFloat64())
		out = append(out, n)
	}
	return dedupe(out)
}

// cloneDevice clones every identifier of the shop's device with the most
// identifiers, each at its learned strength (the attacker surveyed the
// shop), half the time amid the attacker's street.
func cloneDevice(rng *rand.Rand, shop, street *place) []risk.Neighbor {
	var out []risk.Neighbor
	if rng.IntN(2) == 0 {
		out = street.scan(rng)
	}
	best := shop.devices[0]
	for _, d := range shop.devices {
		if len(d) > len(best) {
			best = d
		}
	}
	for _, i := range best {
		n := shop.aps[i]
		n.RSSI = clampRSSI(n.RSSI + rng.NormFloat64())
		out = append(out, n)
	}
	return dedupe(out)
}

// lookAlikes clones two or more of the shop's devices (often all of them)
// with every identifier, replayed by one radio at one strength, half the
// time amid the attacker's street.
func lookAlikes(rng *rand.Rand, shop, street *place) []risk.Neighbor {
	var out []risk.Neighbor
	if rng.IntN(2) == 0 {
		out = street.scan(rng)
	}
	k := len(shop.devices)
	if rng.IntN(2) == 0 {
		k = min(k, 2+rng.IntN(4))
	}
	level := float64(-35 - rng.IntN(30))
	for _, d := range rng.Perm(len(shop.devices))[:k] {
		for _, i := range shop.devices[d] {
			n := shop.aps[i]
			n.RSSI = clampRSSI(level + 0.5*rng.NormFloat64())
			out = append(out, n)
		}
	}
	return dedupe(out)
}

// withoutRSSI lists the shop's identifiers (each with probability 0.9)
// without a strength.
func withoutRSSI(rng *rand.Rand, shop *place) []risk.Neighbor {
	var out []risk.Neighbor
	for _, n := range shop.aps {
		if rng.Float64() < 0.9 {
			n.RSSI = 0
			out = append(out, n)
		}
	}
	return out
}

func clampRSSI(v float64) float64 { return max(-120, min(-1, v)) }

// macValue returns a random unicast, universally administered address
// whose last three octets leave room for the device's block.
func macValue(rng *rand.Rand) uint64 {
	oui := uint64(rng.IntN(1<<24)) &^ (0x03 << 16)
	nic := uint64(rng.IntN(1<<24-64)) + 1
	return oui<<24 | nic
}

func macString(v uint64) string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
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
	b[5] |= 1
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}
