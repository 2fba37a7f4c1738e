package biometric

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/payedge/payedge/risk"
)

func eur(minor int64) risk.Amount { return risk.Amount{Minor: minor, Currency: "EUR"} }

// rig is a processor over a small enrolled population and an issuer where
// every token holds 100.00 EUR.
type rig struct {
	srv    *Server
	issuer *Issuer
	p      *Processor
	embs   [][]float32
}

func newRig(t testing.TB, pcfg ProcessorConfig, icfg IssuerConfig) *rig {
	t.Helper()
	srv, _, embs := population(t, ServerConfig{}, 20, 7)
	var p *Processor
	icfg.OnLate = func(res AuthResult) { p.LateResponse(res) }
	issuer, err := NewIssuer(icfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range embs {
		if err := issuer.Open(fmt.Sprintf("tok-%03d-%04d", i, 1000+i), eur(10000)); err != nil {
			t.Fatal(err)
		}
	}
	p, err = NewProcessor(pcfg, srv, issuer)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{srv: srv, issuer: issuer, p: p, embs: embs}
}

func (r *rig) balance(t testing.TB, i int) int64 {
	t.Helper()
	b, err := r.issuer.Balance(fmt.Sprintf("tok-%03d-%04d", i, 1000+i))
	if err != nil {
		t.Fatal(err)
	}
	return b.Minor
}

func tx(id string, minor int64) Transaction {
	return Transaction{ID: id, Amount: eur(minor), TerminalID: "T0000001", MerchantID: "M-SHOP-17"}
}

func trailNames(r Result) string {
	var s []string
	for _, st := range r.Trail {
		s = append(s, st.Name)
	}
	return strings.Join(s, ",")
}

func TestPayApproveDecline(t *testing.T) {
	r := newRig(t, ProcessorConfig{}, IssuerConfig{})
	ctx := context.Background()
	res, err := r.p.Pay(ctx, Sample{Embedding: r.embs[3]}, tx("a", 450))
	if err != nil || res.Status != StatusApproved || res.Auth.ApprovalCode == "" || r.balance(t, 3) != 10000-450 {
		t.Fatalf("approve: %+v %v", res, err)
	}
	if res.CardRef != "VISA •••• 1003" || res.MaskedToken != "…1003" || res.STAN == 0 || len(res.RRN) != 12 {
		t.Errorf("result fields %+v", res)
	}
	if got := trailNames(res); got != "identify,authorize,auth-response,done" {
		t.Errorf("trail %s", got)
	}
	for _, st := range res.Trail {
		if strings.Contains(st.Detail, "tok-003") {
			t.Errorf("token in trail: %+v", st)
		}
	}
	if res.Signal.Source != Source || res.Signal.Confidence < 0.99 || res.Signal.Reasons[0].Code != ReasonMatch {
		t.Errorf("signal %+v", res.Signal)
	}
	// Insufficient funds: a definite decline, nil error.
	res, err = r.p.Pay(ctx, Sample{Embedding: r.embs[3]}, tx("b", 20000))
	if err != nil || res.Status != StatusDeclined || res.Auth.ResponseCode != RespInsufficientFunds {
		t.Errorf("decline: %+v %v", res, err)
	}
	// A stranger: nothing sent to the issuer.
	before := r.issuer.Stats().Authorizations
	res, err = r.p.Pay(ctx, Sample{Embedding: near(randSrc(1), make([]float32, testDim), 1)}, tx("c", 100))
	if !errors.Is(err, ErrNoMatch) || res.Status != StatusNotIdentified || r.issuer.Stats().Authorizations != before {
		t.Errorf("stranger: %+v %v", res, err)
	}
	if res.Signal.Confidence > 0.05 || res.Signal.Reasons[0].Code != ReasonNoMatch {
		t.Errorf("stranger signal %+v", res.Signal)
	}
	// Blocked card.
	_ = r.issuer.Block("tok-004-1004", true)
	if res, err := r.p.Pay(ctx, Sample{Embedding: r.embs[4]}, tx("d", 100)); err != nil || res.Auth.ResponseCode != RespRestrictedCard {
		t.Errorf("blocked: %+v %v", res, err)
	}
	// Bad transactions.
	for _, bad := range []Transaction{{}, {ID: "x", Amount: eur(0), TerminalID: "T"}, {ID: "x", Amount: eur(1), TerminalID: "TOOLONGTERMINAL"}, {ID: "x", Amount: risk.Amount{Minor: 1, Currency: "EURO"}, TerminalID: "T"}} {
		if _, err := r.p.Pay(ctx, Sample{Embedding: r.embs[0]}, bad); !errors.Is(err, ErrTransaction) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	// Same ID, different payment.
	if _, err := r.p.Pay(ctx, Sample{Embedding: r.embs[3]}, tx("a", 451)); !errors.Is(err, ErrIDReuse) {
		t.Errorf("ID reuse: %v", err)
	}
}

func randSrc(seed uint64) *randT { return newRandT(seed) }

// TestTimeoutReversalLateApproval: the response is lost, the processor times
// out, reverses (acknowledged), and the approval that arrives afterwards is
// ignored and recorded — the customer ends up uncharged. Deterministic under
// synctest's fake clock.
func TestTimeoutReversalLateApproval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, ProcessorConfig{AuthorizeTimeout: 10 * time.Second}, IssuerConfig{Latency: 50 * time.Millisecond, LateAfter: 30 * time.Second})
		r.issuer.LoseResponses(1)
		start := time.Now()
		res, err := r.p.Pay(t.Context(), Sample{Embedding: r.embs[2]}, tx("t1", 1234))
		if !errors.Is(err, ErrAuthTimeout) || res.Status != StatusReversed {
			t.Fatalf("Pay: %+v %v", res, err)
		}
		if el := time.Since(start); el != 10*time.Second+50*time.Millisecond {
			t.Errorf("Pay took %v, want the 10 s timeout plus one reversal round trip", el)
		}
		if got := trailNames(res); got != "identify,authorize,auth-timeout,reversal,reversal-ack,done" {
			t.Errorf("trail %s", got)
		}
		if b := r.balance(t, 2); b != 10000 {
			t.Errorf("balance %d after reversal, want 10000", b)
		}
		// The lost approval arrives 30 s after the request.
		time.Sleep(30 * time.Second)
		synctest.Wait()
		got, ok := r.p.Lookup("t1")
		if !ok || got.LateResponse == nil || !got.LateResponse.Approved() || got.Status != StatusReversalPending {
			t.Fatalf("late approval not recorded: %+v", got)
		}
		// The approval came after the reversal's acknowledgement: a new
		// reversal is queued (this issuer already refunded, so it is a
		// no-op here; see TestLateApprovalAfterAcknowledgedReversal).
		if !strings.HasSuffix(trailNames(got), "done,late-response-ignored,reversal-queued") {
			t.Errorf("trail %s", trailNames(got))
		}
		if n, err := r.p.ResendReversals(t.Context()); n != 1 || err != nil {
			t.Fatalf("resend: %d %v", n, err)
		}
		if b := r.balance(t, 2); b != 10000 {
			t.Errorf("late approval captured: balance %d", b)
		}
		st := r.issuer.Stats()
		if st.Approvals != 1 || st.Refunds != 1 || st.Lost != 1 || st.Reversals != 2 {
			t.Errorf("issuer stats %+v", st)
		}
		// A retry with the same ID returns the first outcome, no new charge.
		again, err := r.p.Pay(t.Context(), Sample{Embedding: r.embs[2]}, tx("t1", 1234))
		if !errors.Is(err, ErrAuthTimeout) || again.Status != StatusReversed || again.LateResponse == nil {
			t.Errorf("retry: %+v %v", again, err)
		}
		if r.issuer.Stats().Authorizations != 1 {
			t.Error("retry reached the issuer")
		}
		// A late response for an unknown STAN is not matched.
		if r.p.LateResponse(AuthResult{STAN: 999}) {
			t.Error("unknown STAN matched")
		}
	})
}

