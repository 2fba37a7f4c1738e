package sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/payedge/payedge/motion"
	"github.com/payedge/payedge/motion/internal/detmath"
)

// The payment classes.
const (
	Counter  = "counter"
	Handheld = "handheld"
	Walking  = "walking"
	Vehicle  = "vehicle"
)

// Classes returns the four payment classes in a fixed order.
func Classes() []string { return slices.Clone(allClasses) }

var allClasses = []string{Counter, Handheld, Walking, Vehicle}

// ErrConfig reports an invalid generator or data-set configuration, an
// unknown class or a missing random source.
var ErrConfig = errors.New("sim: invalid configuration")

// Subject is one person with one device: the person's gait and tremor and
// the device's sensor characteristics.
type Subject struct {
	ID string // names the subject in data sets
	// Person.
	StepFreq   float64 // Hz, 1.5–2.2
	StepAccel  float64 // vertical gait acceleration amplitude, m/s²
	TremorFreq float64 // Hz, 8–12
	TremorAmp  float64 // tremor acceleration, m/s² RMS per axis
	Sway       float64 // hand sway angle, rad RMS
	// Device.
	Rate       float64    // nominal sample rate, Hz
	Jitter     float64    // relative standard deviation of sampling intervals
	HasGyro    bool       // false: the gyroscope reads zero
	AccelNoise float64    // m/s² RMS
	GyroNoise  float64    // rad/s RMS
	AccelBias  [3]float64 // m/s² per axis
	GyroBias   [3]float64 // rad/s per axis
	Scale      [3]float64 // accelerometer scale factors, ≈ 1
}

// NewSubject draws a person and device. gyroMissing is the probability that
// the device has no gyroscope.
func NewSubject(id string, gyroMissing float64, rng *rand.Rand) Subject {
	u := func(a, b float64) float64 { return a + (b-a)*rng.Float64() }
	s := Subject{
		ID:         id,
		StepFreq:   u(1.5, 2.2),
		StepAccel:  u(1.0, 4.0),
		TremorFreq: u(8, 12),
		TremorAmp:  u(0.005, 0.08),
		Sway:       u(0.004, 0.06),
		Rate:       [...]float64{20, 25, 32, 50, 50, 50, 60, 100}[rng.IntN(8)],
		Jitter:     u(0.005, 0.08),
		HasGyro:    rng.Float64() >= gyroMissing,
		AccelNoise: u(0.005, 0.03),
		GyroNoise:  u(0.002, 0.01),
	}
	for k := range 3 {
		s.AccelBias[k] = u(-0.1, 0.1)
		s.GyroBias[k] = u(-0.02, 0.02)
		s.Scale[k] = u(0.98, 1.02)
	}
	return s
}

// tone is a·sin(2πft + φ).
type tone struct{ a, f, p float64 }

type process []tone

func (p process) at(t float64) (v, dv float64) {
	for _, c := range p {
		w := 2 * math.Pi * c.f
		s, co := math.Sincos(w*t + c.p)
		v += c.a * s
		dv += c.a * w * co
	}
	return v, dv
}

// band returns n tones with frequencies uniform in [lo, hi] Hz, random phases
// and Rayleigh amplitudes scaled so that the process has RMS ≈ rms.
func band(rng *rand.Rand, n int, lo, hi, rms float64) process {
	p := make(process, n)
	for i := range p {
		p[i] = tone{
			a: rms * math.Sqrt(2/float64(n)) * math.Sqrt(rng.ExpFloat64()),
			f: lo + (hi-lo)*rng.Float64(),
			p: 2 * math.Pi * rng.Float64(),
		}
	}
	return p
}

// event is a transient added to a world-frame acceleration axis or angle.
type event interface {
	at(t float64) (v, dv float64)
}

// ringing is a damped sinusoid starting at t0 (a card tap or a screen touch).
type ringing struct{ t0, a, f, tau float64 }

func (r ringing) at(t float64) (v, dv float64) {
	if t < r.t0 {
		return 0, 0
	}
	x := t - r.t0
	w := 2 * math.Pi * r.f
	e := r.a * detmath.Exp(-x/r.tau)
	s, c := math.Sincos(w * x)
	return e * s, e * (w*c - s/r.tau)
}

// ramp is a smooth (raised-cosine) change of height a from t0 over d seconds.
type ramp struct{ t0, d, a float64 }

