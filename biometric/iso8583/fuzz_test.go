package iso8583_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	moov "github.com/moov-io/iso8583"

	"github.com/payedge/payedge/biometric"
	bio "github.com/payedge/payedge/biometric/iso8583"
)

// FuzzLengthReader: any header either yields a length in [1, max] or a
// *FrameError/io error; never a panic, never a length over the bound.
func FuzzLengthReader(f *testing.F) {
	f.Add([]byte{0, 5})
	f.Add([]byte{0xff, 0xff})
	f.Add([]byte{0})
	f.Add([]byte{0, 0})
	read := bio.LengthReader(1024)
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := read(bytes.NewReader(b))
		if err == nil && (n < 1 || n > 1024) {
			t.Fatalf("length %d accepted", n)
		}
		if err != nil && len(b) >= 2 && !errors.Is(err, bio.ErrFrame) {
			t.Fatalf("full header, error %v does not wrap ErrFrame", err)
		}
	})
}

// FuzzDecode unpacks arbitrary bytes with the default spec and runs every
// decoder on the result: typed errors, no panics, and decoded values within
// their bounds.
func FuzzDecode(f *testing.F) {
	a, _ := bio.New(bio.Config{Addr: "127.0.0.1:1"})
	req := biometric.AuthRequest{Token: "4111111111111111", Amount: biometric.AuthRequest{}.Amount, STAN: 7, RRN: "633817000007", TerminalID: "T1", MerchantID: "M1"}
	req.Amount.Minor, req.Amount.Currency = 100, "EUR"
	if m, err := a.AuthMessage(context.Background(), req); err == nil {
		if b, err := m.Pack(); err == nil {
			f.Add(b)
		}
	}
	if m, err := a.ReversalMessage(context.Background(), biometric.Reversal{Original: req, STAN: 8}); err == nil {
		if b, err := m.Pack(); err == nil {
			f.Add(b)
		}
	}
	resp := moov.NewMessage(bio.DefaultSpec())
	resp.MTI(bio.MTIAuthResponse)
	_ = resp.Field(bio.FieldSTAN, "000007")
	_ = resp.Field(bio.FieldResponseCode, "00")
	if b, err := resp.Pack(); err == nil {
		f.Add(b)
	}
	f.Add([]byte("0110"))
	ref := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	spec := bio.DefaultSpec()
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > bio.DefaultMaxMessageLen {
			t.Skip()
		}
		m := moov.NewMessage(spec)
		if err := m.Unpack(b); err != nil {
			return
		}
		if res, err := bio.DecodeAuthResponse(m, ref); err == nil && (res.STAN < 1 || res.STAN > biometric.MaxSTAN || res.ResponseCode == "") {
			t.Fatalf("bad 0110 accepted: %+v", res)
		}
		if r, err := bio.DecodeAuthRequest(m, ref); err == nil && (r.Amount.Minor <= 0 || r.STAN < 1) {
			t.Fatalf("bad 0100 accepted: %+v", r)
		}
		if r, err := bio.DecodeReversal(m, ref); err == nil && (r.Original.STAN < 1 || r.Original.STAN > biometric.MaxSTAN) {
			t.Fatalf("bad 0400 accepted: %+v", r)
		}
	})
}
