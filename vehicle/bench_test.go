package vehicle

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"testing"
)

// cpuClock reports process CPU time per iteration as "cpu-ns/op" beside
// the wall-clock ns/op: on a machine shared with other work, wall time
// swings with the load while CPU time stays close to the cost of the op.
type cpuClock int64

func startCPUClock() cpuClock { return cpuClock(processCPUNanos()) }

func (c cpuClock) report(b *testing.B) {
	if end := processCPUNanos(); c >= 0 && end >= 0 && b.N > 0 {
		b.ReportMetric(float64(end-int64(c))/float64(b.N), "cpu-ns/op")
	}
}

// benchPair returns a world where vehicle 1 is vehicle 0's friend and
// vehicle 2 is a bystander with a friend of its own, and one envelope with
// a payload of size bytes from 0 to 1.
func benchPair(b *testing.B, size int) (*world, []byte) {
	w := newWorld(b, 4)
	w.befriend(b, w.vs[0], w.vs[1])
	w.befriend(b, w.vs[2], w.vs[3])
	bc := w.broadcast(b, w.vs[0], w.vs[1], 100, make([]byte, size))
	return w, bc.Envelope
}

// BenchmarkTryOpenReject is a non-recipient's TryOpen: one keyed hash, no
// allocation. Target ≤ 1 µs, 0 allocs.
func BenchmarkTryOpenReject(b *testing.B) {
	w, env := benchPair(b, 256)
	v := w.vs[2]
	b.ReportAllocs()
	cpu := startCPUClock()
	for b.Loop() {
		if _, err := v.TryOpen(env); err != ErrNotForMe {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

// BenchmarkTryOpenRejectRotating is the reject during a rotation grace
// period, when the bystander tests two key generations.
func BenchmarkTryOpenRejectRotating(b *testing.B) {
	w, env := benchPair(b, 256)
	v := w.vs[2]
	if _, err := v.Rotate(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := startCPUClock()
	for b.Loop() {
		if _, err := v.TryOpen(env); err != ErrNotForMe {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

// BenchmarkTryOpenRejectManyFriends: a bystander with 60 friends rejects
// with the same single hash as one with one friend — the hint key is
// per recipient, not per pair.
func BenchmarkTryOpenRejectManyFriends(b *testing.B) {
	w, env := benchPair(b, 256)
	v := w.vs[2]
	for i := range 60 {
		if err := v.AddFriend(VehicleID(fmt.Sprintf("friend-%02d", i))); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	cpu := startCPUClock()
	for b.Loop() {
		if _, err := v.TryOpen(env); err != ErrNotForMe {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

// BenchmarkTryOpenRecipient is the friend's open of a 256-byte request:
// hint, header unmasking, XChaCha20-Poly1305 open, freshness and replay
// checks. Target ≤ 5 µs; compare with BenchmarkAESGCMOpen256.
func BenchmarkTryOpenRecipient(b *testing.B) {
	w, _ := benchPair(b, 256)
	benchRecipient(b, w, w.vs[1])
}

// BenchmarkTryOpenRecipientStore is BenchmarkTryOpenRecipient with a
// MemoryReplayStore: the write-ahead encoding and save of the replay state
// on every open, for a vehicle with 1 friend and with 64 (DefaultMaxFriends),
// each with a replay window.
func BenchmarkTryOpenRecipientStore(b *testing.B) {
	for _, friends := range []int{1, DefaultMaxFriends} {
		b.Run(fmt.Sprintf("friends=%d", friends), func(b *testing.B) {
			w, _ := benchPair(b, 256)
			v := w.vs[1]
			v.cfg.ReplayStore = NewMemoryReplayStore()
			for i := 1; i < friends; i++ {
				id := VehicleID(fmt.Sprintf("friend-%02d", i))
				if err := v.AddFriend(id); err != nil {
					b.Fatal(err)
				}
				v.windows[id] = &ReplayWindow{top: 1000, bitmap: 0xfff1}
			}
			benchRecipient(b, w, v)
		})
	}
}

func benchRecipient(b *testing.B, w *world, v *Vehicle) {
	// Pre-seal enough envelopes with increasing sequence numbers so each
	// iteration opens a fresh one; the replay window is reset between
	// batches outside the timer.
	const batch = 4096
	envs := make([][]byte, batch)
	for i := range envs {
		envs[i] = w.broadcast(b, w.vs[0], w.vs[1], 100, make([]byte, 256)).Envelope
	}
	b.ReportAllocs()
	cpu := startCPUClock()
	i := 0
	for b.Loop() {
		if i == batch {
			b.StopTimer()
			v.mu.Lock()
			delete(v.windows, w.vs[0].ID())
			v.mu.Unlock()
			i = 0
			b.StartTimer()
		}
		if _, err := v.TryOpen(envs[i]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	cpu.report(b)
}

// BenchmarkAESGCMOpen256 is the peer figure: one AES-128-GCM open of a
// 256-byte plaintext with a precomputed key schedule.
func BenchmarkAESGCMOpen256(b *testing.B) {
	block, _ := aes.NewCipher(make([]byte, 16))
	g, _ := cipher.NewGCM(block)
	nonce := make([]byte, g.NonceSize())
	ad := []byte("associated data")
	ct := g.Seal(nil, nonce, make([]byte, 256), ad)
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	cpu := startCPUClock()
	for b.Loop() {
		if _, err := g.Open(dst[:0], nonce, ct, ad); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

// BenchmarkSimulate500x10000 is the scale: 500 vehicles, 10 000
// payments, every broadcast tried by every vehicle in coverage. Target
// ≤ 2 s per run. Skipped under -short.
func BenchmarkSimulate500x10000(b *testing.B) {
	if testing.Short() {
		b.Skip("about a second per run; run without -short")
	}
	b.ReportAllocs()
	cpu := startCPUClock()
	for b.Loop() {
		r, err := Simulate(SimConfig{Seed: 1, Vehicles: 500, Payments: 10_000})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(r.Decode.Attempts), "tryopens/op")
	}
	cpu.report(b)
}

// BenchmarkSimulateSmall is a cheap run of the same code: 100 vehicles,
// 1 000 payments.
func BenchmarkSimulateSmall(b *testing.B) {
	b.ReportAllocs()
	cpu := startCPUClock()
	for b.Loop() {
		if _, err := Simulate(SimConfig{Seed: 1, Vehicles: 100, Payments: 1000}); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}
