package pgstore

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"
)

// base is what every store shares: the pool and a once-per-store schema
// version check.
type base struct {
	pool    *pgxpool.Pool
	checked atomic.Bool
}

func (b *base) ready(ctx context.Context) error {
	if b == nil || b.pool == nil {
		return ErrNilPool
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if b.checked.Load() {
		return nil
	}
	if err := checkVersion(ctx, b.pool); err != nil {
		return classify("schema version", err)
	}
	b.checked.Store(true)
	return nil
}
