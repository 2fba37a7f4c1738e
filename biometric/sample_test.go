package biometric

import (
	"bytes"
	"errors"
	"math"
	"testing"
	"time"
)

func TestSampleRoundTrip(t *testing.T) {
	s := Sample{Modality: ModalityPalm, Embedding: []float32{0.5, -1, 2}, CapturedAt: time.Date(2026, 6, 1, 8, 0, 0, 5, time.UTC), Liveness: []byte("pad:0.98")}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got Sample
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got.Modality != s.Modality || !got.CapturedAt.Equal(s.CapturedAt) || !bytes.Equal(got.Liveness, s.Liveness) || len(got.Embedding) != 3 || got.Embedding[1] != -1 {
		t.Errorf("round trip %+v", got)
	}
	if got.Modality.String() != "palm" || ModalityFace.String() != "face" || Modality(9).String() != "unknown" {
		t.Error("Modality.String")
	}
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("XXXX"), b[4:]...),
		"truncated": b[:len(b)-1],
		"trailing":  append(bytes.Clone(b), 0),
		"dim 0":     append(append([]byte("PBS1\x01\x00\x00"), make([]byte, 8)...), 0, 0),
		"dim big":   append(append([]byte("PBS1\x01\xff\xff"), make([]byte, 8)...), 0, 0),
	} {
		if _, err := DecodeSample(bad); !errors.Is(err, ErrSample) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, s := range map[string]Sample{
		"nan":      {Embedding: []float32{float32(math.NaN())}},
		"zero":     {Embedding: []float32{0, 0}},
		"modality": {Modality: 7, Embedding: []float32{1}},
		"liveness": {Embedding: []float32{1}, Liveness: make([]byte, MaxLiveness+1)},
		"empty":    {},
	} {
		if _, err := s.MarshalBinary(); !errors.Is(err, ErrSample) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzDecodeSample: no panic; whatever decodes is valid and re-encodes to
// the same bytes.
func FuzzDecodeSample(f *testing.F) {
	s := Sample{Modality: ModalityFace, Embedding: []float32{1, 2, 3, 4}, CapturedAt: time.Unix(1700000000, 0), Liveness: []byte{1, 2}}
	b, _ := s.MarshalBinary()
	f.Add(b)
	f.Add([]byte("PBS1"))
	f.Add(append([]byte("PBS1\x01\x00\x01"), make([]byte, 14)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4*MaxDim+MaxLiveness+64 {
			t.Skip()
		}
		s, err := DecodeSample(b)
		if err != nil {
			if !errors.Is(err, ErrSample) {
				t.Fatalf("error does not wrap ErrSample: %v", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("decoded invalid sample: %v", err)
		}
		again, err := s.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("re-encode differs: %v", err)
		}
	})
}
