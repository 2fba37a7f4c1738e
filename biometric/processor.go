package biometric

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/payedge/payedge/risk"
)

// Defaults of ProcessorConfig.
const (
	DefaultIdentifyTimeout  = 2 * time.Second
	DefaultAuthorizeTimeout = 10 * time.Second
	DefaultReversalTimeout  = 5 * time.Second
	DefaultReversalAttempts = 5
	DefaultBackoffInitial   = 500 * time.Millisecond
	DefaultBackoffMax       = 8 * time.Second
	DefaultMaxTransactions  = 1 << 20
	// MaxReversalAttempts bounds ProcessorConfig.ReversalAttempts.
	MaxReversalAttempts = 100
)

// ProcessorConfig configures a Processor. The zero value is usable: every
// zero field takes its Default… value and Now is time.Now.
type ProcessorConfig struct {
	// IdentifyTimeout bounds the identification step.
	IdentifyTimeout time.Duration
	// AuthorizeTimeout bounds the wait for the 0110; after it the
	// processor reverses.
	AuthorizeTimeout time.Duration
	// ReversalTimeout bounds each reversal attempt.
	ReversalTimeout time.Duration
	// ReversalAttempts bounds the attempts before a reversal is stored as
	// pending for the host to resend, in [1, MaxReversalAttempts].
	ReversalAttempts int
	// BackoffInitial is the wait after the first failed reversal attempt;
	// it doubles up to BackoffMax.
	BackoffInitial, BackoffMax time.Duration
	// MaxTransactions bounds the outcomes remembered for idempotency
	// (oldest finished ones are forgotten first).
	MaxTransactions int
	// FirstSTAN is the first trace number issued (then +1, wrapping after
	// MaxSTAN); 0 means 1.
	FirstSTAN uint32
	// Now is the clock for the trail and field 7; nil means time.Now.
	Now func() time.Time
	// Assessor maps identification outcomes to the Result's risk.Signal.
	Assessor AssessorConfig
	// OnStep, if set, receives every trail step as it happens (for the
	// host's log), outside the processor's lock, so it may call the
	// Processor (Lookup …); it should return quickly, as the payment waits
	// for it. Steps of one payment arrive in trail order, except that a
	// late response may overtake the steps of a Pay still finishing.
	// Steps never carry a PAN or a whole token.
	OnStep func(txID string, s Step)
}

// Validate reports whether c is usable; errors wrap ErrConfig.
func (c ProcessorConfig) Validate() error {
	for _, d := range []time.Duration{c.IdentifyTimeout, c.AuthorizeTimeout, c.ReversalTimeout, c.BackoffInitial, c.BackoffMax} {
		if d < 0 {
			return fmt.Errorf("%w: negative duration %v", ErrConfig, d)
		}
	}
	if c.ReversalAttempts < 0 || c.ReversalAttempts > MaxReversalAttempts {
		return fmt.Errorf("%w: ReversalAttempts %d not in [0, %d]", ErrConfig, c.ReversalAttempts, MaxReversalAttempts)
	}
	if c.MaxTransactions < 0 {
		return fmt.Errorf("%w: MaxTransactions %d < 0", ErrConfig, c.MaxTransactions)
	}
	if c.FirstSTAN > MaxSTAN {
		return fmt.Errorf("%w: FirstSTAN %d > %d", ErrConfig, c.FirstSTAN, MaxSTAN)
	}
	return c.Assessor.Validate()
}

func (c ProcessorConfig) withDefaults() ProcessorConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.IdentifyTimeout, DefaultIdentifyTimeout)
	def(&c.AuthorizeTimeout, DefaultAuthorizeTimeout)
	def(&c.ReversalTimeout, DefaultReversalTimeout)
	def(&c.BackoffInitial, DefaultBackoffInitial)
	def(&c.BackoffMax, DefaultBackoffMax)
	if c.ReversalAttempts == 0 {
		c.ReversalAttempts = DefaultReversalAttempts
	}
	if c.MaxTransactions == 0 {
		c.MaxTransactions = DefaultMaxTransactions
	}
	if c.FirstSTAN == 0 {
		c.FirstSTAN = 1
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.Assessor = c.Assessor.withDefaults()
	return c
}

