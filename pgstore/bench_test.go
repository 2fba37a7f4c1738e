package pgstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/payedge/payedge/pgstore"
	"github.com/payedge/payedge/risk"
)

// BenchmarkProfileStore measures ProfileStore.Profile (get) and a
// learn-update (Update with Profile.Learn) with 1 and 8 concurrent clients,
// on PostgreSQL over loopback and on risk.MemoryStore in the same run.
func BenchmarkProfileStore(b *testing.B) {
	const terminals = 64
	stores := []struct {
		name string
		new  func(b *testing.B) risk.ProfileStore
	}{
		{"memory", func(*testing.B) risk.ProfileStore { return risk.NewMemoryStore() }},
		{"postgres", func(b *testing.B) risk.ProfileStore { return pgstore.NewProfileStore(newPool(b)) }},
	}
	for _, st := range stores {
		s := st.new(b)
		ids := make([]string, terminals)
		for i := range ids {
			ids[i] = fmt.Sprintf("B-%d", i)
			if err := learn(b.Context(), s, ids[i]); err != nil {
				b.Fatal(err)
			}
		}
		ops := map[string]func(id string) error{
			"get":   func(id string) error { _, err := s.Profile(b.Context(), id); return err },
			"learn": func(id string) error { return learn(b.Context(), s, id) },
		}
		for _, op := range []string{"get", "learn"} {
			for _, clients := range []int{1, 8} {
				b.Run(fmt.Sprintf("%s/%s/clients=%d", st.name, op, clients), func(b *testing.B) {
					b.ReportAllocs()
					f := ops[op]
					var next atomic.Uint64
					if clients == 1 {
						for b.Loop() {
							if err := f(ids[next.Add(1)%terminals]); err != nil {
								b.Fatal(err)
							}
						}
						return
					}
					b.SetParallelism((clients + 1) / 2) // ×GOMAXPROCS goroutines (2 here)
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := f(ids[next.Add(1)%terminals]); err != nil {
								b.Error(err)
								return
							}
						}
					})
				})
			}
		}
	}
}
