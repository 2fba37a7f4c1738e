// Package visiontest is the evaluation harness for package vision: a seeded
// generator of photos of synthetic shop scenes and of "re-shot" pairs (the
// same planar scene seen through another camera homography, under other
// lighting, clutter, blur, sensor noise and JPEG compression), the classic
// image edits (crops, rotations, scaling, brightness, JPEG), a 64-bit DCT
// pHash baseline (Zauner, "Implementation and Benchmarking of Perceptual
// Image Hash Functions", 2010), ROC metrics (area under the curve by the
// Mann–Whitney statistic, true-positive rate at a fixed false-positive rate
// with its bootstrap confidence interval), and TestSceneStore, a conformance suite for vision.SceneStore
// implementations (in the manner of testing/fstest.TestFS).
//
// The reshot family is the everyday case; reshot_hard widens the viewpoint
// change and clutter until matching starts to fail, as a stress test.
// Judge a rate at a low false-positive rate on enough scenes: with 40 scenes
// one positive is 0.025 of TPR and the 1 % threshold is the 16th highest
// negative, so TPRInterval is often 0.2 wide; 200 scenes narrow it to
// about 0.08.
//
// Every generator takes an explicit seed, so each run renders the same
// images. It is meant for tests, benchmarks and calibration, not for
// production traffic.
package visiontest