// Transaction is what the terminal asks to pay.
type Transaction struct {
	// ID is the idempotency key: a retried Pay with the same ID returns the
	// first outcome and never charges twice. 1 to MaxIDLen bytes.
	ID         string
	Amount     risk.Amount
	TerminalID string // at most 8 characters
	MerchantID string // at most 15 characters
}

// Validate checks the transaction; errors wrap ErrTransaction.
func (t Transaction) Validate() error {
	if t.ID == "" || len(t.ID) > MaxIDLen {
		return fmt.Errorf("%w: ID length %d not in [1, %d]", ErrTransaction, len(t.ID), MaxIDLen)
	}
	if t.TerminalID == "" || len(t.TerminalID) > 8 || len(t.MerchantID) > 15 {
		return fmt.Errorf("%w: terminal ID (1–8) or merchant ID (≤ 15) length", ErrTransaction)
	}
	return checkAmount(t.Amount)
}

// Status is the outcome of a payment.
type Status int

// Statuses. Only StatusApproved means the customer was charged.
const (
	StatusFailed          Status = iota // no answer we can act on; nothing charged
	StatusApproved                      // the issuer approved
	StatusDeclined                      // the issuer declined
	StatusNotIdentified                 // no enrolled person matched
	StatusAmbiguous                     // two candidates too close
	StatusNotLive                       // liveness check failed
	StatusReversed                      // authorisation timed out and was reversed
	StatusReversalPending               // timed out, reversal not yet acknowledged
)

var statusNames = [...]string{"failed", "approved", "declined", "not-identified", "ambiguous", "not-live", "reversed", "reversal-pending"}

// String returns a short lower-case name.
func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return fmt.Sprintf("status(%d)", int(s))
	}
	return statusNames[s]
}

// Trail step names.
const (
	StepIdentify     = "identify"
	StepAuthorize    = "authorize"
	StepAuthResponse = "auth-response"
	StepAuthTimeout  = "auth-timeout"
	StepReversal     = "reversal"
	StepReversalAck  = "reversal-ack"
	StepReversalFail = "reversal-failed"
	StepLateResponse = "late-response-ignored"
	// StepReversalQueued: a late approval came after the reversal was
	// acknowledged, so a new reversal waits in PendingReversals.
	StepReversalQueued = "reversal-queued"
	StepDone           = "done"
)

// Step is one entry of a payment's trail. It never holds a PAN or a whole
// token.
type Step struct {
	At     time.Time
	Name   string // one of the Step… constants
	Detail string
}

// Result is the outcome of Pay, safe to log: it carries the masked card
// reference and the last four characters of the token, never a PAN.
type Result struct {
	TransactionID string
	Status        Status
	CardRef       string
	MaskedToken   string
	// Score is the identification's top-1 similarity (NaN if none).
	Score float64
	// STAN and RRN of the authorisation, if one was sent.
	STAN uint32
	RRN  string
	// Auth is the issuer's response, if one arrived in time.
	Auth AuthResult
	// LateResponse is a response that arrived after the timeout; it was
	// ignored (and, if an approval, reversed), never captured.
	LateResponse *AuthResult
	// Signal is the identification outcome as evidence for risk.Fuse.
	Signal risk.Signal
	// Trail is every step, in order.
	Trail []Step
}

// payment is one transaction's state in the processor.
type payment struct {
	tx   Transaction
	done chan struct{}
	res  Result
	err  error
	// sent is set once the authorisation may have reached the issuer.
	sent bool
	// pending is the reversal to keep for the host when every attempt
	// failed; Pay publishes it together with the final status.
	pending *Reversal
	// forgotten is set when the payment was abandoned before anything was
	// sent and removed, so that callers waiting on it run it themselves.
	forgotten bool
	// req is the authorisation sent (once sent is set).
	req AuthRequest
	// reversalAcked is set while the last reversal sent was acknowledged
	// and no late approval has come since.
	reversalAcked bool
}

// Processor runs payments: identify → authorise → result, with timeouts,
// reversals and idempotency. It is safe for concurrent use. The zero
// Processor returns ErrNotInitialized.
type Processor struct {
	cfg  ProcessorConfig
	ids  IdentityServer
	auth Authorizer
	stan atomic.Uint32

	mu       sync.Mutex
	payments map[string]*payment
	order    []string          // finished IDs, oldest first, for eviction
	bySTAN   map[uint32]string // authorisation STAN → transaction ID
	pending  map[string]Reversal
}

