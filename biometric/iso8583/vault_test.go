package iso8583_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/payedge/payedge/biometric"
	bio "github.com/payedge/payedge/biometric/iso8583"
	"github.com/payedge/payedge/biometric/iso8583/iso8583test"
	"github.com/payedge/payedge/risk"
)

// TestVault: the token is resolved to a PAN for field 2 only; the issuer
// side maps it back, and nothing the host logs carries the PAN.
func TestVault(t *testing.T) {
	const pan = "4000123412341234"
	issuer, _ := biometric.NewIssuer(biometric.IssuerConfig{})
	_ = issuer.Open("tok-v", risk.Amount{Minor: 1000, Currency: "EUR"})
	sim, err := iso8583test.Start(iso8583test.Config{Issuer: issuer, PANToToken: func(p string) (string, bool) { return "tok-v", p == pan }})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	var (
		mu     sync.Mutex
		logged []string
	)
	a, err := bio.New(bio.Config{Addr: sim.Addr(),
		Vault: bio.TokenVaultFunc(func(_ context.Context, tok string) (string, error) {
			if tok == "tok-v" {
				return pan, nil
			}
			return "", errors.New("unknown token")
		}),
		OnError: func(err error) { mu.Lock(); logged = append(logged, err.Error()); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ids := biometric.IdentityServerFunc(func(context.Context, biometric.Sample) (biometric.Identity, error) {
		return biometric.Identity{EnrolmentID: "v", Token: "tok-v", CardRef: "VISA •••• 1234", Score: 0.9}, nil
	})
	var steps []string
	p, err := biometric.NewProcessor(biometric.ProcessorConfig{OnStep: func(id string, s biometric.Step) { steps = append(steps, s.Detail) }}, ids, a)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Pay(t.Context(), biometric.Sample{Embedding: []float32{1}}, tx("v1", 250))
	if err != nil || res.Status != biometric.StatusApproved {
		t.Fatalf("%+v %v", res, err)
	}
	if bal, _ := issuer.Balance("tok-v"); bal.Minor != 750 {
		t.Errorf("balance %d", bal.Minor)
	}
	mu.Lock()
	all := fmt.Sprintf("%+v %v %v", res, steps, logged)
	mu.Unlock()
	if strings.Contains(all, pan) || strings.Contains(all, pan[:12]) {
		t.Errorf("PAN leaked: %s", all)
	}
}
