package risk

import (
	"fmt"
	"math"
)

// Decision is the outcome of a Policy. The values are ordered from most to
// least restrictive for a transaction whose cardholder has not yet been
// verified: Decline < RequirePIN < ApproveNoPIN. Approve is only returned
// when no no-PIN question arises (the cardholder was already verified).
// The zero Decision is Decline, so an unset Decision fails closed.
type Decision uint8

const (
	// Decline refuses the payment.
	Decline Decision = iota
	// RequirePIN approves only after the cardholder enters the PIN (or
	// another strong cardholder verification method): a step-up.
	RequirePIN
	// ApproveNoPIN approves without cardholder verification; the host must
	// add the amount to the cumulative no-PIN counters.
	ApproveNoPIN
	// Approve approves a payment whose cardholder was already verified, so
	// the no-PIN counters do not apply (and are reset by the host).
	Approve
)

// String returns the Go name of d.
func (d Decision) String() string {
	switch d {
	case Decline:
		return "Decline"
	case RequirePIN:
		return "RequirePIN"
	case ApproveNoPIN:
		return "ApproveNoPIN"
	case Approve:
		return "Approve"
	}
	return fmt.Sprintf("Decision(%d)", uint8(d))
}

// Approved reports whether d lets the payment proceed without a step-up.
func (d Decision) Approved() bool { return d == ApproveNoPIN || d == Approve }

// ReaderLimits are the EMV contactless reader limits (EMV Contactless Book A,
// "Reader Limit Set"; applied as in Book B Entry Point pre-processing), in
// minor units of the policy currency.
type ReaderLimits struct {
	// Floor is the Reader Contactless Floor Limit: amounts above it must be
	// authorised online (Outcome.Online).
	Floor int64
	// CVMRequired is the Reader CVM Required Limit: amounts at or above it
	// ordinarily require cardholder verification. Skipping it there is the
	// passwordless case and needs Policy.PasswordlessConfidence. Kernels that
	// compare with "greater than" (Book C-2) are modelled by configuring
	// one minor unit more.
	CVMRequired int64
	// Transaction is the Reader Contactless Transaction Limit: amounts at or
	// above it are declined (contactless is not allowed). Zero means no
	// limit.
	Transaction int64
}

// NoPINCaps bound how much may be spent without cardholder verification
// since the last verification, as PSD2 RTS Art. 11 (single ≤ EUR 50, and
// cumulative ≤ EUR 150 or ≤ 5 consecutive) and UnionPay QuickPass
// small-amount no-PIN/no-signature programmes do. Caps count the current
// transaction: a payment passes when amount ≤ MaxAmount, cumulative+amount ≤
// MaxCumulative and consecutive+1 ≤ MaxConsecutive. Every configured cap is
// enforced (both, where a regulation asks for either).
type NoPINCaps struct {
	// MaxAmount is the largest single amount that may skip the PIN,
	// in minor units. It may reach or exceed ReaderLimits.CVMRequired: that
	// band is the passwordless extension, where the scheme and regulation
	// allow one (PSD2 Art. 11 does not above EUR 50). Zero forbids no-PIN
	// payments.
	MaxAmount int64
	// MaxCumulative caps the running no-PIN total including this payment,
	// in minor units.
	// Zero means no cumulative cap.
	MaxCumulative int64
	// MaxConsecutive caps the number of consecutive no-PIN payments
	// including this one. Zero means no count cap.
	MaxConsecutive int
}