// NewProcessor returns a processor over ids and auth. Errors wrap ErrConfig.
func NewProcessor(cfg ProcessorConfig, ids IdentityServer, auth Authorizer) (*Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ids == nil || auth == nil {
		return nil, fmt.Errorf("%w: nil IdentityServer or Authorizer", ErrConfig)
	}
	cfg = cfg.withDefaults()
	p := &Processor{cfg: cfg, ids: ids, auth: auth, payments: map[string]*payment{}, bySTAN: map[uint32]string{}, pending: map[string]Reversal{}}
	p.stan.Store(cfg.FirstSTAN - 1)
	return p, nil
}

func (p *Processor) nextSTAN() uint32 {
	for {
		old := p.stan.Load()
		n := old%MaxSTAN + 1
		if p.stan.CompareAndSwap(old, n) {
			return n
		}
	}
}

// rrn builds a 12-digit retrieval reference number: the last digit of the
// year, the day of the year, the hour, and the STAN (a common acquirer
// convention).
func rrn(t time.Time, stan uint32) string {
	t = t.UTC()
	return fmt.Sprintf("%01d%03d%02d%06d", t.Year()%10, t.YearDay(), t.Hour(), stan)
}

// Pay identifies the payer from s and authorises tx on their token.
//
// The returned error is nil exactly when the issuer gave a definite answer
// (StatusApproved or StatusDeclined). Otherwise it says why there is none —
// ErrNoMatch, ErrAmbiguous, ErrNotLive, ErrSample, ErrAuthTimeout (the
// authorisation timed out and was reversed), ErrReversalFailed (the
// reversal is pending: see PendingReversals), ErrIssuerUnavailable,
// ErrTransaction, ErrIDReuse or ctx.Err() — and the Result still carries
// the trail. A Pay with an ID seen before returns the first outcome, waiting
// for it if it is still running; a payment abandoned (ctx done) before its
// authorisation was sent is forgotten so it may be retried (a caller
// waiting on it then runs it).
//
// Once an authorisation may have reached the issuer, ctx ending stops the
// wait for the response but not the reversal that follows: Pay returns
// after at most AuthorizeTimeout + ReversalAttempts × ReversalTimeout plus
// the backoffs between attempts, and a reversal still unacknowledged then
// is kept in PendingReversals.
func (p *Processor) Pay(ctx context.Context, s Sample, tx Transaction) (Result, error) {
	if p.payments == nil {
		return Result{}, ErrNotInitialized
	}
	if err := tx.Validate(); err != nil {
		return Result{TransactionID: tx.ID}, err
	}
	p.mu.Lock()
	for {
		pm, ok := p.payments[tx.ID]
		if !ok {
			break
		}
		p.mu.Unlock()
		if pm.tx != tx {
			return Result{TransactionID: tx.ID}, fmt.Errorf("%w: %q", ErrIDReuse, truncate(tx.ID, 64))
		}
		select {
		case <-pm.done:
		case <-ctx.Done():
			return Result{TransactionID: tx.ID}, ctx.Err()
		}
		p.mu.Lock()
		if !pm.forgotten {
			defer p.mu.Unlock()
			return pm.res.clone(), pm.err
		}
		// The first caller gave up before anything reached the issuer and
		// the payment was forgotten: its context error is not ours, so
		// run the payment (unless another waiter already started it).
	}
	pm := &payment{tx: tx, done: make(chan struct{})}
	pm.res = Result{TransactionID: tx.ID}
	p.payments[tx.ID] = pm
	p.mu.Unlock()

	st, err := p.run(ctx, pm, s)

	p.mu.Lock()
	if pm.pending != nil && st == StatusReversed {
		// A late approval came after the reversal's acknowledgement
		// (LateResponse queued a new reversal).
		st = StatusReversalPending
		err = fmt.Errorf("%w: late approval after the reversal, reversal queued again (after %w)", ErrReversalFailed, err)
	}
	pm.res.Status = st
	pm.err = err
	done := p.stepLocked(pm, StepDone, st.String())
	res := pm.res.clone()
	if pm.pending != nil {
		// Made pending here, under the lock that publishes the status, so
		// a concurrent ResendReversals either sees neither or both.
		p.pending[tx.ID] = *pm.pending
	}
	if !pm.sent && ctx.Err() != nil {
		delete(p.payments, tx.ID) // nothing reached the issuer: allow a retry
		pm.forgotten = true
	} else {
		p.order = append(p.order, tx.ID)
		for len(p.order) > p.cfg.MaxTransactions {
			old := p.order[0]
			p.order = p.order[1:]
			if o := p.payments[old]; o != nil && p.bySTAN[o.res.STAN] == old {
				// Only if the STAN is still ours: after the counter wraps a
				// newer payment may hold it.
				delete(p.bySTAN, o.res.STAN)
			}
			delete(p.payments, old)
		}
	}
	close(pm.done)
	p.mu.Unlock()
	p.emit(tx.ID, done)
	return res, err
}

