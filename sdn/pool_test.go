package sdn_test

import (
	"errors"
	"testing"

	"github.com/payedge/payedge/sdn"
)

func TestPool(t *testing.T) {
	if _, err := sdn.NewPool(sdn.Range{Lo: 5, Hi: 4}); !errors.Is(err, sdn.ErrInvalid) {
		t.Errorf("inverted range: %v", err)
	}
	p, err := sdn.NewPool(sdn.Range{Lo: 100, Hi: 229}) // 130 values: spans three words
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint32]bool{}
	for range 130 {
		v, err := p.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		if v < 100 || v > 229 || seen[v] {
			t.Fatalf("allocated %d (seen %v)", v, seen[v])
		}
		seen[v] = true
	}
	if _, err := p.Allocate(); !errors.Is(err, sdn.ErrPoolExhausted) {
		t.Fatalf("full pool: %v", err)
	}
	if err := p.Release(150); err != nil {
		t.Fatal(err)
	}
	if err := p.Release(150); !errors.Is(err, sdn.ErrInvalid) {
		t.Errorf("double release: %v", err)
	}
	if v, err := p.Allocate(); err != nil || v != 150 {
		t.Errorf("reallocate: %d %v", v, err)
	}
	if err := p.Reserve(150); !errors.Is(err, sdn.ErrConflict) {
		t.Errorf("reserve used: %v", err)
	}
	if err := p.Reserve(99); !errors.Is(err, sdn.ErrInvalid) {
		t.Errorf("reserve outside: %v", err)
	}
	if p.Used() != 130 || p.Free() != 0 {
		t.Errorf("used %d free %d", p.Used(), p.Free())
	}
	// The cursor rotates: a released value is not reused at once while others are free.
	q, _ := sdn.NewPool(sdn.Range{Lo: 1, Hi: 10})
	a, _ := q.Allocate()
	q.Release(a)
	if b, _ := q.Allocate(); b == a {
		t.Errorf("released %d handed out again at once", a)
	}
}
