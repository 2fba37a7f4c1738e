package biometric

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/payedge/payedge/risk"
)

// IssuerConfig configures the in-memory issuer simulator. The zero value is
// usable: no latency, time.Now, late responses dropped.
type IssuerConfig struct {
	// Latency delays every answer (authorisation and reversal).
	Latency time.Duration
	// Now stamps responses; nil means time.Now.
	Now func() time.Time
	// LateAfter is how long after the request a lost response is finally
	// delivered to OnLate.
	LateAfter time.Duration
	// OnLate, if set, receives every lost authorisation response after
	// LateAfter, the way a late 0110 reaches an acquirer after its timeout.
	// It is called on its own goroutine.
	OnLate func(AuthResult)
}

// Validate reports whether c is usable; errors wrap ErrConfig.
func (c IssuerConfig) Validate() error {
	if c.Latency < 0 || c.LateAfter < 0 {
		return fmt.Errorf("%w: negative latency", ErrConfig)
	}
	return nil
}

// IssuerStats counts what an Issuer has seen.
type IssuerStats struct {
	Authorizations int // 0100s processed (including duplicates)
	Approvals      int // distinct approvals (charges)
	Duplicates     int // 0100s recognised as duplicates by terminal + STAN
	Reversals      int // 0400s acknowledged
	Refunds        int // approvals undone by a reversal
	Lost           int // responses withheld (processed, not answered)
	Dropped        int // requests dropped before processing
}

// account is one card at the issuer.
type account struct {
	balance risk.Amount
	blocked bool
}

// authKey identifies an authorisation: terminal and STAN.
type authKey struct {
	terminal string
	stan     uint32
}

type authRecord struct {
	req      AuthRequest
	res      AuthResult
	reversed bool
}

// Issuer is an in-memory card issuer for tests and examples: accounts with
// balances, declines (unknown card 14, blocked 62, insufficient funds 51),
// configurable latency, and injectable faults — dropped requests, lost
// responses, failing reversals. It recognises a repeated 0100 by terminal
// and STAN and answers it with the first response without charging again
// (with 94, duplicate, once that authorisation was reversed);
// a reversal refunds an approval once, and an original that arrives after
// its reversal is refused (94) and not charged.
//
// An Issuer is an Authorizer and is safe for concurrent use. The zero
// Issuer returns ErrNotInitialized.
type Issuer struct {
	cfg IssuerConfig

	mu        sync.Mutex
	accounts  map[string]*account
	auths     map[authKey]*authRecord
	reversed  map[authKey]bool // reversals seen before (or without) the original
	drop      int
	lose      int
	failRev   int
	stats     IssuerStats
	approvals uint64
}

var _ Authorizer = (*Issuer)(nil)

// NewIssuer returns an issuer with no accounts. Errors wrap ErrConfig.
func NewIssuer(cfg IssuerConfig) (*Issuer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Issuer{cfg: cfg, accounts: map[string]*account{}, auths: map[authKey]*authRecord{}, reversed: map[authKey]bool{}}, nil
}