func (r Result) clone() Result {
	r.Trail = append([]Step(nil), r.Trail...)
	r.Signal.Reasons = append([]risk.Reason(nil), r.Signal.Reasons...)
	if r.LateResponse != nil {
		l := *r.LateResponse
		r.LateResponse = &l
	}
	return r
}

func (p *Processor) step(pm *payment, name, detail string) {
	p.mu.Lock()
	s := p.stepLocked(pm, name, detail)
	p.mu.Unlock()
	p.emit(pm.tx.ID, s)
}

// stepLocked appends a step to pm's trail; the caller holds p.mu and
// hands the step to emit once it has let go of the lock.
func (p *Processor) stepLocked(pm *payment, name, detail string) Step {
	s := Step{At: p.cfg.Now(), Name: name, Detail: detail}
	pm.res.Trail = append(pm.res.Trail, s)
	return s
}

// emit passes a step to OnStep. It is called without p.mu held, so the
// hook may call the Processor (Lookup, PendingReversals …).
func (p *Processor) emit(txID string, s Step) {
	if f := p.cfg.OnStep; f != nil {
		f(txID, s)
	}
}

func (p *Processor) run(ctx context.Context, pm *payment, s Sample) (Status, error) {
	tx := pm.tx
	// 1. Identify.
	ictx, cancel := context.WithTimeout(ctx, p.cfg.IdentifyTimeout)
	id, err := p.ids.Identify(ictx, s)
	cancel()
	sig := p.cfg.Assessor.signal(id, err)
	p.mu.Lock()
	pm.res.Signal = sig
	pm.res.Score = id.Score
	if err != nil {
		pm.res.Score = scoreOf(err)
	}
	p.mu.Unlock()
	if err != nil {
		p.step(pm, StepIdentify, "failed: "+err.Error())
		switch {
		case errors.Is(err, ErrNoMatch):
			return StatusNotIdentified, err
		case errors.Is(err, ErrAmbiguous):
			return StatusAmbiguous, err
		case errors.Is(err, ErrNotLive):
			return StatusNotLive, err
		}
		if ctx.Err() != nil {
			return StatusFailed, ctx.Err()
		}
		return StatusFailed, err
	}
	p.mu.Lock()
	pm.res.CardRef = id.CardRef
	pm.res.MaskedToken = MaskToken(id.Token)
	p.mu.Unlock()
	p.step(pm, StepIdentify, fmt.Sprintf("%s score %.4f", id.CardRef, id.Score))
	if err := ctx.Err(); err != nil {
		return StatusFailed, err
	}

	// 2. Authorise.
	now := p.cfg.Now().UTC()
	stan := p.nextSTAN()
	req := AuthRequest{
		TransactionID: tx.ID, Token: id.Token, Amount: tx.Amount, STAN: stan,
		RRN: rrn(now, stan), TransmittedAt: now, TerminalID: tx.TerminalID, MerchantID: tx.MerchantID,
	}
	p.mu.Lock()
	pm.sent = true
	pm.req = req
	pm.res.STAN, pm.res.RRN = stan, req.RRN
	p.bySTAN[stan] = tx.ID
	p.mu.Unlock()
	p.step(pm, StepAuthorize, fmt.Sprintf("0100 STAN %06d RRN %s %d %s", stan, req.RRN, tx.Amount.Minor, tx.Amount.Currency))
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.AuthorizeTimeout)
	stop := context.AfterFunc(ctx, cancel) // the caller giving up also ends the wait
	res, aerr := p.auth.Authorize(actx, req)
	stop()
	cancel()
	if aerr == nil && res.STAN != 0 && res.STAN != stan {
		aerr = fmt.Errorf("%w: response STAN %06d for request %06d", ErrIssuerUnavailable, res.STAN, stan)
	}
	if aerr == nil && len(res.ResponseCode) != 2 {
		// No verdict we can act on (the issuer may have approved): treat
		// it like a lost response and reverse.
		aerr = fmt.Errorf("%w: response with a %d-character response code", ErrIssuerUnavailable, len(res.ResponseCode))
	}
	if aerr == nil {
		p.mu.Lock()
		pm.res.Auth = res
		s := p.stepLocked(pm, StepAuthResponse, fmt.Sprintf("0110 STAN %06d code %s", stan, res.ResponseCode))
		p.mu.Unlock()
		p.emit(tx.ID, s)
		if res.Approved() {
			return StatusApproved, nil
		}
		return StatusDeclined, nil
	}
	if errors.Is(aerr, ErrTransaction) {
		return StatusFailed, aerr
	}
	// 3. No usable answer: the issuer may have approved. Reverse.
	p.step(pm, StepAuthTimeout, aerr.Error())
	rev := Reversal{Original: req, STAN: p.nextSTAN(), TransmittedAt: p.cfg.Now().UTC(), Reason: RespLateResponse}
	if err := p.reverse(context.WithoutCancel(ctx), pm, rev); err != nil {
		p.mu.Lock()
		pm.pending = &rev // published by Pay with the status
		p.mu.Unlock()
		return StatusReversalPending, fmt.Errorf("%w: %w (after %w)", ErrReversalFailed, err, timeoutErr(aerr))
	}
	return StatusReversed, timeoutErr(aerr)
}