func (r ramp) at(t float64) (v, dv float64) {
	switch {
	case t <= r.t0:
		return 0, 0
	case t >= r.t0+r.d:
		return r.a, 0
	}
	x := (t - r.t0) / r.d
	return r.a * (1 - math.Cos(math.Pi*x)) / 2, r.a * math.Pi * math.Sin(math.Pi*x) / (2 * r.d)
}

// bump is a raised-cosine pulse of height a from t0 lasting d seconds (a
// turn's yaw rate).
type bump struct{ t0, d, a float64 }

func (b bump) at(t float64) (v, dv float64) {
	if t <= b.t0 || t >= b.t0+b.d {
		return 0, 0
	}
	x := (t - b.t0) / b.d
	return b.a * (1 - math.Cos(2*math.Pi*x)) / 2, b.a * math.Pi * math.Sin(2*math.Pi*x) / b.d
}

// scene is the world-frame description of one window.
type scene struct {
	acc     [3]process // linear acceleration, m/s², world frame (z up)
	ang     [3]process // small rotations, rad, about world axes
	accEv   [3][]event
	angEv   [3][]event
	yawRate []event // rad/s about world z (turns)
	r0      [3][3]float64
}

// MaxDuration bounds Generator.Duration, so a window stays a few thousand
// samples at most.
const MaxDuration = 10 * time.Minute

// Generator produces windows. The zero value is usable.
type Generator struct {
	// Duration of each window; default 2.56 s (128 samples at 50 Hz); at
	// most MaxDuration.
	Duration time.Duration
}

// Validate reports whether g is usable: Duration at most MaxDuration
// (zero or negative means the default). Errors wrap ErrConfig.
func (g Generator) Validate() error {
	if g.Duration > MaxDuration {
		return fmt.Errorf("%w: window duration %v above %v", ErrConfig, g.Duration, MaxDuration)
	}
	return nil
}

func (g Generator) duration() float64 {
	if g.Duration <= 0 {
		return 2.56
	}
	return g.Duration.Seconds()
}

