package risk_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/payedge/payedge/internal/zerotest"
	"github.com/payedge/payedge/risk"
)

// wantIs returns nil when err wraps one of targets, else a description.
func wantIs(err error, targets ...error) error {
	for _, t := range targets {
		if errors.Is(err, t) {
			return nil
		}
	}
	return fmt.Errorf("err = %v, want one of %v", err, targets)
}

// TestZeroValues calls every method of every exported type with methods on
// its zero value (and on a nil pointer where the receiver is a pointer):
// each works or returns one clear, matchable error; none panics (issue 17
// point 2: the zero NeighborScorer panicked in Score and Learn).
func TestZeroValues(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	obs := risk.NeighborObservation{TerminalID: "T", At: at, Seen: []risk.Neighbor{{ID: "00:11:22:33:44:55", Kind: risk.KindWiFi, RSSI: -50}}}
	tx := risk.Transaction{Amount: risk.Amount{Minor: 5_00, Currency: "EUR"}}
	sig := risk.Signal{Source: "s", Confidence: 0.7}
	cases := []struct {
		typ, name string
		run       func() error
	}{
		{"Addr", "String/MarshalText/UnmarshalText/bits", func() error {
			var a risk.Addr
			b, err := a.MarshalText()
			if a.String() != "00:00:00:00:00:00" || string(b) != a.String() || err != nil || a.LocallyAdministered() || a.Group() {
				return errors.New("zero Addr")
			}
			return wantIs(a.UnmarshalText(nil), risk.ErrIdentifier)
		}},
		{"AddrClass", "String", func() error {
			if (risk.AddrClass(0)).String() != "universal" {
				return errors.New("zero AddrClass")
			}
			return nil
		}},
		{"Amount", "all", func() error {
			var a risk.Amount
			if !a.IsZero() || a.String() != "0" || a.Validate() != nil {
				return errors.New("zero Amount")
			}
			sum, err := a.Add(risk.Amount{})
			if err != nil || !sum.IsZero() {
				return fmt.Errorf("zero Add: %v %v", sum, err)
			}
			return nil
		}},
		{"Assessment", "TopReasons/String", func() error {
			var a risk.Assessment
			if a.TopReasons(3) != nil || a.String() != "Decline () at 0.000" {
				return fmt.Errorf("zero Assessment: %q", a.String())
			}
			return nil
		}},
		{"Decision", "String/Approved", func() error {
			var d risk.Decision
			if d.String() != "Decline" || d.Approved() {
				return errors.New("zero Decision is not the fail-closed Decline")
			}
			return nil
		}},
		{"FreshnessError", "Error/Unwrap", func() error {
			var e risk.FreshnessError
			if e.Error() == "" {
				return errors.New("empty message")
			}
			return wantIs(&e, risk.ErrStale)
		}},
		{"FuseConfig", "Validate", func() error { return risk.FuseConfig{}.Validate() }},
		{"Fuser", "all", func() error {
			for _, f := range []*risk.Fuser{{}, nil} {
				if f.Fuse(0.5, sig) != risk.Fuse(0.5, sig) || f.Weight("x") != 1 || f.Epsilon() != risk.DefaultEpsilon {
					return errors.New("zero Fuser differs from Fuse")
				}
				if r, err := f.Explain(0.5, sig); err != nil || r.Confidence != risk.Fuse(0.5, sig) {
					return fmt.Errorf("zero Fuser Explain: %v", err)
				}
				if a, err := f.DecideExplained(risk.Policy{}, 0.5, tx, sig); err != nil || a.Decision != risk.ApproveNoPIN {
					return fmt.Errorf("zero Fuser DecideExplained: %v %v", a, err)
				}
			}
			return nil
		}},
		{"Fusion", "Top/Signal", func() error {
			var f risk.Fusion
			if len(f.Top(3)) != 0 || f.Signal("x").Confidence != 0 {
				return errors.New("zero Fusion")
			}
			return nil
		}},
		{"LearnConfig", "Validate", func() error { return risk.LearnConfig{}.Validate() }},
		{"MemoryStore", "all", func() error {
			var s risk.MemoryStore
			if _, err := s.Profile(ctx, "T"); !errors.Is(err, risk.ErrNoProfile) {
				return err
			}
			if err := s.Put(ctx, &risk.Profile{TerminalID: "T"}); err != nil || s.Len() != 1 {
				return fmt.Errorf("zero store Put: %v", err)
			}
			if err := s.Update(ctx, "T", func(*risk.Profile) (*risk.Profile, error) { return nil, nil }); err != nil {
				return err
			}
			if err := s.Update(ctx, "T", nil); !errors.Is(err, risk.ErrConfig) {
				return fmt.Errorf("nil fn: %v", err)
			}
			var n *risk.MemoryStore
			if n.Len() != 0 {
				return errors.New("nil Len")
			}
			for _, err := range []error{
				func() error { _, err := n.Profile(ctx, "T"); return err }(),
				n.Update(ctx, "T", func(p *risk.Profile) (*risk.Profile, error) { return p, nil }),
				n.Put(ctx, &risk.Profile{TerminalID: "T"}),
			} {
				if err := wantIs(err, risk.ErrNotInitialized); err != nil {
					return err
				}
			}
			//lint:ignore SA1012 a nil context is the case under test
			_, err := s.Profile(nil, "T")
			return wantIs(err, risk.ErrNilContext)
		}},
		{"NeighborAssessor", "all", func() error {
			for _, s := range []*risk.NeighborAssessor{{}, nil} {
				if _, err := s.Score(ctx, obs); !errors.Is(err, risk.ErrNotInitialized) {
					return fmt.Errorf("Score: %v", err)
				}
				if _, err := s.Evaluate(ctx, obs); !errors.Is(err, risk.ErrNotInitialized) {
					return fmt.Errorf("Evaluate: %v", err)
				}
				if err := s.Learn(ctx, obs); !errors.Is(err, risk.ErrNotInitialized) {
					return fmt.Errorf("Learn: %v", err)
				}
				if c, d := s.Config(), risk.DefaultNeighborConfig(); c.MinExpected != d.MinExpected || c.Floor != d.Floor || c.Clock == nil || c.Learn != d.Learn {
					return errors.New("Config of a zero assessor is not the default")
				}
			}
			// The deprecated name is the same type.
			var old risk.NeighborScorer
			_, err := old.Score(ctx, obs)
			return wantIs(err, risk.ErrNotInitialized)
		}},
		{"NeighborConfig", "Validate", func() error { return risk.NeighborConfig{}.Validate() }},
		{"NeighborError", "Error/Unwrap", func() error {
			var e risk.NeighborError
			if e.Error() == "" || e.Unwrap() != nil {
				return errors.New("zero NeighborError")
			}
			return nil
		}},
		{"NeighborKind", "all", func() error {
			var k risk.NeighborKind
			if k.String() != "unknown" {
				return errors.New("zero kind name")
			}
			if _, err := k.MarshalText(); !errors.Is(err, risk.ErrNeighborKind) {
				return err
			}
			return wantIs(k.UnmarshalText(nil), risk.ErrNeighborKind)
		}},
		{"NeighborObservation", "Validate", func() error {
			return wantIs(risk.NeighborObservation{}.Validate(), risk.ErrObservation)
		}},
		{"NeighborScore", "Reasons/Has", func() error {
			var s risk.NeighborScore
			if len(s.Reasons()) != 0 || s.Has(risk.ReasonNeighborsMatch) {
				return errors.New("zero NeighborScore has reasons")
			}
			return nil
		}},
		{"Policy", "all", func() error {
			var p risk.Policy
			if err := p.Validate(); err != nil {
				return err
			}
			d, err := p.Decide(0.9, tx)
			if err != nil || d != risk.ApproveNoPIN {
				return fmt.Errorf("zero Policy (PSD2) Decide: %v %v", d, err)
			}
			if o, err := p.Evaluate(0.5, tx); err != nil || o.Decision != risk.RequirePIN {
				return fmt.Errorf("zero Policy Evaluate: %v %v", o, err)
			}
			if a, err := p.DecideExplained(0.5, tx, sig); err != nil || a.Decision != risk.ApproveNoPIN {
				return fmt.Errorf("zero Policy DecideExplained: %v %v", a, err)
			}
			return nil
		}},
		{"Profile", "all", func() error {
			var p risk.Profile
			if err := wantIs(p.Validate(), risk.ErrProfile); err != nil {
				return err
			}
			if c := p.Clone(); c == nil || c.TerminalID != "" {
				return errors.New("zero Clone")
			}
			if _, err := p.Learn(obs, risk.LearnConfig{}); !errors.Is(err, risk.ErrProfile) {
				return fmt.Errorf("zero Learn: %v", err)
			}
			var n *risk.Profile
			if n.Clone() != nil {
				return errors.New("nil Clone")
			}
			if err := wantIs(n.Validate(), risk.ErrProfile); err != nil {
				return err
			}
			// A nil profile is a terminal seen for the first time.
			q, err := n.Learn(obs, risk.LearnConfig{})
			if err != nil || q.Weight != 1 {
				return fmt.Errorf("nil Learn: %v", err)
			}
			return nil
		}},
		{"ScorerFunc", "Score", func() error {
			var f risk.ScorerFunc[int]
			_, err := f.Score(ctx, 1)
			return wantIs(err, risk.ErrNotInitialized)
		}},
		{"ScanAuthenticatorFunc", "AuthenticateScan", func() error {
			var f risk.ScanAuthenticatorFunc
			return wantIs(f.AuthenticateScan(ctx, obs), risk.ErrNotInitialized)
		}},
		{"Signal", "Validate", func() error { return risk.Signal{}.Validate() }},
		{"SignalError", "Error/Unwrap", func() error {
			var e risk.SignalError
			if e.Error() == "" || e.Unwrap() != nil {
				return errors.New("zero SignalError")
			}
			return nil
		}},
		{"Transaction", "NextCounters", func() error {
			var tx risk.Transaction
			if c, n, err := tx.NextCounters(risk.RequirePIN); err != nil || !c.IsZero() || n != 0 {
				return fmt.Errorf("zero RequirePIN: %v", err)
			}
			_, _, err := tx.NextCounters(risk.ApproveNoPIN)
			return wantIs(err, risk.ErrAmount)
		}},
	}
	var types []string
	for _, c := range cases {
		t.Run(c.typ+"/"+c.name, func(t *testing.T) {
			if err := c.run(); err != nil {
				t.Error(err)
			}
		})
		if len(types) == 0 || types[len(types)-1] != c.typ {
			types = append(types, c.typ)
		}
	}
	zerotest.Covered(t, types...)
}