// timeoutErr makes sure an authorisation failure wraps ErrAuthTimeout when
// it was a timeout.
func timeoutErr(err error) error {
	if errors.Is(err, ErrAuthTimeout) || errors.Is(err, ErrIssuerUnavailable) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w: %w", ErrAuthTimeout, err)
	}
	return fmt.Errorf("%w: %w", ErrIssuerUnavailable, err)
}

func scoreOf(err error) float64 {
	if me, ok := errors.AsType[*MatchError](err); ok {
		return me.Score
	}
	return nanF
}

var nanF = math.NaN()

// reverse sends rev until acknowledged, at most ReversalAttempts times with
// capped exponential backoff, and returns the last error.
func (p *Processor) reverse(ctx context.Context, pm *payment, rev Reversal) error {
	backoff := p.cfg.BackoffInitial
	var err error
	for attempt := 1; attempt <= p.cfg.ReversalAttempts; attempt++ {
		p.step(pm, StepReversal, fmt.Sprintf("0400 STAN %06d for %06d, attempt %d", rev.STAN, rev.Original.STAN, attempt))
		rctx, cancel := context.WithTimeout(ctx, p.cfg.ReversalTimeout)
		err = p.auth.Reverse(rctx, rev)
		cancel()
		if err == nil {
			p.mu.Lock()
			pm.reversalAcked = true
			p.mu.Unlock()
			p.step(pm, StepReversalAck, fmt.Sprintf("0410 STAN %06d", rev.STAN))
			return nil
		}
		if attempt == p.cfg.ReversalAttempts {
			break
		}
		t := time.NewTimer(backoff)
		<-t.C
		backoff = min(2*backoff, p.cfg.BackoffMax)
	}
	p.step(pm, StepReversalFail, fmt.Sprintf("after %d attempts: %v", p.cfg.ReversalAttempts, err))
	return err
}

