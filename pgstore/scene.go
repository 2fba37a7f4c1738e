package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/payedge/payedge/vision"
)

// SceneStore is a vision.SceneStore on PostgreSQL (tables
// payedge_vision_merchants and payedge_vision_scenes). Fingerprints are
// stored in vision's own MarshalBinary form. It is safe for concurrent use
// by any number of goroutines and processes sharing the database.
type SceneStore struct {
	b base
	// MaxReferences bounds the references kept per merchant (0 means
	// vision.DefaultMaxReferences); Add returns vision.ErrStoreFull beyond
	// it. The bound holds across processes: the count is updated in the
	// same transaction as the insert. Set it before the store is shared.
	MaxReferences int
}

var _ vision.SceneStore = (*SceneStore)(nil)

// NewSceneStore returns a store on pool; run Migrate first.
func NewSceneStore(pool *pgxpool.Pool) *SceneStore { return &SceneStore{b: base{pool: pool}} }

func (s *SceneStore) ready(ctx context.Context) error {
	if s == nil {
		return ErrNilPool
	}
	return s.b.ready(ctx)
}

// References implements vision.SceneStore: the merchant's fingerprints in
// insertion order (none, with a nil error, for an unknown merchant). A row
// that does not decode is reported as ErrCorrupt.
func (s *SceneStore) References(ctx context.Context, merchantID string) ([]*vision.Fingerprint, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	rows, err := s.b.pool.Query(ctx, `SELECT seq, fingerprint FROM payedge_vision_scenes
		WHERE merchant_id = $1 ORDER BY seq`, merchantID)
	if err != nil {
		return nil, classify("read scenes", err)
	}
	defer rows.Close()
	var out []*vision.Fingerprint
	for rows.Next() {
		var seq int
		var raw []byte
		if err := rows.Scan(&seq, &raw); err != nil {
			return nil, classify("read scenes", err)
		}
		fp := new(vision.Fingerprint)
		if err := fp.UnmarshalBinary(raw); err != nil {
			return nil, &DecodeError{Table: "payedge_vision_scenes", Key: fmt.Sprintf("%s/%d", merchantID, seq), Err: err}
		}
		out = append(out, fp)
	}
	if err := rows.Err(); err != nil {
		return nil, classify("read scenes", err)
	}
	return out, nil
}

// Add implements vision.SceneStore. A nil fingerprint is rejected with
// vision.ErrBadFingerprint, a merchant already holding MaxReferences with
// vision.ErrStoreFull; either way nothing is written.
func (s *SceneStore) Add(ctx context.Context, merchantID string, fp *vision.Fingerprint) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if fp == nil {
		return fmt.Errorf("pgstore: nil reference for %q: %w", merchantID, vision.ErrBadFingerprint)
	}
	enc, err := fp.MarshalBinary()
	if err != nil {
		return fmt.Errorf("pgstore: encode fingerprint: %w", err)
	}
	limit := s.MaxReferences
	if limit <= 0 {
		limit = vision.DefaultMaxReferences
	}
	var full error
	err = pgx.BeginFunc(ctx, s.b.pool, func(tx pgx.Tx) error {
		var n int
		// The upsert takes the merchant row's lock, so concurrent Adds of one
		// merchant are numbered and bounded one after the other.
		if err := tx.QueryRow(ctx, `INSERT INTO payedge_vision_merchants (merchant_id, n) VALUES ($1, 1)
			ON CONFLICT (merchant_id) DO UPDATE SET n = payedge_vision_merchants.n + 1
			RETURNING n`, merchantID).Scan(&n); err != nil {
			return err
		}
		if n > limit {
			full = fmt.Errorf("pgstore: merchant %q has %d: %w", merchantID, limit, vision.ErrStoreFull)
			return full
		}
		_, err := tx.Exec(ctx, `INSERT INTO payedge_vision_scenes (merchant_id, seq, fingerprint) VALUES ($1, $2, $3)`,
			merchantID, n, enc)
		return err
	})
	if full != nil && errors.Is(err, full) {
		return full
	}
	return classify("add scene", err)
}
