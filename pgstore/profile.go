package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/payedge/payedge/risk"
)

// ProfileStore is a risk.ProfileStore on PostgreSQL (table
// payedge_risk_profiles). It is safe for concurrent use by any number of
// goroutines and processes sharing the database.
//
// Profiles are stored as JSON of risk.Profile (every exported field) and
// validated with Profile.Validate when read, so a row edited by hand into an
// invalid profile is reported as ErrCorrupt instead of being scored.
type ProfileStore struct{ b base }

var _ risk.ProfileStore = (*ProfileStore)(nil)

// NewProfileStore returns a store on pool; run Migrate first.
func NewProfileStore(pool *pgxpool.Pool) *ProfileStore { return &ProfileStore{b: base{pool: pool}} }

func (s *ProfileStore) ready(ctx context.Context) error {
	if s == nil {
		return ErrNilPool
	}
	return s.b.ready(ctx)
}

// Profile implements risk.ProfileStore. It returns a profile the caller
// owns, an error wrapping risk.ErrNoProfile when there is none, ErrCorrupt
// for a row that does not decode, ErrUnavailable when the server is down.
func (s *ProfileStore) Profile(ctx context.Context, terminalID string) (*risk.Profile, error) {
	if err := s.ready(ctx); err != nil {
		return nil, err
	}
	var raw []byte
	err := s.b.pool.QueryRow(ctx, `SELECT profile FROM payedge_risk_profiles WHERE terminal_id = $1`, terminalID).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("pgstore: terminal %q: %w", terminalID, risk.ErrNoProfile)
	}
	if err != nil {
		return nil, classify("read profile", err)
	}
	return decodeProfile(terminalID, raw)
}

func decodeProfile(terminalID string, raw []byte) (*risk.Profile, error) {
	p := new(risk.Profile)
	if err := json.Unmarshal(raw, p); err != nil {
		return nil, &DecodeError{Table: "payedge_risk_profiles", Key: terminalID, Err: err}
	}
	if err := p.Validate(); err != nil {
		return nil, &DecodeError{Table: "payedge_risk_profiles", Key: terminalID, Err: err}
	}
	return p, nil
}

// Update implements risk.ProfileStore: in one transaction it locks the
// terminal's row (creating a placeholder when there is none, so that two
// first learns of one terminal also serialise), calls fn with the current
// profile (nil when none) and writes or deletes the result. If fn fails or
// anything else does, the transaction is rolled back and nothing changes.
// fn may be called more than once only if the caller retries Update.
func (s *ProfileStore) Update(ctx context.Context, terminalID string, fn func(current *risk.Profile) (*risk.Profile, error)) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if fn == nil {
		return fmt.Errorf("pgstore: nil update function: %w", risk.ErrProfile)
	}
	var fnErr error
	err := pgx.BeginFunc(ctx, s.b.pool, func(tx pgx.Tx) error {
		// The placeholder row holds JSON null; it exists only inside this
		// transaction unless fn's result replaces it.
		if _, err := tx.Exec(ctx, `INSERT INTO payedge_risk_profiles (terminal_id, profile, version)
			VALUES ($1, 'null'::jsonb, 0) ON CONFLICT (terminal_id) DO NOTHING`, terminalID); err != nil {
			return err
		}
		var raw []byte
		var version int64
		if err := tx.QueryRow(ctx, `SELECT profile, version FROM payedge_risk_profiles
			WHERE terminal_id = $1 FOR UPDATE`, terminalID).Scan(&raw, &version); err != nil {
			return err
		}
		var cur *risk.Profile
		if version > 0 {
			p, err := decodeProfile(terminalID, raw)
			if err != nil {
				fnErr = err
				return err
			}
			cur = p
		}
		next, err := fn(cur)
		if err != nil {
			fnErr = err
			return err
		}
		if next == nil {
			_, err := tx.Exec(ctx, `DELETE FROM payedge_risk_profiles WHERE terminal_id = $1`, terminalID)
			return err
		}
		if next.TerminalID != terminalID {
			fnErr = fmt.Errorf("pgstore: profile of %q stored under %q: %w", next.TerminalID, terminalID, risk.ErrProfile)
			return fnErr
		}
		if err := next.Validate(); err != nil {
			fnErr = err
			return err
		}
		enc, err := json.Marshal(next)
		if err != nil {
			fnErr = fmt.Errorf("pgstore: encode profile: %w", err)
			return fnErr
		}
		_, err = tx.Exec(ctx, `UPDATE payedge_risk_profiles
			SET profile = $2, version = $3, updated_at = now() WHERE terminal_id = $1`, terminalID, enc, version+1)
		return err
	})
	if fnErr != nil && errors.Is(err, fnErr) {
		return fnErr
	}
	return classify("update profile", err)
}
