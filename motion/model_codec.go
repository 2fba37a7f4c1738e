package motion

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Binary encoding, little-endian:
//
//	"PEMOTION" magic, version u8 = 2, layout fingerprint u64, feature count u32,
//	rate f64, gravity cutoff f64, class count u8, per class (length u8, bytes),
//	τ, μ, 1/σ (feature count f64 each), W (classes × features f64), b (classes f64),
//	flags u8 (bit 0: accelerometer only; bit 1: a companion follows),
//	[companion length u32, the companion's own encoding (accelerometer only,
//	same labels, no companion)].
const (
	modelMagic   = "PEMOTION"
	modelVersion = 2
	flagAccel    = 1
	flagComp     = 2
)

// MarshalBinary encodes the model in a versioned little-endian format
// (magic "PEMOTION") that UnmarshalBinary reads back. It returns
// ErrNotTrained for a nil or untrained model and an error wrapping ErrModel
// when a parameter is outside its encodable range.
func (m *Model) MarshalBinary() ([]byte, error) {
	if m == nil || len(m.labels) < 2 {
		return nil, ErrNotTrained
	}
	if err := m.checkParams(); err != nil {
		return nil, fmt.Errorf("%w: %v (train with a larger L2)", ErrModel, err)
	}
	k := len(m.labels)
	size := len(modelMagic) + 1 + 8 + 4 + 8 + 8 + 1
	for _, l := range m.labels {
		size += 1 + len(l)
	}
	size += 8 * (3*NumFeatures + k*NumFeatures + k)
	b := make([]byte, 0, size+1)
	b = m.appendBinary(b)
	if m.companion != nil {
		c, err := m.companion.MarshalBinary()
		if err != nil {
			return nil, err
		}
		b[len(b)-1] |= flagComp
		b = binary.LittleEndian.AppendUint32(b, uint32(len(c)))
		b = append(b, c...)
	}
	return b, nil
}

// appendBinary appends m's own encoding, flags included (without the
// companion bit).
func (m *Model) appendBinary(b []byte) []byte {
	k := len(m.labels)
	b = append(b, modelMagic...)
	b = append(b, modelVersion)
	b = binary.LittleEndian.AppendUint64(b, layoutID())
	b = binary.LittleEndian.AppendUint32(b, NumFeatures)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.rate))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(m.cutoff))
	b = append(b, byte(k))
	for _, l := range m.labels {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	for _, arr := range [][]float64{m.tau[:], m.center[:], m.invScale[:], m.w, m.b} {
		for _, v := range arr {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
	}
	var flags byte
	if m.accelOnly {
		flags |= flagAccel
	}
	return append(b, flags)
}

// UnmarshalBinary decodes a model written by MarshalBinary, checking every
// bound before allocating. Errors wrap ErrModel, or ErrLayout when the model
// was trained on a different feature layout.
func (m *Model) UnmarshalBinary(data []byte) error {
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: %s", ErrModel, fmt.Sprintf(f, a...)) }
	r := data
	take := func(n int) []byte {
		if len(r) < n {
			return nil
		}
		v := r[:n]
		r = r[n:]
		return v
	}
	if string(take(len(modelMagic))) != modelMagic {
		return bad("bad magic")
	}
	v := take(1)
	if v == nil || v[0] != modelVersion {
		return bad("unsupported version")
	}
	hdr := take(8 + 4 + 8 + 8 + 1)
	if hdr == nil {
		return bad("truncated header")
	}
	layout := binary.LittleEndian.Uint64(hdr)
	nf := binary.LittleEndian.Uint32(hdr[8:])
	if layout != layoutID() || nf != NumFeatures {
		return fmt.Errorf("%w: %d features, layout %016x (want %d, %016x)", ErrLayout, nf, layout, NumFeatures, layoutID())
	}
	rate := math.Float64frombits(binary.LittleEndian.Uint64(hdr[12:]))
	cutoff := math.Float64frombits(binary.LittleEndian.Uint64(hdr[20:]))
	if err := (Config{Rate: rate, GravityCutoff: cutoff}).Validate(); err != nil {
		return bad("feature configuration: %v", err)
	}
	k := int(hdr[28])
	if k < 2 || k > MaxClasses {
		return bad("%d classes", k)
	}
	labels := make([]string, k)
	for c := range labels {
		l := take(1)
		if l == nil {
			return bad("truncated labels")
		}
		s := take(int(l[0]))
		if s == nil {
			return bad("truncated labels")
		}
		labels[c] = string(s)
		if err := checkLabel(labels[c]); err != nil {
			return bad("%v", err)
		}
		if slices.Contains(labels[:c], labels[c]) {
			return bad("duplicate label %q", labels[c])
		}
	}
	want := 8 * (3*NumFeatures + k*NumFeatures + k)
	if len(r) < want+1 {
		return bad("%d bytes of parameters, want %d", len(r), want+1)
	}
	var out Model
	out.labels, out.rate, out.cutoff = labels, rate, cutoff
	out.w = make([]float64, k*NumFeatures)
	out.b = make([]float64, k)
	for _, arr := range [][]float64{out.tau[:], out.center[:], out.invScale[:], out.w, out.b} {
		for j := range arr {
			arr[j] = math.Float64frombits(binary.LittleEndian.Uint64(take(8)))
		}
	}
	if err := out.checkParams(); err != nil {
		return bad("%v", err)
	}
	flags := take(1)[0]
	if flags&^(flagAccel|flagComp) != 0 {
		return bad("unknown flags %#x", flags)
	}
	out.accelOnly = flags&flagAccel != 0
	if flags&flagComp != 0 {
		n := take(4)
		if n == nil || int64(binary.LittleEndian.Uint32(n)) != int64(len(r)) {
			return bad("companion length does not match the remaining %d bytes", len(r))
		}
		c := new(Model)
		if err := c.UnmarshalBinary(r); err != nil {
			return err
		}
		if c.companion != nil || !c.accelOnly || !slices.Equal(c.labels, out.labels) ||
			c.rate != out.rate || c.cutoff != out.cutoff {
			return bad("companion is not an accelerometer-only model of the same classes and features")
		}
		out.companion = c
		r = nil
	}
	if len(r) != 0 {
		return bad("%d trailing bytes", len(r))
	}
	*m = out
	return nil
}

// Parameter bounds. Train produces values far inside them (standardised
// features, ridge-penalised weights); they guarantee that a decoded model's
// logits are finite, so its probabilities are never NaN.
const (
	maxTau      = 1e300
	maxCenter   = 1e3 // |slog1p| ≤ 710 for any finite input
	maxInvScale = 1e9 // Train leaves invScale 0 below σ = 1e-9
	maxWeight   = 1e6
)

func (m *Model) checkParams() error {
	for i, blk := range []struct {
		v      []float64
		lo, hi float64
		open   bool // lo excluded
	}{
		{m.tau[:], 0, maxTau, true},
		{m.center[:], -maxCenter, maxCenter, false},
		{m.invScale[:], 0, maxInvScale, false},
		{m.w, -maxWeight, maxWeight, false},
		{m.b, -maxWeight, maxWeight, false},
	} {
		for j, x := range blk.v {
			if !(x >= blk.lo && x <= blk.hi) || (blk.open && x == blk.lo) {
				return fmt.Errorf("parameter block %d entry %d is %v", i, j, x)
			}
		}
	}
	return nil
}
