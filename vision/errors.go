package vision

import "errors"

// Sentinel errors. Functions wrap them with detail; test with errors.Is.
var (
	// ErrTooLarge reports an input over a configured bound: encoded bytes,
	// pixel count (checked from the header before decoding) or side length.
	ErrTooLarge = errors.New("vision: image too large")
	// ErrTooSmall reports an image whose sides are below the minimum usable size.
	ErrTooSmall = errors.New("vision: image too small")
	// ErrUnsupportedFormat reports an encoding other than JPEG, PNG or GIF.
	ErrUnsupportedFormat = errors.New("vision: unsupported image format")
	// ErrCorrupt reports a malformed or truncated image file.
	ErrCorrupt = errors.New("vision: corrupt image")
	// ErrNilImage reports a nil image.Image argument.
	ErrNilImage = errors.New("vision: nil image")
	// ErrBadHash reports a malformed hexadecimal PDQ hash.
	ErrBadHash = errors.New("vision: malformed hash")
	// ErrBadFingerprint reports malformed or oversized serialised fingerprint
	// data, or a nil fingerprint where one is required.
	ErrBadFingerprint = errors.New("vision: malformed fingerprint")
	// ErrConfig reports a Config or Limits value out of range.
	ErrConfig = errors.New("vision: invalid config")
	// ErrNotInitialized reports a method called on the zero value of a
	// type that needs a constructor (the zero Assessor has no store).
	ErrNotInitialized = errors.New("vision: not initialized")
	// ErrNilContext reports a nil context.Context argument.
	ErrNilContext = errors.New("vision: nil context")
	// ErrNoStore reports an Assessor used without a SceneStore.
	ErrNoStore = errors.New("vision: assessor has no scene store")
	// ErrStoreFull reports a merchant that already has the maximum number of references.
	ErrStoreFull = errors.New("vision: too many references for merchant")
)
