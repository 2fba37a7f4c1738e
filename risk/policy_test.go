package risk_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/payedge/payedge/risk"
)

func eur(minor int64) risk.Amount { return risk.Amount{Minor: minor, Currency: "EUR"} }

func TestPolicyDecide(t *testing.T) {
	p := risk.PSD2Policy()
	tests := []struct {
		name string
		conf float64
		tx   risk.Transaction
		want risk.Decision
		code string
	}{
		{"small trusted", 0.9, risk.Transaction{Amount: eur(12_50)}, risk.ApproveNoPIN, risk.CodeNoPIN},
		{"small, evidence 3:2 for genuine", 0.6, risk.Transaction{Amount: eur(12_50)}, risk.ApproveNoPIN, risk.CodeNoPIN},
		// No evidence either way at an even prior (issue 20 point 5: a
		// never-learned terminal scored exactly the old threshold).
		{"small, no evidence", 0.5, risk.Transaction{Amount: eur(12_50)}, risk.RequirePIN, risk.CodeNoPINUntrusted},
		{"small untrusted", 0.2, risk.Transaction{Amount: eur(12_50)}, risk.RequirePIN, risk.CodeNoPINUntrusted},
		// Art. 11(a): EUR 50 a payment, with no passwordless band above.
		{"EUR 50.00 is within Art. 11(a)", 0.6, risk.Transaction{Amount: eur(50_00)}, risk.ApproveNoPIN, risk.CodeNoPIN},
		{"EUR 50.01 needs SCA however trusted", 1, risk.Transaction{Amount: eur(50_01)}, risk.RequirePIN, risk.CodeOverNoPINAmount},
		{"EUR 80 needs SCA however trusted", 0.99, risk.Transaction{Amount: eur(80_00)}, risk.RequirePIN, risk.CodeOverNoPINAmount},
		// Art. 11(b) and (c), both enforced, counting this payment.
		{"last cent of EUR 150 cumulative", 0.9, risk.Transaction{Amount: eur(50_00), NoPINCumulative: eur(100_00), NoPINConsecutive: 2}, risk.ApproveNoPIN, risk.CodeNoPIN},
		{"one cent over EUR 150 cumulative", 0.9, risk.Transaction{Amount: eur(50_00), NoPINCumulative: eur(100_01), NoPINConsecutive: 2}, risk.RequirePIN, risk.CodeCumulativeCap},
		{"cumulative cap reached", 0.9, risk.Transaction{Amount: eur(20_00), NoPINCumulative: eur(130_01)}, risk.RequirePIN, risk.CodeCumulativeCap},
		{"cumulative cap exactly", 0.9, risk.Transaction{Amount: eur(20_00), NoPINCumulative: eur(130_00)}, risk.ApproveNoPIN, risk.CodeNoPIN},
		{"fifth consecutive ok", 0.9, risk.Transaction{Amount: eur(5_00), NoPINConsecutive: 4}, risk.ApproveNoPIN, risk.CodeNoPIN},
		{"sixth consecutive", 0.9, risk.Transaction{Amount: eur(5_00), NoPINConsecutive: 5}, risk.RequirePIN, risk.CodeConsecutiveCap},
		{"verified", 0.5, risk.Transaction{Amount: eur(300_00), CardholderVerified: true}, risk.Approve, risk.CodeApproved},
		{"verified but hopeless", 0.005, risk.Transaction{Amount: eur(10_00), CardholderVerified: true}, risk.Decline, risk.CodeLowConfidence},
		{"transaction limit", 0.99, risk.Transaction{Amount: eur(500_00), CardholderVerified: true}, risk.Decline, risk.CodeOverTransaction},
		{"just under transaction limit", 0.99, risk.Transaction{Amount: eur(499_99)}, risk.RequirePIN, risk.CodeOverNoPINAmount},
		{"just under transaction limit verified", 0.5, risk.Transaction{Amount: eur(499_99), CardholderVerified: true}, risk.Approve, risk.CodeApproved},
		{"hopeless", 0.001, risk.Transaction{Amount: eur(1_00)}, risk.Decline, risk.CodeLowConfidence},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := p.Evaluate(tc.conf, tc.tx)
			if err != nil {
				t.Fatal(err)
			}
			if o.Decision != tc.want || o.Reason.Code != tc.code {
				t.Errorf("got %v (%s), want %v (%s)", o.Decision, o.Reason.Code, tc.want, tc.code)
			}
			if !o.Online && tc.tx.Amount.Minor > 0 {
				t.Errorf("PSD2Policy has floor 0: every payment goes online")
			}
			d, err := p.Decide(tc.conf, tc.tx)
			if err != nil || d != o.Decision {
				t.Errorf("Decide = %v, %v", d, err)
			}
		})
	}
}

