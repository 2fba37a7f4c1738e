// Package motion turns a payment terminal's accelerometer and gyroscope
// window into features, a movement class with calibrated probabilities, and
// a risk.Signal for the payment decision.
//
// # Overview
//
// When a mobile POS terminal reads a card it also records a few seconds of
// inertial data. A terminal lying on a counter or held by a standing cashier
// is normal; one swinging in a walking person's pocket, or riding in a car
// through a batch of payments, is not. The pipeline is:
//
//	[]Sample ──ValidateWindow/Resample──▶ regular window at Config.Rate
//	         ──Extractor──▶ Features (NumFeatures named values, fixed layout)
//	         ──Model.Classify──▶ label, P(class)
//	         ──Assessor──▶ risk.Signal{Source: "motion", Confidence, Reasons}
//
// # Windows
//
// ValidateWindow rejects, naming the defect and the sample, windows that are
// empty or have one sample, contain NaN or ±Inf, exceed the sensor range
// (16 g, 2000 °/s by default), go backwards in time, repeat a timestamp, have
// a gap, are too short or too long, or are sampled too slowly. Valid windows
// are resampled by linear interpolation to a fixed rate (50 Hz by default),
// which absorbs the timestamp jitter of real phones.
//
// # Features
//
// The feature set follows the human-activity-recognition literature, in
// particular the UCI-HAR set (Anguita et al., "A Public Domain Dataset for
// Human Activity Recognition Using Smartphones", ESANN 2013): gravity is
// separated from body acceleration by a zero-phase 2nd-order Butterworth
// low-pass at 0.3 Hz; body acceleration, its jerk and the magnitudes give
// per-signal mean, standard deviation, median absolute deviation, min, max,
// interquartile range, energy, histogram entropy, skewness, kurtosis and
// mean-crossing rate; the acceleration, body and gyroscope magnitudes also
// give the dominant frequency (Hann window, FFT from gonum's dsp/fourier,
// log-parabolic peak interpolation) and band-power fractions in bands chosen
// for the classes (sway < 1 Hz, gait 1–3 Hz, harmonics 3–7 Hz, tremor
// 7–13 Hz, vibration ≥ 13 Hz) and spectral entropy; the autocorrelation
// peak of the acceleration magnitude measures step periodicity; the gravity
// estimate gives tilt and orientation change. A device without a gyroscope
// (all-zero gyro) is flagged in has_gyro so that a model can use the
// accelerometer alone. An Extractor reuses its buffers and does not
// allocate.
//
// # Model
//
// Train fits multinomial logistic regression (softmax regression with an L2
// penalty, by L-BFGS) after a signed-logarithm transform and standardisation
// of every feature, for any set of string labels. It was chosen over
// gradient-boosted stumps because (1) its probabilities are the maximiser of
// a proper scoring rule, so they are close to calibrated without a separate
// calibration step (Niculescu-Mizil & Caruana, "Predicting Good Probabilities
// with Supervised Learning", ICML 2005, found boosted trees' probabilities
// pushed towards 0 and 1 and logistic regression well calibrated) and the
// Assessor turns probabilities, not labels, into a confidence; (2) the
// objective is convex, so training is deterministic and reproducible bit
// for bit, which the embedded default model needs; (3) classification is a
// feature transform and a few hundred multiply-adds, about a microsecond.
// Evaluate reports accuracy, per-class precision and recall, the confusion
// matrix, log-loss and the expected calibration error (Guo et al., "On
// Calibration of Modern Neural Networks", ICML 2017). Split data with
// LeaveSubjectsOut, SplitBySubject or SubjectFolds, or let CrossValidate do
// k-fold leave-subjects-out: mixing one person's windows across training and
// test sets inflates accuracy by tens of points.
//
// # Default model and data
//
// DefaultModel returns the embedded model for the classes counter, handheld,
// walking and vehicle. No public data set has these classes, so it is
// trained by `go generate` on the physically grounded, seeded simulator in
// package motion/sim (gait, tremor, vehicle ride and turns, sensor noise,
// bias, orientation and timing jitter); regenerating it reproduces
// default_model.bin bit for bit. For real recordings, ReadRawCSV reads the
// WISDM/UCI-HAR-style raw layout (user, activity, timestamp, x, y, z) and
// RecordingExamples cuts it into labelled windows.
//
// # Quick start
//
//	a, err := motion.NewAssessor(motion.AssessorConfig{}, nil) // default model
//	if err != nil {
//		// invalid configuration (ErrConfig) or model (ErrNotTrained)
//	}
//	sig, err := a.Score(ctx, samples) // sig.Source == motion.Source
//	if err != nil {
//		// corrupt window: NaN, > 16 g, timestamps backwards …
//	}
//	fused := risk.Fuse(prior, sig, visionSig, geoSig) // or append(…)... for a slice
//
// The Signal's Confidence is calibrated at the neutral reference of
// risk.Signal: each class carries a likelihood ratio (DefaultPlausibility),
// 0.5 means no evidence, and a window too short or sparse to judge scores
// 0.5 with reason motion.insufficient_data.
package motion