// Policy maps a fused confidence and a Transaction to a Decision.
// A Policy is a plain value, safe for concurrent use; Decide does not
// allocate on success. The zero Policy is DefaultPolicy (PSD2Policy, EUR);
// a Policy with any field set is used as given: start from PSD2Policy or
// QuickPassPolicy and change fields, or fill every field.
type Policy struct {
	Currency string       // ISO 4217 code of every limit and amount
	Limits   ReaderLimits // the EMV reader limits, in minor units of Currency
	NoPIN    NoPINCaps    // the no-PIN amount and cumulative/consecutive caps
	// DeclineBelow: a fused confidence below it declines the payment.
	DeclineBelow float64
	// NoPINConfidence is the least confidence for a no-PIN payment below
	// the CVM-required limit.
	NoPINConfidence float64
	// PasswordlessConfidence is the least confidence for a no-PIN payment at
	// or above the CVM-required limit. It must be ≥ NoPINConfidence.
	PasswordlessConfidence float64
	// OnlineBelow: a confidence below it forces online authorisation even
	// under the floor limit. Zero disables.
	OnlineBelow float64
}

// DefaultPolicy returns PSD2Policy(): what the zero Policy means.
func DefaultPolicy() Policy { return PSD2Policy() }

// orDefault returns DefaultPolicy for the zero Policy, else p.
func (p Policy) orDefault() Policy {
	if p == (Policy{}) {
		return DefaultPolicy()
	}
	return p
}

// PSD2Policy returns a policy for EUR modelled on Commission Delegated
// Regulation (EU) 2018/389 (the PSD2 RTS on strong customer authentication),
// Art. 11, contactless payments at the point of sale. In short: floor limit
// EUR 0, so every payment is authorised online (Outcome.Online is always
// true); no PIN up to EUR 50.00 within EUR 150.00 cumulative and 5 in a row;
// no passwordless band (CVM-required limit EUR 50.01); contactless up to
// EUR 500; no-PIN only at a fused confidence of at least 0.6.
//
// Art. 11 lets the payer's PSP skip SCA when (a) the payment is at most
// EUR 50 and (b) the cumulative amount of contactless payments since the
// last SCA does not exceed EUR 150 or (c) there have been at most five
// consecutive ones since then. The preset applies (a) as NoPIN.MaxAmount =
// EUR 50.00 and enforces BOTH (b) and (c) — MaxCumulative EUR 150.00 and
// MaxConsecutive 5 — the stricter combination many issuers run; a PSP
// relying on one option only sets the other to zero. Caps count the current
// payment (cumulative + amount ≤ EUR 150), which is never more permissive
// than the regulation's "previous transactions" wording. Stricter is always
// allowed: a PSP may apply SCA whenever it likes, never less often.
//
// Art. 11 has no exemption above EUR 50, so the preset has no passwordless
// band: the Reader CVM Required Limit is EUR 50.01 (as in most euro
// markets) and no amount at or above it can skip the PIN, whatever the
// confidence. A host whose readers use a lower CVM limit
// (Limits.CVMRequired, for example EUR 25.00) gets a passwordless band up to
// EUR 50.00 governed by PasswordlessConfidence.
//
// The thresholds are chosen against fused confidences (Fuse; every
// Signal calibrated at a neutral 0.5): a payment with no evidence either
// way fuses to the host's prior, so at an even prior it is 0.5 and steps up
// to the PIN — the environment must favour "genuine" by at least 3:2
// (NoPINConfidence 0.6) to skip it, and by 9:1 in the passwordless band
// (PasswordlessConfidence 0.9). In examples/passwordless (60 simulated
// shops, 1 800 scans per class, the neighbour evidence alone at prior 0.5,
// seeds 1–3) 0.6 accepts 86–87 % of genuine scans and none of the
// relocated, spoofed, cloned-device, look-alike, no-RSSI, replayed or stale
// ones; 0.9 accepts 58–62 % of genuine scans. The passwordless band therefore needs corroborating
// evidence (vision, geo, motion), as examples/checkout shows. DeclineBelow
// is 0.01.
//
// The thresholds are posterior probabilities. A host that fuses around its
// real base rate instead of 0.5 (say a prior of 0.99, log-odds +4.6) moves
// every payment by the same log-odds, so evidence that only mildly
// contradicts a genuine environment (a cloned device, capped at
// NeighborConfig.FewKnownCap 0.2) no longer stops a no-PIN payment: such a
// host raises the thresholds by the same odds (no-PIN at odds 99·1.5, about
// 0.993) or fuses at 0.5 and keeps them.
func PSD2Policy() Policy {
	return Policy{
		Currency:               "EUR",
		Limits:                 ReaderLimits{Floor: 0, CVMRequired: 50_01, Transaction: 500_00},
		NoPIN:                  NoPINCaps{MaxAmount: 50_00, MaxCumulative: 150_00, MaxConsecutive: 5},
		DeclineBelow:           0.01,
		NoPINConfidence:        0.6,
		PasswordlessConfidence: 0.9,
		OnlineBelow:            0,
	}
}

