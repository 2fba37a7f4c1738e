// Package pgstore keeps payedge's stores on PostgreSQL through
// github.com/jackc/pgx/v5, so that learned and registered state survives
// restarts and is shared by several switch instances.
//
// # Stores
//
//   - [ProfileStore] is a [risk.ProfileStore]: learned neighbour profiles,
//     one row per terminal. Update is a read-modify-write inside one
//     transaction holding the row lock (SELECT … FOR UPDATE), so two switch
//     instances learning the same terminal at once lose no update.
//   - [SiteStore] is a [geo.SiteStore] with Put and Delete: merchants'
//     registered sites.
//   - [SceneStore] is a [vision.SceneStore]: merchants' reference scene
//     fingerprints in the package's own MarshalBinary form, with the same
//     per-merchant bound as vision.MemoryStore, enforced atomically.
//   - [EnrolmentStore] is a [biometric.EnrolmentStore]: sealed enrolment
//     records (the database never sees a template or token in clear).
//   - [TenantStore] is an [sdn.Store]: the region-interconnect
//     controller's tenant records, so a restarted controller re-reserves
//     exactly the identifiers it held.
//
// Each passes its package's conformance suite (risktest.TestProfileStore,
// geotest.TestSiteStore, visiontest.TestSceneStore, biometrictest.TestEnrolmentStore,
// sdntest.TestStore) against a real server.
//
// # Schema
//
// [Migrate] creates or upgrades the schema in the connection's search_path.
// It is idempotent and versioned: a schema newer than this package knows is
// refused with [ErrSchemaTooNew] rather than written to, and a store on a
// database that was never migrated or is behind reports [ErrNotMigrated]
// (version 1 → 2 upgrades keep every row). Run it once at
// start-up (several instances may run it at once: it takes an advisory lock).
//
// # Errors
//
// A server that cannot be reached is reported as an error matching
// [ErrUnavailable]; a row that does not decode as [ErrCorrupt] (with a
// [*DecodeError] naming table and key); a cancelled context as ctx.Err().
// Every write is one transaction: on any error nothing is written.
//
// # Quick start
//
//	pool, err := pgxpool.New(ctx, "postgres://…")
//	if err != nil { return err }
//	if err := pgstore.Migrate(ctx, pool); err != nil { return err }
//	profiles := pgstore.NewProfileStore(pool)
//	scorer, err := risk.NewNeighborAssessor(risk.NeighborConfig{}, profiles)
//
// This package lives in its own module so that pgx never reaches a user who
// imports only the core library.
package pgstore