// LateResponse hands the processor an authorisation response that arrived
// after its request timed out (an Authorizer's late-response hook calls
// it; an Authorizer must deliver each response either as Authorize's
// result or here, never both). The response is matched by STAN and
// recorded in the payment's trail and Result.LateResponse; it is never
// captured. A late approval that comes after the reversal was acknowledged
// queues a new reversal (StepReversalQueued, StatusReversalPending, see
// PendingReversals and ResendReversals): the acknowledged one may have
// overtaken the original at the issuer and undone nothing. It reports
// whether the response matched a timed-out payment.
func (p *Processor) LateResponse(res AuthResult) bool {
	if p.payments == nil {
		return false
	}
	p.mu.Lock()
	id, ok := p.bySTAN[res.STAN]
	if !ok {
		p.mu.Unlock()
		return false
	}
	pm := p.payments[id]
	// Late means: sent, and no response accepted. An Authorizer hands a
	// response either to Authorize's caller or to LateResponse, never both,
	// so one arriving before Pay has noted the timeout is late too.
	if pm == nil || !pm.sent || pm.res.Auth.ResponseCode != "" {
		p.mu.Unlock()
		return false
	}
	r := res
	pm.res.LateResponse = &r
	steps := []Step{p.stepLocked(pm, StepLateResponse, fmt.Sprintf("0110 STAN %06d code %s after timeout", res.STAN, res.ResponseCode))}
	if res.Approved() && pm.reversalAcked {
		// The issuer approved, and the reversal it acknowledged may have
		// overtaken the original (acknowledged for an unknown original,
		// then the original approved): reverse again. Reversals are
		// idempotent at the issuer, so this costs at most one message.
		pm.reversalAcked = false
		rev := Reversal{Original: pm.req, STAN: p.nextSTAN(), TransmittedAt: p.cfg.Now().UTC(), Reason: RespLateResponse}
		steps = append(steps, p.stepLocked(pm, StepReversalQueued, fmt.Sprintf("0400 STAN %06d for %06d after the late approval", rev.STAN, rev.Original.STAN)))
		select {
		case <-pm.done: // Pay has finished: publish now
			p.pending[id] = rev
			pm.res.Status = StatusReversalPending
			pm.err = fmt.Errorf("%w: late approval after the reversal, reversal queued again", ErrReversalFailed)
		default: // Pay publishes it with its status
			pm.pending = &rev
		}
	}
	p.mu.Unlock()
	for _, s := range steps {
		p.emit(id, s)
	}
	return true
}

// Lookup returns the outcome of a finished payment, including any late
// response recorded after Pay returned.
func (p *Processor) Lookup(txID string) (Result, bool) {
	if p.payments == nil {
		return Result{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pm, ok := p.payments[txID]
	if !ok {
		return Result{}, false
	}
	select {
	case <-pm.done:
		return pm.res.clone(), true
	default:
		return Result{}, false
	}
}

// PendingReversals returns the reversals that were never acknowledged, by
// transaction ID, for the host to store or resend.
func (p *Processor) PendingReversals() map[string]Reversal {
	if p.payments == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]Reversal, len(p.pending))
	for k, v := range p.pending {
		out[k] = v
	}
	return out
}

// ResendReversals sends every pending reversal once more (one attempt each,
// bounded by ReversalTimeout) and returns how many were acknowledged; the
// acknowledged ones leave the pending set and their payments become
// StatusReversed. Errors from the unacknowledged ones are joined.
func (p *Processor) ResendReversals(ctx context.Context) (int, error) {
	if p.payments == nil {
		return 0, ErrNotInitialized
	}
	pend := p.PendingReversals()
	n := 0
	var errs []error
	for id, rev := range pend {
		rctx, cancel := context.WithTimeout(ctx, p.cfg.ReversalTimeout)
		err := p.auth.Reverse(rctx, rev)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("transaction %q: %w", truncate(id, 64), err))
			continue
		}
		n++
		p.mu.Lock()
		delete(p.pending, id)
		var s *Step
		if pm := p.payments[id]; pm != nil {
			pm.res.Status = StatusReversed
			pm.reversalAcked = true
			pm.err = fmt.Errorf("%w: reversed on resend", ErrAuthTimeout)
			st := p.stepLocked(pm, StepReversalAck, fmt.Sprintf("0410 STAN %06d (resend)", rev.STAN))
			s = &st
		}
		p.mu.Unlock()
		if s != nil {
			p.emit(id, *s)
		}
	}
	return n, errors.Join(errs...)
}
