package apdu

import "testing"

func BenchmarkParseCommand(b *testing.B) {
	raw, _ := Command{CLA: 0x80, INS: 0xE2, P1: 0x90, P2: 0x00, Data: seq(64), Ne: 256}.MarshalBinary()
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := ParseCommand(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseCommandExtended(b *testing.B) {
	raw, _ := Command{CLA: 0x80, INS: 0xE2, P1: 0x90, P2: 0x00, Data: seq(1024), Ne: 65536}.MarshalBinary()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCommand(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendCommand(b *testing.B) {
	c := Command{CLA: 0x80, INS: 0xE2, P1: 0x90, P2: 0x00, Data: seq(64), Ne: 256}
	buf := make([]byte, 0, c.EncodedLen())
	b.ReportAllocs()
	b.SetBytes(int64(c.EncodedLen()))
	for b.Loop() {
		var err error
		if buf, err = c.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseResponse(b *testing.B) {
	raw := append(seq(64), 0x90, 0x00)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseResponse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendResponse(b *testing.B) {
	r := Response{Data: seq(64), SW: 0x9000}
	buf := make([]byte, 0, 66)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = r.AppendBinary(buf[:0])
	}
}
