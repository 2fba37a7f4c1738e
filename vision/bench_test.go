package vision_test

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/payedge/payedge/vision"
	"github.com/payedge/payedge/vision/visiontest"
)

// benchPhoto is a generated 1920×1080 shop photo, JPEG-encoded at quality
// 90, and its decoded form; built once per process.
var benchPhoto = sync.OnceValues(func() ([]byte, image.Image) {
	s, err := visiontest.Generate(visiontest.Reshot, 1, visiontest.Options{Width: 1920, Height: 1080}, 7)
	if err != nil {
		panic(err)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, s.Refs[0], &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(b.Bytes()))
	if err != nil {
		panic(err)
	}
	return b.Bytes(), img
})

// BenchmarkJPEGDecode1080p is the baseline for BenchmarkExtract1080p:
// image/jpeg decoding the same photo.
func BenchmarkJPEGDecode1080p(b *testing.B) {
	data, _ := benchPhoto()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExtract1080p extracts a fingerprint from the decoded photo.
func BenchmarkExtract1080p(b *testing.B) {
	_, img := benchPhoto()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := vision.Extract(img); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPDQ1080p hashes the decoded photo at full resolution.
func BenchmarkPDQ1080p(b *testing.B) {
	_, img := benchPhoto()
	b.ReportAllocs()
	for b.Loop() {
		vision.PDQ(img)
	}
}

// BenchmarkPDQDihedral1080p computes the eight dihedral hashes of the
// decoded photo (one DCT, eight thresholds).
func BenchmarkPDQDihedral1080p(b *testing.B) {
	_, img := benchPhoto()
	b.ReportAllocs()
	for b.Loop() {
		vision.PDQDihedral(img)
	}
}

// BenchmarkPDQ1080pRGBA hashes the photo as an *image.RGBA, whose luma is
// computed per row in float32 (the path of PNG and working-size images).
func BenchmarkPDQ1080pRGBA(b *testing.B) {
	_, img := benchPhoto()
	bb := img.Bounds()
	m := image.NewRGBA(bb)
	for y := bb.Min.Y; y < bb.Max.Y; y++ {
		for x := bb.Min.X; x < bb.Max.X; x++ {
			m.Set(x, y, img.At(x, y))
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		vision.PDQ(m)
	}
}

// BenchmarkDecode1080p runs the safe decoder (header check, decode,
// downscale, orientation) on the JPEG bytes.
func BenchmarkDecode1080p(b *testing.B) {
	data, _ := benchPhoto()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := vision.Decode(bytes.NewReader(data), vision.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSimilarity compares two fingerprints of a re-shot scene.
func BenchmarkSimilarity(b *testing.B) {
	s, err := visiontest.Generate(visiontest.Reshot, 1, visiontest.Options{Width: 640, Height: 480}, 3)
	if err != nil {
		b.Fatal(err)
	}
	fa, err := vision.Extract(s.Refs[0])
	if err != nil {
		b.Fatal(err)
	}
	fb, err := vision.Extract(s.Queries[0])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		fa.Similarity(fb)
	}
}

// BenchmarkSimilarityUnrelated compares photos of two different scenes:
// few consistent matches, so RANSAC runs its full iteration budget.
func BenchmarkSimilarityUnrelated(b *testing.B) {
	s, err := visiontest.Generate(visiontest.Reshot, 2, visiontest.Options{Width: 640, Height: 480}, 3)
	if err != nil {
		b.Fatal(err)
	}
	fa, err := vision.Extract(s.Refs[0])
	if err != nil {
		b.Fatal(err)
	}
	fb, err := vision.Extract(s.Queries[1])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		fa.Similarity(fb)
	}
}

// maxFingerprint decodes a fingerprint with MaxFeatures random features
// spread over a 640×480 frame: the largest UnmarshalBinary accepts.
func maxFingerprint(b *testing.B, seed uint64) *vision.Fingerprint {
	r := rand.New(rand.NewPCG(seed, 2))
	data := make([]byte, vision.FingerprintHeaderSize)
	copy(data, "PEVF\x01")
	p := vision.FingerprintHeaderSize - 6
	binary.BigEndian.PutUint16(data[p:], 640)
	binary.BigEndian.PutUint16(data[p+2:], 480)
	binary.BigEndian.PutUint16(data[p+4:], vision.MaxFeatures)
	for range vision.MaxFeatures {
		data = binary.BigEndian.AppendUint32(data, math.Float32bits(float32(r.IntN(640))))
		data = binary.BigEndian.AppendUint32(data, math.Float32bits(float32(r.IntN(480))))
		data = append(data, 0)
		data = binary.BigEndian.AppendUint32(data, math.Float32bits(float32(r.Float64()*6-3)))
		for range 4 {
			data = binary.BigEndian.AppendUint64(data, r.Uint64())
		}
	}
	var f vision.Fingerprint
	if err := f.UnmarshalBinary(data); err != nil {
		b.Fatal(err)
	}
	return &f
}

// BenchmarkSimilarityMaxFeatures is the worst case for stored data: two
// fingerprints with MaxFeatures features each.
func BenchmarkSimilarityMaxFeatures(b *testing.B) {
	fa, fb := maxFingerprint(b, 1), maxFingerprint(b, 2)
	b.ReportAllocs()
	for b.Loop() {
		fa.Similarity(fb)
	}
}
