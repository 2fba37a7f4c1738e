//go:build race

package gobgp_test

// raceEnabled reports a -race build. GoBGP v4.8.0's StartBgp writes the
// package-level table.SelectionOptions that every speaker in the process
// reads while it propagates routes, so restarting one speaker while
// others run is a data race inside GoBGP (not in this adapter). Tests that
// restart a speaker skip that step under -race; .ci/run runs them again
// without it.
const raceEnabled = true
