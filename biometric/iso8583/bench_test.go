package iso8583_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	moov "github.com/moov-io/iso8583"

	"github.com/payedge/payedge/biometric"
	bio "github.com/payedge/payedge/biometric/iso8583"
	"github.com/payedge/payedge/biometric/iso8583/iso8583test"
	"github.com/payedge/payedge/risk"
)

// Benchmarks of the adapter over one loopback connection to the simulator.
//
//	go test -run '^$' -bench . -count 5 ./biometric/iso8583/
//
// BenchmarkPackUnpack is the codec work of one round trip with no network
// (build and pack the 0100, unpack it as the issuer, build and pack the
// 0110, unpack it); BenchmarkRoundTrip is one Authorize at a time over TCP.
// Their difference is what the adapter, iso8583-connection, the simulator
// and the loopback add per authorisation.

func benchSetup(b *testing.B) (*bio.Authorizer, *biometric.Issuer) {
	b.Helper()
	issuer, err := biometric.NewIssuer(biometric.IssuerConfig{})
	if err != nil {
		b.Fatal(err)
	}
	if err := issuer.Open("4111111111111111", risk.Amount{Minor: 1 << 60, Currency: "EUR"}); err != nil {
		b.Fatal(err)
	}
	sim, err := iso8583test.Start(iso8583test.Config{Issuer: issuer})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sim.Close() })
	a, err := bio.New(bio.Config{Addr: sim.Addr()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	if err := a.Connect(context.Background()); err != nil {
		b.Fatal(err)
	}
	return a, issuer
}

func benchReq(stan uint32) biometric.AuthRequest {
	return biometric.AuthRequest{Token: "4111111111111111", Amount: risk.Amount{Minor: 1, Currency: "EUR"},
		STAN: stan, RRN: fmt.Sprintf("6338%08d", stan), TransmittedAt: time.Now(), TerminalID: "TERM0001", MerchantID: "SHOP17"}
}

// stanSeq hands out STANs from 1 (the issuer keys duplicates by terminal
// and STAN, so a benchmark moves to a fresh terminal ID before they wrap).
type stanSeq struct{ n atomic.Uint32 }

func (s *stanSeq) next() uint32 { return s.n.Add(1) }

var benchTerminal atomic.Uint32

func terminal() string { return fmt.Sprintf("T%07d", benchTerminal.Add(1)) }

// BenchmarkAuthorize64InFlight: authorisations per second with 64
// requests in flight on one connection.
func BenchmarkAuthorize64InFlight(b *testing.B) {
	a, _ := benchSetup(b)
	var seq stanSeq
	term := terminal()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if seq.n.Load() > biometric.MaxSTAN-64 { // STANs would wrap: new terminal
			seq.n.Store(0)
			term = terminal()
		}
		// One op = 64 concurrent authorisations.
		var wg sync.WaitGroup
		for range 64 {
			wg.Go(func() {
				req := benchReq(seq.next())
				req.TerminalID = term
				if res, err := a.Authorize(ctx, req); err != nil || !res.Approved() {
					b.Errorf("%+v %v", res, err)
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(64*float64(b.N)/b.Elapsed().Seconds(), "auths/s")
}

// BenchmarkRoundTrip: one authorisation at a time (latency).
func BenchmarkRoundTrip(b *testing.B) {
	a, _ := benchSetup(b)
	var seq stanSeq
	term := terminal()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if seq.n.Load() >= biometric.MaxSTAN {
			seq.n.Store(0)
			term = terminal()
		}
		req := benchReq(seq.next())
		req.TerminalID = term
		if res, err := a.Authorize(ctx, req); err != nil || !res.Approved() {
			b.Fatalf("%+v %v", res, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "auths/s")
}

// BenchmarkPackUnpack: the bare codec work of one round trip.
func BenchmarkPackUnpack(b *testing.B) {
	a, err := bio.New(bio.Config{Addr: "127.0.0.1:1"})
	if err != nil {
		b.Fatal(err)
	}
	spec := bio.DefaultSpec()
	ctx := context.Background()
	ref := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		m, err := a.AuthMessage(ctx, benchReq(7))
		if err != nil {
			b.Fatal(err)
		}
		packed, err := m.Pack()
		if err != nil {
			b.Fatal(err)
		}
		in := moov.NewMessage(spec)
		if err := in.Unpack(packed); err != nil {
			b.Fatal(err)
		}
		if _, err := bio.DecodeAuthRequest(in, ref); err != nil {
			b.Fatal(err)
		}
		r := moov.NewMessage(spec)
		r.MTI(bio.MTIAuthResponse)
		_ = r.Field(bio.FieldSTAN, "000007")
		_ = r.Field(bio.FieldResponseCode, "00")
		_ = r.Field(bio.FieldApprovalCode, "123456")
		_ = r.Field(bio.FieldTransmission, ref.UTC().Format("0102150405"))
		rp, err := r.Pack()
		if err != nil {
			b.Fatal(err)
		}
		back := moov.NewMessage(spec)
		if err := back.Unpack(rp); err != nil {
			b.Fatal(err)
		}
		if _, err := bio.DecodeAuthResponse(back, ref); err != nil {
			b.Fatal(err)
		}
	}
}
