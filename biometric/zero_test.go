package biometric

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
)

// TestZeroValues calls every method of every exported type on its zero
// value: each works or returns ErrNotInitialized, and none panics.
func TestZeroValues(t *testing.T) {
	ctx := context.Background()
	q := []float32{1, 0}
	isNotInit := func(err error) bool { return errors.Is(err, ErrNotInitialized) }
	cases := map[string]func(t *testing.T){
		"Index": func(t *testing.T) {
			var x Index
			if !isNotInit(x.Add("a", q)) || !isNotInit(x.Remove("a")) || !isNotInit(x.Grow(1)) {
				t.Error("mutators")
			}
			if x.Search(q, 1) != nil || x.Len() != 0 || x.Dim() != 0 || x.Bytes() != 0 || x.Contains("a") {
				t.Error("readers")
			}
			if _, err := x.SearchContext(ctx, q, 1); !isNotInit(err) {
				t.Error(err)
			}
			if _, err := x.SearchWorkers(ctx, q, 1, 1); !isNotInit(err) {
				t.Error(err)
			}
			if _, err := x.SearchBatch(ctx, [][]float32{q}, 1); !isNotInit(err) {
				t.Error(err)
			}
		},
		"IndexConfig": func(t *testing.T) {
			if err := (IndexConfig{}).Validate(); err != nil {
				t.Error(err)
			}
		},
		"Template": func(t *testing.T) {
			var tp Template
			if tp.Validate(0) == nil || tp.Dim() != 0 || tp.Similarity(nil) != 0 {
				t.Error("zero template")
			}
		},
		"DimensionError": func(t *testing.T) {
			var e DimensionError
			if e.Error() == "" || !errors.Is(&e, ErrDimension) {
				t.Error("DimensionError")
			}
		},
		"Modality": func(t *testing.T) {
			if Modality(0).String() != "unknown" {
				t.Error("Modality")
			}
		},
		"Sample": func(t *testing.T) {
			var s Sample
			if !errors.Is(s.Validate(), ErrSample) {
				t.Error("Validate")
			}
			if _, err := s.MarshalBinary(); !errors.Is(err, ErrSample) {
				t.Error(err)
			}
			if err := s.UnmarshalBinary(nil); !errors.Is(err, ErrSample) {
				t.Error(err)
			}
		},
		"Record": func(t *testing.T) {
			if !errors.Is((Record{}).Validate(), ErrRecord) {
				t.Error("Validate")
			}
			if _, err := (Record{}).MarshalJSON(); err != nil || fmt.Sprint(Record{}) == "" {
				t.Error("Format/MarshalJSON")
			}
		},
		"Sealer": func(t *testing.T) {
			var s Sealer
			if _, err := s.Seal(Record{}); err == nil {
				t.Error("Seal")
			}
			if _, err := s.Open("a", nil); !isNotInit(err) {
				t.Error(err)
			}
			if !isNotInit(s.Close()) {
				t.Error("Close")
			}
		},
		"MemoryStore": func(t *testing.T) {
			var s MemoryStore
			if _, err := s.Get(ctx, "a"); !errors.Is(err, ErrNotEnrolled) {
				t.Error(err)
			}
			if !errors.Is(s.Delete(ctx, "a"), ErrNotEnrolled) || s.Range(ctx, func(string, []byte) error { return nil }) != nil || s.Len() != 0 {
				t.Error("empty store")
			}
			if s.Put(ctx, "a", []byte{1}) != nil || s.Len() != 1 {
				t.Error("zero store not usable")
			}
		},
		"IdentityServerFunc": func(t *testing.T) {
			f := IdentityServerFunc(func(context.Context, Sample) (Identity, error) { return Identity{}, ErrNoMatch })
			if _, err := f.Identify(ctx, Sample{}); !errors.Is(err, ErrNoMatch) {
				t.Error(err)
			}
		},
		"LivenessFunc": func(t *testing.T) {
			f := LivenessFunc(func(context.Context, Sample) error { return nil })
			if f.CheckLiveness(ctx, Sample{}) != nil {
				t.Error("LivenessFunc")
			}
		},
		"MatchError": func(t *testing.T) {
			var e MatchError
			if e.Error() == "" || e.Unwrap() != nil {
				t.Error("MatchError")
			}
		},
		"ServerConfig": func(t *testing.T) {
			if err := (ServerConfig{}).Validate(); err != nil {
				t.Error(err)
			}
		},
		"Server": func(t *testing.T) {
			var s Server
			if _, err := s.Identify(ctx, Sample{Embedding: q}); !isNotInit(err) {
				t.Error(err)
			}
			if !isNotInit(s.Enrol(ctx, Record{})) || !isNotInit(s.Unenrol(ctx, "a")) || s.Len() != 0 {
				t.Error("Server")
			}
			if _, err := s.Load(ctx); !isNotInit(err) {
				t.Error(err)
			}
			_ = s.Config()
		},
		"AuthRequest": func(t *testing.T) {
			if !errors.Is((AuthRequest{}).Validate(), ErrTransaction) {
				t.Error("Validate")
			}
			if b, err := (AuthRequest{}).MarshalJSON(); err != nil || fmt.Sprint(AuthRequest{}) == "" || !strings.Contains(string(b), `"Token":""`) {
				t.Error("Format/MarshalJSON")
			}
		},
		"Result": func(t *testing.T) {
			if b, err := (Result{}).MarshalJSON(); err != nil || !strings.Contains(string(b), `"Score":0`) {
				t.Errorf("MarshalJSON %s %v", b, err)
			}
		},
		"Identity": func(t *testing.T) {
			if b, err := (Identity{}).MarshalJSON(); err != nil || fmt.Sprintf("%+v", Identity{}) != "{EnrolmentID: Token: CardRef: Score:0 Second:0}" || len(b) == 0 {
				t.Error("Format/MarshalJSON")
			}
		},
		"AuthResult": func(t *testing.T) {
			if (AuthResult{}).Approved() {
				t.Error("zero result approved")
			}
		},
		"IssuerConfig": func(t *testing.T) {
			if (IssuerConfig{}).Validate() != nil {
				t.Error("Validate")
			}
		},
		"Issuer": func(t *testing.T) {
			var is Issuer
			if !isNotInit(is.Open("t", eur(1))) || !isNotInit(is.Block("t", true)) {
				t.Error("Issuer mutators")
			}
			if _, err := is.Balance("t"); !isNotInit(err) {
				t.Error(err)
			}
			if _, err := is.Authorize(ctx, AuthRequest{}); !isNotInit(err) {
				t.Error(err)
			}
			if !isNotInit(is.Reverse(ctx, Reversal{})) {
				t.Error("Reverse")
			}
			if is.Process(AuthRequest{}).ResponseCode != RespIssuerUnavailable || is.ProcessReversal(Reversal{}) != RespIssuerUnavailable {
				t.Error("Process")
			}
			is.DropRequests(1)
			is.LoseResponses(1)
			is.FailReversals(1)
			_ = is.Stats()
		},
		"ProcessorConfig": func(t *testing.T) {
			if (ProcessorConfig{}).Validate() != nil {
				t.Error("Validate")
			}
		},
		"Transaction": func(t *testing.T) {
			if !errors.Is((Transaction{}).Validate(), ErrTransaction) {
				t.Error("Validate")
			}
		},
		"Status": func(t *testing.T) {
			if Status(0).String() != "failed" {
				t.Error("Status")
			}
		},
		"Processor": func(t *testing.T) {
			var p Processor
			if _, err := p.Pay(ctx, Sample{}, Transaction{}); !isNotInit(err) {
				t.Error(err)
			}
			if p.LateResponse(AuthResult{}) || p.PendingReversals() != nil {
				t.Error("Processor readers")
			}
			if _, ok := p.Lookup("a"); ok {
				t.Error("Lookup")
			}
			if _, err := p.ResendReversals(ctx); !isNotInit(err) {
				t.Error(err)
			}
		},
		"AssessorConfig": func(t *testing.T) {
			var c AssessorConfig
			if c.Validate() != nil || c.Signal(Identity{}, nil).Confidence < 0.99 {
				t.Error("AssessorConfig")
			}
		},
		"Assessor": func(t *testing.T) {
			var a Assessor
			if _, err := a.Score(ctx, Sample{}); !isNotInit(err) {
				t.Error(err)
			}
			if _, _, err := a.Assess(ctx, Sample{}); !isNotInit(err) {
				t.Error(err)
			}
		},
		"Evaluation": func(t *testing.T) {
			var e Evaluation
			if _, err := e.At(0.1); !isNotInit(err) {
				t.Error(err)
			}
			if e.FNIR(0) == e.FNIR(0) || e.FPIR(0) == e.FPIR(0) { // NaN
				t.Error("zero Evaluation rates not NaN")
			}
		},
	}
	names := make([]string, 0, len(cases))
	for name, f := range cases {
		names = append(names, name)
		t.Run(name, f)
	}
	zerotest.Covered(t, names...)
}