// Open creates or replaces the account of token with balance.
func (is *Issuer) Open(token string, balance risk.Amount) error {
	if is.accounts == nil {
		return ErrNotInitialized
	}
	if token == "" || len(token) > MaxTokenLen || balance.Minor < 0 || len(balance.Currency) != 3 {
		return fmt.Errorf("%w: account %q with %d %s", ErrTransaction, MaskToken(token), balance.Minor, balance.Currency)
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	is.accounts[token] = &account{balance: balance}
	return nil
}

// Block restricts (or with false, unrestricts) the account of token; its
// authorisations are declined with 62.
func (is *Issuer) Block(token string, blocked bool) error {
	if is.accounts == nil {
		return ErrNotInitialized
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	a, ok := is.accounts[token]
	if !ok {
		return fmt.Errorf("%w: unknown account %s", ErrNotFound, MaskToken(token))
	}
	a.blocked = blocked
	return nil
}

// Balance returns the balance of token's account.
func (is *Issuer) Balance(token string) (risk.Amount, error) {
	if is.accounts == nil {
		return risk.Amount{}, ErrNotInitialized
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	a, ok := is.accounts[token]
	if !ok {
		return risk.Amount{}, fmt.Errorf("%w: unknown account %s", ErrNotFound, MaskToken(token))
	}
	return a.balance, nil
}

// DropRequests makes the next n authorisations vanish before the issuer
// sees them (Authorize waits for ctx, nothing is charged).
func (is *Issuer) DropRequests(n int) { is.mu.Lock(); is.drop = n; is.mu.Unlock() }

// LoseResponses makes the next n authorisations be processed (and charged
// if approved) while their responses are lost: Authorize waits for ctx, and
// the response reaches OnLate after LateAfter.
func (is *Issuer) LoseResponses(n int) { is.mu.Lock(); is.lose = n; is.mu.Unlock() }

// FailReversals makes the next n reversals fail with ErrIssuerUnavailable
// (n < 0: every reversal fails until called again).
func (is *Issuer) FailReversals(n int) { is.mu.Lock(); is.failRev = n; is.mu.Unlock() }

// Stats returns the counters so far.
func (is *Issuer) Stats() IssuerStats {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.stats
}

func (is *Issuer) wait(ctx context.Context) error {
	if is.cfg.Latency <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(is.cfg.Latency)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Authorize implements Authorizer (0100 → 0110) with the configured
// latency and faults.
func (is *Issuer) Authorize(ctx context.Context, req AuthRequest) (AuthResult, error) {
	if is.accounts == nil {
		return AuthResult{}, ErrNotInitialized
	}
	if err := req.Validate(); err != nil {
		return AuthResult{}, err
	}
	is.mu.Lock()
	drop := is.drop > 0
	if drop {
		is.drop--
		is.stats.Dropped++
	}
	is.mu.Unlock()
	if drop {
		<-ctx.Done()
		return AuthResult{}, fmt.Errorf("%w: %w", ErrAuthTimeout, ctx.Err())
	}
	if err := is.wait(ctx); err != nil {
		return AuthResult{}, fmt.Errorf("%w: %w", ErrAuthTimeout, err)
	}
	res := is.Process(req)
	is.mu.Lock()
	lose := is.lose > 0
	if lose {
		is.lose--
		is.stats.Lost++
	}
	is.mu.Unlock()
	if lose {
		if f := is.cfg.OnLate; f != nil {
			time.AfterFunc(is.cfg.LateAfter, func() { f(res) })
		}
		<-ctx.Done()
		return AuthResult{}, fmt.Errorf("%w: %w", ErrAuthTimeout, ctx.Err())
	}
	return res, nil
}

// Process decides req at once, without latency or faults: the issuer's
// logic, for transports (such as an ISO 8583 simulator) that bring their
// own. Invalid requests get response code 12 (30 for format is not used).
func (is *Issuer) Process(req AuthRequest) AuthResult {
	now := is.now()
	res := AuthResult{STAN: req.STAN, RRN: req.RRN, TransmittedAt: now}
	if is.accounts == nil {
		res.ResponseCode = RespIssuerUnavailable
		return res
	}
	if err := req.Validate(); err != nil {
		res.ResponseCode = RespInvalidTransaction
		return res
	}
	key := authKey{req.TerminalID, req.STAN}
	is.mu.Lock()
	defer is.mu.Unlock()
	is.stats.Authorizations++
	if prev, ok := is.auths[key]; ok {
		is.stats.Duplicates++
		if prev.req.Token == req.Token && prev.req.Amount == req.Amount && !prev.reversed {
			return prev.res // a retransmission: same answer, no second charge
		}
		// A different payment under a used STAN, or a retransmission of
		// one already reversed (repeating "approved" would report a charge
		// the issuer has undone): duplicate transmission, no charge.
		res.ResponseCode = RespDuplicate
		return res
	}
	rec := &authRecord{req: req}
	is.auths[key] = rec
	a, ok := is.accounts[req.Token]
	switch {
	case is.reversed[key]:
		res.ResponseCode = RespDuplicate // reversed before it arrived
		rec.reversed = true
	case !ok:
		res.ResponseCode = RespInvalidCard
	case a.blocked:
		res.ResponseCode = RespRestrictedCard
	case a.balance.Currency != req.Amount.Currency:
		res.ResponseCode = RespInvalidAmount
	case a.balance.Minor < req.Amount.Minor:
		res.ResponseCode = RespInsufficientFunds
	default:
		a.balance.Minor -= req.Amount.Minor
		is.approvals++
		is.stats.Approvals++
		res.ResponseCode = RespApproved
		res.ApprovalCode = fmt.Sprintf("%06s", strconv.FormatUint(is.approvals%1_000_000, 10))
	}
	rec.res = res
	return res
}

func (is *Issuer) now() time.Time {
	if is.cfg.Now == nil {
		return time.Time{}
	}
	return is.cfg.Now().UTC()
}

// Reverse implements Authorizer (0400 → 0410) with the configured latency
// and reversal faults.
func (is *Issuer) Reverse(ctx context.Context, rev Reversal) error {
	if is.accounts == nil {
		return ErrNotInitialized
	}
	if err := is.wait(ctx); err != nil {
		return err
	}
	is.mu.Lock()
	fail := is.failRev != 0
	if is.failRev > 0 {
		is.failRev--
	}
	is.mu.Unlock()
	if fail {
		return fmt.Errorf("%w: reversal of STAN %06d refused", ErrIssuerUnavailable, rev.Original.STAN)
	}
	if code := is.ProcessReversal(rev); code != RespApproved {
		return fmt.Errorf("%w: reversal answered %s", ErrIssuerUnavailable, code)
	}
	return nil
}

// ProcessReversal applies rev at once and returns the 0410 response code:
// "00" when acknowledged (also for an unknown or already reversed
// original), "12" for an invalid reversal.
func (is *Issuer) ProcessReversal(rev Reversal) string {
	if is.accounts == nil {
		return RespIssuerUnavailable
	}
	o := rev.Original
	if o.STAN < 1 || o.STAN > MaxSTAN || o.TerminalID == "" {
		return RespInvalidTransaction
	}
	key := authKey{o.TerminalID, o.STAN}
	is.mu.Lock()
	defer is.mu.Unlock()
	is.stats.Reversals++
	rec, ok := is.auths[key]
	if !ok {
		is.reversed[key] = true
		return RespApproved
	}
	if rec.reversed {
		return RespApproved
	}
	rec.reversed = true
	if rec.res.Approved() {
		if a, ok := is.accounts[rec.req.Token]; ok {
			a.balance.Minor += rec.req.Amount.Minor
		}
		is.stats.Refunds++
	}
	return RespApproved
}