// QuickPassPolicy returns a CNY policy in the shape of UnionPay QuickPass
// small-amount no-PIN/no-signature: no PIN up to CNY 1,000 a payment, and a
// cumulative daily no-PIN cap of CNY 3,000 as issuers commonly configure.
// The passwordless band extends no-PIN to CNY 2,000 for trusted terminals.
// The cumulative cap is per day: the host resets NoPINCumulative at the
// issuer's day boundary as well as after a verified payment. Floor limit
// CNY 0 (always online). The confidence thresholds are PSD2Policy's (0.6
// for no-PIN, 0.9 for the passwordless band), chosen the same way.
func QuickPassPolicy() Policy {
	return Policy{
		Currency:               "CNY",
		Limits:                 ReaderLimits{Floor: 0, CVMRequired: 1000_01, Transaction: 0},
		NoPIN:                  NoPINCaps{MaxAmount: 2000_00, MaxCumulative: 3000_00, MaxConsecutive: 0},
		DeclineBelow:           0.01,
		NoPINConfidence:        0.6,
		PasswordlessConfidence: 0.9,
	}
}

// Transaction is the payment a Policy decides on.
type Transaction struct {
	// Amount is the payment, in the policy currency. It must be positive:
	// a zero-amount authorisation (account verification, transit
	// pre-authorisation) is not a payment a no-PIN decision applies to.
	Amount Amount
	// NoPINCumulative is the total paid without cardholder verification
	// since the last verification (zero Amount when none).
	NoPINCumulative Amount
	// NoPINConsecutive counts payments without cardholder verification
	// since the last verification.
	NoPINConsecutive int
	// CardholderVerified is true when the cardholder was verified for this
	// payment already (online PIN, consumer-device CVM, biometric): no no-PIN
	// question arises and the result is Approve or Decline.
	CardholderVerified bool
}

// Reason codes returned in Outcome.Reason.
const (
	CodeApproved           = "policy.approved"
	CodeNoPIN              = "policy.no_pin"
	CodePasswordless       = "policy.passwordless"
	CodeLowConfidence      = "policy.low_confidence"
	CodeOverTransaction    = "policy.over_transaction_limit"
	CodeNoPINUntrusted     = "policy.no_pin_untrusted"
	CodeOverNoPINAmount    = "policy.over_no_pin_amount"
	CodeCumulativeCap      = "policy.cumulative_cap"
	CodeConsecutiveCap     = "policy.consecutive_cap"
	CodeCVMRequiredLimit   = "policy.cvm_required"
	codePasswordlessDetail = "confidence meets the passwordless threshold above the CVM-required limit"
)

// Outcome is a Decision with its explanation.
type Outcome struct {
	Decision Decision // what to do with the payment
	// Online is true when the payment must be authorised online: the amount
	// is above the reader floor limit, or the confidence is below
	// Policy.OnlineBelow.
	Online bool
	// Reason names the rule that decided; Detail is constant text.
	Reason Reason
}

