package iso8583_test

import (
	"context"
	"errors"
	"testing"

	"github.com/payedge/payedge/biometric"
	bio "github.com/payedge/payedge/biometric/iso8583"
	"github.com/payedge/payedge/internal/zerotest"
)

func TestZeroValues(t *testing.T) {
	ctx := context.Background()
	notInit := func(err error) bool { return errors.Is(err, bio.ErrNotInitialized) }
	cases := map[string]func(t *testing.T){
		"Authorizer": func(t *testing.T) {
			var a bio.Authorizer
			if _, err := a.Authorize(ctx, biometric.AuthRequest{}); err == nil {
				t.Error("Authorize")
			}
			if _, err := a.AuthMessage(ctx, biometric.AuthRequest{}); !notInit(err) {
				t.Error(err)
			}
			if _, err := a.ReversalMessage(ctx, biometric.Reversal{}); !notInit(err) {
				t.Error(err)
			}
			if a.Reverse(ctx, biometric.Reversal{}) == nil || !notInit(a.Echo(ctx, 1)) || !notInit(a.Connect(ctx)) || !notInit(a.Close()) || a.Dials() != 0 {
				t.Error("zero Authorizer")
			}
		},
		"Config": func(t *testing.T) {
			if !errors.Is((bio.Config{}).Validate(), bio.ErrConfig) {
				t.Error("zero Config must name the missing Addr")
			}
		},
		"TokenVaultFunc": func(t *testing.T) {
			f := bio.TokenVaultFunc(func(context.Context, string) (string, error) { return "4111", nil })
			if p, err := f.Detokenize(ctx, "t"); p != "4111" || err != nil {
				t.Error("TokenVaultFunc")
			}
		},
		"FrameError": func(t *testing.T) {
			var e bio.FrameError
			if e.Error() == "" || !errors.Is(&e, bio.ErrFrame) {
				t.Error("FrameError")
			}
		},
		"MissingFieldError": func(t *testing.T) {
			var e bio.MissingFieldError
			if e.Error() == "" || !errors.Is(&e, bio.ErrMissingField) {
				t.Error("MissingFieldError")
			}
		},
		"MTIError": func(t *testing.T) {
			var e bio.MTIError
			if e.Error() == "" || !errors.Is(&e, bio.ErrMTI) {
				t.Error("MTIError")
			}
		},
	}
	var names []string
	for n, f := range cases {
		names = append(names, n)
		t.Run(n, f)
	}
	zerotest.Covered(t, names...)
}
