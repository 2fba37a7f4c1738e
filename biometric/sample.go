package biometric

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// Modality is the biometric trait a sample was captured from.
type Modality uint8

// Modalities.
const (
	ModalityUnknown Modality = iota
	ModalityFace
	ModalityPalm
	modalityEnd
)

// String returns "face", "palm" or "unknown".
func (m Modality) String() string {
	switch m {
	case ModalityFace:
		return "face"
	case ModalityPalm:
		return "palm"
	}
	return "unknown"
}

// MaxLiveness bounds Sample.Liveness in bytes.
const MaxLiveness = 16 << 10

// Sample is one capture sent by a terminal: the embedding the host's face or
// palm model produced, when it was captured, and opaque liveness evidence
// (presentation-attack-detection scores, a challenge response …) for the
// host's LivenessChecker.
type Sample struct {
	Modality   Modality
	Embedding  []float32
	CapturedAt time.Time
	Liveness   []byte
}

// sampleMagic opens the binary form of a Sample.
const sampleMagic = "PBS1"

// Validate checks the modality, the embedding (any dimension in
// [1, MaxDim], finite, non-zero) and the liveness size; errors wrap ErrSample
// and, for the embedding, ErrDimension, ErrNotFinite or ErrZeroVector.
func (s Sample) Validate() error {
	if s.Modality >= modalityEnd {
		return fmt.Errorf("%w: modality %d", ErrSample, s.Modality)
	}
	if len(s.Liveness) > MaxLiveness {
		return fmt.Errorf("%w: liveness evidence %d bytes > %d", ErrSample, len(s.Liveness), MaxLiveness)
	}
	if err := checkVector(s.Embedding, 0); err != nil {
		return fmt.Errorf("%w: %w", ErrSample, err)
	}
	if !(norm(s.Embedding) > 1e-12) {
		return fmt.Errorf("%w: %w", ErrSample, ErrZeroVector)
	}
	return nil
}

// MarshalBinary encodes s as a terminal sends it:
//
//	"PBS1" | modality u8 | dim u16 | captured-at unix ns i64 (0 = unset) |
//	dim × float32 | liveness length u16 | liveness
//
// all big-endian. Errors are those of Validate.
func (s Sample) MarshalBinary() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, 4+1+2+8+4*len(s.Embedding)+2+len(s.Liveness))
	b = append(b, sampleMagic...)
	b = append(b, byte(s.Modality))
	b = binary.BigEndian.AppendUint16(b, uint16(len(s.Embedding)))
	var ns int64
	if !s.CapturedAt.IsZero() {
		ns = s.CapturedAt.UnixNano()
	}
	b = binary.BigEndian.AppendUint64(b, uint64(ns))
	for _, x := range s.Embedding {
		b = binary.BigEndian.AppendUint32(b, math.Float32bits(x))
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(s.Liveness)))
	return append(b, s.Liveness...), nil
}

// DecodeSample parses the binary form written by MarshalBinary. The input
// must be exactly one sample; every length is checked against MaxDim and
// MaxLiveness before anything is allocated. Errors wrap ErrSample.
func DecodeSample(b []byte) (Sample, error) {
	var s Sample
	const head = 4 + 1 + 2 + 8
	if len(b) < head+2 || string(b[:4]) != sampleMagic {
		return s, fmt.Errorf("%w: not a PBS1 sample (%d bytes)", ErrSample, len(b))
	}
	s.Modality = Modality(b[4])
	dim := int(binary.BigEndian.Uint16(b[5:]))
	ns := int64(binary.BigEndian.Uint64(b[7:]))
	if dim == 0 || dim > MaxDim {
		return Sample{}, fmt.Errorf("%w: dimension %d not in [1, %d]", ErrSample, dim, MaxDim)
	}
	if len(b) < head+4*dim+2 {
		return Sample{}, fmt.Errorf("%w: truncated embedding", ErrSample)
	}
	p := b[head:]
	s.Embedding = make([]float32, dim)
	for i := range s.Embedding {
		s.Embedding[i] = math.Float32frombits(binary.BigEndian.Uint32(p[4*i:]))
	}
	p = p[4*dim:]
	ln := int(binary.BigEndian.Uint16(p))
	p = p[2:]
	if ln != len(p) {
		return Sample{}, fmt.Errorf("%w: liveness length %d, %d bytes follow", ErrSample, ln, len(p))
	}
	if ln > 0 {
		s.Liveness = append([]byte(nil), p...)
	}
	if ns != 0 {
		s.CapturedAt = time.Unix(0, ns).UTC()
	}
	if err := s.Validate(); err != nil {
		return Sample{}, err
	}
	return s, nil
}

// UnmarshalBinary is DecodeSample into s.
func (s *Sample) UnmarshalBinary(b []byte) error {
	d, err := DecodeSample(b)
	if err != nil {
		return err
	}
	*s = d
	return nil
}
