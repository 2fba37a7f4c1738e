package biometric

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// TestTokenNeverPrinted: a payment token (or a PAN used as one) must not
// appear in the fmt output of any exported type that carries it, with any
// verb, nor in its JSON — hosts log these values.
func TestTokenNeverPrinted(t *testing.T) {
	const pan = "4111111111111111"
	req := AuthRequest{TransactionID: "tx", Token: pan, Amount: eur(5), STAN: 7, RRN: "000000000007", TerminalID: "T1", TransmittedAt: time.Unix(0, 0)}
	rev := Reversal{Original: req, STAN: 8, Reason: RespLateResponse}
	id := Identity{EnrolmentID: "u1", Token: pan, CardRef: "VISA •••• 1111", Score: 0.9}
	rec := Record{ID: "u1", Token: pan, CardRef: "VISA •••• 1111", Template: Template{1, 0}}
	values := map[string]any{
		"AuthRequest": req, "*AuthRequest": &req, "Reversal": rev, "*Reversal": &rev,
		"Identity": id, "*Identity": &id, "Record": rec, "*Record": &rec,
		"pending map": map[string]Reversal{"tx": rev}, "slice": []AuthRequest{req},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%10v"} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, pan) || strings.Contains(s, pan[:6]) {
				t.Errorf("%s with %s prints the PAN: %s", name, verb, s)
			}
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Errorf("%s: json: %v", name, err)
		}
		if strings.Contains(string(b), pan[:6]) {
			t.Errorf("%s JSON holds the PAN: %s", name, b)
		}
	}
	// The masked form still tells the values apart by their last four.
	if s := fmt.Sprintf("%+v", req); !strings.Contains(s, "…1111") || !strings.Contains(s, "STAN:7") {
		t.Errorf("masked AuthRequest lost its content: %s", s)
	}
	if s := fmt.Sprintf("%#v", id); !strings.HasPrefix(s, "biometric.Identity{") {
		t.Errorf("%%#v names another type: %s", s)
	}

	// End to end: the Result, its trail, the error and PendingReversals.
	r := newRig(t, ProcessorConfig{AuthorizeTimeout: time.Millisecond, ReversalAttempts: 1}, IssuerConfig{})
	r.issuer.LoseResponses(1)
	r.issuer.FailReversals(-1)
	res, err := r.p.Pay(context.Background(), Sample{Embedding: r.embs[6]}, tx("p", 10))
	const tok = "tok-006-1006"
	for _, s := range []string{fmt.Sprintf("%+v", res), fmt.Sprintf("%#v", res), fmt.Sprint(err), fmt.Sprintf("%+v", r.p.PendingReversals()), fmt.Sprintf("%#v", r.p.PendingReversals())} {
		if strings.Contains(s, tok) {
			t.Errorf("token in output: %s", s)
		}
	}
	b, _ := json.Marshal(struct {
		R Result
		P map[string]Reversal
	}{res, r.p.PendingReversals()})
	if strings.Contains(string(b), tok) {
		t.Errorf("token in JSON: %s", b)
	}
	// The values themselves keep the token for the code that needs it.
	if r.p.PendingReversals()["p"].Original.Token != tok {
		t.Error("pending reversal lost its token")
	}
}

// TestResultJSON: a Result is meant to be logged, also when
// identification produced no score (Score is NaN): its JSON must encode,
// with the missing score as null.
func TestResultJSON(t *testing.T) {
	r := newRig(t, ProcessorConfig{}, IssuerConfig{})
	res, err := r.p.Pay(context.Background(), Sample{Embedding: make([]float32, testDim)}, tx("zero", 10))
	if err == nil || !math.IsNaN(res.Score) {
		t.Fatalf("zero sample: %v, score %v", err, res.Score)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatalf("Result with no score does not encode: %v", err)
	}
	if !strings.Contains(string(b), `"Score":null`) || !strings.Contains(string(b), `"TransactionID":"zero"`) {
		t.Errorf("JSON %s", b)
	}
	ok, _ := r.p.Pay(context.Background(), Sample{Embedding: r.embs[0]}, tx("ok", 10))
	b, err = json.Marshal(ok)
	var back struct {
		Score  float64
		Status Status
		Trail  []Step
	}
	if err != nil || json.Unmarshal(b, &back) != nil || back.Score != ok.Score || back.Status != ok.Status || len(back.Trail) != len(ok.Trail) {
		t.Errorf("JSON %s (%v) does not carry the result", b, err)
	}
}