// TestLateApprovalDuringReversalRetries: the late approval arrives while the
// reversal is still being retried; it is ignored and the reversal goes on
// until acknowledged.
func TestLateApprovalDuringReversalRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, ProcessorConfig{AuthorizeTimeout: 5 * time.Second, BackoffInitial: time.Second, BackoffMax: 2 * time.Second},
			IssuerConfig{LateAfter: 6500 * time.Millisecond})
		r.issuer.LoseResponses(1)
		r.issuer.FailReversals(3) // attempts at 5 s, 6 s, 8 s fail; 10 s succeeds
		start := time.Now()
		res, err := r.p.Pay(t.Context(), Sample{Embedding: r.embs[5]}, tx("t2", 700))
		if !errors.Is(err, ErrAuthTimeout) || res.Status != StatusReversed {
			t.Fatalf("Pay: %+v %v", res, err)
		}
		if el := time.Since(start); el != 10*time.Second {
			t.Errorf("elapsed %v, want 10 s (backoff 1 s, 2 s, 2 s capped)", el)
		}
		want := "identify,authorize,auth-timeout,reversal,reversal,late-response-ignored,reversal,reversal,reversal-ack,done"
		if got := trailNames(res); got != want {
			t.Errorf("trail\n got %s\nwant %s", got, want)
		}
		if res.LateResponse == nil || !res.LateResponse.Approved() {
			t.Error("late approval not in result")
		}
		if b := r.balance(t, 5); b != 10000 {
			t.Errorf("balance %d", b)
		}
	})
}

