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
// a gap, are too short or too long, or are sampled too slowly (below 0.35 of
// the analysis rate: 17.5 Hz at the default). Valid windows are resampled by
// linear interpolation to a fixed rate (DefaultRate, 50 Hz), which absorbs
// the timestamp jitter of real phones and makes the features independent of
// the device's rate from about 20 Hz up. Recordings are cut into windows of
// DefaultWindow (2.56 s) every DefaultHop (1.28 s), as in UCI-HAR.
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
// estimate gives tilt, orientation change and the gravity direction in the
// device frame (grav_x, grav_y, grav_z: how the device lies or is worn, the
// feature that separates lying from sitting in real data); body acceleration
// projected on the gravity direction and the rest (body_vert, body_horiz)
// are independent of the device's orientation. A device without a gyroscope
// (all-zero gyro) is flagged in has_gyro.
//
// Accelerometer-only devices are a first-class mode: TrainConfig.AccelOnly
// trains a model on the accelerometer features alone, and
// TrainConfig.AccelCompanion attaches such a model to a full one, which hands
// it every window without a gyroscope, so those windows are judged on what
// they have, never on zero gyroscope slots. The default model has one. An
// Extractor reuses its buffers and does not allocate.
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
// test sets inflates accuracy by tens of points. CrossValidateSpan scores
// decisions over several consecutive windows, as a payment spans them; the
// Assessor does the same for an input longer than one window, averaging the
// windows' class probabilities.
//
// On real data — the UCI HAPT recordings, 30 people, smartphone at the waist
// (ReadHAPT) — leave-subjects-out with 5 folds of 6 people over the six basic
// activities, the features and Train reach accuracy 0.950 (ECE 0.015) per
// 2.56 s window and 0.965 (ECE 0.036) over a payment's three windows, against
// 0.81 (ECE 0.05) for the mean and standard deviation of each axis with the
// same learner; examples/motion prints the table and TestHAPTFull (with
// PAYEDGE_HAPT_DIR set) checks it. Sitting and standing, told apart mostly by
// how the phone tilts at the waist, make most of the remaining errors.
//
// # Default model and data
//
// DefaultModel returns the embedded model for the payment classes counter,
// handheld, walking and vehicle. No public data set has all of them, so it
// is trained (`go generate`, recipe in motion/internal/recipe) on real HAPT
// recordings where they cover a class — counter from lying still, handheld
// from sitting and standing, walking from walking and stairs — and on the
// physically grounded, seeded simulator in package motion/sim for all four,
// vehicle from the simulator alone. The simulator's counters carry what real
// ones do (taps, typing, the hum of a compressor), so that a steady
// mechanical tone does not read as a vehicle. ReadRawCSV reads the
// WISDM/UCI-HAR-style raw layout (user, activity, timestamp, x, y, z; whole
// or fractional timestamps), ReadHAPT the HAPT raw layout, and
// RecordingExamples cuts recordings into labelled windows.
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
