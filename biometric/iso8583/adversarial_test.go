package iso8583_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moov-io/iso8583/encoding"
	"github.com/moov-io/iso8583/field"
	"github.com/moov-io/iso8583/prefix"

	"github.com/payedge/payedge/biometric"
	bio "github.com/payedge/payedge/biometric/iso8583"
)

// TestVaultErrorRedacted: a token vault whose error names the token (or
// the PAN) must not carry it into Authorize's error, Pay's error or the
// trail; errors.Is still finds the vault's own error.
func TestVaultErrorRedacted(t *testing.T) {
	errVault := errors.New("vault: not found")
	const tok = "tok-secret-7781"
	a, err := bio.New(bio.Config{Addr: "127.0.0.1:1", Vault: bio.TokenVaultFunc(func(_ context.Context, tk string) (string, error) {
		return "", fmt.Errorf("%w: token %s (PAN 4111111111111111)", errVault, tk)
	})})
	if err != nil {
		t.Fatal(err)
	}
	req := biometric.AuthRequest{Token: tok, Amount: eur(1), STAN: 1, TerminalID: "T1"}
	_, authErr := a.Authorize(t.Context(), req)
	if !errors.Is(authErr, errVault) || !errors.Is(authErr, biometric.ErrTransaction) {
		t.Errorf("Authorize: %v", authErr)
	}
	// A network whose field 2 is numeric, and a vault that hands back a
	// card number with a stray character: the codec's complaint quotes it.
	spec := bio.DefaultSpec()
	spec.Fields[bio.FieldPAN] = field.NewNumeric(&field.Spec{Length: 19, Description: "PAN", Enc: encoding.ASCII, Pref: prefix.ASCII.LL})
	b, err := bio.New(bio.Config{Addr: "127.0.0.1:1", Spec: spec, Vault: bio.TokenVaultFunc(func(context.Context, string) (string, error) {
		return "4111x11111111111", nil
	})})
	if err != nil {
		t.Fatal(err)
	}
	_, numErr := b.Authorize(t.Context(), req)
	if !errors.Is(numErr, biometric.ErrTransaction) || !strings.Contains(fmt.Sprint(numErr), "field 2") {
		t.Errorf("numeric field 2: %v", numErr)
	}
	for _, e := range []error{authErr, a.Reverse(t.Context(), biometric.Reversal{Original: req, STAN: 2}), numErr} {
		if s := fmt.Sprint(e); strings.Contains(s, tok) || strings.Contains(s, "411111") || strings.Contains(s, "4111x") {
			t.Errorf("error text names the token or PAN: %s", s)
		}
	}
}

// TestConcurrentSameIDOverTheWire: 20 concurrent Pay calls for one
// transaction ID while the issuer's 0110 is held back: exactly one 0100
// and one 0400 go on the wire, every caller gets the same reversed
// outcome, the customer is not charged, and the late approval released
// afterwards is recorded and ignored.
func TestConcurrentSameIDOverTheWire(t *testing.T) {
	r := newRig(t, 3, biometric.ProcessorConfig{AuthorizeTimeout: 300 * time.Millisecond})
	if err := r.auth.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	r.sim.Hold(1)
	var wg sync.WaitGroup
	results := make([]biometric.Result, 20)
	errs := make([]error, 20)
	for i := range results {
		wg.Go(func() {
			results[i], errs[i] = r.p.Pay(context.Background(), biometric.Sample{Embedding: r.embs[1]}, tx("one", 4200))
		})
	}
	wg.Wait()
	for i := range results {
		if !errors.Is(errs[i], biometric.ErrAuthTimeout) || results[i].Status != biometric.StatusReversed || results[i].STAN != results[0].STAN {
			t.Errorf("caller %d: %v %v", i, results[i].Status, errs[i])
		}
	}
	counts := map[string]int{}
	for len(r.sim.Events()) > 0 {
		counts[(<-r.sim.Events()).MTI]++
	}
	if counts[bio.MTIAuthRequest] != 1 || counts[bio.MTIReversalRequest] != 1 {
		t.Errorf("on the wire: %v, want one 0100 and one 0400", counts)
	}
	r.sim.Release()
	if late := within(t, r.late, 5*time.Second, "late 0110"); !late.Approved() {
		t.Errorf("late %+v", late)
	}
	if r.balance(t, 1) != 100_000 {
		t.Errorf("balance %d", r.balance(t, 1))
	}
}
