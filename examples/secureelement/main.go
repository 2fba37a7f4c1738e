// Command secureelement tells the virtual-secure-element story: one
// physical secure element (a VMM over one memory pool) serves three mobile
// wallets. The secure element manager creates a virtual SE for each, with
// its own issuer security domain (its own SCP03 keys) and wallet applet;
// the host opens an SCP03 channel to each ISD, rotates its keys with PUT
// KEY and moves money inside each wallet. Then it shows the walls: a
// wallet cannot select another's applet, one VSE's keys do not open
// another's ISD, and the hypervisor refuses a VSE any access outside its
// own memory unless the owner grants it (and the grant can be revoked).
// Finally it runs one seeded random create/destroy workload against the
// three allocation policies and plots pool fragmentation over time.
//
//	go run ./examples/secureelement -seed 1 -steps 3000 -out out
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/scp03"
)

// config holds the command-line settings.
type config struct {
	Seed  uint64 // seed of keys, challenges and the fragmentation workload
	Steps int    // create/destroy steps of the fragmentation workload
	Out   string // directory for the PNG plot; "" writes none
}

func main() {
	var cfg config
	flag.Uint64Var(&cfg.Seed, "seed", 1, "seed of the demo keys, challenges and workload")
	flag.IntVar(&cfg.Steps, "steps", 3000, "steps of the fragmentation workload")
	flag.StringVar(&cfg.Out, "out", "out", "directory for the PNG plot (empty: none)")
	flag.Parse()
	if err := run(context.Background(), cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "secureelement:", err)
		os.Exit(1)
	}
}

// Wallet applet instructions (proprietary class 80).
const (
	insCredit  = 0x10 // data: 4-byte amount in cents
	insDebit   = 0x11 // data: 4-byte amount; 6985 if the balance is short
	insBalance = 0x12 // returns the 4-byte balance
)

// wallet is a tiny stored-value applet: the balance lives in the applet's
// persistent storage, which in a VSE is a range of the VSE's own memory.
type wallet struct{ st se.Storage }

func (w *wallet) Select(_ context.Context, s se.Selection) apdu.Response {
	w.st = s.Storage
	return apdu.Response{SW: apdu.SWSuccess}
}

func (w *wallet) Deselect(context.Context, int) {}

func (w *wallet) Process(_ context.Context, cmd apdu.Command) apdu.Response {
	var b [4]byte
	if _, err := w.st.ReadAt(b[:], 0); err != nil {
		return apdu.Response{SW: apdu.SWMemoryFailure}
	}
	bal := binary.BigEndian.Uint32(b[:])
	switch cmd.INS {
	case insBalance:
		return apdu.Response{Data: b[:], SW: apdu.SWSuccess}
	case insCredit, insDebit:
		if len(cmd.Data) != 4 {
			return apdu.Response{SW: apdu.SWWrongLength}
		}
		amt := binary.BigEndian.Uint32(cmd.Data)
		if cmd.INS == insDebit {
			if amt > bal {
				return apdu.Response{SW: apdu.SWConditionsNotSatisfied}
			}
			bal -= amt
		} else {
			if bal+amt < bal {
				return apdu.Response{SW: apdu.SWWrongData}
			}
			bal += amt
		}
		binary.BigEndian.PutUint32(b[:], bal)
		if _, err := w.st.WriteAt(b[:], 0); err != nil {
			return apdu.Response{SW: apdu.SWMemoryFailure}
		}
		return apdu.Response{Data: b[:], SW: apdu.SWSuccess}
	}
	return apdu.Response{SW: apdu.SWINSNotSupported}
}

// seeded is a deterministic io.Reader (demo keys and challenges only; a
// real host uses crypto/rand).
type seeded struct{ r *rand.ChaCha8 }

func newSeeded(seed uint64) *seeded {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return &seeded{r: rand.NewChaCha8(s)}
}