// With readers whose CVM-required limit is below the Art. 11 cap, the band
// between them is passwordless: no PIN only with PasswordlessConfidence.
func TestPolicyPasswordlessBand(t *testing.T) {
	p := risk.PSD2Policy()
	p.Limits.CVMRequired = 25_00
	for _, tc := range []struct {
		amt  int64
		conf float64
		want risk.Decision
		code string
	}{
		{24_99, 0.6, risk.ApproveNoPIN, risk.CodeNoPIN},
		{25_00, 0.89, risk.RequirePIN, risk.CodeCVMRequiredLimit},
		{25_00, 0.9, risk.ApproveNoPIN, risk.CodePasswordless},
		{50_00, 0.95, risk.ApproveNoPIN, risk.CodePasswordless},
		{50_01, 0.99, risk.RequirePIN, risk.CodeOverNoPINAmount},
	} {
		o, err := p.Evaluate(tc.conf, risk.Transaction{Amount: eur(tc.amt)})
		if err != nil || o.Decision != tc.want || o.Reason.Code != tc.code {
			t.Errorf("%d at %v: %v (%s) %v; want %v (%s)", tc.amt, tc.conf, o.Decision, o.Reason.Code, err, tc.want, tc.code)
		}
	}
}

func TestPolicyOnline(t *testing.T) {
	p := risk.PSD2Policy()
	p.Limits.Floor = 30_00
	p.OnlineBelow = 0.6
	for _, tc := range []struct {
		amt  int64
		conf float64
		want bool
	}{{30_00, 0.9, false}, {30_01, 0.9, true}, {10_00, 0.5, true}} {
		o, err := p.Evaluate(tc.conf, risk.Transaction{Amount: eur(tc.amt)})
		if err != nil || o.Online != tc.want {
			t.Errorf("amount %d conf %v: online %v, %v; want %v", tc.amt, tc.conf, o.Online, err, tc.want)
		}
	}
}

func TestPolicyQuickPass(t *testing.T) {
	p := risk.QuickPassPolicy()
	cny := func(m int64) risk.Amount { return risk.Amount{Minor: m, Currency: "CNY"} }
	for _, tc := range []struct {
		amt, cum int64
		conf     float64
		want     risk.Decision
	}{
		{1000_00, 0, 0.6, risk.ApproveNoPIN},
		{1000_00, 0, 0.5, risk.RequirePIN},
		{1000_01, 0, 0.6, risk.RequirePIN},
		{1500_00, 0, 0.9, risk.ApproveNoPIN},
		{900_00, 2500_00, 0.9, risk.RequirePIN},
	} {
		d, err := p.Decide(tc.conf, risk.Transaction{Amount: cny(tc.amt), NoPINCumulative: cny(tc.cum)})
		if err != nil || d != tc.want {
			t.Errorf("%+v: got %v, %v", tc, d, err)
		}
	}
}

