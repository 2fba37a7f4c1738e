package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/payedge/payedge/geo"
	"github.com/payedge/payedge/pgstore"
	"github.com/payedge/payedge/risk"
	"github.com/payedge/payedge/vision"
)

// siteStore is a geo.SiteStore the story can register the shop in.
type siteStore interface {
	geo.SiteStore
	Put(ctx context.Context, merchantID string, site geo.Site) error
}

// stores are where the story keeps what terminals learn and merchants
// register: in memory, or on PostgreSQL with -db.
type stores struct {
	profiles risk.ProfileStore
	scenes   vision.SceneStore
	sites    siteStore
	close    func()
	where    string
}

func memoryStores() stores {
	return stores{profiles: risk.NewMemoryStore(), scenes: vision.NewMemoryStore(), sites: geo.NewMemorySiteStore(),
		close: func() {}, where: "in memory"}
}

// dbSchema is the schema the story recreates on each run, so every run
// starts from an empty database and prints the same story.
const dbSchema = "payedge_checkout"

// postgresStores recreates dbSchema on the server at url, migrates it and
// returns pgstore's stores on it.
func postgresStores(ctx context.Context, url string) (stores, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return stores{}, fmt.Errorf("connecting to %s: %w", redact(url), err)
	}
	_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+dbSchema+" CASCADE; CREATE SCHEMA "+dbSchema)
	conn.Close(ctx)
	if err != nil {
		return stores{}, fmt.Errorf("recreating schema %s: %w", dbSchema, err)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return stores{}, err
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = dbSchema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return stores{}, err
	}
	if err := pgstore.Migrate(ctx, pool); err != nil {
		pool.Close()
		return stores{}, err
	}
	return stores{
		profiles: pgstore.NewProfileStore(pool), scenes: pgstore.NewSceneStore(pool), sites: pgstore.NewSiteStore(pool),
		close: pool.Close, where: fmt.Sprintf("on PostgreSQL (%s, schema %s)", redact(url), dbSchema),
	}, nil
}

// redact drops a password from a connection URL for printing.
func redact(url string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "(unparsable URL)"
	}
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}
