package iso8583_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	moov "github.com/moov-io/iso8583"

	"github.com/payedge/payedge/biometric"
	bio "github.com/payedge/payedge/biometric/iso8583"
)

// TestSharedAuthorizerSTANCollision: two terminals' processors share one
// Authorizer (one link to the switch) and, as STANs are unique only per
// terminal, both send STAN 000001. iso8583-connection matches responses by
// STAN alone, so terminal A's decline could be handed to terminal B's
// request: B would report a decline while the issuer charged B, and never
// reverse. Whatever the adapter does, a customer must end up charged
// exactly when their payment reports approved.
func TestSharedAuthorizerSTANCollision(t *testing.T) {
	r := newRig(t, 2, biometric.ProcessorConfig{})
	ctx := t.Context()
	// Customer 0 cannot afford the payment (A declines with 51); customer
	// 1 can (B approves).
	pa, err := biometric.NewProcessor(biometric.ProcessorConfig{AuthorizeTimeout: 2 * time.Second}, idsFor(r, 0), r.auth)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := biometric.NewProcessor(biometric.ProcessorConfig{AuthorizeTimeout: 2 * time.Second}, idsFor(r, 1), r.auth)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.auth.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	type out struct {
		res biometric.Result
		err error
	}
	r.sim.Hold(1) // A's 0110 is held back
	aDone := make(chan out, 1)
	go func() {
		res, err := pa.Pay(context.Background(), biometric.Sample{Embedding: r.embs[0]}, biometric.Transaction{ID: "a", Amount: eur(500_000), TerminalID: "TERMA"})
		aDone <- out{res, err}
	}()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := r.sim.WaitEvent(wctx, bio.MTIAuthRequest); err != nil {
		t.Fatal(err)
	}
	r.sim.SetDelay(300 * time.Millisecond) // B's 0110 comes after A's
	bDone := make(chan out, 1)
	go func() {
		res, err := pb.Pay(context.Background(), biometric.Sample{Embedding: r.embs[1]}, biometric.Transaction{ID: "b", Amount: eur(100), TerminalID: "TERMB"})
		bDone <- out{res, err}
	}()
	var b out
	bEarly := false
	select {
	case <-r.sim.Events(): // B's 0100 reached the issuer while A's is in flight
	case b = <-bDone: // or the adapter refused it before sending
		bEarly = true
	case <-wctx.Done():
		t.Fatal("B neither sent nor refused")
	}
	r.sim.Release() // A's decline goes out while B waits
	a := within(t, aDone, 10*time.Second, "A's result")
	if !bEarly {
		b = within(t, bDone, 10*time.Second, "B's result")
	}
	t.Logf("A: %v %v; B: %v %v", a.res.Status, a.err, b.res.Status, b.err)
	for i, o := range []out{a, b} {
		charged := r.balance(t, i) != 100_000
		if charged != (o.res.Status == biometric.StatusApproved) {
			t.Errorf("customer %d: status %v (%v) but charged=%v (balance %d)", i, o.res.Status, o.err, charged, r.balance(t, i))
		}
	}
}

// idsFor identifies every sample as enrolled person i of the rig.
func idsFor(r *rig, i int) biometric.IdentityServer {
	return biometric.IdentityServerFunc(func(context.Context, biometric.Sample) (biometric.Identity, error) {
		return biometric.Identity{EnrolmentID: fmt.Sprint("p", i), Token: token(i), CardRef: "VISA •••• 0000", Score: 0.9}, nil
	})
}

// TestOtherTerminalsResponse: a 0110 with our STAN but another terminal's
// ID in field 41 (the late answer to another terminal's request that gave
// up) is not our answer: the processor reverses instead of acting on it.
func TestOtherTerminalsResponse(t *testing.T) {
	r := newRig(t, 3, biometric.ProcessorConfig{})
	ctx := t.Context()
	r.sim.Hold(1)
	done := make(chan error, 1)
	go func() {
		res, err := r.p.Pay(context.Background(), biometric.Sample{Embedding: r.embs[2]}, tx("t41", 10))
		if err == nil {
			err = fmt.Errorf("status %v", res.Status)
		}
		done <- err
	}()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ev, err := r.sim.WaitEvent(wctx, bio.MTIAuthRequest)
	if err != nil {
		t.Fatal(err)
	}
	other := moov.NewMessage(bio.DefaultSpec())
	other.MTI(bio.MTIAuthResponse)
	_ = other.Field(bio.FieldSTAN, ev.STAN)
	_ = other.Field(bio.FieldResponseCode, "51")
	_ = other.Field(bio.FieldTerminalID, "OTHERTRM")
	packed, _ := other.Pack()
	r.sim.WriteRaw(append([]byte{0, byte(len(packed))}, packed...))
	if err := within(t, done, 5*time.Second, "Pay result"); !errors.Is(err, bio.ErrField) || !errors.Is(err, biometric.ErrIssuerUnavailable) {
		t.Errorf("another terminal's 0110: %v", err)
	}
	// The issuer approved our request (its 0110 is still held): the
	// reversal refunds it.
	if r.balance(t, 2) != 100_000 {
		t.Errorf("balance %d: charged without a reversal", r.balance(t, 2))
	}
	got, _ := r.p.Lookup("t41")
	if got.Status != biometric.StatusReversed {
		t.Errorf("status %v", got.Status)
	}
}
