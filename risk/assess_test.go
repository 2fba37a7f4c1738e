package risk_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/payedge/payedge/risk"
)

// DecideExplained is Fuse + Evaluate in one call, with the explanation.
func TestDecideExplainedAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	f, err := risk.NewFuser(risk.FuseConfig{Weights: map[string]float64{"vision": 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	pol := risk.PSD2Policy()
	pol.Limits.CVMRequired = 25_00
	for range 1000 {
		sigs := randSignals(rng, rng.IntN(5))
		prior := rng.Float64()
		tx := risk.Transaction{Amount: eur(1 + rng.Int64N(60_00)), NoPINConsecutive: rng.IntN(7)}
		a, err := f.DecideExplained(pol, prior, tx, sigs...)
		if err != nil {
			t.Fatal(err)
		}
		o, err := pol.Evaluate(f.Fuse(prior, sigs...), tx)
		if err != nil || a.Outcome != o || a.Fusion.Confidence != f.Fuse(prior, sigs...) || len(a.Fusion.Contributions) != len(sigs) {
			t.Fatalf("DecideExplained %+v, Evaluate %+v %v", a, o, err)
		}
	}
}

func TestDecideExplainedErrorsAndText(t *testing.T) {
	pol := risk.PSD2Policy()
	tx := risk.Transaction{Amount: eur(5_00)}
	a, err := pol.DecideExplained(0.5, tx, risk.Signal{Source: "x", Confidence: math.Inf(1)})
	if _, ok := errors.AsType[*risk.SignalError](err); !ok || a.Decision != risk.Decline {
		t.Errorf("invalid signal: %v %v", a.Decision, err)
	}
	if a, err := pol.DecideExplained(0.5, risk.Transaction{Amount: eur(0)}); !errors.Is(err, risk.ErrAmount) || a.Decision != risk.Decline {
		t.Errorf("zero amount: %v %v", a.Decision, err)
	}
	a, err = pol.DecideExplained(0.5, tx,
		risk.Signal{Source: "neighbors", Confidence: 0.02, Reasons: []risk.Reason{{Code: "neighbors.few_known"}, {Code: "neighbors.missing"}}},
		risk.Signal{Source: "noop", Confidence: 0.5, Reasons: []risk.Reason{{Code: "noop.cannot_judge"}}},
		risk.Signal{Source: "vision", Confidence: 0.8, Reasons: []risk.Reason{{Code: "vision.match"}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, r := range a.TopReasons(10) {
		codes = append(codes, r.Code)
	}
	if got := strings.Join(codes, " "); got != "neighbors.few_known neighbors.missing vision.match" {
		t.Errorf("TopReasons = %s", got)
	}
	if len(a.TopReasons(1)) != 1 || a.TopReasons(0) != nil {
		t.Error("TopReasons bounds")
	}
	want := "RequirePIN (policy.no_pin_untrusted) at 0.075: neighbors -3.89 [neighbors.few_known neighbors.missing], vision +1.39 [vision.match], noop +0.00 [noop.cannot_judge]"
	if a.String() != want {
		t.Errorf("String:\n%s\nwant\n%s", a.String(), want)
	}
}
