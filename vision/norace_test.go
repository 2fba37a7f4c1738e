//go:build !race

package vision_test

const raceEnabled = false
