// Command biometric evaluates pay-by-face on a seeded synthetic population.
//
// Every person has an identity vector; people fall into a few clusters
// (as real embeddings group by age, sex and ancestry, which is where false
// matches concentrate), and every capture adds intra-person variation (pose,
// light, expression, ageing). The command enrols N people, runs mated
// searches (enrolled people paying) and non-mated searches (strangers
// trying to pay), reports FNIR at FPIR as NIST FRTE 1:N does (NIST IR 8271),
// extrapolates the threshold to larger galleries, measures search speed,
// runs real payments through biometric.Processor and the in-memory issuer,
// and plots the DET curve.
//
//	go run ./examples/biometric -n 20000 -out out
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/payedge/payedge/biometric"
	"github.com/payedge/payedge/risk"
)

// config holds the command-line settings.
type config struct {
	N        int     // enrolled people
	Mated    int     // mated searches
	NonMated int     // non-mated searches (strangers)
	Dim      int     // embedding dimension
	Clusters int     // population clusters
	Noise    float64 // intra-person variation (per-component σ relative to the identity spread)
	Seed     uint64
	Out      string // directory for the DET plot ("" for none)
	Payments int    // payments run through the Processor (half genuine, half strangers)
	Pairs    int    // strangers whose all-pairs scores extrapolate to other gallery sizes
}

func main() {
	var cfg config
	flag.IntVar(&cfg.N, "n", 20000, "enrolled people")
	flag.IntVar(&cfg.Mated, "mated", 2000, "mated searches")
	flag.IntVar(&cfg.NonMated, "nonmated", 5000, "non-mated searches")
	flag.IntVar(&cfg.Dim, "dim", 128, "embedding dimension")
	flag.IntVar(&cfg.Clusters, "clusters", 8, "population clusters")
	flag.Float64Var(&cfg.Noise, "noise", 0.75, "intra-person variation")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "population seed")
	flag.StringVar(&cfg.Out, "out", "out", "directory for det.png")
	flag.IntVar(&cfg.Payments, "payments", 200, "payments through the Processor")
	flag.IntVar(&cfg.Pairs, "pairs", 1500, "strangers compared pairwise for the gallery-size extrapolation")
	flag.Parse()
	if err := run(context.Background(), cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "biometric:", err)
		os.Exit(1)
	}
}

// population generates identities and captures.
type population struct {
	rng     *rand.Rand
	dim     int
	centres [][]float64
	noise   float64
}

func newPopulation(seed uint64, dim, clusters int, noise float64) *population {
	p := &population{rng: rand.New(rand.NewPCG(seed, 0xb10)), dim: dim, noise: noise}
	for range clusters {
		c := make([]float64, dim)
		for i := range c {
			c[i] = 0.6 * p.rng.NormFloat64() // clusters share 0.6² of the variance
		}
		p.centres = append(p.centres, c)
	}
	return p
}

// identity draws a new person: a cluster centre plus individual traits.
func (p *population) identity() []float64 {
	c := p.centres[p.rng.IntN(len(p.centres))]
	v := make([]float64, p.dim)
	for i := range v {
		v[i] = c[i] + 0.8*p.rng.NormFloat64()
	}
	return v
}

// capture is one embedding of the person: identity plus variation.
func (p *population) capture(id []float64) []float32 {
	v := make([]float32, p.dim)
	for i := range v {
		v[i] = float32(id[i] + p.noise*p.rng.NormFloat64())
	}
	return v
}

