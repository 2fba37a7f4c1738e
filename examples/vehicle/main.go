// Command vehicle tells the 5G inter-vehicle payment story: vehicles on a
// highway ask their base station to collect payments from friends; the base
// station seals each request so that only the friend opens it, broadcasts
// it to every vehicle in coverage, settles the friend's answer on the
// payment platform and grants the pair a sidelink channel. It runs
// vehicle.Simulate (real keys, real envelopes), prints the report and
// writes two PNG plots: packet-reception ratio of the first sidelink packet
// against distance (3GPP TR 37.885 highway LOS path loss) and the CDF of
// end-to-end payment latency.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/payedge/payedge/vehicle"
)

// config is what the flags set.
type config struct {
	Vehicles, Payments int
	Seed               uint64
	Out                string // directory for the PNG plots; "" writes none
}

func main() {
	var cfg config
	flag.IntVar(&cfg.Vehicles, "vehicles", 500, "vehicles on the road")
	flag.IntVar(&cfg.Payments, "payments", 10_000, "payment requests")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "simulation seed")
	flag.StringVar(&cfg.Out, "out", "out", "directory for PNG plots")
	flag.Parse()
	if err := run(context.Background(), cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vehicle:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, w io.Writer) error {
	if cfg.Vehicles < 2 || cfg.Payments < 1 {
		return errors.New("need at least 2 vehicles and 1 payment")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	start := time.Now()
	rep, err := vehicle.Simulate(vehicle.SimConfig{Seed: cfg.Seed, Vehicles: cfg.Vehicles, Payments: cfg.Payments})
	if err != nil {
		return err
	}
	wall := time.Since(start)
	c := rep.Config
	fmt.Fprintf(w, "highway %.0f m, %d lanes each way, %d vehicles at %.0f±%.0f m/s; base station covers %.0f m around mid-road\n",
		c.RoadLength, c.LanesPerDir, c.Vehicles, c.SpeedMean, c.SpeedStdDev, c.CoverageRadius)
	fmt.Fprintf(w, "%d requests at %.0f/s over %s simulated (%s wall), %d-byte packets\n",
		rep.Requested, c.RequestRate, rep.SimulatedTime.Round(time.Second), wall.Round(time.Millisecond), c.PacketSize)
	fmt.Fprintf(w, "settled %d (%.1f%%); failures:", rep.Completed, 100*float64(rep.Completed)/float64(max(rep.Requested, 1)))
	printFailures(w, rep.Failures)
	l := rep.Latency
	fmt.Fprintf(w, "end-to-end latency: mean %s, p50 %s, p90 %s, p99 %s, max %s\n",
		ms(l.Mean), ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max))
	d := rep.Decode
	fmt.Fprintf(w, "decoding: %d TryOpen calls, %.0f vehicles tried each broadcast, %.0f per vehicle (max %d); opened by the friend %d, by anyone else %d\n",
		d.Attempts, d.PerBroadcastMean, d.PerVehicleMean, d.PerVehicleMax, d.Opened, d.WrongOpens)
	g := rep.Grants
	fmt.Fprintf(w, "sidelink grants: %d requested, %d granted, %d denied (success %.1f%%), %d released, %d expired\n",
		g.Requested, g.Granted, g.Denied, 100*g.SuccessRate(), g.Released, g.Expired)
	fmt.Fprintf(w, "duplicated payment messages: %d, of which moved money: %d; balances %d → %d (conserved: %v)\n",
		rep.Duplicates, rep.DuplicateMoves, rep.BalanceBefore, rep.BalanceAfter, rep.BalanceBefore == rep.BalanceAfter)
	fmt.Fprintf(w, "PRR of the first sidelink packet (decoding needs SINR ≥ %.1f dB):\n", rep.RequiredSINRdB)
	for _, b := range rep.PRR {
		if b.Sent == 0 {
			continue
		}
		fmt.Fprintf(w, "  %4.0f–%4.0f m  n=%4d  PRR %.3f  (noise only %.3f)\n", b.From, b.To, b.Sent, b.PRR(), b.PRRNoiseOnly())
	}
	if cfg.Out == "" {
		return nil
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	if err := plotPRR(filepath.Join(cfg.Out, "vehicle_prr.png"), rep); err != nil {
		return err
	}
	if err := plotLatency(filepath.Join(cfg.Out, "vehicle_latency_cdf.png"), rep); err != nil {
		return err
	}
	fmt.Fprintf(w, "plots: %s, %s\n", filepath.Join(cfg.Out, "vehicle_prr.png"), filepath.Join(cfg.Out, "vehicle_latency_cdf.png"))
	return nil
}

// printFailures prints the failure counts by reason in a fixed order, so
// one seed always prints the same text.
func printFailures(w io.Writer, failures map[string]int) {
	for _, reason := range slices.Sorted(maps.Keys(failures)) {
		fmt.Fprintf(w, " %q=%d", reason, failures[reason])
	}
	fmt.Fprintln(w)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

var (
	red  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	blue = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	gray = color.Gray{Y: 0x80}
)

// plotPRR draws PRR against pair distance, with and without co-channel
// interference, for bins with at least 5 packets.
func plotPRR(path string, rep vehicle.Report) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Sidelink PRR vs distance (TR 37.885 highway LOS, %.1f GHz, %d-byte packets)",
		rep.Config.Radio.CarrierGHz, rep.Config.PacketSize)
	p.X.Label.Text = "transmitter–receiver distance (m)"
	p.Y.Label.Text = "packet-reception ratio"
	var withI, noise plotter.XYs
	xmax := 0.0
	for _, b := range rep.PRR {
		if b.Sent < 5 {
			continue
		}
		x := (b.From + b.To) / 2
		withI = append(withI, plotter.XY{X: x, Y: b.PRR()})
		noise = append(noise, plotter.XY{X: x, Y: b.PRRNoiseOnly()})
		xmax = max(xmax, b.To)
	}
	if len(withI) == 0 {
		return errors.New("no PRR bin has enough packets to plot")
	}
	for _, s := range []struct {
		name  string
		pts   plotter.XYs
		c     color.Color
		shape draw.GlyphDrawer
	}{
		{"noise only", noise, blue, draw.SquareGlyph{}},
		{"with co-channel interference from other grants", withI, red, draw.CircleGlyph{}},
	} {
		l, pts, err := plotter.NewLinePoints(s.pts)
		if err != nil {
			return err
		}
		l.Color, pts.Color, pts.Shape = s.c, s.c, s.shape
		p.Add(l, pts)
		p.Legend.Add(s.name, l, pts)
	}
	p.Add(plotter.NewGrid())
	// The data lie in [0, 1]; the band above 1 holds the legend, so it
	// never covers a point.
	p.X.Min, p.X.Max = 0, xmax
	p.Y.Min, p.Y.Max = 0, 1.3
	p.Legend.Top = true
	p.Y.Tick.Marker = unitTicks{}
	return p.Save(20*vg.Centimeter, 12*vg.Centimeter, path)
}

