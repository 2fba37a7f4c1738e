package biometric

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/payedge/payedge/risk"
)

func TestAssessor(t *testing.T) {
	srv, _, embs := population(t, ServerConfig{}, 5, 4)
	a, err := NewAssessor(AssessorConfig{FPIR: 0.01, FNIR: 0.05}, srv)
	if err != nil {
		t.Fatal(err)
	}
	var _ risk.Scorer[Sample] = a
	ctx := context.Background()
	sig, err := a.Score(ctx, Sample{Embedding: embs[1]})
	if err != nil {
		t.Fatal(err)
	}
	// LR = 0.95/0.01 = 95 → c = 95/96.
	if sig.Source != Source || math.Abs(sig.Confidence-95.0/96) > 1e-12 || sig.Reasons[0].Code != ReasonMatch {
		t.Errorf("match signal %+v", sig)
	}
	if err := sig.Validate(); err != nil {
		t.Error(err)
	}
	sig, _ = a.Score(ctx, Sample{Embedding: near(newRandT(3), make([]float32, testDim), 1)})
	if lr := 0.05 / 0.99; math.Abs(sig.Confidence-lr/(1+lr)) > 1e-12 || sig.Reasons[0].Code != ReasonNoMatch {
		t.Errorf("no-match signal %+v", sig)
	}
	// A bad sample: no judgement, 0.5.
	sig, err = a.Score(ctx, Sample{Embedding: []float32{1}})
	if err != nil || sig.Confidence != 0.5 || sig.Reasons[0].Code != ReasonBadSample {
		t.Errorf("bad sample %+v %v", sig, err)
	}
	// Fusing a neutral biometric signal changes nothing.
	if p := risk.Fuse(0.3, sig); math.Abs(p-0.3) > 1e-12 {
		t.Errorf("neutral signal moved the prior to %v", p)
	}
	c := AssessorConfig{}
	for _, tc := range []struct {
		err  error
		code string
		conf float64
	}{
		{&MatchError{Err: ErrAmbiguous}, ReasonAmbiguous, 0.5},
		{ErrNotLive, ReasonNotLive, DefaultNotLiveConfidence},
		{errors.New("store down"), ReasonUnavailable, 0.5},
	} {
		s := c.Signal(Identity{}, tc.err)
		if s.Reasons[0].Code != tc.code || s.Confidence != tc.conf {
			t.Errorf("%v: %+v", tc.err, s)
		}
	}
	// Canceled context is an error, not evidence.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := a.Score(cctx, Sample{Embedding: embs[1]}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
	for _, bad := range []AssessorConfig{{FPIR: 1}, {FNIR: -0.1}, {FPIR: 0.6, FNIR: 0.5}, {NotLiveConfidence: 0.7}} {
		if _, err := NewAssessor(bad, srv); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if _, err := NewAssessor(AssessorConfig{}, nil); !errors.Is(err, ErrConfig) {
		t.Error("nil server accepted")
	}
}

func TestIssuerDuplicateSTAN(t *testing.T) {
	is, _ := NewIssuer(IssuerConfig{})
	_ = is.Open("tok", eur(1000))
	req := AuthRequest{Token: "tok", Amount: eur(300), STAN: 17, RRN: "000000000017", TerminalID: "T1"}
	a, err := is.Authorize(context.Background(), req)
	if err != nil || !a.Approved() {
		t.Fatal(a, err)
	}
	// Retransmission: same answer, one charge.
	b, _ := is.Authorize(context.Background(), req)
	if b != a {
		t.Errorf("retransmission answered %+v, first %+v", b, a)
	}
	if bal, _ := is.Balance("tok"); bal.Minor != 700 {
		t.Errorf("balance %d", bal.Minor)
	}
	// Same STAN, different content: duplicate transmission, no charge.
	req2 := req
	req2.Amount = eur(5)
	if c, _ := is.Authorize(context.Background(), req2); c.ResponseCode != RespDuplicate {
		t.Errorf("conflicting STAN: %+v", c)
	}
	// Same STAN from another terminal is a different transaction.
	req3 := req
	req3.TerminalID = "T2"
	if c, _ := is.Authorize(context.Background(), req3); !c.Approved() {
		t.Errorf("other terminal: %+v", c)
	}
	// Reversal refunds once.
	rev := Reversal{Original: req, STAN: 18, Reason: RespLateResponse}
	for range 2 {
		if err := is.Reverse(context.Background(), rev); err != nil {
			t.Fatal(err)
		}
	}
	if bal, _ := is.Balance("tok"); bal.Minor != 700 {
		t.Errorf("after reversals balance %d, want 700 (1000 − 300 T2 + 300 − 300 refund)", bal.Minor)
	}
	if st := is.Stats(); st.Duplicates != 2 || st.Refunds != 1 || st.Reversals != 2 {
		t.Errorf("stats %+v", st)
	}
	if is.ProcessReversal(Reversal{}) != RespInvalidTransaction {
		t.Error("invalid reversal acknowledged")
	}
	if c := is.Process(AuthRequest{Token: "none", Amount: eur(1), STAN: 1, TerminalID: "T"}); c.ResponseCode != RespInvalidCard {
		t.Errorf("unknown card %+v", c)
	}
	if c := is.Process(AuthRequest{Token: "tok", Amount: risk.Amount{Minor: 1, Currency: "USD"}, STAN: 2, TerminalID: "T"}); c.ResponseCode != RespInvalidAmount {
		t.Errorf("currency %+v", c)
	}
	if c := is.Process(AuthRequest{}); c.ResponseCode != RespInvalidTransaction {
		t.Errorf("invalid %+v", c)
	}
	if _, err := NewIssuer(IssuerConfig{Latency: -1}); !errors.Is(err, ErrConfig) {
		t.Error("negative latency")
	}
	if is.Open("", eur(1)) == nil || !errors.Is(is.Block("none", true), ErrNotFound) {
		t.Error("bad account ops")
	}
	if _, err := is.Balance("none"); !errors.Is(err, ErrNotFound) {
		t.Error(err)
	}
}
