package biometric

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
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

// TestWaiterRetriesAbandoned: a second Pay with the same ID waits for the
// first; the first is abandoned (its caller gave up) before anything was
// sent, so the payment is forgotten — the waiter, whose own context is
// fine, must run it rather than return the other caller's context error.
func TestWaiterRetriesAbandoned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, _, embs := population(t, ServerConfig{}, 3, 1)
		var calls atomic.Int32
		gated := IdentityServerFunc(func(ctx context.Context, s Sample) (Identity, error) {
			if calls.Add(1) == 1 {
				<-ctx.Done() // the first caller gives up while identifying
				return Identity{}, ctx.Err()
			}
			return srv.Identify(ctx, s)
		})
		issuer, _ := NewIssuer(IssuerConfig{})
		_ = issuer.Open("tok-000-1000", eur(1000))
		p, err := NewProcessor(ProcessorConfig{}, gated, issuer)
		if err != nil {
			t.Fatal(err)
		}
		ctx1, cancel1 := context.WithCancel(context.Background())
		var firstErr, secondErr error
		var second Result
		var wg sync.WaitGroup
		wg.Go(func() { _, firstErr = p.Pay(ctx1, Sample{Embedding: embs[0]}, tx("w", 5)) })
		synctest.Wait() // the first is identifying
		wg.Go(func() { second, secondErr = p.Pay(context.Background(), Sample{Embedding: embs[0]}, tx("w", 5)) })
		synctest.Wait() // the second waits for the first's outcome
		cancel1()
		wg.Wait()
		if !errors.Is(firstErr, context.Canceled) {
			t.Fatalf("first: %v", firstErr)
		}
		if secondErr != nil || second.Status != StatusApproved {
			t.Fatalf("waiter: %v %v, want approved (its own context was fine)", second.Status, secondErr)
		}
		if b, _ := issuer.Balance("tok-000-1000"); b.Minor != 995 {
			t.Errorf("balance %d, want one charge", b.Minor)
		}
	})
}

// TestSTANReuseKeepsLateMatching: STANs wrap after MaxSTAN, so a payment
// can reuse the STAN of an older one still remembered. Evicting the older
// payment must not unhook the newer one's STAN: the newer payment's late
// approval must still be matched and recorded.
func TestSTANReuseKeepsLateMatching(t *testing.T) {
	r := newRig(t, ProcessorConfig{MaxTransactions: 1, AuthorizeTimeout: time.Millisecond}, IssuerConfig{})
	old, err := r.p.Pay(context.Background(), Sample{Embedding: r.embs[0]}, tx("old", 10))
	if err != nil {
		t.Fatal(err)
	}
	r.p.stan.Store(old.STAN - 1) // the counter has come round again
	r.issuer.LoseResponses(1)
	res, err := r.p.Pay(context.Background(), Sample{Embedding: r.embs[1]}, tx("new", 10))
	if !errors.Is(err, ErrAuthTimeout) || res.STAN != old.STAN {
		t.Fatalf("new: %v %v (STAN %d, old %d)", res.Status, err, res.STAN, old.STAN)
	}
	if !r.p.LateResponse(AuthResult{STAN: res.STAN, ResponseCode: RespApproved}) {
		t.Error("late approval of the newer payment not matched after the older one was evicted")
	}
	if got, _ := r.p.Lookup("new"); got.LateResponse == nil {
		t.Error("late approval not recorded")
	}
}

// emptyCodeAuthorizer answers every authorisation with no response code:
// a nil error, but nothing the acquirer can act on.
type emptyCodeAuthorizer struct{ *Issuer }

func (a emptyCodeAuthorizer) Authorize(ctx context.Context, req AuthRequest) (AuthResult, error) {
	res, err := a.Issuer.Authorize(ctx, req)
	res.ResponseCode = ""
	return res, err
}

// TestEmptyResponseCodeReverses: an Authorizer that returns a response
// without a usable response code (field 39 empty or not two characters)
// did not say whether the issuer approved — the issuer here did. The
// processor must treat it like a lost response and reverse, not report a
// decline and leave the customer charged.
func TestEmptyResponseCodeReverses(t *testing.T) {
	r := newRig(t, ProcessorConfig{}, IssuerConfig{})
	p, err := NewProcessor(ProcessorConfig{}, r.srv, emptyCodeAuthorizer{r.issuer})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Pay(context.Background(), Sample{Embedding: r.embs[4]}, tx("e", 300))
	if !errors.Is(err, ErrIssuerUnavailable) || res.Status != StatusReversed {
		t.Errorf("Pay: %v %v, want reversed with ErrIssuerUnavailable", res.Status, err)
	}
	if b := r.balance(t, 4); b != 10000 {
		t.Errorf("customer charged without a reversal: balance %d", b)
	}
}