// Window generates one window of class for subject s, drawing every random
// number from rng (so the same rng state gives the same window). Its only
// errors, wrapping ErrConfig, are an unknown class (one not among
// Classes()), a Duration above MaxDuration and a nil s or rng. Window does
// not modify s; rng must not be shared with other goroutines during the
// call.
func (g Generator) Window(s *Subject, class string, rng *rand.Rand) ([]motion.Sample, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if s == nil || rng == nil {
		return nil, fmt.Errorf("%w: nil subject or rng", ErrConfig)
	}
	u := func(a, b float64) float64 { return a + (b-a)*rng.Float64() }
	dur := g.duration()
	var sc scene
	switch class {
	case Counter:
		tilt := u(0, 8*math.Pi/180)
		if rng.Float64() < 0.3 { // on a stand or leaning on the till
			tilt = u(10, 35) * math.Pi / 180
		}
		sc.r0 = levelAttitude(rng, tilt)
		for k := range 3 {
			sc.acc[k] = band(rng, 6, 5, 25, u(0.001, 0.008))
			sc.ang[k] = band(rng, 3, 5, 25, u(0.00002, 0.0001))
		}
		if rng.Float64() < 0.4 { // a card tap
			t0 := u(0, dur)
			sc.accEv[2] = append(sc.accEv[2], ringing{t0, u(0.3, 1.5), u(15, 25), u(0.02, 0.08)})
			sc.accEv[0] = append(sc.accEv[0], ringing{t0, u(-0.3, 0.3), u(15, 25), u(0.02, 0.08)})
			sc.angEv[0] = append(sc.angEv[0], ringing{t0, u(-0.002, 0.002), u(15, 25), u(0.02, 0.08)})
		}
		if rng.Float64() < 0.3 { // PIN-entry touches
			for range 1 + rng.IntN(4) {
				sc.accEv[2] = append(sc.accEv[2], ringing{u(0, dur), u(0.1, 0.5), u(15, 25), u(0.01, 0.04)})
			}
		}
		if rng.Float64() < 0.5 { // a compressor, fan or motor nearby (fridge, till)
			// A steady mechanical hum: the issue-22 counter-example is a
			// fridge compressor at 13.5 Hz, 0.02 m/s²; mains-driven motors
			// add 25 Hz (half of 50 Hz mains) and their harmonics.
			f := u(10, 30)
			if rng.Float64() < 0.5 {
				f = u(12.5, 15)
			}
			amp := u(0.005, 0.08)
			for k := range 3 {
				sc.acc[k] = append(sc.acc[k], tone{amp * u(0.3, 1.2), f, u(0, 2*math.Pi)})
				if rng.Float64() < 0.4 {
					sc.acc[k] = append(sc.acc[k], tone{amp * u(0.1, 0.4), 2 * f, u(0, 2*math.Pi)})
				}
			}
		}
		if rng.Float64() < 0.25 { // typing an amount or PIN on the terminal
			t := u(-0.5, dur/2)
			for range 4 + rng.IntN(9) {
				t += u(0.15, 0.45)
				sc.accEv[2] = append(sc.accEv[2], ringing{t, u(0.05, 0.5), u(15, 30), u(0.01, 0.04)})
				sc.angEv[rng.IntN(2)] = append(sc.angEv[rng.IntN(2)], ringing{t, u(-0.001, 0.001), u(15, 30), u(0.01, 0.04)})
			}
		}
		if rng.Float64() < 0.15 { // nudged or turned towards the customer
			k := rng.IntN(3)
			sc.angEv[k] = append(sc.angEv[k], ramp{u(-0.3, dur), u(0.3, 1), u(-0.15, 0.15)})
			sc.accEv[0] = append(sc.accEv[0], bump{u(-0.3, dur), u(0.3, 1), u(-0.5, 0.5)})
		}
	case Handheld:
		sc.r0 = heldAttitude(rng)
		// Forearm resting on the counter or held free.
		steady := u(0.3, 1.5)
		for k := range 3 {
			f := s.TremorFreq
			sc.acc[k] = append(band(rng, 4, f-1, f+1, s.TremorAmp*u(0.6, 1.4)),
				band(rng, 4, 0.2, 2, steady*u(0.03, 0.25))...)
			sc.ang[k] = append(band(rng, 3, f-1, f+1, steady*u(0.0003, 0.002)),
				band(rng, 4, 0.1, 1, s.Sway*steady)...)
		}
		if rng.Float64() < 0.3 { // presenting the terminal to the customer
			k := rng.IntN(2)
			sc.angEv[k] = append(sc.angEv[k], ramp{u(-0.5, dur), u(0.5, 1.5), u(-0.7, 0.7)})
		}
		if rng.Float64() < 0.3 { // typing an amount or PIN with the other hand
			t := u(-0.5, dur/2)
			for range 3 + rng.IntN(8) {
				t += u(0.15, 0.45)
				sc.accEv[2] = append(sc.accEv[2], ringing{t, u(0.1, 0.8), u(8, 20), u(0.02, 0.06)})
				sc.angEv[0] = append(sc.angEv[0], ringing{t, u(-0.004, 0.004), u(8, 20), u(0.02, 0.06)})
			}
		}
		if rng.Float64() < 0.2 { // shifting weight from one foot to the other
			sc.accEv[1] = append(sc.accEv[1], bump{u(-0.5, dur), u(0.6, 1.5), u(-0.6, 0.6)})
			sc.accEv[2] = append(sc.accEv[2], bump{u(-0.5, dur), u(0.4, 1), u(-0.4, 0.4)})
		}
	case Walking:
		sc.r0 = randomAttitude(rng)
		f := s.StepFreq * u(0.95, 1.05)
		// Carried in the hand (arm damps the bounce) or in a pocket or bag.
		carry := u(0.6, 1.4)
		if rng.Float64() < 0.4 {
			carry = u(0.35, 0.7)
		}
		av := s.StepAccel * carry
		ph := u(0, 2*math.Pi)
		sc.acc[2] = process{{av, f, ph}, {av * u(0.2, 0.5), 2 * f, ph + u(0, 2*math.Pi)}}
		sc.acc[2] = append(sc.acc[2], band(rng, 6, 3, 10, u(0.1, 0.5))...)
		sc.acc[0] = process{{av * u(0.4, 0.9), f, ph + u(1, 2)}, {av * u(0.1, 0.3), 2 * f, u(0, 2*math.Pi)}}
		sc.acc[1] = process{{u(0.2, 0.8) * carry, f / 2, u(0, 2*math.Pi)}, {u(0.1, 0.4) * carry, 3 * f / 2, u(0, 2*math.Pi)}}
		sc.ang[0] = process{{u(0.02, 0.12) * carry, f / 2, u(0, 2*math.Pi)}, {u(0.01, 0.05) * carry, f, u(0, 2*math.Pi)}}
		sc.ang[1] = process{{u(0.02, 0.12) * carry, f, u(0, 2*math.Pi)}, {u(0.01, 0.04) * carry, f / 2, u(0, 2*math.Pi)}}
		sc.ang[2] = process{{u(0.02, 0.09) * carry, f / 2, u(0, 2*math.Pi)}}
		for k := range 3 {
			sc.ang[k] = append(sc.ang[k], band(rng, 3, 0.1, 1, u(0.01, 0.05))...)
		}
	case Vehicle:
		sc.r0 = randomAttitude(rng)
		// Road roughness from smooth asphalt to a cobbled street, scaled
		// with speed; stop-and-go traffic is the smooth end.
		rough := u(0.15, 1)
		sc.acc[2] = append(band(rng, 5, 1, 2, rough*u(0.1, 0.6)), band(rng, 8, 8, 20, rough*u(0.05, 0.4))...)
		sc.acc[2] = append(sc.acc[2], tone{u(0.02, 0.15), u(12, 24), u(0, 2*math.Pi)})
		for k := range 2 {
			sc.acc[k] = append(band(rng, 5, 1, 2, rough*u(0.04, 0.25)), band(rng, 6, 8, 20, rough*u(0.03, 0.2))...)
			sc.acc[k] = append(sc.acc[k], tone{u(0.01, 0.06), u(12, 24), u(0, 2*math.Pi)})
			sc.ang[k] = band(rng, 4, 0.3, 1.5, rough*u(0.006, 0.035))
			sc.ang[k] = append(sc.ang[k], band(rng, 3, 8, 20, rough*u(0.0002, 0.001))...)
		}
		sc.ang[2] = band(rng, 3, 0.3, 1.5, u(0.003, 0.015))
		sc.acc[0] = append(sc.acc[0], tone{u(0.1, 1.5), u(0.05, 0.3), u(0, 2*math.Pi)})
		if rng.Float64() < 0.5 { // a turn
			v := u(5, 30)
			r := u(0.05, 0.3) * float64(1-2*rng.IntN(2))
			if math.Abs(v*r) > 4 {
				r = math.Copysign(4/v, r)
			}
			t0, d := u(-4, dur), u(3, 8)
			sc.yawRate = []event{bump{t0, d, r}}
			sc.accEv[1] = append(sc.accEv[1], bump{t0, d, v * r})
		}
		if rng.Float64() < 0.3 { // a passenger holds the terminal
			sc.r0 = heldAttitude(rng)
			f := s.TremorFreq
			for k := range 3 {
				sc.acc[k] = append(sc.acc[k], band(rng, 4, f-1, f+1, s.TremorAmp)...)
				sc.ang[k] = append(sc.ang[k], band(rng, 4, 0.1, 1, s.Sway)...)
			}
		}
	default:
		return nil, fmt.Errorf("%w: unknown class %q", ErrConfig, class)
	}
	return sc.sample(s, dur, rng), nil
}

