//go:build race

package main

// raceEnabled: the race detector slows training about thirtyfold.
const raceEnabled = true