func (s *seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func keySet(r io.Reader, kvn byte) scp03.StaticKeys {
	k := scp03.StaticKeys{KVN: kvn, ENC: make([]byte, 16), MAC: make([]byte, 16), DEK: make([]byte, 16)}
	_, _ = io.ReadFull(r, k.ENC)
	_, _ = io.ReadFull(r, k.MAC)
	_, _ = io.ReadFull(r, k.DEK)
	return k
}

type walletVSE struct {
	name string
	aid  []byte
	keys scp03.StaticKeys
	vse  *se.VSE
}

func amount(c uint32) []byte { return binary.BigEndian.AppendUint32(nil, c) }

func run(ctx context.Context, cfg config, w io.Writer) error {
	if cfg.Steps < 0 {
		return fmt.Errorf("steps %d < 0", cfg.Steps)
	}
	rnd := newSeeded(cfg.Seed)
	vmm, err := se.NewVMM(se.VMMConfig{PoolBytes: 64 << 10, PageSize: 256, MaxVSEs: 8, Policy: se.NewBuddyPolicy()})
	if err != nil {
		return err
	}
	sem, err := se.NewVirtualManager(vmm)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "== three wallets on one secure element (buddy policy, 64 KiB pool)")
	var wallets []*walletVSE
	for i, name := range []string{"alice", "bob", "carol"} {
		wv := &walletVSE{name: name, aid: []byte{0xA0, 0x00, 0x00, 0x09, 0x99, 0x57, byte(i + 1)}, keys: keySet(rnd, 0x30)}
		wv.vse, err = sem.Create(ctx, se.VirtualConfig{
			ID: name, AIDs: [][]byte{se.DefaultISDAID(), wv.aid}, MemoryBytes: 4 << 10, MaxChannels: 4, StorageBytes: 512,
		})
		if err != nil {
			return err
		}
		isd, err := se.NewISD(se.ISDConfig{Keys: []scp03.StaticKeys{wv.keys}, Rand: rnd, CPLC: se.CPLC{ICFabricator: 0x4790, ICSerialNumber: uint32(1000 + i)}})
		if err != nil {
			return err
		}
		if err := wv.vse.Install(se.DefaultISDAID(), isd, se.InstallOptions{Default: true}); err != nil {
			return err
		}
		if err := wv.vse.Install(wv.aid, &wallet{}, se.InstallOptions{}); err != nil {
			return err
		}
		rs, _ := vmm.Ranges(wv.vse.ID())
		fmt.Fprintf(w, "%-6s VSE %d: ISD + wallet %X, %d ranges in its own address space\n", name, wv.vse.ID(), wv.aid, len(rs))
		wallets = append(wallets, wv)
	}

	fmt.Fprintln(w, "\n== an SCP03 channel (level 33) to each ISD, key rotation by PUT KEY, then payments")
	for i, wv := range wallets {
		ch, err := wv.vse.OpenLogicalChannel(ctx, se.DefaultISDAID())
		if err != nil {
			return err
		}
		tx := se.TransmitFunc(ch)
		host, err := scp03.Open(ctx, tx, wv.keys, scp03.LevelAll, scp03.Options{Channel: ch.Number()}, rnd)
		if err != nil {
			return fmt.Errorf("%s: %w", wv.name, err)
		}
		cla, _ := apdu.WithChannel(0x80, ch.Number())
		resp, err := host.Transmit(ctx, tx, apdu.Command{CLA: cla, INS: 0xCA, P1: 0x9F, P2: 0x7F, Ne: 256})
		if err != nil || !resp.Success() {
			return fmt.Errorf("%s: GET DATA CPLC: %v %v", wv.name, resp, err)
		}
		cplc, err := se.ParseCPLC(resp.Data)
		if err != nil {
			return err
		}
		next := keySet(rnd, 0x31)
		put, err := scp03.PutKey(wv.keys.DEK, 0x30, next)
		if err != nil {
			return err
		}
		put.CLA = cla
		resp, err = host.Transmit(ctx, tx, put)
		if err != nil || !resp.Success() {
			return fmt.Errorf("%s: PUT KEY: %v %v", wv.name, resp, err)
		}
		if err := scp03.VerifyPutKeyResponse(next, resp.Data); err != nil {
			return err
		}
		host.Close()
		_ = ch.Close()
		wv.keys.Zero()
		wv.keys = next
		// The rotated keys open the next session; the old ones are gone.
		h2, err := scp03.Open(ctx, se.TransmitFunc(wv.vse), wv.keys, scp03.LevelAll, scp03.Options{}, rnd)
		if err != nil {
			return fmt.Errorf("%s: session with rotated keys: %w", wv.name, err)
		}
		h2.Close()

		wc, err := wv.vse.OpenLogicalChannel(ctx, wv.aid)
		if err != nil {
			return err
		}
		credit := uint32(10000 * (i + 1))
		if r, err := wc.Transmit(ctx, apdu.Command{CLA: 0x80, INS: insCredit, Data: amount(credit), Ne: 4}); err != nil || !r.Success() {
			return fmt.Errorf("%s: credit: %v %v", wv.name, r, err)
		}
		if r, err := wc.Transmit(ctx, apdu.Command{CLA: 0x80, INS: insDebit, Data: amount(2550), Ne: 4}); err != nil || !r.Success() {
			return fmt.Errorf("%s: debit: %v %v", wv.name, r, err)
		}
		over, _ := wc.Transmit(ctx, apdu.Command{CLA: 0x80, INS: insDebit, Data: amount(1 << 30), Ne: 4})
		r, _ := wc.Transmit(ctx, apdu.Command{CLA: 0x80, INS: insBalance, Ne: 4})
		_ = wc.Close()
		fmt.Fprintf(w, "%-6s ISD CPLC serial %d, keys rotated 30→31 (KCVs confirmed); balance %d.%02d, overdraft refused %04X\n",
			wv.name, cplc.ICSerialNumber, binary.BigEndian.Uint32(r.Data)/100, binary.BigEndian.Uint32(r.Data)%100, over.SW)
	}

	fmt.Fprintln(w, "\n== the walls between wallets")
	alice, bob := wallets[0], wallets[1]
	_, err = alice.vse.OpenLogicalChannel(ctx, bob.aid)
	fmt.Fprintf(w, "alice selects bob's wallet applet:        refused=%v (%v)\n", errors.Is(err, se.ErrAppletNotFound), err)
	_, err = scp03.Open(ctx, se.TransmitFunc(bob.vse), alice.keys, scp03.LevelAll, scp03.Options{}, rnd)
	fmt.Fprintf(w, "alice's keys against bob's ISD:            refused=%v\n", errors.Is(err, scp03.ErrCardCryptogram))
	bobRanges, _ := vmm.Ranges(bob.vse.ID())
	buf := make([]byte, 4)
	err = vmm.ReadAt(alice.vse.ID(), buf, bobRanges[len(bobRanges)-1][0])
	fmt.Fprintf(w, "alice's VSE reads bob's wallet memory:     refused=%v (%v)\n", errors.Is(err, se.ErrAccess), err)
	// Bob shares his balance read-only with Alice (say, a split bill).
	ref, err := vmm.Grant(ctx, bob.vse.ID(), alice.vse.ID(), bobRanges[len(bobRanges)-1][0], 4, true)
	if err != nil {
		return err
	}
	err = vmm.ReadGrant(alice.vse.ID(), ref, 0, buf)
	fmt.Fprintf(w, "bob grants alice read-only (ref %d):        read ok=%v balance=%d\n", ref, err == nil, binary.BigEndian.Uint32(buf))
	err = vmm.WriteGrant(alice.vse.ID(), ref, 0, amount(0))
	fmt.Fprintf(w, "alice writes through the read-only grant:  refused=%v\n", errors.Is(err, se.ErrReadOnly))
	_ = vmm.Revoke(ctx, bob.vse.ID(), ref)
	err = vmm.ReadGrant(alice.vse.ID(), ref, 0, buf)
	fmt.Fprintf(w, "after bob revokes it:                      refused=%v\n", errors.Is(err, se.ErrGrantRevoked))
	busy, _ := alice.vse.OpenLogicalChannel(ctx, alice.aid)
	err = sem.Destroy(ctx, "alice")
	fmt.Fprintf(w, "destroy alice with a channel open:         refused=%v\n", errors.Is(err, se.ErrBusy))
	_ = busy.Close()
	aliceRanges, _ := vmm.Ranges(alice.vse.ID())
	if err := sem.Destroy(ctx, "alice"); err != nil {
		return err
	}
	_, err = alice.vse.Transmit(ctx, apdu.Command{CLA: 0x80, INS: insBalance, Ne: 4})
	fmt.Fprintf(w, "alice after destroy:                       refused=%v\n", errors.Is(err, se.ErrDestroyed))
	// Alice's freed memory reads as zero to whoever gets it next: carol
	// takes pages until she holds some of alice's old ranges.
	carol := wallets[2]
	zeroed, reused := true, 0
	var taken []uint64
	for {
		a, err := vmm.Alloc(ctx, carol.vse.ID(), 256)
		if err != nil {
			break
		}
		taken = append(taken, a)
		for _, r := range aliceRanges {
			if a >= r[0] && a < r[0]+r[1] {
				b := make([]byte, 256)
				_ = vmm.ReadAt(carol.vse.ID(), b, a)
				for _, x := range b {
					zeroed = zeroed && x == 0
				}
				reused += len(b)
			}
		}
	}
	for _, a := range taken {
		_ = vmm.Free(ctx, carol.vse.ID(), a)
	}
	fmt.Fprintf(w, "alice's memory handed to carol is zero:    %v (%d bytes reused)\n", zeroed && reused > 0, reused)
	st := vmm.Stats()
	fmt.Fprintf(w, "pool: %d VSEs, %d B used, %d B reserved, largest free %d B, fragmentation %.2f\n",
		st.VSEs, st.UsedBytes, st.ReservedBytes, st.LargestFree, st.Fragmentation())

	return fragmentation(ctx, cfg, w)
}

