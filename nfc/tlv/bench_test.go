package tlv_test

import (
	"testing"

	"github.com/payedge/payedge/nfc/tlv"
)

// walkAll visits every object of b, descending into constructed ones, with
// the depth-first Scanner (what a kernel does when it indexes a response).
func walkAll(b []byte) int {
	n := 0
	s := tlv.Decoder{Mode: tlv.Lenient}.NewScanner(b)
	for _, _, ok := s.Next(); ok; _, _, ok = s.Next() {
		n++
	}
	if s.Err() != nil {
		return -1
	}
	return n
}

// walkIter does the same with nested flat iterators.
func walkIter(b []byte) int {
	n := 0
	var stack [8]tlv.Iter
	depth := 0
	stack[0] = tlv.NewIter(b, tlv.Lenient)
	for depth >= 0 {
		o, ok := stack[depth].Next()
		if !ok {
			depth--
			continue
		}
		n++
		if o.Constructed() && depth+1 < len(stack) {
			depth++
			stack[depth] = tlv.NewIter(o.Value, tlv.Lenient)
		}
	}
	return n
}

// BenchmarkIteratePPSE walks every data object of a real PPSE FCI (9
// objects, 4 levels).
func BenchmarkIteratePPSE(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(mcPPSE)))
	m := startCPU()
	for b.Loop() {
		if walkAll(mcPPSE) != 9 {
			b.Fatal("wrong count")
		}
	}
	m.report(b)
}

// BenchmarkIterateRecord walks every data object of a real READ RECORD
// response (17 objects).
func BenchmarkIterateRecord(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(mcRecord)))
	m := startCPU()
	for b.Loop() {
		if walkAll(mcRecord) != 17 {
			b.Fatal("wrong count")
		}
	}
	m.report(b)
}

func BenchmarkFindAID(b *testing.B) {
	b.ReportAllocs()
	m := startCPU()
	for b.Loop() {
		if _, err := tlv.Find(mcPPSE, 0x6F, 0xA5, 0xBF0C, 0x61, 0x4F); err != nil {
			b.Fatal(err)
		}
	}
	m.report(b)
}

func BenchmarkFillPDOL(b *testing.B) {
	pdol, _ := tlv.Find(visaSelect, 0x6F, 0xA5, 0x9F38)
	buf := make([]byte, 0, 64)
	val := []byte{1, 2, 3, 4}
	b.ReportAllocs()
	m := startCPU()
	for b.Loop() {
		buf, _ = tlv.FillDOL(buf[:0], pdol, func(tlv.Tag, int) []byte { return val })
	}
	m.report(b)
}

func BenchmarkIterateRecordNestedIter(b *testing.B) {
	b.ReportAllocs()
	m := startCPU()
	for b.Loop() {
		if walkIter(mcRecord) != 17 {
			b.Fatal("wrong count")
		}
	}
	m.report(b)
}
