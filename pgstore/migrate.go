package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SchemaVersion is the schema version this package writes and reads.
const SchemaVersion = 2

// migrations[i] upgrades a schema from version i to i+1.
var migrations = []string{
	`CREATE TABLE IF NOT EXISTS payedge_risk_profiles (
		terminal_id text PRIMARY KEY,
		profile     jsonb NOT NULL,
		version     bigint NOT NULL DEFAULT 1,
		updated_at  timestamptz NOT NULL DEFAULT now()
	);
	CREATE TABLE IF NOT EXISTS payedge_geo_sites (
		merchant_id text PRIMARY KEY,
		site        jsonb NOT NULL,
		version     bigint NOT NULL DEFAULT 1
	);
	CREATE TABLE IF NOT EXISTS payedge_vision_merchants (
		merchant_id text PRIMARY KEY,
		n           integer NOT NULL
	);
	CREATE TABLE IF NOT EXISTS payedge_vision_scenes (
		merchant_id text NOT NULL REFERENCES payedge_vision_merchants(merchant_id),
		seq         integer NOT NULL,
		fingerprint bytea NOT NULL,
		PRIMARY KEY (merchant_id, seq)
	);`,
	`CREATE TABLE IF NOT EXISTS payedge_biometric_enrolments (
		id     text PRIMARY KEY,
		sealed bytea NOT NULL
	);
	CREATE TABLE IF NOT EXISTS payedge_sdn_tenants (
		tenant_id text PRIMARY KEY,
		record    jsonb NOT NULL
	);`,
}

// migrationLockKey is the advisory lock Migrate holds, so that several
// instances starting at once migrate one after the other.
const migrationLockKey = 0x7061796564676501 // "payedge\x01"

// Migrate creates or upgrades payedge's tables in the pool's current
// search_path to SchemaVersion. It is idempotent. A database at a newer
// version is refused with ErrSchemaTooNew and left untouched. Errors wrap
// ErrUnavailable when the server cannot be reached, and ErrNilPool for a nil pool.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	if pool == nil {
		return ErrNilPool
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLockKey)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS payedge_schema (
			only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
			version  integer NOT NULL)`); err != nil {
			return err
		}
		var v int
		err := tx.QueryRow(ctx, `SELECT version FROM payedge_schema`).Scan(&v)
		switch {
		case err == pgx.ErrNoRows:
			v = 0
		case err != nil:
			return err
		}
		if v > SchemaVersion {
			return fmt.Errorf("%w: database at version %d, pgstore knows %d", ErrSchemaTooNew, v, SchemaVersion)
		}
		for ; v < SchemaVersion; v++ {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return fmt.Errorf("migration %d→%d: %w", v, v+1, err)
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO payedge_schema (version) VALUES ($1)
			ON CONFLICT (only_row) DO UPDATE SET version = EXCLUDED.version`, v)
		return err
	})
	return classify("migrate", err)
}

// checkVersion reports ErrSchemaTooNew when the database is ahead of this
// package, so that an old binary never writes rows a newer one owns, and
// ErrNotMigrated when it was never migrated or is behind.
func checkVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) error {
	var v int
	err := q.QueryRow(ctx, `SELECT version FROM payedge_schema`).Scan(&v)
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows), errors.As(err, &pgErr) && pgErr.Code == "42P01": // undefined_table
		return fmt.Errorf("%w: no payedge schema in the search path", ErrNotMigrated)
	case err != nil:
		return err
	case v > SchemaVersion:
		return fmt.Errorf("%w: database at version %d, pgstore knows %d", ErrSchemaTooNew, v, SchemaVersion)
	case v < SchemaVersion:
		return fmt.Errorf("%w: database at version %d, pgstore needs %d", ErrNotMigrated, v, SchemaVersion)
	}
	return nil
}
