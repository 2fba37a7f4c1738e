package vision_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sync"
	"testing"

	"github.com/payedge/payedge/vision"
	"github.com/payedge/payedge/vision/visiontest"
)

// sharedReshot renders, once per test binary, two shops photographed twice
// each (400×300, seed 5): most tests share it, which keeps the package
// fast under -race, where rendering dominates.
var sharedReshot = sync.OnceValues(func() (visiontest.Set, error) {
	return visiontest.Generate(visiontest.Reshot, 2, visiontest.Options{Width: 400, Height: 300}, 5)
})

// reshotPair returns a reference photo, a re-shot of the same shop and a
// photo of another shop, from sharedReshot.
func reshotPair(t testing.TB) (ref, same, other image.Image) {
	t.Helper()
	s, err := sharedReshot()
	if err != nil {
		t.Fatal(err)
	}
	return s.Refs[0], s.Queries[0], s.Queries[1]
}

// sharedFingerprints are the fingerprints of reshotPair's photos, extracted
// once; they are immutable, so tests may share them.
var sharedFingerprints = sync.OnceValues(func() ([3]*vision.Fingerprint, error) {
	var out [3]*vision.Fingerprint
	s, err := sharedReshot()
	if err != nil {
		return out, err
	}
	for i, m := range []image.Image{s.Refs[0], s.Queries[0], s.Queries[1]} {
		if out[i], err = vision.Extract(m); err != nil {
			return out, err
		}
	}
	return out, nil
})

func reshotFingerprints(t testing.TB) (ref, same, other *vision.Fingerprint) {
	t.Helper()
	fps, err := sharedFingerprints()
	if err != nil {
		t.Fatal(err)
	}
	return fps[0], fps[1], fps[2]
}

