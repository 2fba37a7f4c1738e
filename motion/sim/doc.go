// Package sim generates synthetic, physically grounded inertial windows of a
// payment terminal for the four payment classes of the motion package's
// default model: counter, handheld, walking and vehicle.
//
// No public human-activity data set records all of these classes: the
// default model learns counter, handheld and walking from real HAPT
// recordings and this generator together, and vehicle from this generator
// alone (see motion.DefaultModel). It lives in its own package because it
// is a separate idea (a simulator, not an estimator) that tests, the model
// recipe and researchers share. Every window is a deterministic function of
// the *rand.Rand it is given (math/rand/v2's generators and methods are
// value-stable across Go releases), so data sets and the models trained on
// them are reproducible.
//
// # Physics
//
// The device's attitude is a class-specific base orientation R₀ (flat on a
// counter, tilted 20–70° towards a standing user, arbitrary in a pocket or a
// car) perturbed by small world-frame rotations θ(t). The accelerometer reads
// the specific force Rᵀ(a(t) + g·ẑ) and the gyroscope Rᵀ(θ̇(t) + yaw rate·ẑ),
// each with a per-device bias, scale error and white noise; timestamps jitter
// around a per-device nominal rate of 20–100 Hz. Motions are sums of sinusoids with random
// frequencies inside physiologically or mechanically motivated bands, so
// that every signal is a smooth function of time that can be sampled at any
// instant:
//
//   - counter: building vibration of a few mm/s², occasional card taps and
//     PIN-entry touches (damped 15–25 Hz ringing), bursts of typing (4–12
//     touches 0.15–0.45 s apart), the steady hum of a nearby compressor or
//     motor (a 10–30 Hz line of 5–80 mm/s², often 12.5–15 Hz as a fridge
//     compressor, sometimes with its harmonic), device within 8° of level
//     or on a stand at 10–35°, sometimes nudged.
//   - handheld: physiological tremor at 8–12 Hz (Elble & Koller, Tremor,
//     1990), postural sway below 1 Hz scaled by how steady the arm is,
//     occasional deliberate tilts, typing with the other hand and weight
//     shifts.
//   - walking: gait at a per-person step frequency of 1.5–2.2 Hz (BenAbdelkader
//     et al. 2002; Ji & Pachi 2005) with its second harmonic, the lateral sway
//     at half the step frequency, heel-strike impacts and trunk rotation
//     (Zijlstra & Hof, Gait & Posture, 2003), damped when carried in the hand.
//   - vehicle: body bounce at 1–2 Hz and wheel-hop/road vibration at 8–20 Hz
//     (ISO 8608 road profiles through a quarter-car model), an engine line at
//     12–24 Hz, longitudinal acceleration and braking below 0.3 Hz, and turns
//     with yaw rates to 0.3 rad/s and the matching lateral acceleration v·r;
//     road roughness from smooth to cobbled; sometimes held by a passenger.
package sim
