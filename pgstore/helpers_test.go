package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/payedge/payedge/pgstore"
)

// databaseURL returns PAYEDGE_TEST_DATABASE_URL, skipping the test when it is
// unset — unless PAYEDGE_REQUIRE_DB is set (as in CI), where a missing server
// is a failure.
func databaseURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("PAYEDGE_TEST_DATABASE_URL")
	if url == "" {
		if os.Getenv("PAYEDGE_REQUIRE_DB") != "" {
			t.Fatal("PAYEDGE_REQUIRE_DB is set but PAYEDGE_TEST_DATABASE_URL is not: start a server with .ci/postgres.sh")
		}
		t.Skip("PAYEDGE_TEST_DATABASE_URL not set; run `eval \"$(.ci/postgres.sh start)\"` to test against PostgreSQL")
	}
	return url
}

// newSchema creates a fresh schema on the test server and returns its name.
func newSchema(t testing.TB) string {
	t.Helper()
	url := databaseURL(t)
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a, err := pgxpool.New(context.Background(), url)
		if err != nil {
			return
		}
		defer a.Close()
		a.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	return schema
}

// poolFor opens a pool whose search_path is schema and migrates it.
func poolFor(t testing.TB, schema string) *pgxpool.Pool {
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
	if err := pgstore.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

// newPool returns a migrated pool on a fresh schema.
func newPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return poolFor(t, newSchema(t))
}