func run(ctx context.Context, cfg config, w io.Writer) error {
	switch {
	case cfg.N < 10 || cfg.N > 2_000_000:
		return fmt.Errorf("n %d not in [10, 2000000]", cfg.N)
	case cfg.Mated < 10 || cfg.Mated > cfg.N:
		return fmt.Errorf("mated %d not in [10, n]", cfg.Mated)
	case cfg.NonMated < 10 || cfg.NonMated > 1_000_000:
		return fmt.Errorf("nonmated %d not in [10, 1000000]", cfg.NonMated)
	case cfg.Dim < 8 || cfg.Dim > biometric.MaxDim || cfg.Clusters < 1 || cfg.Noise <= 0:
		return errors.New("dim, clusters or noise out of range")
	case cfg.Payments < 0 || cfg.Payments > cfg.Mated:
		return fmt.Errorf("payments %d not in [0, mated]", cfg.Payments)
	case cfg.Pairs < 2 || cfg.Pairs > 10_000:
		return fmt.Errorf("pairs %d not in [2, 10000]", cfg.Pairs)
	}
	pop := newPopulation(cfg.Seed, cfg.Dim, cfg.Clusters, cfg.Noise)

	// Enrol: one capture per person becomes their template.
	ids := make([][]float64, cfg.N)
	templates := make([][]float32, cfg.N)
	index, err := biometric.NewIndex(biometric.IndexConfig{Dim: cfg.Dim})
	if err != nil {
		return err
	}
	t0 := time.Now()
	for i := range ids {
		ids[i] = pop.identity()
		templates[i] = pop.capture(ids[i])
		if err := index.Add(personID(i), templates[i]); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "Enrolled %d people (%d-d embeddings, %d clusters, noise %.2f) in %v.\n",
		cfg.N, cfg.Dim, cfg.Clusters, cfg.Noise, time.Since(t0).Round(time.Millisecond))

	// Mated searches: enrolled people, new captures. Non-mated: strangers.
	mated := make([]float64, cfg.Mated)
	matedProbe := make([][]float32, cfg.Mated)
	matedWho := make([]int, cfg.Mated)
	rank1Miss := 0
	for i := range mated {
		who := pop.rng.IntN(cfg.N)
		q := pop.capture(ids[who])
		matedProbe[i], matedWho[i] = q, who
		hits, err := index.SearchContext(ctx, q, 1)
		if err != nil {
			return err
		}
		if hits[0].ID != personID(who) {
			rank1Miss++
			mated[i] = -1 // a rank-1 miss misses at any threshold
			continue
		}
		mated[i] = hits[0].Score
	}
	nonMated := make([]float64, cfg.NonMated)
	strangers := make([][]float32, cfg.NonMated)
	t0 = time.Now()
	for i := range nonMated {
		strangers[i] = pop.capture(pop.identity())
		hits, err := index.SearchContext(ctx, strangers[i], 1)
		if err != nil {
			return err
		}
		nonMated[i] = hits[0].Score
	}
	single := time.Since(t0)
	t0 = time.Now()
	for s := 0; s < len(strangers); s += 64 {
		if _, err := index.SearchBatch(ctx, strangers[s:min(s+64, len(strangers))], 1); err != nil {
			return err
		}
	}
	batch := time.Since(t0)
	gb := float64(index.Bytes()) / 1e9
	qps := float64(cfg.NonMated) / single.Seconds()
	fmt.Fprintf(w, "Search speed over %d × %d float32 (%.0f MB): %.0f queries/s single (%.2f GB/s), %.0f queries/s in batches of 64.\n",
		cfg.N, cfg.Dim, gb*1e3, qps, qps*gb, float64(cfg.NonMated)/batch.Seconds())

	ev, err := biometric.Evaluate(mated, nonMated, 0) // non-mated are already top-1 scores of 1:N searches
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "\nNIST FRTE 1:N on the %d-person gallery (%d mated, %d non-mated searches; %d rank-1 misses):\n", cfg.N, cfg.Mated, cfg.NonMated, rank1Miss)
	fmt.Fprintln(tw, "target FPIR\tthreshold\tFPIR\tFNIR\t")
	var op biometric.DETPoint
	for _, target := range []float64{0.1, 0.01, 0.001} {
		p, err := ev.At(target)
		if errors.Is(err, biometric.ErrInsufficientData) {
			fmt.Fprintf(tw, "%g\t(needs ≥ %.0f non-mated searches)\t\t\t\n", target, 1/target)
			continue
		} else if err != nil {
			return err
		}
		if target == 0.01 {
			op = p
		}
		fmt.Fprintf(tw, "%g\t%.4f\t%.4f\t%.4f\t\n", target, p.Threshold, p.FPIR, p.FNIR)
	}
	tw.Flush()

	// False positives grow with the gallery: from one-to-one impostor
	// scores (all pairs of cfg.Pairs more strangers), the threshold that holds
	// FPIR 1 % at other gallery sizes.
	var imp []float64
	var others []biometric.Template
	for range cfg.Pairs {
		t, err := biometric.NewTemplate(pop.capture(pop.identity()), cfg.Dim)
		if err != nil {
			return err
		}
		for _, o := range others {
			imp = append(imp, t.Similarity(o))
		}
		others = append(others, t)
	}
	fmt.Fprintf(w, "\nThreshold for FPIR 1 %% by gallery size (extrapolated from %d one-to-one impostor scores, FPIR = 1 − (1 − FMR)^N):\n", len(imp))
	for _, n := range []int{100, 1000, 10_000, 100_000} {
		th, err := biometric.Calibrate(nil, imp, 0.01, n)
		if errors.Is(err, biometric.ErrInsufficientData) {
			fmt.Fprintf(w, "  N = %7d: needs more impostor scores\n", n)
			continue
		} else if err != nil {
			return err
		}
		fmt.Fprintf(w, "  N = %7d: %.4f (FNIR there %.4f)\n", n, th, ev.FNIR(th))
	}

	// Payments through the Processor at the FPIR 1 % operating point.
	if op.Threshold == 0 {
		op.Threshold = 0.5
	}
	key := make([]byte, biometric.KeySize)
	for i := range key {
		key[i] = byte(pop.rng.Uint32())
	}
	sealer, err := biometric.NewSealer(key, nil)
	if err != nil {
		return err
	}
	defer sealer.Close()
	srv, err := biometric.NewServer(biometric.ServerConfig{Index: biometric.IndexConfig{Dim: cfg.Dim}, Threshold: op.Threshold, Margin: 0.01}, biometric.NewMemoryStore(), sealer)
	if err != nil {
		return err
	}
	issuer, err := biometric.NewIssuer(biometric.IssuerConfig{})
	if err != nil {
		return err
	}
	for i, t := range templates {
		rec := biometric.Record{ID: personID(i), Token: fmt.Sprintf("tok-%07d", i), CardRef: fmt.Sprintf("VISA •••• %04d", i%10000), Modality: biometric.ModalityFace, Template: t}
		if err := srv.Enrol(ctx, rec); err != nil {
			return err
		}
		if err := issuer.Open(rec.Token, risk.Amount{Minor: 100_000, Currency: "EUR"}); err != nil {
			return err
		}
	}
	proc, err := biometric.NewProcessor(biometric.ProcessorConfig{Assessor: biometric.AssessorConfig{FPIR: max(op.FPIR, 1e-4), FNIR: max(op.FNIR, 1e-4)}}, srv, issuer)
	if err != nil {
		return err
	}
	counts := map[string]map[biometric.Status]int{"genuine": {}, "stranger": {}}
	for i := range cfg.Payments {
		tx := biometric.Transaction{ID: fmt.Sprintf("g%d", i), Amount: risk.Amount{Minor: 1250, Currency: "EUR"}, TerminalID: "T0000001", MerchantID: "SHOP17"}
		res, _ := proc.Pay(ctx, biometric.Sample{Modality: biometric.ModalityFace, Embedding: matedProbe[i]}, tx)
		counts["genuine"][res.Status]++
		tx.ID = fmt.Sprintf("s%d", i)
		res, _ = proc.Pay(ctx, biometric.Sample{Modality: biometric.ModalityFace, Embedding: strangers[i%len(strangers)]}, tx)
		counts["stranger"][res.Status]++
	}
	fmt.Fprintf(w, "\nPayments at threshold %.4f on a %d-person gallery (%d genuine payers, %d strangers):\n", op.Threshold, srv.Len(), cfg.Payments, cfg.Payments)
	for _, who := range []string{"genuine", "stranger"} {
		c := counts[who]
		fmt.Fprintf(w, "  %-8s approved %d, not identified %d, ambiguous %d\n", who, c[biometric.StatusApproved], c[biometric.StatusNotIdentified], c[biometric.StatusAmbiguous])
	}

	if cfg.Out != "" {
		if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
			return err
		}
		path := filepath.Join(cfg.Out, "det.png")
		if err := plotDET(ev, cfg, path); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nDET curve: %s\n", path)
	}
	return nil
}

func personID(i int) string { return fmt.Sprintf("person-%07d", i) }

func plotDET(ev *biometric.Evaluation, cfg config, path string) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("DET, synthetic %d-person gallery (%d-d, noise %.2f)", cfg.N, cfg.Dim, cfg.Noise)
	p.X.Label.Text = "FPIR (strangers identified)"
	p.Y.Label.Text = "FNIR (enrolled payers missed)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	floorX, floorY := 1/float64(cfg.NonMated), 1/float64(cfg.Mated)
	xys := make(plotter.XYs, 0, len(ev.DET))
	for _, d := range ev.DET {
		if d.FPIR <= 0 && d.FNIR <= 0 {
			continue
		}
		xys = append(xys, plotter.XY{X: math.Max(d.FPIR, floorX), Y: math.Max(d.FNIR, floorY)})
	}
	p.Legend.Top = true
	if err := plotutil.AddLines(p, "flat exact search", xys); err != nil {
		return err
	}
	return p.Save(5*vg.Inch, 4*vg.Inch, path)
}
