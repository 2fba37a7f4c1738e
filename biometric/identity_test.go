package biometric

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

const testDim = 16

// population enrols n people with random templates and returns the server,
// the store and the enrolled embeddings.
func population(t testing.TB, cfg ServerConfig, n int, seed uint64) (*Server, *MemoryStore, [][]float32) {
	t.Helper()
	cfg.Index.Dim = testDim
	store := NewMemoryStore()
	sealer, err := NewSealer(bytes.Repeat([]byte{9}, KeySize), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(cfg, store, sealer)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 3))
	embs := make([][]float32, n)
	for i := range n {
		embs[i] = randVec(r, testDim)
		rec := Record{ID: fmt.Sprintf("u%03d", i), Token: fmt.Sprintf("tok-%03d-%04d", i, 1000+i), CardRef: fmt.Sprintf("VISA •••• %04d", (1000+i)%10000), Modality: ModalityFace, Template: embs[i]}
		if err := s.Enrol(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	return s, store, embs
}

func TestServerIdentify(t *testing.T) {
	s, store, embs := population(t, ServerConfig{Threshold: 0.8}, 50, 1)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(2, 2))
	id, err := s.Identify(ctx, Sample{Modality: ModalityFace, Embedding: near(r, embs[7], 0.1)})
	if err != nil {
		t.Fatal(err)
	}
	if id.EnrolmentID != "u007" || id.Token != "tok-007-1007" || id.CardRef != "VISA •••• 1007" || id.Score < 0.9 {
		t.Errorf("identity %+v", id)
	}
	// A stranger: below threshold.
	_, err = s.Identify(ctx, Sample{Embedding: randVec(r, testDim)})
	var me *MatchError
	if !errors.Is(err, ErrNoMatch) || !errors.As(err, &me) || me.Score >= 0.8 {
		t.Errorf("stranger: %v", err)
	}
	// Ambiguous: enrol a near twin of u007, then probe between them.
	twin := near(r, embs[7], 0.05)
	if err := s.Enrol(ctx, Record{ID: "twin", Token: "tok-twin", Template: twin}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Identify(ctx, Sample{Embedding: embs[7]}); !errors.Is(err, ErrAmbiguous) {
		t.Errorf("twin probe: %v", err)
	}
	// Duplicate enrolment, wrong dimension, bad sample.
	if err := s.Enrol(ctx, Record{ID: "u001", Token: "x", Template: embs[1]}); !errors.Is(err, ErrDuplicateID) {
		t.Errorf("duplicate: %v", err)
	}
	if err := s.Enrol(ctx, Record{ID: "z", Token: "x", Template: []float32{1}}); !errors.Is(err, ErrDimension) {
		t.Errorf("dimension: %v", err)
	}
	if _, err := s.Identify(ctx, Sample{Embedding: []float32{1, 2}}); !errors.Is(err, ErrSample) || !errors.Is(err, ErrDimension) {
		t.Errorf("sample dimension: %v", err)
	}
	// Unenrol, then the probe no longer identifies u007 (twin remains).
	if err := s.Unenrol(ctx, "u007"); err != nil {
		t.Fatal(err)
	}
	if id, err := s.Identify(ctx, Sample{Embedding: embs[7]}); err != nil || id.EnrolmentID != "twin" {
		t.Errorf("after unenrol: %+v %v", id, err)
	}
	if err := s.Unenrol(ctx, "u007"); !errors.Is(err, ErrNotEnrolled) {
		t.Errorf("unenrol twice: %v", err)
	}
	// A fresh server over the same store rebuilds its index with Load.
	sealer, _ := NewSealer(bytes.Repeat([]byte{9}, KeySize), nil)
	s2, _ := NewServer(ServerConfig{Index: IndexConfig{Dim: testDim}, Threshold: 0.8}, store, sealer)
	n, err := s2.Load(ctx)
	if err != nil || n != 50 || s2.Len() != 50 {
		t.Fatalf("Load: %d %v", n, err)
	}
	if id, err := s2.Identify(ctx, Sample{Embedding: embs[3]}); err != nil || id.EnrolmentID != "u003" {
		t.Errorf("after Load: %+v %v", id, err)
	}
	// Swapped records in the store are caught on load and on identify.
	a, _ := store.Get(ctx, "u001")
	b, _ := store.Get(ctx, "u002")
	_ = store.Put(ctx, "u001", b)
	_ = store.Put(ctx, "u002", a)
	if _, err := s.Identify(ctx, Sample{Embedding: embs[1]}); !errors.Is(err, ErrSealed) {
		t.Errorf("swapped record identified: %v", err)
	}
	s3, _ := NewServer(ServerConfig{Index: IndexConfig{Dim: testDim}}, store, sealer)
	if _, err := s3.Load(ctx); !errors.Is(err, ErrSealed) {
		t.Errorf("Load of swapped store: %v", err)
	}
	// Wrong key.
	wrong, _ := NewSealer(bytes.Repeat([]byte{1}, KeySize), nil)
	s4, _ := NewServer(ServerConfig{Index: IndexConfig{Dim: testDim}}, store, wrong)
	if _, err := s4.Load(ctx); !errors.Is(err, ErrSealed) {
		t.Errorf("Load with wrong key: %v", err)
	}
}

func TestServerLivenessAndEmpty(t *testing.T) {
	spoof := errors.New("mask detected")
	live := LivenessFunc(func(_ context.Context, s Sample) error {
		if string(s.Liveness) != "live" {
			return fmt.Errorf("%w: %w", ErrNotLive, spoof)
		}
		return nil
	})
	s, _, embs := population(t, ServerConfig{Liveness: live}, 0, 1)
	ctx := context.Background()
	if _, err := s.Identify(ctx, Sample{Embedding: randVec(rand.New(rand.NewPCG(1, 1)), testDim), Liveness: []byte("live")}); !errors.Is(err, ErrNoMatch) {
		t.Errorf("empty gallery: %v", err)
	}
	_ = embs
	s, _, embs = population(t, ServerConfig{Liveness: live}, 3, 1)
	if _, err := s.Identify(ctx, Sample{Embedding: embs[0]}); !errors.Is(err, ErrNotLive) || !errors.Is(err, spoof) {
		t.Errorf("spoof: %v", err)
	}
	if id, err := s.Identify(ctx, Sample{Embedding: embs[0], Liveness: []byte("live")}); err != nil || id.EnrolmentID != "u000" || id.Second == -1 {
		t.Errorf("live: %+v %v", id, err)
	}
	// One person: Second is -1.
	s, _, embs = population(t, ServerConfig{}, 1, 1)
	if id, err := s.Identify(ctx, Sample{Embedding: embs[0]}); err != nil || id.Second != -1 {
		t.Errorf("single: %+v %v", id, err)
	}
	for _, c := range []ServerConfig{{Threshold: 2}, {Threshold: -1}, {Margin: 3}, {Index: IndexConfig{Dim: -1}}} {
		if _, err := NewServer(c, NewMemoryStore(), &Sealer{}); !errors.Is(err, ErrConfig) {
			t.Errorf("NewServer(%+v): %v", c, err)
		}
	}
	if _, err := NewServer(ServerConfig{}, nil, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("nil deps: %v", err)
	}
}