func TestPolicyErrors(t *testing.T) {
	p := risk.PSD2Policy()
	tests := []struct {
		name string
		p    risk.Policy
		conf float64
		tx   risk.Transaction
		want error
	}{
		{"NaN confidence", p, math.NaN(), risk.Transaction{Amount: eur(1)}, risk.ErrConfidence},
		{"confidence > 1", p, 1.5, risk.Transaction{Amount: eur(1)}, risk.ErrConfidence},
		{"negative confidence", p, -0.1, risk.Transaction{Amount: eur(1)}, risk.ErrConfidence},
		{"negative amount", p, 0.5, risk.Transaction{Amount: eur(-1)}, risk.ErrAmount},
		{"missing amount currency", p, 0.5, risk.Transaction{Amount: risk.Amount{Minor: 5}}, risk.ErrCurrency},
		{"zero amount without currency", p, 0.5, risk.Transaction{}, risk.ErrAmount},
		// Issue 20 point 5: EUR 0.00 was approved without PIN and counted
		// towards the five-in-a-row cap.
		{"zero amount", p, 0.99, risk.Transaction{Amount: eur(0)}, risk.ErrAmount},
		{"zero amount verified", p, 0.99, risk.Transaction{Amount: eur(0), CardholderVerified: true}, risk.ErrAmount},
		{"unknown currency", p, 0.5, risk.Transaction{Amount: risk.Amount{Minor: 5, Currency: "EUX"}}, risk.ErrCurrency},
		{"lower-case currency", p, 0.5, risk.Transaction{Amount: risk.Amount{Minor: 5, Currency: "eur"}}, risk.ErrCurrency},
		{"mismatch", p, 0.5, risk.Transaction{Amount: risk.Amount{Minor: 5, Currency: "USD"}}, risk.ErrCurrencyMismatch},
		{"cumulative mismatch", p, 0.5, risk.Transaction{Amount: eur(5), NoPINCumulative: risk.Amount{Minor: 5, Currency: "GBP"}}, risk.ErrCurrencyMismatch},
		{"negative cumulative", p, 0.5, risk.Transaction{Amount: eur(5), NoPINCumulative: eur(-5)}, risk.ErrAmount},
		{"negative count", p, 0.5, risk.Transaction{Amount: eur(5), NoPINConsecutive: -1}, risk.ErrAmount},
		{"zero policy is PSD2: EUR only", risk.Policy{}, 0.9, risk.Transaction{Amount: risk.Amount{Minor: 5, Currency: "CNY"}}, risk.ErrCurrencyMismatch},
		{"policy without currency", func() risk.Policy { q := p; q.Currency = ""; return q }(), 0.5, risk.Transaction{Amount: eur(5)}, risk.ErrPolicy},
		{"thresholds out of order", func() risk.Policy { q := p; q.NoPINConfidence = 0.95; return q }(), 0.5, risk.Transaction{Amount: eur(5)}, risk.ErrPolicy},
		{"negative limit", func() risk.Policy { q := p; q.Limits.Floor = -1; return q }(), 0.5, risk.Transaction{Amount: eur(5)}, risk.ErrPolicy},
		{"NaN threshold", func() risk.Policy { q := p; q.OnlineBelow = math.NaN(); return q }(), 0.5, risk.Transaction{Amount: eur(5)}, risk.ErrPolicy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := tc.p.Decide(tc.conf, tc.tx)
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if d != risk.Decline {
				t.Errorf("decision on error = %v, want the fail-closed zero Decline", d)
			}
		})
	}
}

// rank orders decisions by permissiveness.
func rank(d risk.Decision) int { return int(d) }