// TestConcurrentSameIDTimeout: many concurrent Pay calls for one ID while
// the issuer's response is lost and the first reversal attempts fail: one
// authorisation and one reversal reach the issuer, every caller sees the
// same reversed outcome, and the customer ends up uncharged. A later
// retry, and the late approval, change nothing.
func TestConcurrentSameIDTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, ProcessorConfig{AuthorizeTimeout: 2 * time.Second, BackoffInitial: time.Second}, IssuerConfig{Latency: 10 * time.Millisecond, LateAfter: 20 * time.Second})
		r.issuer.LoseResponses(1)
		r.issuer.FailReversals(2)
		var wg sync.WaitGroup
		results := make([]Result, 16)
		errs := make([]error, 16)
		for i := range results {
			wg.Go(func() {
				ctx := context.Background()
				if i%4 == 3 { // some callers give up early: they must not
					var cancel context.CancelFunc // start a second payment
					ctx, cancel = context.WithTimeout(ctx, 500*time.Millisecond)
					defer cancel()
				}
				results[i], errs[i] = r.p.Pay(ctx, Sample{Embedding: r.embs[8]}, tx("same", 640))
			})
		}
		wg.Wait()
		for i := range results {
			if i%4 == 3 && errors.Is(errs[i], context.DeadlineExceeded) && results[i].Status == StatusFailed && len(results[i].Trail) == 0 {
				continue // gave up while waiting for the others' outcome
			}
			if !errors.Is(errs[i], ErrAuthTimeout) || results[i].Status != StatusReversed || results[i].STAN != results[0].STAN {
				t.Errorf("caller %d: %v %v", i, results[i].Status, errs[i])
			}
		}
		time.Sleep(30 * time.Second) // the late approval arrives
		synctest.Wait()
		if n, err := r.p.ResendReversals(t.Context()); n != 1 || err != nil { // its reversal
			t.Errorf("resend: %d %v", n, err)
		}
		again, err := r.p.Pay(context.Background(), Sample{Embedding: r.embs[8]}, tx("same", 640))
		if !errors.Is(err, ErrAuthTimeout) || again.Status != StatusReversed || again.LateResponse == nil {
			t.Errorf("retry: %v %v", again.Status, err)
		}
		st := r.issuer.Stats()
		if st.Authorizations != 1 || st.Refunds != 1 || r.balance(t, 8) != 10000 {
			t.Errorf("issuer %+v, balance %d", st, r.balance(t, 8))
		}
	})
}

