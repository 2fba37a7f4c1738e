//go:build race

package vision_test

// raceEnabled shrinks the heaviest tests under the race detector, which
// slows pixel loops twenty-fold; the full sizes run without -race and in
// examples/vision.
const raceEnabled = true
