package geo

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The LoadCSV scaling benchmarks (issue 23, curve 1): the same synthetic
// OpenCelliD export at 10 k, 100 k, 1 M and 5 M rows, loaded without
// SizeHint from a bytes.Reader. Each reports
//
//	cpu-ns/row   process CPU time (user + system, all threads) per row
//	peak-B/cell  the largest heap in use during the load (live and
//	             not-yet-collected objects, sampled every 0.5 ms) above
//	             the heap before it, per kept cell
//	table-B/cell CellDB.MemoryBytes per kept cell
//	peak/table   the ratio of the two
//
// The -stream variants read through a plain io.Reader, so the loader
// cannot estimate the size and grows chunk by chunk. 1 M and 5 M rows need
// PAYEDGE_BENCH_LARGE=1 (they take seconds and
// hundreds of MB, too much for CI's -benchtime=1x pass) and are skipped
// under -short:
//
//	PAYEDGE_BENCH_LARGE=1 go test ./geo -run '^$' -bench 'LoadCSVRows' -benchtime 3x
var loadSizes = []struct {
	name   string
	rows   int
	large  bool
	stream bool // hide the reader's length: no size estimate
}{
	{"10k", 10_000, false, false}, {"100k", 100_000, false, false}, {"1M", 1_000_000, true, false}, {"5M", 5_000_000, true, false},
	{"100k-stream", 100_000, false, true}, {"5M-stream", 5_000_000, true, true},
}

var (
	loadCSVMu    sync.Mutex
	loadCSVCache = map[int][]byte{}
)

// loadCSVData returns n rows in the format of genBenchCSV, built with
// strconv appends so that 5 M rows take about a second. Cells are
// distinct; areas hold a few dozen to hundreds of cells each.
func loadCSVData(n int) []byte {
	loadCSVMu.Lock()
	defer loadCSVMu.Unlock()
	if b, ok := loadCSVCache[n]; ok {
		return b
	}
	for k := range loadCSVCache { // keep one size at a time
		delete(loadCSVCache, k)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	buf := make([]byte, 0, n*80+200)
	buf = append(buf, "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n"...)
	radios := []string{"GSM", "UMTS", "LTE", "NR"}
	for i := range n {
		buf = append(buf, radios[i%4]...)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(200+i%300), 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(i%100), 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(1+i%60000), 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(i%65536), 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(i%504), 10)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, -180+360*rng.Float64(), 'f', 6, 64)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, -85+170*rng.Float64(), 'f', 6, 64)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(rng.IntN(20000)), 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(rng.IntN(500)), 10)
		buf = append(buf, ",1,1282569574,1300155341,"...)
		buf = strconv.AppendInt(buf, int64(-50-rng.IntN(70)), 10)
		buf = append(buf, '\n')
	}
	loadCSVCache[n] = buf
	return buf
}

// heapSampler records the largest heap-objects size seen while running.
type heapSampler struct {
	stop chan struct{}
	done chan struct{}
	peak atomic.Uint64
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func readHeap(s []metrics.Sample) uint64 {
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		s := []metrics.Sample{{Name: heapMetric}}
		t := time.NewTicker(500 * time.Microsecond)
		defer t.Stop()
		for {
			if v := readHeap(s); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) finish() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	if v := readHeap(s); v > h.peak.Load() {
		h.peak.Store(v)
	}
	close(h.stop)
	<-h.done
	return h.peak.Load()
}

func BenchmarkLoadCSVRows(b *testing.B) {
	for _, sz := range loadSizes {
		b.Run(sz.name, func(b *testing.B) {
			if sz.large && (testing.Short() || os.Getenv("PAYEDGE_BENCH_LARGE") == "") {
				b.Skip("set PAYEDGE_BENCH_LARGE=1 (and no -short) for the 1 M and 5 M row tiers")
			}
			data := loadCSVData(sz.rows)
			ctx := context.Background()
			var db *CellDB
			var cpu time.Duration
			var peak, base uint64
			s := []metrics.Sample{{Name: heapMetric}}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				db = nil
				runtime.GC()
				base = readHeap(s)
				c0 := processCPU()
				h := startHeapSampler()
				b.StartTimer()
				var err error
				var r io.Reader = bytes.NewReader(data)
				if sz.stream {
					r = struct{ io.Reader }{r}
				}
				db, _, err = LoadCSV(ctx, r, LoadOptions{})
				b.StopTimer()
				p := h.finish()
				cpu += processCPU() - c0
				if err != nil {
					b.Fatal(err)
				}
				if db.Len() != sz.rows {
					b.Fatalf("kept %d of %d rows", db.Len(), sz.rows)
				}
				peak = max(peak, p-min(p, base))
				b.StartTimer()
			}
			n := float64(db.Len())
			table := float64(db.MemoryBytes())
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(sz.rows), "cpu-ns/row")
			b.ReportMetric(float64(peak)/n, "peak-B/cell")
			b.ReportMetric(table/n, "table-B/cell")
			b.ReportMetric(float64(peak)/table, "peak/table")
		})
	}
}