type series struct {
	name    string
	frag    plotter.XYs
	refused int
	tries   int
	mean    float64
	largest float64
}

// fragmentation runs the same seeded create/destroy workload against each
// policy on a 1 MiB pool and plots the external fragmentation.
func fragmentation(ctx context.Context, cfg config, w io.Writer) error {
	fmt.Fprintf(w, "\n== fragmentation: seeded create/destroy workload, %d steps, 1 MiB pool, wallets of 1–64 KiB\n", cfg.Steps)
	var all []series
	for _, pol := range []se.Policy{se.NewStaticPolicy(16), se.NewFirstFitPolicy(), se.NewBuddyPolicy()} {
		v, err := se.NewVMM(se.VMMConfig{PoolBytes: 1 << 20, PageSize: 256, MaxVSEs: 64, Policy: pol})
		if err != nil {
			return err
		}
		rng := rand.New(rand.NewPCG(cfg.Seed, 7))
		s := series{name: pol.Name()}
		var live []se.VSEID
		n := 0
		for step := range cfg.Steps {
			if len(live) > 0 && (rng.IntN(2) == 0 || len(live) >= 48) {
				k := rng.IntN(len(live))
				if err := v.DestroyVSE(ctx, live[k]); err != nil {
					return err
				}
				live = append(live[:k], live[k+1:]...)
			} else {
				size := uint64(1+rng.IntN(64)) * 1024
				n++
				// The quota is the largest wallet, one static partition:
				// the VMM charges a quota by what the policy reserves
				// (a whole partition, a power-of-two buddy block), so a
				// quota of exactly size would refuse rounded-up ranges.
				id, err := v.CreateVSE(ctx, se.VSERequest{ID: fmt.Sprint("w", n), MemoryBytes: 64 << 10, MaxChannels: 4, PageSize: 256})
				if err != nil {
					return err
				}
				s.tries++
				if _, err := v.Alloc(ctx, id, size); err != nil {
					if !errors.Is(err, se.ErrNoMemory) {
						return err
					}
					s.refused++
					_ = v.DestroyVSE(ctx, id)
				} else {
					live = append(live, id)
				}
			}
			st := v.Stats()
			s.frag = append(s.frag, plotter.XY{X: float64(step), Y: st.Fragmentation()})
			s.mean += st.Fragmentation()
			s.largest += float64(st.LargestFree)
		}
		if cfg.Steps > 0 {
			s.mean /= float64(cfg.Steps)
			s.largest /= float64(cfg.Steps)
		}
		fmt.Fprintf(w, "%-9s mean fragmentation %.3f, mean largest free block %6.1f KiB, refused %d of %d requests\n",
			s.name, s.mean, s.largest/1024, s.refused, s.tries)
		all = append(all, s)
	}
	if cfg.Out == "" || cfg.Steps == 0 {
		return nil
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	p := plot.New()
	p.Title.Text = "Pool fragmentation (1 − largest free / free), 100-step moving average"
	p.X.Label.Text = "workload step (VSE create or destroy)"
	p.X.Tick.Marker = wholeTicks{}
	p.Y.Label.Text = "external fragmentation"
	p.Y.Min, p.Y.Max = 0, 1
	var args []any
	for _, s := range all {
		args = append(args, s.name, movingAverage(s.frag, 100))
	}
	if err := plotutil.AddLines(p, args...); err != nil {
		return err
	}
	p.Legend.Top = true
	p.Legend.Left = true
	file := filepath.Join(cfg.Out, "secureelement_fragmentation.png")
	if err := p.Save(20*vg.Centimeter, 11*vg.Centimeter, file); err != nil {
		return err
	}
	fmt.Fprintln(w, "plot:", file)
	return nil
}

// wholeTicks labels the default tick positions as whole numbers (steps
// are counts: "2500", not "2500.00").
type wholeTicks struct{}

func (wholeTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', 0, 64)
		}
	}
	return ts
}

// movingAverage smooths ys over a trailing window of n points.
func movingAverage(xy plotter.XYs, n int) plotter.XYs {
	out := make(plotter.XYs, len(xy))
	var sum float64
	for i, p := range xy {
		sum += p.Y
		if i >= n {
			sum -= xy[i-n].Y
		}
		out[i] = plotter.XY{X: p.X, Y: sum / float64(min(i+1, n))}
	}
	return out
}
