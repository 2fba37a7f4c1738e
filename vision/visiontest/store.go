package visiontest

import (
	"context"
	"image"
	"sync"
	"testing"

	"github.com/payedge/payedge/vision"
)

// TestSceneStore checks a vision.SceneStore implementation against the
// interface contract: references come back in insertion order per merchant,
// merchants are independent, an unknown merchant has none, a cancelled
// context is honoured, and concurrent Add and References are safe (run it
// with -race). newStore must return an empty store allowing at least 8
// references per merchant.
func TestSceneStore(t *testing.T, newStore func() vision.SceneStore) {
	t.Helper()
	ctx := context.Background()
	fps := make([]*vision.Fingerprint, 3)
	for i := range fps {
		m := image.NewGray(image.Rect(0, 0, 64, 64))
		for k := range m.Pix {
			m.Pix[k] = uint8((k*(i+3))^(k/64*(7+i))) & 0xF8
		}
		fp, err := vision.Extract(m)
		if err != nil {
			t.Fatalf("extract: %v", err)
		}
		fps[i] = fp
	}

	s := newStore()
	if refs, err := s.References(ctx, "nobody"); err != nil || len(refs) != 0 {
		t.Errorf("unknown merchant: %d references, error %v", len(refs), err)
	}
	for _, fp := range fps[:2] {
		if err := s.Add(ctx, "a", fp); err != nil {
			t.Fatalf("Add: %v", err)
		}
	}
	if err := s.Add(ctx, "b", fps[2]); err != nil {
		t.Fatalf("Add: %v", err)
	}
	refs, err := s.References(ctx, "a")
	if err != nil || len(refs) != 2 || refs[0].PDQ != fps[0].PDQ || refs[1].PDQ != fps[1].PDQ {
		t.Errorf("merchant a: %d references, error %v", len(refs), err)
	}
	refs, err = s.References(ctx, "b")
	if err != nil || len(refs) != 1 || refs[0].PDQ != fps[2].PDQ {
		t.Errorf("merchant b: %d references, error %v", len(refs), err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.References(cctx, "a"); err == nil {
		t.Error("References ignored a cancelled context")
	}
	if err := s.Add(cctx, "a", fps[0]); err == nil {
		t.Error("Add ignored a cancelled context")
	}

	s = newStore()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if err := s.Add(ctx, "c", fps[i%len(fps)]); err != nil {
				t.Errorf("concurrent Add: %v", err)
			}
			if _, err := s.References(ctx, "c"); err != nil {
				t.Errorf("concurrent References: %v", err)
			}
		})
	}
	wg.Wait()
	if refs, _ := s.References(ctx, "c"); len(refs) != 8 {
		t.Errorf("after 8 concurrent adds: %d references", len(refs))
	}
}