// Validate reports whether p is consistent; errors wrap ErrPolicy (and
// ErrCurrency for an unknown currency). The zero Policy is valid (it is
// DefaultPolicy).
func (p Policy) Validate() error {
	p = p.orDefault()
	if _, ok := CurrencyExponent(p.Currency); !ok {
		return fmt.Errorf("%w: currency %q: %w", ErrPolicy, truncate(p.Currency, 8), ErrCurrency)
	}
	l, c := p.Limits, p.NoPIN
	if l.Floor < 0 || l.CVMRequired < 0 || l.Transaction < 0 || c.MaxAmount < 0 || c.MaxCumulative < 0 || c.MaxConsecutive < 0 {
		return fmt.Errorf("%w: negative limit", ErrPolicy)
	}
	for _, t := range [...]float64{p.DeclineBelow, p.NoPINConfidence, p.PasswordlessConfidence, p.OnlineBelow} {
		if math.IsNaN(t) || t < 0 || t > 1 {
			return fmt.Errorf("%w: threshold %v not in [0, 1]", ErrPolicy, t)
		}
	}
	if !(p.DeclineBelow <= p.NoPINConfidence && p.NoPINConfidence <= p.PasswordlessConfidence) {
		return fmt.Errorf("%w: need DeclineBelow ≤ NoPINConfidence ≤ PasswordlessConfidence, have %v, %v, %v",
			ErrPolicy, p.DeclineBelow, p.NoPINConfidence, p.PasswordlessConfidence)
	}
	return nil
}

// checkAmount validates a transaction amount against the policy currency.
// The zero Amount is allowed only where zeroOK; a payment (zeroOK false)
// must be positive.
func (p Policy) checkAmount(name string, a Amount, zeroOK bool) error {
	if a.IsZero() && zeroOK {
		return nil
	}
	if a.Minor < 0 {
		return fmt.Errorf("%w: %s %d minor units is negative", ErrAmount, name, a.Minor)
	}
	if a.Minor == 0 && !zeroOK {
		return fmt.Errorf("%w: %s is zero: a no-PIN decision needs a positive payment", ErrAmount, name)
	}
	if a.Currency != p.Currency {
		if _, ok := CurrencyExponent(a.Currency); !ok {
			return fmt.Errorf("%w: %s currency %q", ErrCurrency, name, truncate(a.Currency, 8))
		}
		return fmt.Errorf("%w: %s in %s, policy in %s", ErrCurrencyMismatch, name, a.Currency, p.Currency)
	}
	return nil
}

// Decide returns the Decision for a payment with fused confidence conf.
// See Evaluate for the rules.
func (p Policy) Decide(conf float64, tx Transaction) (Decision, error) {
	o, err := p.Evaluate(conf, tx)
	return o.Decision, err
}