func mustExtract(t testing.TB, m image.Image) *vision.Fingerprint {
	t.Helper()
	fp, err := vision.Extract(m)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

func TestSimilarityReshot(t *testing.T) {
	t.Parallel()
	fr, fs, fo := reshotFingerprints(t)
	if n := fr.NumFeatures(); n < 200 {
		t.Errorf("only %d features on a textured photo", n)
	}
	self := fr.Similarity(fr)
	pos := fr.Similarity(fs)
	neg := fr.Similarity(fo)
	t.Logf("self %.3f, re-shot %.3f (%+v), other %.3f (%+v)", self, pos, fr.Compare(fs), neg, fr.Compare(fo))
	if self < 0.99 {
		t.Errorf("self-similarity %.3f", self)
	}
	if pos < 0.9 {
		t.Errorf("re-shot of the same scene scored %.3f", pos)
	}
	if neg > 0.1 {
		t.Errorf("different scene scored %.3f", neg)
	}
	for _, v := range []float64{self, pos, neg} {
		if v < 0 || v > 1 || math.IsNaN(v) {
			t.Errorf("score %v outside [0,1]", v)
		}
	}
	if fr.Similarity(fs) != pos {
		t.Error("Similarity not deterministic")
	}
	if math.Abs(fs.Similarity(fr)-pos) > 0.1 {
		t.Errorf("asymmetric: %.3f vs %.3f", fs.Similarity(fr), pos)
	}
	var nilFP *vision.Fingerprint
	if nilFP.Similarity(fr) != 0 || fr.Similarity(nil) != 0 {
		t.Error("nil fingerprint should score 0")
	}
}

func TestExtractBadInput(t *testing.T) {
	t.Parallel()
	if _, err := vision.Extract(nil); !errors.Is(err, vision.ErrNilImage) {
		t.Errorf("nil: %v", err)
	}
	for _, r := range []image.Rectangle{image.Rect(0, 0, 0, 0), image.Rect(0, 0, 1, 500), image.Rect(0, 0, 31, 31)} {
		if _, err := vision.Extract(image.NewRGBA(r)); !errors.Is(err, vision.ErrTooSmall) {
			t.Errorf("%v: %v", r, err)
		}
	}
	// Blank, grey, CMYK, paletted and offset-origin images all extract.
	cmyk := image.NewCMYK(image.Rect(0, 0, 120, 90))
	for i := range cmyk.Pix {
		cmyk.Pix[i] = uint8(i * 7)
	}
	pal := image.NewPaletted(image.Rect(0, 0, 100, 100), color.Palette{color.Black, color.White})
	for i := range pal.Pix {
		pal.Pix[i] = uint8((i / 7) % 2)
	}
	ref, _, _ := reshotPair(t)
	sub := ref.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(image.Rect(50, 40, 350, 260))
	for name, m := range map[string]image.Image{
		"blank": image.NewRGBA(image.Rect(0, 0, 64, 64)), "gray": image.NewGray(image.Rect(0, 0, 50, 70)),
		"sliver": image.NewGray(image.Rect(0, 0, 32, 20000)), "ycbcr sliver": image.NewYCbCr(image.Rect(0, 0, 9000, 33), image.YCbCrSubsampleRatio420),
		"cmyk": cmyk, "paletted": pal, "subimage": sub,
	} {
		fp, err := vision.Extract(m)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if s := fp.Similarity(fp); s < 0 || s > 1 {
			t.Errorf("%s: self-similarity %v", name, s)
		}
	}
	// A sub-image matches its parent photo.
	fr, _, _ := reshotFingerprints(t)
	if s := fr.Similarity(mustExtract(t, sub)); s < 0.9 {
		t.Errorf("crop of the photo scored %.3f", s)
	}
}

func TestFingerprintBinaryRoundTrip(t *testing.T) {
	t.Parallel()
	fr, fs, _ := reshotFingerprints(t)
	data, err := fr.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back vision.Fingerprint
	if err := back.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	again, err := back.MarshalBinary()
	if err != nil || !bytes.Equal(again, data) {
		t.Fatalf("re-marshal differs (%v)", err)
	}
	if back.PDQ != fr.PDQ || back.Layout != fr.Layout || back.NumFeatures() != fr.NumFeatures() {
		t.Fatal("fields lost in round trip")
	}
	if a, b := fr.Similarity(fs), back.Similarity(fs); a != b {
		t.Fatalf("similarity changed after round trip: %v vs %v", a, b)
	}
	// Bad inputs.
	bad := map[string][]byte{
		"empty":     nil,
		"short":     data[:20],
		"magic":     append([]byte("XXXX"), data[4:]...),
		"version":   append(append([]byte("PEVF"), 9), data[5:]...),
		"truncated": data[:len(data)-1],
		"trailing":  append(bytes.Clone(data), 0),
	}
	tooMany := bytes.Clone(data[:vision.FingerprintHeaderSize])
	tooMany[len(tooMany)-2], tooMany[len(tooMany)-1] = 0xFF, 0xFF
	bad["too many features"] = tooMany
	for name, b := range bad {
		var f vision.Fingerprint
		if err := f.UnmarshalBinary(b); !errors.Is(err, vision.ErrBadFingerprint) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzFingerprintUnmarshal checks that UnmarshalBinary never panics and
// that whatever it accepts re-encodes to the same bytes and can be compared.
func FuzzFingerprintUnmarshal(f *testing.F) {
	m := image.NewGray(image.Rect(0, 0, 96, 96))
	for i := range m.Pix {
		m.Pix[i] = uint8((i*37)^(i/96*53)) & 0xF0
	}
	fp, err := vision.Extract(m)
	if err != nil {
		f.Fatal(err)
	}
	data, err := fp.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:vision.FingerprintHeaderSize])
	f.Add([]byte("PEVF\x01"))
	f.Add(movedToEdge(data, max(fp.Width, fp.Height)))
	f.Add(toVersion1(data))
	probe := fp
	f.Fuzz(func(t *testing.T, b []byte) {
		var g vision.Fingerprint
		if err := g.UnmarshalBinary(b); err != nil {
			return
		}
		out, err := g.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, b) {
			t.Fatal("accepted input does not round-trip")
		}
		if s := g.Similarity(probe); s < 0 || s > 1 || math.IsNaN(s) {
			t.Fatalf("similarity %v", s)
		}
	})
}

// TestExtractYCbCrPathAgrees checks that the YCbCr fast path (no RGB
// image) and the generic RGBA path fingerprint the same photo alike.
func TestExtractYCbCrPathAgrees(t *testing.T) {
	t.Parallel()
	ref, _, _ := reshotPair(t)
	ycc, ok := ref.(*image.YCbCr)
	if !ok {
		t.Fatalf("generator returned %T, want *image.YCbCr", ref)
	}
	rgba := image.NewRGBA(ycc.Rect)
	draw.Draw(rgba, rgba.Rect, ycc, ycc.Rect.Min, draw.Src)
	a, b := mustExtract(t, ycc), mustExtract(t, rgba)
	e := a.Compare(b)
	if e.Score < 0.95 || e.PDQDistance > 16 || e.LayoutDistance > 6 {
		t.Errorf("paths disagree: %+v, layouts %v vs %v", e, a.Layout, b.Layout)
	}
}