// Property: decisions are monotone — never more permissive at lower
// confidence, larger amount, larger cumulative spend or longer streak.
func TestPolicyMonotone(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	policies := []risk.Policy{risk.PSD2Policy(), func() risk.Policy {
		p := risk.PSD2Policy()
		p.Limits.Floor, p.OnlineBelow, p.NoPIN.MaxConsecutive = 20_00, 0.5, 0
		return p
	}()}
	for iter := 0; iter < 5000; iter++ {
		p := policies[iter%len(policies)]
		tx := risk.Transaction{
			Amount:             eur(rng.Int64N(600_00)),
			NoPINCumulative:    eur(rng.Int64N(200_00)),
			NoPINConsecutive:   rng.IntN(8),
			CardholderVerified: rng.IntN(4) == 0,
		}
		conf := rng.Float64()
		base, err := p.Decide(conf, tx)
		if err != nil {
			t.Fatal(err)
		}
		check := func(what string, conf2 float64, tx2 risk.Transaction, stricter bool) {
			t.Helper()
			d, err := p.Decide(conf2, tx2)
			if err != nil {
				t.Fatal(err)
			}
			if stricter && rank(d) > rank(base) || !stricter && rank(d) < rank(base) {
				t.Fatalf("%s: %v → %v (tx %+v conf %v → %+v conf %v)", what, base, d, tx, conf, tx2, conf2)
			}
		}
		check("higher confidence", conf+(1-conf)*rng.Float64(), tx, false)
		check("lower confidence", conf*rng.Float64(), tx, true)
		t2 := tx
		t2.Amount.Minor += rng.Int64N(100_00)
		check("larger amount", conf, t2, true)
		t2 = tx
		t2.NoPINCumulative.Minor += rng.Int64N(100_00)
		check("larger cumulative", conf, t2, true)
		t2 = tx
		t2.NoPINConsecutive += rng.IntN(3)
		check("longer streak", conf, t2, true)
	}
}

func TestDecisionString(t *testing.T) {
	for d, want := range map[risk.Decision]string{risk.Decline: "Decline", risk.RequirePIN: "RequirePIN", risk.ApproveNoPIN: "ApproveNoPIN", risk.Approve: "Approve", 9: "Decision(9)"} {
		if d.String() != want {
			t.Errorf("%d: %q", d, d.String())
		}
	}
	if risk.Decline.Approved() || risk.RequirePIN.Approved() || !risk.ApproveNoPIN.Approved() || !risk.Approve.Approved() {
		t.Error("Approved wrong")
	}
}

func TestAmount(t *testing.T) {
	for _, tc := range []struct {
		a    risk.Amount
		want string
	}{
		{eur(1234), "12.34 EUR"}, {eur(5), "0.05 EUR"}, {eur(0), "0.00 EUR"},
		{risk.Amount{Minor: 1500, Currency: "JPY"}, "1500 JPY"},
		{risk.Amount{Minor: 1234, Currency: "KWD"}, "1.234 KWD"},
		{risk.Amount{Minor: -1234, Currency: "EUR"}, "-12.34 EUR"},
		{risk.Amount{Minor: 7, Currency: "ZZZ"}, "7 ZZZ"},
		{risk.Amount{}, "0"},
	} {
		if got := tc.a.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.a, got, tc.want)
		}
	}
	if _, err := risk.NewAmount(1, "XTS"); !errors.Is(err, risk.ErrCurrency) {
		t.Errorf("XTS: %v", err)
	}
	if _, err := risk.NewAmount(-1, "EUR"); !errors.Is(err, risk.ErrAmount) {
		t.Errorf("negative: %v", err)
	}
	sum, err := eur(150).Add(risk.Amount{})
	if err != nil || sum != eur(150) {
		t.Errorf("Add zero: %v %v", sum, err)
	}
	if sum, err := (risk.Amount{}).Add(eur(3)); err != nil || sum != eur(3) {
		t.Errorf("zero Add: %v %v", sum, err)
	}
	if _, err := eur(1).Add(risk.Amount{Minor: 1, Currency: "USD"}); !errors.Is(err, risk.ErrCurrencyMismatch) {
		t.Errorf("mismatch: %v", err)
	}
	if _, err := eur(math.MaxInt64).Add(eur(1)); !errors.Is(err, risk.ErrAmount) {
		t.Errorf("overflow: %v", err)
	}
	if e, ok := risk.CurrencyExponent("CLF"); !ok || e != 4 {
		t.Errorf("CLF exponent %d %v", e, ok)
	}
}