// TestReversalFailsForever: bounded retries, then the reversal is stored as
// pending; the host resends it later.
func TestReversalFailsForever(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var steps []string
		var mu sync.Mutex
		cfg := ProcessorConfig{AuthorizeTimeout: 2 * time.Second, ReversalAttempts: 4, BackoffInitial: time.Second, BackoffMax: 3 * time.Second,
			OnStep: func(id string, s Step) { mu.Lock(); steps = append(steps, id+":"+s.Name); mu.Unlock() }}
		r := newRig(t, cfg, IssuerConfig{})
		r.issuer.LoseResponses(1)
		r.issuer.FailReversals(-1)
		start := time.Now()
		res, err := r.p.Pay(t.Context(), Sample{Embedding: r.embs[1]}, tx("t3", 999))
		if !errors.Is(err, ErrReversalFailed) || !errors.Is(err, ErrAuthTimeout) || res.Status != StatusReversalPending {
			t.Fatalf("Pay: %+v %v", res, err)
		}
		if el := time.Since(start); el != 2*time.Second+(1+2+3)*time.Second {
			t.Errorf("elapsed %v, want 8 s", el)
		}
		pend := r.p.PendingReversals()
		if len(pend) != 1 || pend["t3"].Original.STAN != res.STAN {
			t.Fatalf("pending %+v", pend)
		}
		if b := r.balance(t, 1); b != 10000-999 {
			t.Errorf("balance %d before the reversal lands", b)
		}
		if n, err := r.p.ResendReversals(t.Context()); n != 0 || !errors.Is(err, ErrIssuerUnavailable) {
			t.Errorf("resend while failing: %d %v", n, err)
		}
		r.issuer.FailReversals(0)
		if n, err := r.p.ResendReversals(t.Context()); n != 1 || err != nil {
			t.Fatalf("resend: %d %v", n, err)
		}
		if b := r.balance(t, 1); b != 10000 {
			t.Errorf("balance %d after resend", b)
		}
		if len(r.p.PendingReversals()) != 0 {
			t.Error("still pending")
		}
		got, _ := r.p.Lookup("t3")
		if got.Status != StatusReversed {
			t.Errorf("status after resend %v", got.Status)
		}
		mu.Lock()
		if len(steps) < 8 || steps[0] != "t3:identify" {
			t.Errorf("OnStep saw %v", steps)
		}
		mu.Unlock()
	})
}

// TestHangingAuthorizer: the request vanishes; the processor reverses an
// authorisation the issuer never saw, and the original, if it turns up
// later, is refused.
func TestHangingAuthorizer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, ProcessorConfig{AuthorizeTimeout: time.Second}, IssuerConfig{})
		r.issuer.DropRequests(1)
		res, err := r.p.Pay(t.Context(), Sample{Embedding: r.embs[0]}, tx("t4", 100))
		if !errors.Is(err, ErrAuthTimeout) || res.Status != StatusReversed {
			t.Fatalf("Pay: %+v %v", res, err)
		}
		// The original 0100 arrives after its reversal: no charge.
		late := r.issuer.Process(AuthRequest{Token: "tok-000-1000", Amount: eur(100), STAN: res.STAN, RRN: res.RRN, TerminalID: "T0000001"})
		if late.Approved() || r.balance(t, 0) != 10000 {
			t.Errorf("original after reversal: %+v, balance %d", late, r.balance(t, 0))
		}
		// The caller giving up mid-authorisation also ends in a reversal.
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		r.issuer.LoseResponses(1)
		res, err = r.p.Pay(ctx, Sample{Embedding: r.embs[0]}, tx("t5", 100))
		if !errors.Is(err, ErrAuthTimeout) || res.Status != StatusReversed || r.balance(t, 0) != 10000 {
			t.Errorf("canceled caller: %+v %v balance %d", res, err, r.balance(t, 0))
		}
	})
}