// plotLatency draws the empirical CDF of end-to-end latency with the p50
// and p99 marked.
func plotLatency(path string, rep vehicle.Report) error {
	l := rep.Latency
	if len(l.Samples) == 0 {
		return errors.New("no completed payments to plot")
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("End-to-end payment latency, %d payments", len(l.Samples))
	p.X.Label.Text = "request sent → result delivered (ms)"
	p.Y.Label.Text = "fraction of payments"
	n := len(l.Samples)
	step := max(1, n/2000)
	var cdf plotter.XYs
	for i := 0; i < n; i += step {
		cdf = append(cdf, plotter.XY{X: msf(l.Samples[i]), Y: float64(i+1) / float64(n)})
	}
	cdf = append(cdf, plotter.XY{X: msf(l.Samples[n-1]), Y: 1})
	line, err := plotter.NewLine(cdf)
	if err != nil {
		return err
	}
	line.Color, line.Width = blue, vg.Points(1.5)
	p.Add(line)
	p.Legend.Add("empirical CDF", line)
	for _, q := range []struct {
		name string
		d    time.Duration
		dash []vg.Length
	}{
		{fmt.Sprintf("p50 = %s", ms(l.P50)), l.P50, []vg.Length{vg.Points(4), vg.Points(2)}},
		{fmt.Sprintf("p99 = %s", ms(l.P99)), l.P99, []vg.Length{vg.Points(1), vg.Points(2)}},
	} {
		v, err := plotter.NewLine(plotter.XYs{{X: msf(q.d), Y: 0}, {X: msf(q.d), Y: 1}})
		if err != nil {
			return err
		}
		v.Color, v.Dashes = gray, q.dash
		p.Add(v)
		p.Legend.Add(q.name, v)
	}
	p.Add(plotter.NewGrid())
	// Three legend rows fit in the band above 1, clear of the curve.
	p.X.Min, p.X.Max = 0, msf(l.Max)*1.02
	p.Y.Min, p.Y.Max = 0, 1.45
	p.Legend.Top, p.Legend.Left = true, false
	p.Y.Tick.Marker = unitTicks{}
	return p.Save(20*vg.Centimeter, 12*vg.Centimeter, path)
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// unitTicks labels 0, 0.2, …, 1 only, so the legend band above 1 has no
// misleading tick labels.
type unitTicks struct{}

func (unitTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for i := 0; i <= 10; i++ {
		v := float64(i) / 10
		t := plot.Tick{Value: v}
		if i%2 == 0 {
			t.Label = fmt.Sprintf("%.1f", v)
		}
		if v >= lo-1e-9 && v <= math.Min(hi, 1)+1e-9 {
			ts = append(ts, t)
		}
	}
	return ts
}
