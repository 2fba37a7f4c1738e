package vision_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"strings"

	"github.com/payedge/payedge/vision"
	"github.com/payedge/payedge/vision/visiontest"
)

// A merchant registers a photo of its shop at onboarding; later its
// terminal sends a new photo taken from another spot, in other light.
func ExampleAssessor() {
	ctx := context.Background()
	photos, _ := visiontest.Generate(visiontest.Reshot, 2, visiontest.Options{Width: 320, Height: 240}, 4)

	// Onboarding: decode safely, fingerprint, store.
	var onboarding bytes.Buffer
	_ = jpeg.Encode(&onboarding, photos.Refs[0], nil)
	ref, err := vision.Decode(&onboarding, vision.Limits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fp, _ := vision.Extract(ref)
	store := vision.NewMemoryStore()
	_ = store.Add(ctx, "merchant-42", fp)

	a, _ := vision.NewAssessor(vision.Config{}, store)
	same, _ := a.Assess(ctx, "merchant-42", photos.Queries[0])
	elsewhere, _ := a.Assess(ctx, "merchant-42", photos.Queries[1])
	fmt.Println("same shop:", same.Reasons[0].Code, same.Confidence > 0.9)
	fmt.Println("elsewhere:", elsewhere.Reasons[0].Code, elsewhere.Confidence < 0.1)
	// Output:
	// same shop: vision.scene_match true
	// elsewhere: vision.unknown_scene true
}

// PDQ hashes survive re-encoding; the distance is in bits out of 256.
func ExamplePDQ() {
	photos, _ := visiontest.Generate(visiontest.JPEGFamily, 2, visiontest.Options{}, 3)
	h0, q := vision.PDQ(photos.Refs[0])
	h1, _ := vision.PDQ(photos.Queries[0]) // same photo, JPEG quality 20–50
	h2, _ := vision.PDQ(photos.Refs[1])    // another shop
	fmt.Println("quality ≥ 50:", q >= 50)
	fmt.Println("re-encoded within 31 bits:", h0.Distance(h1) <= 31)
	fmt.Println("other shop beyond 63 bits:", h0.Distance(h2) > 63)
	// Output:
	// quality ≥ 50: true
	// re-encoded within 31 bits: true
	// other shop beyond 63 bits: true
}

// Decode refuses hostile input with errors that name the cause: here an
// unknown format and a PNG header declaring 100 000 × 100 000 pixels, which
// is refused before any pixel is decoded.
func ExampleDecode() {
	_, err := vision.Decode(strings.NewReader("BM: a bitmap"), vision.Limits{})
	fmt.Println(errors.Is(err, vision.ErrUnsupportedFormat))

	_, err = vision.Decode(bytes.NewReader(pngHeader(100_000, 100_000)), vision.Limits{})
	fmt.Println(errors.Is(err, vision.ErrTooLarge))
	fmt.Println(err)
	// Output:
	// true
	// true
	// vision: image too large: png header declares 100000×100000 (limits: 50000000 pixels, 20000 per side)
}