// TestConcurrentSameID: many concurrent Pay calls with one transaction ID
// charge once and all see the same outcome (run with -race).
func TestConcurrentSameID(t *testing.T) {
	r := newRig(t, ProcessorConfig{}, IssuerConfig{Latency: 2 * time.Millisecond})
	var wg sync.WaitGroup
	results := make([]Result, 16)
	errs := make([]error, 16)
	for i := range results {
		wg.Go(func() {
			results[i], errs[i] = r.p.Pay(context.Background(), Sample{Embedding: r.embs[9]}, tx("same", 250))
		})
	}
	// Other IDs in parallel.
	for i := range 8 {
		wg.Go(func() {
			if _, err := r.p.Pay(context.Background(), Sample{Embedding: r.embs[10+i]}, tx(fmt.Sprintf("o%d", i), 10)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil || results[i].Status != StatusApproved || results[i].STAN != results[0].STAN || results[i].Auth.ApprovalCode != results[0].Auth.ApprovalCode {
			t.Errorf("call %d: %+v %v", i, results[i], errs[i])
		}
	}
	if b := r.balance(t, 9); b != 10000-250 {
		t.Errorf("charged %d times", (10000-b)/250)
	}
	if st := r.issuer.Stats(); st.Authorizations != 9 || st.Approvals != 9 {
		t.Errorf("issuer %+v", st)
	}
}

// TestAbandonedBeforeAuthRetries: a Pay canceled before its authorisation
// was sent is forgotten, so the retry runs.
func TestAbandonedBeforeAuthRetries(t *testing.T) {
	block := make(chan struct{})
	srv, _, embs := population(t, ServerConfig{}, 3, 1)
	slow := IdentityServerFunc(func(ctx context.Context, s Sample) (Identity, error) {
		select {
		case <-block:
			return srv.Identify(ctx, s)
		case <-ctx.Done():
			return Identity{}, ctx.Err()
		}
	})
	issuer, _ := NewIssuer(IssuerConfig{})
	_ = issuer.Open("tok-000-1000", eur(1000))
	p, _ := NewProcessor(ProcessorConfig{}, slow, issuer)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Pay(ctx, Sample{Embedding: embs[0]}, tx("x", 5)); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
	close(block)
	res, err := p.Pay(context.Background(), Sample{Embedding: embs[0]}, tx("x", 5))
	if err != nil || res.Status != StatusApproved {
		t.Fatalf("retry: %+v %v", res, err)
	}
}

func TestProcessorConfig(t *testing.T) {
	for _, c := range []ProcessorConfig{{AuthorizeTimeout: -1}, {ReversalAttempts: MaxReversalAttempts + 1}, {MaxTransactions: -1}, {FirstSTAN: MaxSTAN + 1}, {Assessor: AssessorConfig{FPIR: 2}}} {
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if _, err := NewProcessor(ProcessorConfig{}, nil, nil); !errors.Is(err, ErrConfig) {
		t.Error("nil deps accepted")
	}
	// STANs wrap after MaxSTAN and never hit 0.
	p, _ := NewProcessor(ProcessorConfig{FirstSTAN: MaxSTAN}, IdentityServerFunc(nil), &Issuer{})
	if a, b := p.nextSTAN(), p.nextSTAN(); a != MaxSTAN || b != 1 {
		t.Errorf("STANs %d %d", a, b)
	}
	if s := rrn(time.Date(2026, 2, 1, 13, 0, 0, 0, time.UTC), 42); s != "603213000042" {
		t.Errorf("rrn %s", s)
	}
	if Status(99).String() != "status(99)" || StatusApproved.String() != "approved" {
		t.Error("Status.String")
	}
	// Eviction keeps at most MaxTransactions outcomes.
	r := newRig(t, ProcessorConfig{MaxTransactions: 2}, IssuerConfig{})
	for i := range 4 {
		if _, err := r.p.Pay(context.Background(), Sample{Embedding: r.embs[0]}, tx(fmt.Sprint(i), 1)); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := r.p.Lookup("0"); ok {
		t.Error("oldest outcome kept")
	}
	if _, ok := r.p.Lookup("3"); !ok {
		t.Error("newest outcome lost")
	}
}