// Evaluate applies the policy and explains the outcome. Rules, first match
// wins:
//
//  1. amount ≥ Limits.Transaction (when set) → Decline;
//  2. conf < DeclineBelow → Decline;
//  3. CardholderVerified → Approve;
//  4. NoPIN.MaxAmount zero or below amount, cumulative cap or consecutive
//     cap exceeded → RequirePIN;
//  5. amount ≥ Limits.CVMRequired: conf ≥ PasswordlessConfidence →
//     ApproveNoPIN, else RequirePIN;
//  6. conf ≥ NoPINConfidence → ApproveNoPIN, else RequirePIN.
//
// The decision is monotone: it never becomes more permissive when conf
// falls or when the amount or counters rise. Errors (invalid policy, NaN or
// out-of-range conf, negative amount, unknown or mismatched currency) wrap
// this package's sentinels; Decide never panics. A zero amount is an error
// wrapping ErrAmount (it was approved without PIN and counted towards the
// consecutive cap before).
func (p Policy) Evaluate(conf float64, tx Transaction) (Outcome, error) {
	p = p.orDefault()
	if err := p.Validate(); err != nil {
		return Outcome{}, err
	}
	if math.IsNaN(conf) || conf < 0 || conf > 1 {
		return Outcome{}, fmt.Errorf("%w: %v", ErrConfidence, conf)
	}
	if err := p.checkAmount("amount", tx.Amount, false); err != nil {
		return Outcome{}, err
	}
	if err := p.checkAmount("no-PIN cumulative", tx.NoPINCumulative, true); err != nil {
		return Outcome{}, err
	}
	if tx.NoPINConsecutive < 0 {
		return Outcome{}, fmt.Errorf("%w: negative consecutive no-PIN count %d", ErrAmount, tx.NoPINConsecutive)
	}
	amt := tx.Amount.Minor
	o := Outcome{Online: amt > p.Limits.Floor || conf < p.OnlineBelow}
	decide := func(d Decision, code, detail string) (Outcome, error) {
		o.Decision, o.Reason = d, Reason{Code: code, Detail: detail}
		return o, nil
	}
	switch {
	case p.Limits.Transaction > 0 && amt >= p.Limits.Transaction:
		return decide(Decline, CodeOverTransaction, "amount at or above the reader contactless transaction limit")
	case conf < p.DeclineBelow:
		return decide(Decline, CodeLowConfidence, "fused confidence below the decline threshold")
	case tx.CardholderVerified:
		return decide(Approve, CodeApproved, "cardholder already verified")
	case p.NoPIN.MaxAmount == 0 || amt > p.NoPIN.MaxAmount:
		return decide(RequirePIN, CodeOverNoPINAmount, "amount above the no-PIN per-transaction cap")
	case p.NoPIN.MaxCumulative > 0 && tx.NoPINCumulative.Minor > p.NoPIN.MaxCumulative-amt:
		return decide(RequirePIN, CodeCumulativeCap, "cumulative no-PIN amount would exceed its cap")
	case p.NoPIN.MaxConsecutive > 0 && tx.NoPINConsecutive >= p.NoPIN.MaxConsecutive:
		return decide(RequirePIN, CodeConsecutiveCap, "consecutive no-PIN count would exceed its cap")
	case amt >= p.Limits.CVMRequired:
		if conf >= p.PasswordlessConfidence {
			return decide(ApproveNoPIN, CodePasswordless, codePasswordlessDetail)
		}
		return decide(RequirePIN, CodeCVMRequiredLimit, "amount at or above the CVM-required limit and confidence below the passwordless threshold")
	case conf >= p.NoPINConfidence:
		return decide(ApproveNoPIN, CodeNoPIN, "below the CVM-required limit within the no-PIN caps")
	}
	return decide(RequirePIN, CodeNoPINUntrusted, "confidence below the no-PIN threshold")
}

// NextCounters returns the no-PIN counters to store after tx completed with
// decision d: ApproveNoPIN adds the amount and one payment; Approve (the
// cardholder was verified) resets both; RequirePIN and Decline leave them
// unchanged — the host re-submits a step-up with CardholderVerified set once
// the PIN is verified, and that Approve resets them. Errors wrap ErrAmount or
// ErrCurrencyMismatch (for example on overflow); a zero or negative amount
// never counts towards the caps (ErrAmount).
func (tx Transaction) NextCounters(d Decision) (cumulative Amount, consecutive int, err error) {
	switch d {
	case ApproveNoPIN:
		if tx.Amount.Minor <= 0 {
			return Amount{}, 0, fmt.Errorf("%w: no-PIN payment of %d minor units", ErrAmount, tx.Amount.Minor)
		}
		sum, err := tx.NoPINCumulative.Add(tx.Amount)
		if err != nil {
			return Amount{}, 0, err
		}
		if tx.NoPINConsecutive < 0 || tx.NoPINConsecutive == math.MaxInt {
			return Amount{}, 0, fmt.Errorf("%w: consecutive no-PIN count %d", ErrAmount, tx.NoPINConsecutive)
		}
		return sum, tx.NoPINConsecutive + 1, nil
	case Approve:
		return Amount{}, 0, nil
	case RequirePIN, Decline:
		return tx.NoPINCumulative, tx.NoPINConsecutive, nil
	}
	return Amount{}, 0, fmt.Errorf("%w: unknown decision %v", ErrPolicy, d)
}
