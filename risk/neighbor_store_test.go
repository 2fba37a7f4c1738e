package risk_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/payedge/payedge/risk"
)

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	var st risk.MemoryStore // zero value is usable
	if _, err := st.Profile(ctx, "T"); !errors.Is(err, risk.ErrNoProfile) {
		t.Fatalf("empty store: %v", err)
	}
	p, err := risk.NewProfile("T", time.Unix(1, 0), 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := st.Profile(ctx, "T")
	if err != nil || got == p || got.TerminalID != "T" || got.Weight != 1 {
		t.Fatalf("Profile = %p %+v, %v; want a copy of %p", got, got, err, p)
	}
	boom := errors.New("boom")
	if err := st.Update(ctx, "T", func(*risk.Profile) (*risk.Profile, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("fn error: %v", err)
	}
	if err := st.Update(ctx, "U", func(*risk.Profile) (*risk.Profile, error) { return p, nil }); !errors.Is(err, risk.ErrProfile) {
		t.Errorf("wrong terminal: %v", err)
	}
	bad := &risk.Profile{TerminalID: "T", Weight: -1}
	if err := st.Put(ctx, bad); !errors.Is(err, risk.ErrProfile) {
		t.Errorf("invalid profile stored: %v", err)
	}
	if err := st.Put(ctx, nil); !errors.Is(err, risk.ErrProfile) {
		t.Errorf("nil profile: %v", err)
	}
	if st.Len() != 1 {
		t.Errorf("Len = %d", st.Len())
	}
	if err := st.Update(ctx, "T", func(*risk.Profile) (*risk.Profile, error) { return nil, nil }); err != nil || st.Len() != 0 {
		t.Errorf("delete: %v, len %d", err, st.Len())
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := st.Put(cctx, p); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled Put: %v", err)
	}
}

// The store owns its profiles: neither the profile given to Put, nor the
// one Profile returns, nor the one Update's fn receives aliases the stored
// one.
func TestMemoryStoreNoAliasing(t *testing.T) {
	ctx := context.Background()
	at := time.Unix(1e9, 0)
	p, err := risk.PreconfiguredProfile("T", at, []risk.Neighbor{
		{ID: "00:11:22:33:44:01", Kind: risk.KindWiFi, RSSI: -50},
		{ID: "00:11:22:33:44:02", Kind: risk.KindWiFi, RSSI: -60},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := p.Clone()
	st := risk.NewMemoryStore()
	if err := st.Put(ctx, p); err != nil {
		t.Fatal(err)
	}
	p.Neighbors[0].Frequency, p.Weight = 0, 99 // caller scribbles on what it stored
	got, err := st.Profile(ctx, "T")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Put aliased the caller's profile (-want +got):\n%s", diff)
	}
	got.Neighbors[1].MeanRSSI = -1 // caller scribbles on what it read
	if err := st.Update(ctx, "T", func(cur *risk.Profile) (*risk.Profile, error) {
		cur.Neighbors[0].MeanRSSI = -2 // fn scribbles on current, then fails
		return nil, errors.New("no")
	}); err == nil {
		t.Fatal("failing fn stored")
	}
	again, err := st.Profile(ctx, "T")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, again); diff != "" {
		t.Fatalf("stored profile changed through an alias (-want +got):\n%s", diff)
	}
}

// Parallel learners and scorers on shared terminals: run with -race. Every
// learned observation must be counted exactly once (no lost updates).
func TestMemoryStoreConcurrent(t *testing.T) {
	ctx := context.Background()
	st := risk.NewMemoryStore()
	sc := newScorer(t, st)
	s := newShop(11, 10)
	scans := make([][]risk.Neighbor, 16)
	for i := range scans {
		scans[i] = s.scan(0.9, 3, 1)
	}
	const writers, readers, perWriter, terminals = 4, 4, 50, 3
	at := time.Unix(1e9, 0) // one instant: no decay, so Weight counts observations
	var wg sync.WaitGroup
	errc := make(chan error, writers+readers)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				obs := risk.NeighborObservation{TerminalID: fmt.Sprint("T", i%terminals), At: at, Seen: scans[(w+i)%len(scans)]}
				if err := sc.Learn(ctx, obs); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	for r := range readers {
		wg.Go(func() {
			for i := range 200 {
				obs := risk.NeighborObservation{TerminalID: fmt.Sprint("T", (r+i)%terminals), At: at, Seen: scans[i%len(scans)]}
				if _, err := sc.Score(ctx, obs); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	var total float64
	for i := range terminals {
		p, err := st.Profile(ctx, fmt.Sprint("T", i))
		if err != nil {
			t.Fatal(err)
		}
		total += p.Weight
	}
	if total != writers*perWriter {
		t.Errorf("learned %v observations, want %d", total, writers*perWriter)
	}
}

// Issue 23 point 2: a learned profile keeps no oversized slice (Learn
// sized it for old + scan; the store kept it, twice the memory needed).
func TestLearnKeepsNoSpareCapacity(t *testing.T) {
	s := newShop(23, 40)
	st, _ := s.learned(t, 5)
	p, err := st.Profile(context.Background(), "T1")
	if err != nil {
		t.Fatal(err)
	}
	var q *risk.Profile
	for i := range 20 {
		if q, err = q.Learn(risk.NeighborObservation{TerminalID: "T1", At: s.base.Add(time.Duration(i) * time.Hour), Seen: s.scan(1, 3, 2)}, risk.LearnConfig{}); err != nil {
			t.Fatal(err)
		}
		if n, c := len(q.Neighbors), cap(q.Neighbors); c > n+n/8 {
			t.Fatalf("learn %d: %d neighbours in a slice of capacity %d", i, n, c)
		}
	}
	if len(p.Neighbors) != 40 {
		t.Errorf("profile of %d neighbours", len(p.Neighbors))
	}
}
