package pgstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/payedge/payedge/pgstore"
	"github.com/payedge/payedge/risk"
	"github.com/payedge/payedge/sdn"
)

// rawPool opens a pool on schema without migrating it.
func rawPool(t *testing.T, schema string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(databaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// A database written by the version-1 schema (profiles, sites, scenes) is
// upgraded to version 2 by Migrate: its rows stay, the version-2 stores
// work, and migrating again changes nothing.
func TestMigrateV1ToV2(t *testing.T) {
	if pgstore.SchemaVersion != 2 || len(pgstore.Migrations) != 2 {
		t.Fatalf("schema version %d with %d migrations: extend this test", pgstore.SchemaVersion, len(pgstore.Migrations))
	}
	ctx := t.Context()
	pool := rawPool(t, newSchema(t))
	for _, q := range []string{
		`CREATE TABLE payedge_schema (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row), version integer NOT NULL)`,
		pgstore.Migrations[0],
		`INSERT INTO payedge_schema (version) VALUES (1)`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// A profile row as a version-1 pgstore wrote it (the table is
	// unchanged by version 2: learn on a migrated database, copy the row).
	src := newPool(t)
	if err := learn(ctx, pgstore.NewProfileStore(src), "T1"); err != nil {
		t.Fatal(err)
	}
	before, err := pgstore.NewProfileStore(src).Profile(ctx, "T1")
	if err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if err := src.QueryRow(ctx, `SELECT profile FROM payedge_risk_profiles WHERE terminal_id = 'T1'`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO payedge_risk_profiles (terminal_id, profile) VALUES ('T1', $1)`, raw); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := pgstore.Migrate(ctx, pool); err != nil {
			t.Fatalf("Migrate 1→2: %v", err)
		}
	}
	var v int
	if err := pool.QueryRow(ctx, `SELECT version FROM payedge_schema`).Scan(&v); err != nil || v != 2 {
		t.Fatalf("version after Migrate: %d, %v", v, err)
	}
	after, err := pgstore.NewProfileStore(pool).Profile(ctx, "T1")
	if err != nil || after.Weight != before.Weight || after.TerminalID != "T1" {
		t.Errorf("profile after upgrade: %+v, %v; want %+v", after, err, before)
	}
	tenants := pgstore.NewTenantStore(pool)
	rec := sdn.TenantRecord{Spec: sdn.TenantSpec{ID: "a"}, Binding: sdn.Binding{VNI: 10000, VRF: "t-a"}, State: sdn.TenantActive}
	if err := tenants.Put(ctx, rec); err != nil {
		t.Fatalf("version-2 table after upgrade: %v", err)
	}
	if got, err := tenants.Get(ctx, "a"); err != nil || got.Binding.VNI != 10000 {
		t.Errorf("tenant after upgrade: %+v, %v", got, err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM payedge_schema`).Scan(&n); err != nil || n != 1 {
		t.Errorf("payedge_schema holds %d rows, %v", n, err)
	}
}

// Several instances migrating a fresh database at once all succeed, one
// after the other.
func TestMigrateConcurrent(t *testing.T) {
	schema := newSchema(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		pool := rawPool(t, schema)
		wg.Go(func() { errs[i] = pgstore.Migrate(t.Context(), pool) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
}

// A store on a database that was never migrated, or is at an older
// version, says so with ErrNotMigrated instead of a raw SQL error.
func TestNotMigrated(t *testing.T) {
	ctx := t.Context()
	fresh := rawPool(t, newSchema(t))
	if _, err := pgstore.NewTenantStore(fresh).List(ctx); !errors.Is(err, pgstore.ErrNotMigrated) {
		t.Errorf("List on an empty database: %v, want ErrNotMigrated", err)
	}
	if _, err := pgstore.NewProfileStore(fresh).Profile(ctx, "T"); !errors.Is(err, pgstore.ErrNotMigrated) {
		t.Errorf("Profile on an empty database: %v, want ErrNotMigrated", err)
	}
	old := rawPool(t, newSchema(t))
	for _, q := range []string{
		`CREATE TABLE payedge_schema (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row), version integer NOT NULL)`,
		pgstore.Migrations[0],
		`INSERT INTO payedge_schema (version) VALUES (1)`,
	} {
		if _, err := old.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := pgstore.NewTenantStore(old).Put(ctx, sdn.TenantRecord{Spec: sdn.TenantSpec{ID: "a"}}); !errors.Is(err, pgstore.ErrNotMigrated) {
		t.Errorf("Put on a version-1 database: %v, want ErrNotMigrated", err)
	}
	if err := pgstore.Migrate(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := pgstore.NewProfileStore(old).Profile(ctx, "T"); !errors.Is(err, risk.ErrNoProfile) {
		t.Errorf("after Migrate: %v, want ErrNoProfile", err)
	}
}

// Two switch instances: only one may run the sdn controller at a time; the
// lock passes on when the holder unlocks or its connection goes away.
func TestTenantStoreLock(t *testing.T) {
	ctx := t.Context()
	schema := newSchema(t)
	a := pgstore.NewTenantStore(poolFor(t, schema))
	b := pgstore.NewTenantStore(poolFor(t, schema))
	unlock, err := a.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Lock(ctx); !errors.Is(err, pgstore.ErrLocked) {
		t.Errorf("second client: %v, want ErrLocked", err)
	}
	unlock()
	unlock() // twice is harmless
	unlockB, err := b.Lock(ctx)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	if _, err := a.Lock(ctx); !errors.Is(err, pgstore.ErrLocked) {
		t.Errorf("first client while the second holds it: %v, want ErrLocked", err)
	}
	// The holder dies: the server ends its session.
	admin := poolFor(t, schema)
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	unlockB() // on a dead connection: no panic, no hang
	// pg_terminate_backend only signals: the backend ends, and its
	// session locks go, a moment later. Wait (bounded) for the server to
	// drop them before asking again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var held int
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_locks
			WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`).Scan(&held); err != nil {
			t.Fatal(err)
		}
		if held == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("advisory lock still held %v after the holder was terminated", 10*time.Second)
		}
		time.Sleep(10 * time.Millisecond)
	}
	unlockA, err := a.Lock(ctx)
	if err != nil {
		t.Fatalf("after the holder's connections closed: %v", err)
	}
	unlockA()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := a.Lock(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// Tenant rows that do not decode — bad JSON, an RD that does not parse, a
// row holding another tenant — are DecodeErrors from Get and List, and a
// controller refuses to start on them rather than allocating around them.
func TestCorruptTenantRows(t *testing.T) {
	ctx := t.Context()
	for key, raw := range map[string]string{
		"a": `{"Spec": {"ID": "a"}, "Binding": {"RD": {"p1": "not-an-rd"}}}`,
		"b": `{"Spec": {"ID": "c"}}`,
		"d": `[1, 2]`,
	} {
		pool := newPool(t)
		if _, err := pool.Exec(ctx, `INSERT INTO payedge_sdn_tenants (tenant_id, record) VALUES ($1, $2)`, key, raw); err != nil {
			t.Fatal(err)
		}
		s := pgstore.NewTenantStore(pool)
		var de *pgstore.DecodeError
		if _, err := s.Get(ctx, key); !errors.As(err, &de) || de.Key != key || !errors.Is(err, pgstore.ErrCorrupt) {
			t.Errorf("Get(%s) = %v, want a DecodeError for it", key, err)
		}
		if _, err := s.List(ctx); !errors.Is(err, pgstore.ErrCorrupt) {
			t.Errorf("List with corrupt %s = %v, want ErrCorrupt", key, err)
		}
		if _, err := sdn.NewController(ctx, sdn.Config{}, s, nil); !errors.Is(err, pgstore.ErrCorrupt) {
			t.Errorf("NewController on corrupt %s = %v, want ErrCorrupt", key, err)
		}
	}
}
