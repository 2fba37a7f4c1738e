package biometric

import (
	"fmt"
	"math"
)

// MaxDim bounds the embedding dimension the package accepts anywhere
// (templates, samples, records). Face and palm models emit 128–1024.
const MaxDim = 4096

// Template is an L2-normalised float32 embedding: the unit vector a host's
// face or palm model produced for one capture. Cosine similarity of two
// templates is their dot product. Build one with NewTemplate; a Template
// obtained any other way is re-checked wherever it is used.
type Template []float32

// NewTemplate validates v for dimension dim (0 means any length in
// [1, MaxDim]) and returns a normalised copy. Errors wrap ErrDimension
// (as *DimensionError), ErrNotFinite or ErrZeroVector.
func NewTemplate(v []float32, dim int) (Template, error) {
	t := make(Template, len(v))
	if err := normalizeInto(t, v, dim); err != nil {
		return nil, err
	}
	return t, nil
}

// Validate reports whether t is a usable template of dimension dim (0 means
// any): right length, finite, and unit length within 1e-3.
func (t Template) Validate(dim int) error {
	if err := checkVector(t, dim); err != nil {
		return err
	}
	n := norm(t)
	if math.Abs(n-1) > 1e-3 {
		return fmt.Errorf("%w: template norm %.4g, want 1 (use NewTemplate)", ErrZeroVector, n)
	}
	return nil
}

// Dim returns len(t).
func (t Template) Dim() int { return len(t) }

// Similarity returns the cosine similarity of t and u (their dot product),
// or NaN if the lengths differ.
func (t Template) Similarity(u Template) float64 {
	if len(t) != len(u) {
		return math.NaN()
	}
	return float64(dot32(t, u))
}

func checkVector(v []float32, dim int) error {
	if dim > 0 && len(v) != dim || len(v) == 0 || len(v) > MaxDim {
		want := dim
		if want <= 0 {
			want = MaxDim
		}
		return &DimensionError{Got: len(v), Want: want}
	}
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: component %d", ErrNotFinite, i)
		}
	}
	return nil
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// normalizeInto checks v and writes v/|v| to dst (len(dst) == len(v)).
func normalizeInto(dst, v []float32, dim int) error {
	if err := checkVector(v, dim); err != nil {
		return err
	}
	n := norm(v)
	if !(n > 1e-12) || math.IsInf(n, 0) {
		return fmt.Errorf("%w: length %g", ErrZeroVector, n)
	}
	inv := 1 / n
	for i, x := range v {
		dst[i] = float32(float64(x) * inv)
	}
	return nil
}

// dot32 is an 8-way unrolled float32 dot product (independent accumulators
// let the CPU overlap the additions). len(b) must be ≥ len(a).
func dot32(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		aa := a[i : i+8 : i+8]
		bb := b[i : i+8 : i+8]
		s0 += aa[0] * bb[0]
		s1 += aa[1] * bb[1]
		s2 += aa[2] * bb[2]
		s3 += aa[3] * bb[3]
		s4 += aa[4] * bb[4]
		s5 += aa[5] * bb[5]
		s6 += aa[6] * bb[6]
		s7 += aa[7] * bb[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// dot8 is the int8 dot product of the quantised path, 8-way unrolled with
// int32 accumulators (|sum| ≤ 4096·127² < 2³¹).
func dot8(a, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		aa := a[i : i+8 : i+8]
		bb := b[i : i+8 : i+8]
		s0 += int32(aa[0])*int32(bb[0]) + int32(aa[4])*int32(bb[4])
		s1 += int32(aa[1])*int32(bb[1]) + int32(aa[5])*int32(bb[5])
		s2 += int32(aa[2])*int32(bb[2]) + int32(aa[6])*int32(bb[6])
		s3 += int32(aa[3])*int32(bb[3]) + int32(aa[7])*int32(bb[7])
	}
	for ; i < len(a); i++ {
		s0 += int32(a[i]) * int32(b[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// quantize writes round(v/scale) to dst with scale = max|v|/127 and
// returns scale (0 for an all-zero v).
func quantize(dst []int8, v []float32) float32 {
	var m float32
	for _, x := range v {
		if x < 0 {
			x = -x
		}
		if x > m {
			m = x
		}
	}
	if m == 0 {
		clear(dst)
		return 0
	}
	scale := m / 127
	inv := 1 / scale
	for i, x := range v {
		q := math.Round(float64(x * inv))
		dst[i] = int8(max(-127, min(127, q)))
	}
	return scale
}