func (sc *scene) sample(s *Subject, dur float64, rng *rand.Rand) []motion.Sample {
	period := 1 / s.Rate
	n := int(dur*s.Rate) + 1
	out := make([]motion.Sample, 0, n+8)
	t := 0.0
	for t <= dur+period/2 {
		var a, th, dth [3]float64
		for k := range 3 {
			a[k], _ = sc.acc[k].at(t)
			th[k], dth[k] = sc.ang[k].at(t)
			for _, e := range sc.accEv[k] {
				v, _ := e.at(t)
				a[k] += v
			}
			for _, e := range sc.angEv[k] {
				v, dv := e.at(t)
				th[k] += v
				dth[k] += dv
			}
		}
		for _, e := range sc.yawRate {
			v, _ := e.at(t)
			dth[2] += v
		}
		// Device-to-world attitude Q = Rz(θz)·Ry(θy)·Rx(θx)·R₀.
		q := mul(rotZYX(th), sc.r0)
		f := [3]float64{a[0], a[1], a[2] + motion.StandardGravity}
		acc := mulT(q, f)
		gyr := mulT(q, dth)
		var smp motion.Sample
		smp.T = time.Duration(math.Round(t * 1e9))
		for k := range 3 {
			smp.Accel[k] = acc[k]*s.Scale[k] + s.AccelBias[k] + s.AccelNoise*rng.NormFloat64()
			if s.HasGyro {
				smp.Gyro[k] = gyr[k] + s.GyroBias[k] + s.GyroNoise*rng.NormFloat64()
			}
		}
		out = append(out, smp)
		step := period * (1 + s.Jitter*rng.NormFloat64())
		if rng.Float64() < 0.01 { // a late sample, as Android delivers under load
			step += period * rng.Float64() * 1.5
		}
		t += min(max(step, 0.3*period), 2.5*period)
	}
	return out
}

