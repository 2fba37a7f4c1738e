package vehicle

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// Transfer moves Amount minor units from one account to another. ID is the
// idempotency key: a platform moves money at most once per ID.
type Transfer struct {
	ID       string
	From, To string // accounts
	Amount   int64  // minor units, > 0
}

// Validate checks the ID, accounts and amount.
func (t Transfer) Validate() error {
	if err := checkID("transfer ID", t.ID); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidTransfer, err)
	}
	if err := checkID("payer account", t.From); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidTransfer, err)
	}
	if err := checkID("payee account", t.To); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidTransfer, err)
	}
	if t.From == t.To {
		return fmt.Errorf("%w: payer and payee are the same account", ErrInvalidTransfer)
	}
	if t.Amount <= 0 {
		return fmt.Errorf("%w: amount %d, want > 0", ErrInvalidTransfer, t.Amount)
	}
	return nil
}

// Receipt is the platform's answer to a transfer.
type Receipt struct {
	Transfer
	At time.Time // when the money moved
	// Duplicate is true when this ID had already moved money and this call
	// moved none.
	Duplicate bool
}

// PaymentPlatform settles transfers between vehicles' accounts.
//
// Transfer must be idempotent by Transfer.ID: the first successful call
// moves the money; every later call with the same ID and content returns
// the same receipt with Duplicate set and moves nothing; a later call with
// the same ID and different content returns ErrTransferConflict. A failed
// transfer moves nothing. Implementations must be safe for concurrent use.
type PaymentPlatform interface {
	Transfer(ctx context.Context, t Transfer) (Receipt, error)
}

// PlatformConfig configures a MemoryPlatform. The zero value is usable and
// stamps receipts with the zero time.
type PlatformConfig struct {
	Now func() time.Time // receipt clock; nil stamps the zero time
}

// Validate accepts every PlatformConfig; it exists so all configs share a shape.
func (PlatformConfig) Validate() error { return nil }

// MemoryPlatform is the in-memory PaymentPlatform: accounts with integer
// balances and idempotent transfers. The sum of all balances changes only
// through Open. It is safe for concurrent use; receipts are kept for the
// life of the platform.
type MemoryPlatform struct {
	mu       sync.Mutex
	now      func() time.Time
	balances map[string]int64
	total    int64 // sum of balances; Open keeps it ≤ math.MaxInt64, so no balance can overflow
	receipts map[string]Receipt
}

var _ PaymentPlatform = (*MemoryPlatform)(nil)

// NewMemoryPlatform returns a platform with no accounts.
func NewMemoryPlatform(cfg PlatformConfig) (*MemoryPlatform, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	now := cfg.Now
	if now == nil {
		now = func() time.Time { return time.Time{} }
	}
	return &MemoryPlatform{now: now, balances: map[string]int64{}, receipts: map[string]Receipt{}}, nil
}

func (p *MemoryPlatform) ready(ctx context.Context) error {
	if p == nil || p.balances == nil {
		return ErrNotInitialized
	}
	return ctx.Err()
}

// Open creates an account with an opening balance (≥ 0). The sum of all
// balances must stay within int64 (ErrInvalidTransfer otherwise), so no
// transfer can ever overflow a balance.
func (p *MemoryPlatform) Open(ctx context.Context, account string, balance int64) error {
	if err := p.ready(ctx); err != nil {
		return err
	}
	if err := checkID("account", account); err != nil {
		return err
	}
	if balance < 0 {
		return fmt.Errorf("%w: opening balance %d is negative", ErrInvalidTransfer, balance)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.balances[account]; ok {
		return fmt.Errorf("%w: %q", ErrAccountExists, account)
	}
	if balance > math.MaxInt64-p.total {
		return fmt.Errorf("%w: opening balance %d would take the platform's total past %d", ErrInvalidTransfer, balance, int64(math.MaxInt64))
	}
	p.balances[account] = balance
	p.total += balance
	return nil
}

// Balance returns an account's balance.
func (p *MemoryPlatform) Balance(ctx context.Context, account string) (int64, error) {
	if err := p.ready(ctx); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b, ok := p.balances[account]
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrUnknownAccount, account)
	}
	return b, nil
}

// Total returns the sum of all balances.
func (p *MemoryPlatform) Total(ctx context.Context) (int64, error) {
	if err := p.ready(ctx); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var s int64
	for _, b := range p.balances {
		s += b // cannot overflow: Open bounds the total
	}
	return s, nil
}

// Transfer implements PaymentPlatform.
func (p *MemoryPlatform) Transfer(ctx context.Context, t Transfer) (Receipt, error) {
	if err := p.ready(ctx); err != nil {
		return Receipt{}, err
	}
	if err := t.Validate(); err != nil {
		return Receipt{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.receipts[t.ID]; ok {
		if r.Transfer != t {
			return Receipt{}, fmt.Errorf("%w: %q", ErrTransferConflict, t.ID)
		}
		r.Duplicate = true
		return r, nil
	}
	from, ok := p.balances[t.From]
	if !ok {
		return Receipt{}, fmt.Errorf("%w: payer %q", ErrUnknownAccount, t.From)
	}
	if _, ok := p.balances[t.To]; !ok {
		return Receipt{}, fmt.Errorf("%w: payee %q", ErrUnknownAccount, t.To)
	}
	if from < t.Amount {
		return Receipt{}, fmt.Errorf("%w: %q has %d, needs %d", ErrInsufficientFunds, t.From, from, t.Amount)
	}
	p.balances[t.From] -= t.Amount
	p.balances[t.To] += t.Amount
	r := Receipt{Transfer: t, At: p.now()}
	p.receipts[t.ID] = r
	return r, nil
}
