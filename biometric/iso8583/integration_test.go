package iso8583_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	moov "github.com/moov-io/iso8583"

	"github.com/payedge/payedge/biometric"
	bio "github.com/payedge/payedge/biometric/iso8583"
	"github.com/payedge/payedge/biometric/iso8583/iso8583test"
	"github.com/payedge/payedge/risk"
)

const dim = 32

func eur(minor int64) risk.Amount { return risk.Amount{Minor: minor, Currency: "EUR"} }

// rig wires Processor → Authorizer → TCP → Simulator → Issuer.
type rig struct {
	sim    *iso8583test.Simulator
	issuer *biometric.Issuer
	auth   *bio.Authorizer
	p      *biometric.Processor
	embs   [][]float32
	late   chan biometric.AuthResult // every late 0110 the processor matched
	errs   chan error                // OnError reports
}

func token(i int) string { return fmt.Sprintf("tok%04d", i) }

func newRig(t testing.TB, people int, pcfg biometric.ProcessorConfig) *rig {
	t.Helper()
	ctx := context.Background()
	sealer, err := biometric.NewSealer(bytes.Repeat([]byte{5}, biometric.KeySize), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := biometric.NewServer(biometric.ServerConfig{Index: biometric.IndexConfig{Dim: dim}}, biometric.NewMemoryStore(), sealer)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := biometric.NewIssuer(biometric.IssuerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{issuer: issuer, late: make(chan biometric.AuthResult, 16), errs: make(chan error, 1024)}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range people {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(rng.NormFloat64())
		}
		r.embs = append(r.embs, v)
		if err := srv.Enrol(ctx, biometric.Record{ID: fmt.Sprint("p", i), Token: token(i), CardRef: fmt.Sprintf("VISA •••• %04d", i), Template: v}); err != nil {
			t.Fatal(err)
		}
		if err := issuer.Open(token(i), eur(100_000)); err != nil {
			t.Fatal(err)
		}
	}
	r.sim, err = iso8583test.Start(iso8583test.Config{Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.sim.Close() })
	r.auth, err = bio.New(bio.Config{
		Addr: r.sim.Addr(),
		OnLateResponse: func(res biometric.AuthResult) bool {
			ok := r.p.LateResponse(res)
			if ok {
				r.late <- res
			}
			return ok
		},
		OnError: func(err error) {
			select {
			case r.errs <- err:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.auth.Close() })
	if pcfg.AuthorizeTimeout == 0 {
		pcfg.AuthorizeTimeout = 5 * time.Second
	}
	r.p, err = biometric.NewProcessor(pcfg, srv, r.auth)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) balance(t testing.TB, i int) int64 {
	t.Helper()
	b, err := r.issuer.Balance(token(i))
	if err != nil {
		t.Fatal(err)
	}
	return b.Minor
}

func tx(id string, minor int64) biometric.Transaction {
	return biometric.Transaction{ID: id, Amount: eur(minor), TerminalID: "TERM0001", MerchantID: "SHOP17"}
}

// within fails the test if ch yields nothing within d.
func within[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("no %s within %v", what, d)
		panic("unreachable")
	}
}

func TestApproveAndDecline(t *testing.T) {
	r := newRig(t, 5, biometric.ProcessorConfig{})
	ctx := t.Context()
	res, err := r.p.Pay(ctx, biometric.Sample{Embedding: r.embs[1]}, tx("a", 1999))
	if err != nil || res.Status != biometric.StatusApproved || len(res.Auth.ApprovalCode) != 6 || res.Auth.STAN != res.STAN {
		t.Fatalf("approval: %+v %v", res, err)
	}
	if r.balance(t, 1) != 100_000-1999 {
		t.Errorf("balance %d", r.balance(t, 1))
	}
	res, err = r.p.Pay(ctx, biometric.Sample{Embedding: r.embs[2]}, tx("b", 200_000))
	if err != nil || res.Status != biometric.StatusDeclined || res.Auth.ResponseCode != biometric.RespInsufficientFunds {
		t.Fatalf("decline: %+v %v", res, err)
	}
	if err := r.auth.Echo(ctx, 900001); err != nil {
		t.Errorf("echo: %v", err)
	}
	if r.auth.Dials() != 1 {
		t.Errorf("%d dials", r.auth.Dials())
	}
}

// TestLostResponseReversalLateApproval: the 0110 is withheld, the
// processor times out and reverses (0400 → 0410), then the withheld
// approval arrives and is ignored.
func TestLostResponseReversalLateApproval(t *testing.T) {
	r := newRig(t, 5, biometric.ProcessorConfig{AuthorizeTimeout: 300 * time.Millisecond})
	r.sim.Hold(1)
	res, err := r.p.Pay(t.Context(), biometric.Sample{Embedding: r.embs[3]}, tx("lost", 500))
	if !errors.Is(err, biometric.ErrAuthTimeout) || res.Status != biometric.StatusReversed {
		t.Fatalf("Pay: %+v %v", res, err)
	}
	if r.balance(t, 3) != 100_000 {
		t.Errorf("balance %d after reversal", r.balance(t, 3))
	}
	if n := r.sim.Release(); n != 1 {
		t.Fatalf("released %d", n)
	}
	late := within(t, r.late, 5*time.Second, "late 0110")
	if !late.Approved() || late.STAN != res.STAN {
		t.Errorf("late %+v", late)
	}
	// The approval came after the reversal's acknowledgement, so the
	// processor queues a second reversal (a no-op at this issuer, which
	// already refunded) and the host's resend sends it on the wire.
	got, _ := r.p.Lookup("lost")
	if got.LateResponse == nil || got.Status != biometric.StatusReversalPending || r.balance(t, 3) != 100_000 {
		t.Errorf("after late approval: %+v balance %d", got, r.balance(t, 3))
	}
	if n, err := r.p.ResendReversals(t.Context()); n != 1 || err != nil {
		t.Errorf("resend: %d %v", n, err)
	}
	if got, _ := r.p.Lookup("lost"); got.Status != biometric.StatusReversed {
		t.Errorf("after resend: %v", got.Status)
	}
	if st := r.issuer.Stats(); st.Approvals != 1 || st.Refunds != 1 || st.Reversals != 2 || r.balance(t, 3) != 100_000 {
		t.Errorf("issuer %+v, balance %d", st, r.balance(t, 3))
	}
}

// TestConnectionDropped: the connection dies while the 0100 is in flight;
// the processor reverses over a new connection.
func TestConnectionDropped(t *testing.T) {
	r := newRig(t, 5, biometric.ProcessorConfig{})
	r.sim.Hold(1)
	type out struct {
		res biometric.Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := r.p.Pay(context.Background(), biometric.Sample{Embedding: r.embs[0]}, tx("drop", 700))
		done <- out{res, err}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := r.sim.WaitEvent(ctx, bio.MTIAuthRequest); err != nil {
		t.Fatal(err)
	}
	if n := r.sim.DropConnections(); n != 1 {
		t.Fatalf("dropped %d connections", n)
	}
	o := within(t, done, 5*time.Second, "Pay result")
	if !errors.Is(o.err, biometric.ErrIssuerUnavailable) || o.res.Status != biometric.StatusReversed {
		t.Fatalf("Pay: %+v %v", o.res, o.err)
	}
	if r.auth.Dials() != 2 || r.sim.Accepted() != 2 {
		t.Errorf("dials %d, accepted %d", r.auth.Dials(), r.sim.Accepted())
	}
	if r.balance(t, 0) != 100_000 {
		t.Errorf("balance %d", r.balance(t, 0))
	}
	// The link works again.
	if res, err := r.p.Pay(t.Context(), biometric.Sample{Embedding: r.embs[0]}, tx("after", 1)); err != nil || res.Status != biometric.StatusApproved {
		t.Errorf("after reconnect: %+v %v", res, err)
	}
}

// Test200Concurrent: 200 payments over one connection, responses jittered
// out of order, each matched to its request by STAN.
func Test200Concurrent(t *testing.T) {
	const people, payments = 20, 200
	r := newRig(t, people, biometric.ProcessorConfig{})
	r.sim.SetJitter(20*time.Millisecond, 1)
	if err := r.auth.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]biometric.Result, payments)
	errs := make([]error, payments)
	for i := range payments {
		wg.Go(func() {
			results[i], errs[i] = r.p.Pay(context.Background(), biometric.Sample{Embedding: r.embs[i%people]}, tx(fmt.Sprint("c", i), int64(100+i)))
		})
	}
	wg.Wait()
	codes := map[string]bool{}
	for i, res := range results {
		if errs[i] != nil || res.Status != biometric.StatusApproved || res.Auth.STAN != res.STAN {
			t.Fatalf("payment %d: %+v %v", i, res, errs[i])
		}
		if codes[res.Auth.ApprovalCode] {
			t.Fatalf("approval code %s twice", res.Auth.ApprovalCode)
		}
		codes[res.Auth.ApprovalCode] = true
	}
	var spent int64
	for i := range people {
		spent += 100_000 - r.balance(t, i)
	}
	want := int64(0)
	for i := range payments {
		want += int64(100 + i)
	}
	if spent != want {
		t.Errorf("spent %d, want %d", spent, want)
	}
	if r.auth.Dials() != 1 {
		t.Errorf("%d dials for one connection", r.auth.Dials())
	}
	if st := r.issuer.Stats(); st.Approvals != payments || st.Duplicates != 0 {
		t.Errorf("issuer %+v", st)
	}
}

// TestBadPeer: duplicate responses, malformed messages, unknown MTIs,
// a 0110 without field 39 and oversized length prefixes.
func TestBadPeer(t *testing.T) {
	r := newRig(t, 3, biometric.ProcessorConfig{})
	ctx := t.Context()
	// A duplicated 0110: the copy is unmatched and reported; one charge.
	r.sim.Duplicate(1)
	if res, err := r.p.Pay(ctx, biometric.Sample{Embedding: r.embs[0]}, tx("dup", 10)); err != nil || res.Status != biometric.StatusApproved {
		t.Fatalf("dup: %+v %v", res, err)
	}
	if n := r.sim.Release(); n != 1 {
		t.Fatalf("released %d copies", n)
	}
	if err := within(t, r.errs, 5*time.Second, "unmatched report"); !errors.Is(err, bio.ErrUnmatched) {
		t.Errorf("duplicate reported as %v", err)
	}
	if r.balance(t, 0) != 100_000-10 {
		t.Errorf("charged twice: %d", r.balance(t, 0))
	}
	// Garbage inside a valid frame: reported, connection kept.
	if r.sim.WriteRaw([]byte{0, 5, 'h', 'e', 'l', 'l', 'o'}) != 1 {
		t.Fatal("no connection to write to")
	}
	within(t, r.errs, 5*time.Second, "malformed-message report")
	// An unknown MTI: reported, connection kept.
	m := moov.NewMessage(bio.DefaultSpec())
	m.MTI("0999")
	_ = m.Field(bio.FieldSTAN, "000001")
	packed, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	r.sim.WriteRaw(append([]byte{0, byte(len(packed))}, packed...))
	if err := within(t, r.errs, 5*time.Second, "MTI report"); !errors.Is(err, bio.ErrMTI) {
		t.Errorf("unknown MTI reported as %v", err)
	}
	if res, err := r.p.Pay(ctx, biometric.Sample{Embedding: r.embs[1]}, tx("kept", 10)); err != nil || res.Status != biometric.StatusApproved || r.auth.Dials() != 1 {
		t.Fatalf("after bad messages: %+v %v, %d dials", res, err, r.auth.Dials())
	}
	// A 0110 without field 39 for the request in flight: no usable
	// answer, so the processor reverses.
	r.sim.DrainEvents()
	r.sim.Hold(1)
	done := make(chan error, 1)
	go func() {
		_, err := r.p.Pay(context.Background(), biometric.Sample{Embedding: r.embs[2]}, tx("no39", 10))
		done <- err
	}()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ev, err := r.sim.WaitEvent(wctx, bio.MTIAuthRequest)
	if err != nil {
		t.Fatal(err)
	}
	// The event comes before the answer: wait until the real 0110 is
	// withheld, or the hold could catch the reversal's 0410 instead.
	for r.sim.Held() == 0 {
		if wctx.Err() != nil {
			t.Fatal("the 0110 was never withheld")
		}
		time.Sleep(time.Millisecond)
	}
	bad := moov.NewMessage(bio.DefaultSpec())
	bad.MTI(bio.MTIAuthResponse)
	_ = bad.Field(bio.FieldSTAN, ev.STAN)
	packed, _ = bad.Pack()
	r.sim.WriteRaw(append([]byte{0, byte(len(packed))}, packed...))
	if err := within(t, done, 5*time.Second, "Pay result"); !errors.Is(err, bio.ErrMissingField) || !errors.Is(err, biometric.ErrIssuerUnavailable) {
		t.Errorf("0110 without field 39: %v", err)
	}
	if r.balance(t, 2) != 100_000 {
		t.Errorf("balance %d after reversal", r.balance(t, 2))
	}
	// An oversized length prefix: the stream cannot be trusted, the
	// connection closes, and the next payment dials again.
	r.sim.WriteRaw([]byte{0xff, 0xff})
	for {
		err := within(t, r.errs, 5*time.Second, "frame error")
		if errors.Is(err, bio.ErrFrame) {
			break
		}
	}
	var res biometric.Result
	for i := range 50 { // the close is asynchronous: retry until the redial
		res, err = r.p.Pay(ctx, biometric.Sample{Embedding: r.embs[1]}, tx(fmt.Sprint("redial", i), 10))
		if err == nil {
			break
		}
	}
	if err != nil || res.Status != biometric.StatusApproved || r.auth.Dials() != 2 {
		t.Errorf("after frame error: %+v %v, %d dials", res, err, r.auth.Dials())
	}
}

func TestConfigAndMessages(t *testing.T) {
	for _, c := range []bio.Config{{}, {Addr: "x", AcquirerID: "abc"}, {Addr: "x", POSEntryMode: "1"}, {Addr: "x", ConnectTimeout: -1}, {Addr: "x", MaxMessageLen: 1 << 20}} {
		if _, err := bio.New(c); !errors.Is(err, bio.ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	vault := bio.TokenVaultFunc(func(_ context.Context, tok string) (string, error) {
		if tok == "tok1" {
			return "4111111111111111", nil
		}
		return "", errors.New("unknown token")
	})
	a, err := bio.New(bio.Config{Addr: "127.0.0.1:1", Vault: vault, AcquirerID: "12345", Now: func() time.Time { return time.Date(2026, 12, 4, 17, 5, 9, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	req := biometric.AuthRequest{Token: "tok1", Amount: eur(1234), STAN: 42, RRN: "633817000042", TerminalID: "T1", MerchantID: "M1"}
	m, err := a.AuthMessage(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int]string{2: "4111111111111111", 3: "000000", 4: "000000001234", 7: "1204170509", 11: "000042", 22: "902", 32: "12345", 37: "633817000042", 41: "T1      ", 42: "M1             ", 49: "978"} {
		if got, _ := m.GetString(id); got != want {
			t.Errorf("field %d = %q, want %q", id, got, want)
		}
	}
	back, err := bio.DecodeAuthRequest(m, time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	if err != nil || back.STAN != 42 || back.Amount != eur(1234) || back.TerminalID != "T1" || !back.TransmittedAt.Equal(time.Date(2026, 12, 4, 17, 5, 9, 0, time.UTC)) {
		t.Errorf("decoded %+v %v", back, err)
	}
	rm, err := a.ReversalMessage(t.Context(), biometric.Reversal{Original: req, STAN: 43})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := rm.GetString(90); got != "0100000042120417050900000012345"+"00000000000" {
		t.Errorf("field 90 = %q", got)
	}
	rev, err := bio.DecodeReversal(rm, time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	if err != nil || rev.Original.STAN != 42 || rev.STAN != 43 || rev.Reason != biometric.RespLateResponse {
		t.Errorf("reversal %+v %v", rev, err)
	}
	// Bad requests fail before anything is sent.
	for _, bad := range []biometric.AuthRequest{
		{Token: "tok2", Amount: eur(1), STAN: 1, TerminalID: "T"},                                 // vault refuses
		{Token: "tok1", Amount: risk.Amount{Minor: 1, Currency: "XXX"}, STAN: 1, TerminalID: "T"}, // currency
		{Token: "tok1", Amount: eur(1), STAN: 0, TerminalID: "T"},                                 // STAN
	} {
		if _, err := a.Authorize(t.Context(), bad); !errors.Is(err, biometric.ErrTransaction) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	// Nothing listens on port 1: unavailable, not a hang.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if _, err := a.Authorize(ctx, req); !errors.Is(err, biometric.ErrIssuerUnavailable) && !errors.Is(err, biometric.ErrAuthTimeout) {
		t.Errorf("no server: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authorize(t.Context(), req); !errors.Is(err, bio.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if n, err := bio.CurrencyNumeric("840"); n != "840" || err != nil || bio.CurrencyAlpha("978") != "EUR" || bio.CurrencyAlpha("999") != "999" {
		t.Error("currency mapping")
	}
	if !strings.Contains((&bio.MTIError{MTI: "0999"}).Error(), "0999") {
		t.Error("MTIError text")
	}
}
