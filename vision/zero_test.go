package vision_test

import (
	"context"
	"errors"
	"image"
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
	"github.com/payedge/payedge/vision"
)

// TestZeroValues calls every method of every exported type with methods on
// its zero value (and on a nil pointer where the receiver is a pointer):
// each either works or returns one clear, matchable error; none panics.
func TestZeroValues(t *testing.T) {
	ctx := context.Background()
	img := image.NewGray(image.Rect(0, 0, 64, 64))
	cases := []struct {
		typ  string
		name string
		run  func() error
	}{
		{"Assessor", "Assess", func() error {
			_, err := (&vision.Assessor{}).Assess(ctx, "m", img)
			return wantIs(err, vision.ErrNotInitialized, vision.ErrNoStore)
		}},
		{"Assessor", "Score", func() error {
			_, err := (&vision.Assessor{}).Score(ctx, vision.Input{})
			return wantIs(err, vision.ErrNotInitialized)
		}},
		{"Assessor", "nil Assess", func() error {
			_, err := (*vision.Assessor)(nil).Assess(ctx, "m", img)
			return wantIs(err, vision.ErrNotInitialized)
		}},
		{"Assessor", "nil context", func() error {
			a, err := vision.NewAssessor(vision.Config{}, vision.NewMemoryStore())
			if err != nil {
				return err
			}
			//lint:ignore SA1012 a nil ctx is the case under test
			_, err = a.Assess(nil, "m", img)
			return wantIs(err, vision.ErrNilContext)
		}},
		{"Config", "Validate", func() error { return vision.Config{}.Validate() }},
		{"Limits", "Validate", func() error { return vision.Limits{}.Validate() }},
		{"Fingerprint", "NumFeatures", func() error {
			if n := (&vision.Fingerprint{}).NumFeatures() + (*vision.Fingerprint)(nil).NumFeatures(); n != 0 {
				return errors.New("features on a zero fingerprint")
			}
			return nil
		}},
		{"Fingerprint", "Similarity", func() error {
			z := &vision.Fingerprint{}
			if s := z.Similarity(z); !(s >= 0 && s < 0.5) {
				return errors.New("two empty fingerprints called the same place")
			}
			if s := (*vision.Fingerprint)(nil).Similarity(z); s != 0 {
				return errors.New("nil fingerprint not 0")
			}
			return nil
		}},
		{"Fingerprint", "Compare", func() error {
			if e := (&vision.Fingerprint{}).Compare(&vision.Fingerprint{}); e.Inliers != 0 || e.Matches != 0 {
				return errors.New("matches between empty fingerprints")
			}
			return nil
		}},
		{"Fingerprint", "MarshalBinary", func() error {
			b, err := (&vision.Fingerprint{}).MarshalBinary()
			if err != nil || len(b) != vision.FingerprintHeaderSize {
				return errors.New("zero fingerprint does not encode")
			}
			var back vision.Fingerprint
			if err := back.UnmarshalBinary(b); err != nil {
				return err
			}
			_, err = (*vision.Fingerprint)(nil).MarshalBinary()
			return wantIs(err, vision.ErrBadFingerprint)
		}},
		{"Fingerprint", "UnmarshalBinary", func() error {
			var f vision.Fingerprint
			if err := wantIs(f.UnmarshalBinary(nil), vision.ErrBadFingerprint); err != nil {
				return err
			}
			return wantIs((*vision.Fingerprint)(nil).UnmarshalBinary(nil), vision.ErrBadFingerprint)
		}},
		{"Hash", "Distance/Bit/String", func() error {
			var h vision.Hash
			if h.Distance(h) != 0 || h.Bit(0) || h.String() != "0000000000000000000000000000000000000000000000000000000000000000" {
				return errors.New("zero hash")
			}
			return nil
		}},
		{"MemoryStore", "Add/References", func() error {
			var s vision.MemoryStore
			fp, err := vision.Extract(img)
			if err != nil {
				return err
			}
			if err := s.Add(ctx, "m", fp); err != nil {
				return err
			}
			refs, err := s.References(ctx, "m")
			if err != nil || len(refs) != 1 {
				return errors.New("zero MemoryStore lost a reference")
			}
			return nil
		}},
		{"MemoryStore", "nil", func() error {
			var s *vision.MemoryStore
			if _, err := s.References(ctx, "m"); !errors.Is(err, vision.ErrNotInitialized) {
				return err
			}
			return wantIs(s.Add(ctx, "m", &vision.Fingerprint{}), vision.ErrNotInitialized)
		}},
		{"MemoryStore", "negative MaxReferences", func() error {
			s := vision.MemoryStore{MaxReferences: -1}
			return wantIs(s.Add(ctx, "m", &vision.Fingerprint{}), vision.ErrConfig)
		}},
		{"QualityReport", "OK/Reasons", func() error {
			var q vision.QualityReport
			if !q.OK() || len(q.Reasons()) != 0 {
				return errors.New("zero report has failed gates")
			}
			return nil
		}},
	}
	var names []string
	seen := map[string]bool{}
	for _, c := range cases {
		t.Run(c.typ+"/"+c.name, func(t *testing.T) {
			if err := c.run(); err != nil {
				t.Error(err)
			}
		})
		if !seen[c.typ] {
			seen[c.typ] = true
			names = append(names, c.typ)
		}
	}
	zerotest.Covered(t, names...)
}

// wantIs returns nil when err matches every target, else a descriptive error.
func wantIs(err error, targets ...error) error {
	for _, target := range targets {
		if !errors.Is(err, target) {
			return errors.Join(errors.New("want error matching "+target.Error()), err)
		}
	}
	return nil
}

// TestConfigValidation: invalid Limits and Config values are rejected, not
// silently replaced by defaults.
func TestConfigValidation(t *testing.T) {
	for _, l := range []vision.Limits{
		{MaxBytes: -1}, {MaxPixels: -1}, {MaxSide: -5}, {MinSide: -1}, {WorkSide: -640},
		{MinSide: 100, MaxSide: 50},
	} {
		if err := l.Validate(); !errors.Is(err, vision.ErrConfig) {
			t.Errorf("%+v: Validate = %v", l, err)
		}
		if _, err := vision.Decode(nil, l); !errors.Is(err, vision.ErrConfig) {
			t.Errorf("%+v: Decode = %v", l, err)
		}
	}
	for _, l := range []vision.Limits{{}, vision.DefaultLimits(), {MaxBytes: 1}} {
		if err := l.Validate(); err != nil {
			t.Errorf("%+v: %v", l, err)
		}
	}
	if err := vision.DefaultConfig().Validate(); err != nil {
		t.Error(err)
	}
	if vision.DefaultConfig() != vision.DefaultAssessorConfig() {
		t.Error("deprecated DefaultAssessorConfig differs from DefaultConfig")
	}
}
