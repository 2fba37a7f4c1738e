package risk

import (
	"fmt"
	"strings"
)

// Assessment is a payment decision together with its explanation: the
// policy's Outcome (decision, online flag, the rule that decided) and the
// Fusion behind the confidence it was given (prior, fused confidence, and
// each signal's contribution, largest first).
type Assessment struct {
	Outcome
	Fusion Fusion // the fusion behind the confidence the policy was given
}

// DecideExplained fuses signals around prior with the default fusion (see
// Fuse) and decides tx under p, in one call: the decision with its
// explanation. Its errors are Fuser.Explain's (an invalid prior or
// confidence: ErrConfidence, *SignalError) and Policy.Evaluate's; on error
// the Assessment's Decision is the fail-closed Decline.
func (p Policy) DecideExplained(prior float64, tx Transaction, signals ...Signal) (Assessment, error) {
	return defaultFuser.DecideExplained(p, prior, tx, signals...)
}

// DecideExplained is Policy.DecideExplained with f's weights and clamp.
// The zero Fuser works like the default one.
func (f *Fuser) DecideExplained(p Policy, prior float64, tx Transaction, signals ...Signal) (Assessment, error) {
	fu, err := f.Explain(prior, signals...)
	if err != nil {
		return Assessment{}, err
	}
	o, err := p.Evaluate(fu.Confidence, tx)
	if err != nil {
		return Assessment{Fusion: fu}, err
	}
	return Assessment{Outcome: o, Fusion: fu}, nil
}

// TopReasons returns up to n reasons of the signals that moved the fused
// confidence most, in that order (each signal's own reasons in the order it
// gave them). Signals that moved nothing (a 0.5 confidence or weight 0) are
// skipped. It allocates one slice.
func (a Assessment) TopReasons(n int) []Reason {
	if n <= 0 {
		return nil
	}
	var out []Reason
	for _, c := range a.Fusion.Contributions {
		if c.LogLR == 0 {
			continue
		}
		for _, r := range c.Reasons {
			if len(out) == n {
				return out
			}
			out = append(out, r)
		}
	}
	return out
}

// String summarises a for a log line or a support screen: the decision and
// the rule that decided, the fused confidence, and each signal's
// contribution to the log-odds with its reason codes, largest first, e.g.
//
//	RequirePIN (policy.no_pin_untrusted) at 0.075: neighbors -3.89 [neighbors.few_known], vision +1.39 [vision.match]
//
// The format is for humans and may change.
func (a Assessment) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v (%s) at %.3f", a.Decision, a.Reason.Code, a.Fusion.Confidence)
	for i, c := range a.Fusion.Contributions {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		src := c.Source
		if src == "" {
			src = "?"
		}
		fmt.Fprintf(&b, "%s %+.2f", truncate(src, 32), c.LogLR)
		if len(c.Reasons) > 0 {
			b.WriteString(" [")
			for j, r := range c.Reasons {
				if j > 0 {
					b.WriteString(" ")
				}
				b.WriteString(truncate(r.Code, 64))
			}
			b.WriteString("]")
		}
	}
	return b.String()
}
