package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/payedge/payedge/biometric"
)

// EnrolmentStore is a biometric.EnrolmentStore on PostgreSQL (table
// payedge_biometric_enrolments). It stores the sealed bytes only, as the
// interface requires: the database never sees a template or a token in
// clear. Safe for concurrent use by any number of goroutines and processes.
type EnrolmentStore struct{ b base }

var _ biometric.EnrolmentStore = (*EnrolmentStore)(nil)

// NewEnrolmentStore returns a store on pool; run Migrate first.
func NewEnrolmentStore(pool *pgxpool.Pool) *EnrolmentStore {
	return &EnrolmentStore{b: base{pool: pool}}
}

func (s *EnrolmentStore) ready(ctx context.Context) error {
	if s == nil {
		return ErrNilPool
	}
	return s.b.ready(ctx)
}

// Put implements biometric.EnrolmentStore.
func (s *EnrolmentStore) Put(ctx context.Context, id string, sealed []byte) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	_, err := s.b.pool.Exec(ctx, `INSERT INTO payedge_biometric_enrolments (id, sealed) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET sealed = EXCLUDED.sealed`, id, sealed)
	return classify("put enrolment", err)
}

// Get implements biometric.EnrolmentStore: the sealed record, or an error
// wrapping biometric.ErrNotEnrolled.
func (s *EnrolmentStore) Get(ctx context.Context, id string) ([]byte, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	var sealed []byte
	err := s.b.pool.QueryRow(ctx, `SELECT sealed FROM payedge_biometric_enrolments WHERE id = $1`, id).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("pgstore: enrolment %q: %w", id, biometric.ErrNotEnrolled)
	}
	if err != nil {
		return nil, classify("get enrolment", err)
	}
	return sealed, nil
}

// Delete implements biometric.EnrolmentStore; an unknown id is an error
// wrapping biometric.ErrNotEnrolled.
func (s *EnrolmentStore) Delete(ctx context.Context, id string) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	tag, err := s.b.pool.Exec(ctx, `DELETE FROM payedge_biometric_enrolments WHERE id = $1`, id)
	if err != nil {
		return classify("delete enrolment", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: enrolment %q: %w", id, biometric.ErrNotEnrolled)
	}
	return nil
}

// Range implements biometric.EnrolmentStore. It reads the records in
// batches (a snapshot per batch), so it does not hold a connection while fn
// runs and fn may take its time.
func (s *EnrolmentStore) Range(ctx context.Context, fn func(id string, sealed []byte) error) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	const batch = 1000
	after := ""
	first := true
	for {
		rows, err := s.b.pool.Query(ctx, `SELECT id, sealed FROM payedge_biometric_enrolments
			WHERE $2 OR id > $1 ORDER BY id LIMIT $3`, after, first, batch)
		if err != nil {
			return classify("range enrolments", err)
		}
		type rec struct {
			id     string
			sealed []byte
		}
		var recs []rec
		for rows.Next() {
			var r rec
			if err := rows.Scan(&r.id, &r.sealed); err != nil {
				rows.Close()
				return classify("range enrolments", err)
			}
			recs = append(recs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return classify("range enrolments", err)
		}
		for _, r := range recs {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(r.id, r.sealed); err != nil {
				return err
			}
		}
		if len(recs) < batch {
			return nil
		}
		after, first = recs[len(recs)-1].id, false
	}
}
