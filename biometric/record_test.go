package biometric

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

func testRecord(id string, r *rand.Rand) Record {
	t, _ := NewTemplate(randVec(r, 16), 16)
	return Record{ID: id, Token: "tok_" + id + "_4242", CardRef: "VISA •••• 4242", Modality: ModalityFace, Template: t,
		EnrolledAt: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func TestSealRoundTrip(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	s, err := NewSealer(key, crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	rec := testRecord("alice", r)
	sealed, err := s.Seal(rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Open("alice", sealed)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != rec.ID || got.Token != rec.Token || got.CardRef != rec.CardRef || !got.EnrolledAt.Equal(rec.EnrolledAt) || got.Modality != rec.Modality {
		t.Errorf("round trip %+v != %+v", got, rec)
	}
	for i := range rec.Template {
		if got.Template[i] != rec.Template[i] {
			t.Fatal("template changed")
		}
	}
	if bytes.Contains(sealed, []byte(rec.Token)) {
		t.Error("token visible in sealed record")
	}
	// Swapped: the same sealed bytes under another ID.
	if _, err := s.Open("bob", sealed); !errors.Is(err, ErrSealed) {
		t.Errorf("swapped record: %v", err)
	}
	// Tampered: every single-bit flip fails.
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x10
		if _, err := s.Open("alice", bad); !errors.Is(err, ErrSealed) {
			t.Fatalf("flip at %d: %v", i, err)
		}
	}
	// Truncated.
	if _, err := s.Open("alice", sealed[:len(sealed)-1]); !errors.Is(err, ErrSealed) {
		t.Errorf("truncated: %v", err)
	}
	// Wrong key.
	other, _ := NewSealer(bytes.Repeat([]byte{8}, KeySize), nil)
	if _, err := other.Open("alice", sealed); !errors.Is(err, ErrSealed) {
		t.Errorf("wrong key: %v", err)
	}
	// Two seals of one record differ (random nonce).
	sealed2, _ := s.Seal(rec)
	if bytes.Equal(sealed, sealed2) {
		t.Error("nonce reused")
	}
	// Close zeroes the key.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open("alice", sealed); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if _, err := s.Seal(rec); !errors.Is(err, ErrClosed) {
		t.Errorf("Seal after Close: %v", err)
	}
}

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestSealBadInput(t *testing.T) {
	if _, err := NewSealer(make([]byte, 16), nil); !errors.Is(err, ErrKey) {
		t.Errorf("short key: %v", err)
	}
	s, _ := NewSealer(make([]byte, KeySize), failReader{})
	r := rand.New(rand.NewPCG(1, 2))
	if _, err := s.Seal(testRecord("a", r)); err == nil {
		t.Error("failing random source accepted")
	}
	good := testRecord("a", r)
	for name, mut := range map[string]func(*Record){
		"pan in cardref": func(x *Record) { x.CardRef = "4111111111111111" },
		"no token":       func(x *Record) { x.Token = "" },
		"no id":          func(x *Record) { x.ID = "" },
		"modality":       func(x *Record) { x.Modality = 9 },
		"zero template":  func(x *Record) { x.Template = make(Template, 16) },
	} {
		rec := good
		mut(&rec)
		if _, err := s.Seal(rec); err == nil {
			t.Errorf("%s: sealed", name)
		}
	}
	if _, err := DecodeRecord([]byte{2}); !errors.Is(err, ErrRecord) {
		t.Errorf("bad version: %v", err)
	}
	if _, err := DecodeRecord(append(good.marshal(), 0)); !errors.Is(err, ErrRecord) {
		t.Errorf("trailing byte: %v", err)
	}
	if MaskToken("abcdef123") != "…f123" || MaskToken("abc") != "…" {
		t.Error("MaskToken")
	}
}

// FuzzOpenSealed feeds arbitrary bytes to Open: never a panic, and only
// records sealed under the key open.
func FuzzOpenSealed(f *testing.F) {
	key := bytes.Repeat([]byte{1}, KeySize)
	s, _ := NewSealer(key, bytes.NewReader(bytes.Repeat([]byte{3}, 1<<12)))
	r := rand.New(rand.NewPCG(5, 5))
	sealed, err := s.Seal(testRecord("alice", r))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("alice", sealed)
	f.Add("bob", sealed)
	f.Add("alice", sealed[:30])
	f.Add("", []byte{1})
	f.Fuzz(func(t *testing.T, id string, b []byte) {
		if len(b) > 2*MaxSealedLen {
			t.Skip()
		}
		rec, err := s.Open(id, b)
		if err != nil {
			if !errors.Is(err, ErrSealed) && !errors.Is(err, ErrRecord) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if rec.ID != id {
			t.Fatalf("opened record of %q under %q", rec.ID, id)
		}
	})
}

// FuzzDecodeRecord checks the plaintext decoder: no panic, and whatever
// decodes re-encodes to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	f.Add(testRecord("alice", r).marshal())
	f.Add([]byte{1, 0, 1, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > MaxSealedLen {
			t.Skip()
		}
		rec, err := DecodeRecord(b)
		if err != nil {
			return
		}
		if again := rec.marshal(); !bytes.Equal(again, b) {
			// Zero time and a negative-nanosecond time both decode; only
			// canonical encodings must round-trip exactly.
			if rec2, err := DecodeRecord(again); err != nil || rec2.ID != rec.ID {
				t.Fatalf("re-encoding does not decode: %v", err)
			}
		}
	})
}

func TestMemoryStoreBounds(t *testing.T) {
	var s MemoryStore
	ctx := context.Background()
	if err := s.Put(ctx, "", []byte("x")); !errors.Is(err, ErrBadID) {
		t.Errorf("empty id: %v", err)
	}
	if err := s.Put(ctx, "a", make([]byte, MaxSealedLen+1)); !errors.Is(err, ErrRecord) {
		t.Errorf("oversized: %v", err)
	}
	if s.Len() != 0 {
		t.Error("stored bad input")
	}
}
