package iso8583_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

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
