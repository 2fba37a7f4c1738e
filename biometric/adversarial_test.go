package biometric

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// hookErr is an error whose text, when asked for, first runs a hook: it
// lets a test act at the moment the processor formats a reversal failure.
type hookErr struct{ hook func() }

func (e hookErr) Error() string {
	if e.hook != nil {
		e.hook()
	}
	return "reversal refused"
}

func (e hookErr) Unwrap() error { return ErrIssuerUnavailable }

// flakyReversals is an Authorizer over an Issuer whose first reversal of
// each original fails (with a hookErr) and every later one goes through:
// Pay's single attempt fails and ResendReversals lands it.
type flakyReversals struct {
	*Issuer
	hook func()
	mu   sync.Mutex
	seen map[uint32]bool
}

func (f *flakyReversals) Reverse(ctx context.Context, rev Reversal) error {
	f.mu.Lock()
	first := !f.seen[rev.Original.STAN]
	f.seen[rev.Original.STAN] = true
	f.mu.Unlock()
	if first {
		return hookErr{f.hook}
	}
	return f.Issuer.Reverse(ctx, rev)
}

// TestResendRacesPay: the host's resend loop lands a reversal while the
// Pay that gave up on it is still finishing. The payment must end
// reversed, not "reversal pending" with nothing left in PendingReversals
// (nobody would ever resend it, and the host would chase a refund that
// already happened). The hook runs ResendReversals each time the
// processor formats the reversal error, which it does after the last
// attempt and before Pay returns.
func TestResendRacesPay(t *testing.T) {
	srv, _, embs := population(t, ServerConfig{}, 3, 7)
	issuer, _ := NewIssuer(IssuerConfig{})
	_ = issuer.Open("tok-001-1001", eur(10_000))
	issuer.LoseResponses(1)
	auth := &flakyReversals{Issuer: issuer, seen: map[uint32]bool{}}
	p, err := NewProcessor(ProcessorConfig{AuthorizeTimeout: time.Millisecond, ReversalAttempts: 1}, srv, auth)
	if err != nil {
		t.Fatal(err)
	}
	resent := 0
	auth.hook = func() {
		n, _ := p.ResendReversals(context.Background())
		resent += n
	}
	res, err := p.Pay(context.Background(), Sample{Embedding: embs[1]}, tx("r", 100))
	auth.hook = nil
	t.Logf("Pay: %v %v; resent during Pay: %d", res.Status, err, resent)
	got, _ := p.Lookup("r")
	pending := p.PendingReversals()
	if _, ok := pending["r"]; ok != (got.Status == StatusReversalPending) {
		t.Errorf("Lookup status %v (trail %s) but pending=%v", got.Status, trailNames(got), ok)
	}
	if _, err := p.ResendReversals(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := p.Lookup("r"); got.Status != StatusReversed {
		t.Errorf("final status %v", got.Status)
	}
	if b, _ := issuer.Balance("tok-001-1001"); b.Minor != 10_000 {
		t.Errorf("customer charged: balance %d", b.Minor)
	}
}

