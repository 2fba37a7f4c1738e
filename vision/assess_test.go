package vision_test

import (
	"context"
	"errors"
	"image"
	"math"
	"sync"
	"testing"

	"github.com/payedge/payedge/risk"
	"github.com/payedge/payedge/vision"
)

func codes(s risk.Signal) map[string]bool {
	m := map[string]bool{}
	for _, r := range s.Reasons {
		m[r.Code] = true
	}
	return m
}

type failingStore struct{}

func (failingStore) References(context.Context, string) ([]*vision.Fingerprint, error) {
	return nil, errBoom
}
func (failingStore) Add(context.Context, string, *vision.Fingerprint) error { return errBoom }

func TestAssessor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	set, err := sharedReshot()
	if err != nil {
		t.Fatal(err)
	}
	fr, _, _ := reshotFingerprints(t)
	store := vision.NewMemoryStore()
	a, err := vision.NewAssessor(vision.Config{}, store)
	if err != nil {
		t.Fatal(err)
	}
	// Empty store: neutral confidence, unknown scene.
	sig, err := a.Assess(ctx, "m1", set.Queries[0])
	if err != nil {
		t.Fatal(err)
	}
	if sig.Source != "vision" || sig.Confidence != 0.5 || !codes(sig)[vision.ReasonUnknownScene] {
		t.Errorf("empty store: %+v", sig)
	}
	if err := store.Add(ctx, "m1", fr); err != nil {
		t.Fatal(err)
	}
	// Same place, new shot.
	sig, err = a.Assess(ctx, "m1", set.Queries[0])
	if err != nil {
		t.Fatal(err)
	}
	if sig.Confidence < 0.8 || !codes(sig)[vision.ReasonSceneMatch] {
		t.Errorf("same scene: %+v", sig)
	}
	// Another place.
	sig, err = a.Assess(ctx, "m1", set.Queries[1])
	if err != nil {
		t.Fatal(err)
	}
	if sig.Confidence > 0.2 || !codes(sig)[vision.ReasonUnknownScene] {
		t.Errorf("other scene: %+v", sig)
	}
	// Covered lens.
	black := image.NewGray(image.Rect(0, 0, 320, 240))
	sig, _ = a.Assess(ctx, "m1", black)
	if c := codes(sig); !c[vision.ReasonCovered] || !c[vision.ReasonDark] || sig.Confidence > 0.3 {
		t.Errorf("black frame: %+v", sig)
	}
	// Nil and tiny images are low-confidence signals, not errors.
	for _, m := range []image.Image{nil, image.NewRGBA(image.Rect(0, 0, 1, 400))} {
		sig, err := a.Assess(ctx, "m1", m)
		if err != nil || !codes(sig)[vision.ReasonCovered] || sig.Confidence > 0.3 {
			t.Errorf("%v: %+v %v", m, sig, err)
		}
	}
	// risk.Scorer adapter.
	var sc risk.Scorer[vision.Input] = a
	if s2, err := sc.Score(ctx, vision.Input{MerchantID: "m1", Image: set.Queries[0]}); err != nil || !codes(s2)[vision.ReasonSceneMatch] {
		t.Errorf("Score: %+v %v", s2, err)
	}
	// Errors: cancelled context, failing store, missing store, bad config.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := a.Assess(cctx, "m1", set.Queries[0]); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := (&vision.Assessor{Store: failingStore{}}).Assess(ctx, "m1", set.Queries[0]); !errors.Is(err, errBoom) {
		t.Errorf("failing store: %v", err)
	}
	if _, err := (&vision.Assessor{}).Assess(ctx, "m1", set.Queries[0]); !errors.Is(err, vision.ErrNoStore) {
		t.Errorf("no store: %v", err)
	}
	if _, err := vision.NewAssessor(vision.Config{}, nil); !errors.Is(err, vision.ErrNoStore) {
		t.Errorf("NewAssessor(nil): %v", err)
	}
	if _, err := vision.NewAssessor(vision.Config{Floor: 0.9, Ceiling: 0.1}, store); !errors.Is(err, vision.ErrConfig) {
		t.Errorf("floor above ceiling: %v", err)
	}
	if _, err := vision.NewAssessor(vision.Config{MatchThreshold: 2}, store); !errors.Is(err, vision.ErrConfig) {
		t.Errorf("threshold 2: %v", err)
	}
	if _, err := vision.NewAssessor(vision.Config{Unusable: math.NaN()}, store); !errors.Is(err, vision.ErrConfig) {
		t.Errorf("NaN: %v", err)
	}
	// An Assessor built as a literal is validated on use.
	if _, err := (&vision.Assessor{Store: store, Config: vision.Config{Ceiling: -1}}).Assess(ctx, "m1", set.Queries[0]); !errors.Is(err, vision.ErrConfig) {
		t.Errorf("literal with bad config: %v", err)
	}
}

func TestMemoryStoreConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &vision.MemoryStore{MaxReferences: 3}
	set, err := sharedReshot()
	if err != nil {
		t.Fatal(err)
	}
	fp, _, _ := reshotFingerprints(t)
	a := &vision.Assessor{Store: store}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			_ = store.Add(ctx, "m", fp)
			if _, err := a.Assess(ctx, "m", set.Queries[0]); err != nil {
				t.Errorf("worker %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	refs, _ := store.References(ctx, "m")
	if len(refs) != 3 {
		t.Errorf("%d references kept, limit 3", len(refs))
	}
	if err := store.Add(ctx, "m", fp); !errors.Is(err, vision.ErrStoreFull) {
		t.Errorf("over limit: %v", err)
	}
	if err := store.Add(ctx, "m2", nil); !errors.Is(err, vision.ErrBadFingerprint) {
		t.Errorf("nil fingerprint: %v", err)
	}
	if refs, err := store.References(ctx, "unknown"); err != nil || len(refs) != 0 {
		t.Errorf("unknown merchant: %v %v", refs, err)
	}
}