func TestNextCounters(t *testing.T) {
	tx := risk.Transaction{Amount: eur(20_00), NoPINCumulative: eur(30_00), NoPINConsecutive: 2}
	for _, tc := range []struct {
		d    risk.Decision
		cum  risk.Amount
		cons int
	}{
		{risk.ApproveNoPIN, eur(50_00), 3},
		{risk.Approve, risk.Amount{}, 0},
		{risk.RequirePIN, eur(30_00), 2},
		{risk.Decline, eur(30_00), 2},
	} {
		cum, cons, err := tx.NextCounters(tc.d)
		if err != nil || cum != tc.cum || cons != tc.cons {
			t.Errorf("%v: %v %d %v", tc.d, cum, cons, err)
		}
	}
	first := risk.Transaction{Amount: eur(5_00)}
	if cum, cons, err := first.NextCounters(risk.ApproveNoPIN); err != nil || cum != eur(5_00) || cons != 1 {
		t.Errorf("first: %v %d %v", cum, cons, err)
	}
	if _, _, err := (risk.Transaction{Amount: eur(1), NoPINCumulative: eur(math.MaxInt64)}).NextCounters(risk.ApproveNoPIN); !errors.Is(err, risk.ErrAmount) {
		t.Errorf("overflow: %v", err)
	}
	if _, _, err := (risk.Transaction{Amount: eur(1), NoPINCumulative: risk.Amount{Minor: 1, Currency: "USD"}}).NextCounters(risk.ApproveNoPIN); !errors.Is(err, risk.ErrCurrencyMismatch) {
		t.Errorf("mismatch: %v", err)
	}
	// A zero amount never counts towards the caps (issue 20 point 5).
	if _, _, err := (risk.Transaction{Amount: eur(0), NoPINConsecutive: 4}).NextCounters(risk.ApproveNoPIN); !errors.Is(err, risk.ErrAmount) {
		t.Errorf("zero amount: %v", err)
	}
	if _, _, err := tx.NextCounters(9); !errors.Is(err, risk.ErrPolicy) {
		t.Errorf("unknown decision: %v", err)
	}
}

// Replaying PSD2Policy over a stream of trusted small payments enforces the
// caps: never more than 5 in a row or EUR 150 without verification.
func TestPolicyStream(t *testing.T) {
	p := risk.PSD2Policy()
	rng := rand.New(rand.NewPCG(4, 4))
	var cum risk.Amount
	cons, maxCons := 0, 0
	var maxCum int64
	for range 1000 {
		tx := risk.Transaction{Amount: eur(1_00 + rng.Int64N(60_00)), NoPINCumulative: cum, NoPINConsecutive: cons}
		d, err := p.Decide(0.95, tx)
		if err != nil {
			t.Fatal(err)
		}
		if d == risk.RequirePIN { // the cardholder enters the PIN
			tx.CardholderVerified = true
			if d, err = p.Decide(0.95, tx); err != nil || d != risk.Approve {
				t.Fatalf("step-up: %v %v", d, err)
			}
		}
		if cum, cons, err = tx.NextCounters(d); err != nil {
			t.Fatal(err)
		}
		maxCons, maxCum = max(maxCons, cons), max(maxCum, cum.Minor)
	}
	if maxCons != 5 || maxCum > 150_00 {
		t.Errorf("max streak %d, max cumulative %d", maxCons, maxCum)
	}
}

// NoPIN.MaxAmount zero forbids no-PIN payments outright.
func TestPolicyNoPINForbidden(t *testing.T) {
	p := risk.PSD2Policy()
	p.NoPIN.MaxAmount = 0
	for _, amt := range []int64{1, 10_00} {
		o, err := p.Evaluate(1, risk.Transaction{Amount: eur(amt)})
		if err != nil || o.Decision != risk.RequirePIN || o.Reason.Code != risk.CodeOverNoPINAmount {
			t.Errorf("amount %d: %+v, %v; want RequirePIN", amt, o, err)
		}
	}
}