type mat [3][3]float64

func mul(a, b mat) mat {
	var c mat
	for i := range 3 {
		for j := range 3 {
			c[i][j] = a[i][0]*b[0][j] + a[i][1]*b[1][j] + a[i][2]*b[2][j]
		}
	}
	return c
}

// mulT returns qᵀv (world to device).
func mulT(q mat, v [3]float64) [3]float64 {
	var r [3]float64
	for i := range 3 {
		r[i] = q[0][i]*v[0] + q[1][i]*v[1] + q[2][i]*v[2]
	}
	return r
}

func rotZYX(th [3]float64) mat {
	sx, cx := math.Sincos(th[0])
	sy, cy := math.Sincos(th[1])
	sz, cz := math.Sincos(th[2])
	return mat{
		{cz * cy, cz*sy*sx - sz*cx, cz*sy*cx + sz*sx},
		{sz * cy, sz*sy*sx + cz*cx, sz*sy*cx - cz*sx},
		{-sy, cy * sx, cy * cx},
	}
}

// axisAngle is the rotation by angle a about unit axis (x, y, z) (Rodrigues).
func axisAngle(x, y, z, a float64) mat {
	s, c := math.Sincos(a)
	t := 1 - c
	return mat{
		{t*x*x + c, t*x*y - s*z, t*x*z + s*y},
		{t*x*y + s*z, t*y*y + c, t*y*z - s*x},
		{t*x*z - s*y, t*y*z + s*x, t*z*z + c},
	}
}

// levelAttitude lies the device within tilt of level, face up or (one time
// in seven) face down, at a random heading.
func levelAttitude(rng *rand.Rand, tilt float64) mat {
	az := 2 * math.Pi * rng.Float64()
	r := axisAngle(0, 0, 1, az)
	if rng.IntN(7) == 0 {
		r = mul(r, axisAngle(1, 0, 0, math.Pi))
	}
	ax := 2 * math.Pi * rng.Float64()
	return mul(axisAngle(math.Cos(ax), math.Sin(ax), 0, tilt), r)
}

// heldAttitude tilts the screen 20–70° up towards the user, rolls it ±15°,
// at a random heading.
func heldAttitude(rng *rand.Rand) mat {
	pitch := (20 + 50*rng.Float64()) * math.Pi / 180
	roll := (-15 + 30*rng.Float64()) * math.Pi / 180
	az := 2 * math.Pi * rng.Float64()
	return mul(axisAngle(0, 0, 1, az), mul(axisAngle(1, 0, 0, pitch), axisAngle(0, 1, 0, roll)))
}

// randomAttitude is uniform on SO(3) (Shoemake's unit-quaternion method,
// Graphics Gems III, 1992).
func randomAttitude(rng *rand.Rand) mat {
	u1, u2, u3 := rng.Float64(), 2*math.Pi*rng.Float64(), 2*math.Pi*rng.Float64()
	a, b := math.Sqrt(1-u1), math.Sqrt(u1)
	w, x, y, z := a*math.Sin(u2), a*math.Cos(u2), b*math.Sin(u3), b*math.Cos(u3)
	return mat{
		{1 - 2*(y*y+z*z), 2 * (x*y - z*w), 2 * (x*z + y*w)},
		{2 * (x*y + z*w), 1 - 2*(x*x+z*z), 2 * (y*z - x*w)},
		{2 * (x*z - y*w), 2 * (y*z + x*w), 1 - 2*(x*x+y*y)},
	}
}