// TestOnStepMayCallProcessor: a host's OnStep that looks the payment up
// (to log its card reference, say) must not deadlock the processor — on
// any step: identify, authorise, timeout, reversal, done, late response,
// resend.
func TestOnStepMayCallProcessor(t *testing.T) {
	var r *rig
	var seen sync.Map
	cfg := ProcessorConfig{AuthorizeTimeout: time.Millisecond, ReversalAttempts: 1, OnStep: func(id string, s Step) {
		_, _ = r.p.Lookup(id)
		_ = r.p.PendingReversals()
		seen.Store(s.Name, true)
	}}
	r = newRig(t, cfg, IssuerConfig{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = r.p.Pay(context.Background(), Sample{Embedding: r.embs[0]}, tx("ok", 1))
		r.issuer.LoseResponses(1)
		r.issuer.FailReversals(1)
		res, _ := r.p.Pay(context.Background(), Sample{Embedding: r.embs[0]}, tx("lost", 1))
		r.p.LateResponse(AuthResult{STAN: res.STAN, ResponseCode: RespApproved})
		_, _ = r.p.ResendReversals(context.Background())
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock: OnStep calling Lookup blocked the processor")
	}
	for _, name := range []string{StepIdentify, StepAuthorize, StepAuthResponse, StepAuthTimeout, StepReversal, StepReversalFail, StepLateResponse, StepReversalAck, StepDone} {
		if _, ok := seen.Load(name); !ok {
			t.Errorf("OnStep never saw %s", name)
		}
	}
}

// TestRetransmissionAfterReversal: the issuer answers a retransmitted 0100
// (same terminal and STAN) with its first answer — but once that
// authorisation was reversed, repeating "approved" would let the acquirer
// report a payment approved that the issuer has undone (a processor
// restarted at FirstSTAN 1 retransmits exactly this way).
func TestRetransmissionAfterReversal(t *testing.T) {
	is, _ := NewIssuer(IssuerConfig{})
	_ = is.Open("tok-r", eur(1000))
	req := AuthRequest{Token: "tok-r", Amount: eur(300), STAN: 1, RRN: "000000000001", TerminalID: "T1"}
	if a, err := is.Authorize(context.Background(), req); err != nil || !a.Approved() {
		t.Fatal(a, err)
	}
	if err := is.Reverse(context.Background(), Reversal{Original: req, STAN: 2, Reason: RespLateResponse}); err != nil {
		t.Fatal(err)
	}
	again, err := is.Authorize(context.Background(), req)
	if err != nil || again.Approved() {
		t.Errorf("retransmission after the reversal answered %+v, %v: approved but not charged", again, err)
	}
	if b, _ := is.Balance("tok-r"); b.Minor != 1000 {
		t.Errorf("balance %d", b.Minor)
	}
	// End to end: a processor restarted at STAN 1 on the same terminal,
	// same card and amount as a reversed payment, must not report approved
	// for nothing.
	r := newRig(t, ProcessorConfig{AuthorizeTimeout: time.Millisecond}, IssuerConfig{})
	r.issuer.LoseResponses(1)
	first, _ := r.p.Pay(context.Background(), Sample{Embedding: r.embs[3]}, tx("before-restart", 250))
	if first.Status != StatusReversed || first.STAN != 1 {
		t.Fatalf("first: %v STAN %d", first.Status, first.STAN)
	}
	restarted, _ := NewProcessor(ProcessorConfig{}, r.srv, r.issuer)
	res, err := restarted.Pay(context.Background(), Sample{Embedding: r.embs[3]}, tx("after-restart", 250))
	charged := r.balance(t, 3) != 10000
	if (res.Status == StatusApproved) != charged {
		t.Errorf("after restart: %v %v, charged=%v", res.Status, err, charged)
	}
}

// forgetfulIssuer models a real issuer's worst case for a lost 0100: the
// reversal overtakes the original, is acknowledged and forgotten, and the
// original, arriving later, is approved and charged. Authorize holds every
// request until its context ends; the test delivers it to the Issuer
// afterwards.
type forgetfulIssuer struct {
	*Issuer
	mu   sync.Mutex
	held []AuthRequest
}

func (f *forgetfulIssuer) Authorize(ctx context.Context, req AuthRequest) (AuthResult, error) {
	f.mu.Lock()
	f.held = append(f.held, req)
	f.mu.Unlock()
	<-ctx.Done()
	return AuthResult{}, fmt.Errorf("%w: %w", ErrAuthTimeout, ctx.Err())
}

func (f *forgetfulIssuer) Reverse(ctx context.Context, rev Reversal) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, h := range f.held {
		if h.STAN == rev.Original.STAN {
			return nil // the original has not arrived: acknowledged, forgotten
		}
	}
	return f.Issuer.Reverse(ctx, rev)
}

// TestLateApprovalAfterAcknowledgedReversal: the late approval proves the
// issuer approved; the reversal acknowledged before it may not have undone
// it (it can have overtaken the original). The processor must reverse
// again rather than leave the customer charged: the payment goes back to
// reversal-pending and the host's resend refunds it.
func TestLateApprovalAfterAcknowledgedReversal(t *testing.T) {
	r := newRig(t, ProcessorConfig{AuthorizeTimeout: time.Millisecond}, IssuerConfig{})
	f := &forgetfulIssuer{Issuer: r.issuer}
	p, err := NewProcessor(ProcessorConfig{AuthorizeTimeout: time.Millisecond}, r.srv, f)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Pay(context.Background(), Sample{Embedding: r.embs[7]}, tx("late", 800))
	if !errors.Is(err, ErrAuthTimeout) || res.Status != StatusReversed {
		t.Fatalf("Pay: %v %v", res.Status, err)
	}
	// The original reaches the issuer after its reversal, and is approved.
	f.mu.Lock()
	orig := f.held[0]
	f.held = nil
	f.mu.Unlock()
	late := r.issuer.Process(orig)
	if !late.Approved() || r.balance(t, 7) != 10000-800 {
		t.Fatalf("late original: %+v, balance %d", late, r.balance(t, 7))
	}
	p.LateResponse(late)
	got, _ := p.Lookup("late")
	if got.Status != StatusReversalPending || len(p.PendingReversals()) != 1 {
		t.Errorf("after the late approval: %v, %d pending", got.Status, len(p.PendingReversals()))
	}
	if n, err := p.ResendReversals(context.Background()); n != 1 || err != nil {
		t.Errorf("resend: %d %v", n, err)
	}
	if b := r.balance(t, 7); b != 10000 {
		t.Errorf("customer left charged: balance %d", b)
	}
	if got, _ := p.Lookup("late"); got.Status != StatusReversed {
		t.Errorf("final status %v", got.Status)
	}
	// A late decline needs nothing.
	if p.LateResponse(AuthResult{STAN: got.STAN, ResponseCode: RespInsufficientFunds}); len(p.PendingReversals()) != 0 {
		t.Error("late decline queued a reversal")
	}
}