// TestCompareEdgeCoordinates: UnmarshalBinary accepts a fingerprint of
// size 0×0 whose features lie in [−1, 0] (coordinates from −1 to the frame
// size), so a stored fingerprint can put every point just outside the
// frame; matching, including guided matching around the homography of a
// true pair, must handle it. The same-scene query's features are moved
// into [−1, 0]² keeping their layout (so the pair still fits a homography)
// and its size set to 0×0.
func TestCompareEdgeCoordinates(t *testing.T) {
	t.Parallel()
	fr, fs, _ := reshotFingerprints(t)
	if e := fr.Compare(fs); e.Inliers < 6 {
		t.Fatalf("same-scene pair has %d inliers; guided matching would not run", e.Inliers)
	}
	data, err := fs.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	mod := movedToEdge(data, max(fs.Width, fs.Height))
	var g vision.Fingerprint
	if err := g.UnmarshalBinary(mod); err != nil {
		t.Fatal(err)
	}
	for _, s := range []float64{fr.Similarity(&g), g.Similarity(fr)} {
		if !(s >= 0 && s <= 1) {
			t.Errorf("similarity %v", s)
		}
	}
	t.Logf("similarity of the moved copy: %.3f", fr.Similarity(&g))
}

// movedToEdge rewrites an encoded fingerprint as size 0×0 with every
// feature moved into [−1, 0]² (coordinates divided by side, minus 1), the
// layout kept: valid for UnmarshalBinary, and still a homography away from
// the original.
func movedToEdge(data []byte, side int) []byte {
	featureSize := 47
	if data[4] == 1 {
		featureSize = 45
	}
	mod := bytes.Clone(data)
	sizeAt := vision.FingerprintHeaderSize - 6
	binary.BigEndian.PutUint16(mod[sizeAt:], 0)
	binary.BigEndian.PutUint16(mod[sizeAt+2:], 0)
	for p := vision.FingerprintHeaderSize; p+featureSize <= len(mod); p += featureSize {
		for _, off := range []int{0, 4} {
			v := math.Float32frombits(binary.BigEndian.Uint32(mod[p+off:]))
			binary.BigEndian.PutUint32(mod[p+off:], math.Float32bits(max(v/float32(side)-1, -1)))
		}
	}
	return mod
}

// toVersion1 rewrites a version-2 encoding in format version 1: the same
// header with version byte 1, and each 47-byte feature without its last
// two (colour) bytes.
func toVersion1(data []byte) []byte {
	out := bytes.Clone(data[:vision.FingerprintHeaderSize])
	out[4] = 1
	for p := vision.FingerprintHeaderSize; p+47 <= len(data); p += 47 {
		out = append(out, data[p:p+45]...)
	}
	return out
}

// TestFingerprintVersion1 checks that fingerprints stored in format
// version 1 (before features carried colour) still decode, re-encode to
// the same bytes, and compare: a same-scene pair still scores as one
// place and a different scene does not, whether one or both sides are old.
func TestFingerprintVersion1(t *testing.T) {
	t.Parallel()
	fr, fs, fo := reshotFingerprints(t)
	data, err := fr.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if data[4] != 2 || len(data) != vision.FingerprintHeaderSize+47*fr.NumFeatures() {
		t.Fatalf("version %d, %d bytes for %d features", data[4], len(data), fr.NumFeatures())
	}
	v1 := toVersion1(data)
	var old vision.Fingerprint
	if err := old.UnmarshalBinary(v1); err != nil {
		t.Fatal(err)
	}
	again, err := old.MarshalBinary()
	if err != nil || !bytes.Equal(again, v1) {
		t.Fatalf("version 1 does not round-trip (%v)", err)
	}
	if old.PDQ != fr.PDQ || old.NumFeatures() != fr.NumFeatures() {
		t.Fatal("fields lost")
	}
	sdata, err := fs.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var oldS vision.Fingerprint
	if err := oldS.UnmarshalBinary(toVersion1(sdata)); err != nil {
		t.Fatal(err)
	}
	for name, pair := range map[string][2]*vision.Fingerprint{"old-new": {&old, fs}, "new-old": {fr, &oldS}, "old-old": {&old, &oldS}} {
		if s := pair[0].Similarity(pair[1]); s < 0.5 {
			t.Errorf("%s: same scene scored %.3f", name, s)
		}
		if s := pair[0].Similarity(fo); s > 0.5 {
			t.Errorf("%s: other scene scored %.3f", name, s)
		}
	}
}
