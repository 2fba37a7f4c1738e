// Package vision judges a payment terminal's photo of its surroundings: is
// the photo usable, and does it show the merchant's registered premises?
// It turns the answer into a risk.Signal.
//
// # Overview
//
// A mobile point-of-sale terminal sends a photo with each card read. The new
// photo is usually a new shot of the same place — another angle, other
// light, other clutter — not an edited copy of the onboarding picture, so
// global perceptual hashes alone do not recognise it. The package combines:
//
//   - Decode (and DecodeInfo, which also reports format, size and
//     orientation): safe decoding of JPEG, PNG and GIF. The header is read first
//     (image.DecodeConfig semantics) and images over a pixel budget are
//     refused before any pixel is decoded; the JPEG EXIF orientation (Exif
//     2.32 / CIPA DC-008 tag 0x0112) is applied; the image is downscaled once
//     with a box filter to the working size.
//   - Quality: brightness, contrast, sharpness (variance of the Laplacian
//     relative to the luma variance, at a fixed scale, so dim photos are not
//     called blurred) and flatness (covered lens, blank frame).
//   - PDQ: Meta's 256-bit perceptual hash (ThreatExchange pdq/README.md and
//     hashing/hashing.pdf, "The TMK+PDQF Video-Hashing Algorithm and the PDQ
//     Image Hashing Algorithm"), and the hashes of the eight dihedral
//     variants (rotations by 90°, mirrors) from four filter passes.
//   - Extract and Similarity: ORB-style local features (Rublee et al., ICCV
//     2011: FAST-9 corners on a presmoothed image, Harris ranking,
//     intensity-centroid orientation, steered BRIEF-256 on a smoothed image,
//     over a small pyramid), each with the mean colour around it, Hamming
//     matching with Lowe's ratio test and a cross-check, RANSAC (Fischler &
//     Bolles 1981) for the largest homography-consistent inlier set
//     (Hartley & Zisserman, Multiple View Geometry, §4.1) whose features
//     also agree with the homography in orientation, scale and hue, then guided
//     matching around that homography (§11.9) and a second fit; for pairs
//     with too few matches for a homography (little overlap, large scale
//     change), pose clustering as in Lowe (IJCV 2004, §7.3): the largest
//     set of loose matches that agree with one similarity transform in
//     position, feature orientation and pyramid level; the transforms of
//     the few largest such clusters also guide matching, each result
//     confirmed by guiding again with its own homography. All of it is combined with the PDQ distance, a near-duplicate term (PDQ within 31 bits in
//     any dihedral orientation) and an MPEG-7-style colour layout (ISO/IEC
//     15938-3) by a logistic calibration into one score in [0,1].
//   - SceneStore and Assessor: merchant → reference fingerprints, and the
//     risk.Scorer[Input] that turns quality gates and the best match into a
//     risk.Signal (Source "vision") with reasons ReasonDark, ReasonBlurred,
//     ReasonCovered, ReasonUnknownScene and ReasonSceneMatch.
//
// # Evidence shape
//
// vision has the shape every payedge evidence package shares:
// NewAssessor(Config, SceneStore) builds the Assessor; Score(ctx, Input)
// makes it a risk.Scorer[Input], and Assess(ctx, merchantID, img) is the
// same call with the fields spelled out; the SceneStore interface takes ctx
// first in every method, MemoryStore implements it, and
// visiontest.TestSceneStore checks any implementation. Config and Limits
// have usable zero values, Validate and DefaultConfig / DefaultLimits.
//
// The confidence follows risk.Signal's neutral contract: it is the
// probability that the photo shows the merchant's premises starting from
// even odds, so it carries the likelihood ratio c/(1−c) and 0.5 means no
// evidence. The Similarity calibration was fitted on class-balanced pairs,
// which is exactly that reference; a merchant without references scores
// 0.5. A host fuses it with its own prior by risk.Fuse.
//
// Package visiontest holds the evaluation harness: a seeded generator of
// re-shot pairs and classic edits, a 64-bit DCT pHash baseline, ROC metrics
// and a SceneStore conformance suite. examples/vision runs it and plots ROC
// curves.
//
// # Limits
//
// PDQ follows the C++ reference hasher whose published outputs
// (ThreatExchange pdq/sql/README.md) it reproduces within 2 bits on Meta's
// sample images, and PDQDihedral gives the hash of each rotated or mirrored
// image itself; TestPDQMetaReference checks both against the images in
// testdata/meta (a subset of Meta's pdq/data/, under its BSD licence).
//
// Images other than *image.YCbCr, *image.Gray, *image.RGBA and opaque
// *image.NRGBA are converted to RGBA one row at a time while downscaling,
// with transparency composited over black. Decode bounds the size of what it
// decodes (Limits: encoded bytes, header pixels and sides, JPEG scans); the
// functions that take an image.Image refuse more than MaxImagePixels, so a
// virtual image such as image.Uniform costs nothing.
//
// # Quick start
//
//	store := vision.NewMemoryStore()
//	ref, _ := vision.Decode(onboardingPhoto, vision.Limits{})
//	fp, _ := vision.Extract(ref)
//	_ = store.Add(ctx, "merchant-42", fp)
//
//	a, _ := vision.NewAssessor(vision.Config{}, store)
//	img, err := vision.Decode(terminalPhoto, vision.Limits{})
//	if err != nil { /* ErrTooLarge, ErrUnsupportedFormat, ErrCorrupt, ... */ }
//	sig, _ := a.Score(ctx, vision.Input{MerchantID: "merchant-42", Image: img})
//	// sig.Confidence in [0,1], 0.5 = no evidence; sig.Reasons explain it.
//
// All functions are safe for concurrent use; Fingerprints are immutable.
package vision
