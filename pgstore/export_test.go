package pgstore

// Migrations exposes the upgrade steps to the tests, which build a
// database at an older version from them.
var Migrations = migrations
