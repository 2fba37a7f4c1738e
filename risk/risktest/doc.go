// Package risktest checks implementations of the interfaces of package risk,
// in the manner of testing/fstest: a host that stores neighbour profiles in
// Redis or SQL runs the same contract checks as risk.MemoryStore with one
// call: TestProfileStore(t, newStore), the conformance suite, from a test
// (CheckProfileStore, deprecated, runs the same checks without a T).
//
// The contract is the documentation of risk.ProfileStore: a missing profile
// is an error wrapping risk.ErrNoProfile; Update passes the current profile
// (nil when none) to its function, stores the result atomically, stores
// nothing when the function fails, deletes on a nil result, and loses no
// update under concurrent writers; the store owns what it holds (changing a
// profile it handed out, or one fn received or returned, does not change the
// stored one); a done context is an error wrapping ctx.Err().
package risktest
