// Package biometrictest checks implementations of the biometric package's
// interfaces. TestEnrolmentStore runs the EnrolmentStore contract against a
// host's store, the way testing/fstest.TestFS checks a file system.
package biometrictest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/payedge/payedge/biometric"
)

// check is one clause of the EnrolmentStore contract.
type check struct {
	name string
	run  func(ctx context.Context, s biometric.EnrolmentStore) error
}

var checks = []check{
	{"Missing", func(ctx context.Context, s biometric.EnrolmentStore) error {
		if _, err := s.Get(ctx, "absent"); !errors.Is(err, biometric.ErrNotEnrolled) {
			return fmt.Errorf("method Get of unknown ID: err = %v, want ErrNotEnrolled", err)
		}
		if err := s.Delete(ctx, "absent"); !errors.Is(err, biometric.ErrNotEnrolled) {
			return fmt.Errorf("method Delete of unknown ID: err = %v, want ErrNotEnrolled", err)
		}
		return nil
	}},
	{"PutGetCopies", func(ctx context.Context, s biometric.EnrolmentStore) error {
		b := []byte("sealed-1")
		if err := s.Put(ctx, "A", b); err != nil {
			return fmt.Errorf("method Put: %w", err)
		}
		b[0] = 'X' // the store must have copied
		got, err := s.Get(ctx, "A")
		if err != nil {
			return fmt.Errorf("method Get: %w", err)
		}
		if string(got) != "sealed-1" {
			return fmt.Errorf("method Get = %q, want %q (store kept the caller's buffer?)", got, "sealed-1")
		}
		got[0] = 'Y'
		again, _ := s.Get(ctx, "A")
		if string(again) != "sealed-1" {
			return fmt.Errorf("method Get after caller modified the result = %q (store returned its own buffer?)", again)
		}
		return nil
	}},
	{"Replace", func(ctx context.Context, s biometric.EnrolmentStore) error {
		if err := s.Put(ctx, "A", []byte("one")); err != nil {
			return err
		}
		if err := s.Put(ctx, "A", []byte("two")); err != nil {
			return fmt.Errorf("method Put replacing: %w", err)
		}
		got, err := s.Get(ctx, "A")
		if err != nil || string(got) != "two" {
			return fmt.Errorf("method Get after replace = %q, %v; want \"two\"", got, err)
		}
		return nil
	}},
	{"Delete", func(ctx context.Context, s biometric.EnrolmentStore) error {
		if err := s.Put(ctx, "A", []byte("a")); err != nil {
			return err
		}
		if err := s.Put(ctx, "B", []byte("b")); err != nil {
			return err
		}
		if err := s.Delete(ctx, "A"); err != nil {
			return fmt.Errorf("method Delete: %w", err)
		}
		if _, err := s.Get(ctx, "A"); !errors.Is(err, biometric.ErrNotEnrolled) {
			return fmt.Errorf("method Get after Delete: err = %v, want ErrNotEnrolled", err)
		}
		if got, err := s.Get(ctx, "B"); err != nil || string(got) != "b" {
			return fmt.Errorf("method Delete of A disturbed B: %q, %v", got, err)
		}
		return nil
	}},
	{"Range", func(ctx context.Context, s biometric.EnrolmentStore) error {
		want := map[string][]byte{"A": []byte("a"), "B": []byte("bb"), "C": {0, 1, 2}}
		for id, b := range want {
			if err := s.Put(ctx, id, b); err != nil {
				return err
			}
		}
		got := map[string][]byte{}
		err := s.Range(ctx, func(id string, b []byte) error {
			if _, dup := got[id]; dup {
				return fmt.Errorf("method Range visited %q twice", id)
			}
			got[id] = append([]byte(nil), b...)
			return nil
		})
		if err != nil {
			return fmt.Errorf("method Range: %w", err)
		}
		if len(got) != len(want) {
			return fmt.Errorf("method Range visited %d records, want %d", len(got), len(want))
		}
		for id, b := range want {
			if !bytes.Equal(got[id], b) {
				return fmt.Errorf("method Range gave %q = %v, want %v", id, got[id], b)
			}
		}
		stop := errors.New("stop")
		calls := 0
		err = s.Range(ctx, func(string, []byte) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			return fmt.Errorf("method Range with failing fn: err = %v after %d calls, want fn's error after 1", err, calls)
		}
		return nil
	}},
	{"Concurrent", func(ctx context.Context, s biometric.EnrolmentStore) error {
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for w := range 8 {
			wg.Go(func() {
				for i := range 25 {
					id := fmt.Sprintf("w%d-%d", w, i)
					if err := s.Put(ctx, id, []byte(id)); err != nil {
						errs[w] = err
						return
					}
					if got, err := s.Get(ctx, id); err != nil || string(got) != id {
						errs[w] = fmt.Errorf("method Get %q = %q, %v", id, got, err)
						return
					}
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("concurrent Put/Get: %w", err)
		}
		n := 0
		if err := s.Range(ctx, func(string, []byte) error { n++; return nil }); err != nil {
			return err
		}
		if n != 200 {
			return fmt.Errorf("after 200 concurrent Puts Range saw %d records", n)
		}
		return nil
	}},
	{"CanceledContext", func(ctx context.Context, s biometric.EnrolmentStore) error {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Put(cctx, "A", []byte("a")); !errors.Is(err, context.Canceled) {
			return fmt.Errorf("method Put with canceled context: err = %v, want context.Canceled", err)
		}
		if _, err := s.Get(cctx, "A"); !errors.Is(err, context.Canceled) {
			return fmt.Errorf("method Get with canceled context: err = %v, want context.Canceled", err)
		}
		if err := s.Delete(cctx, "A"); !errors.Is(err, context.Canceled) {
			return fmt.Errorf("method Delete with canceled context: err = %v, want context.Canceled", err)
		}
		if err := s.Range(cctx, func(string, []byte) error { return nil }); !errors.Is(err, context.Canceled) {
			return fmt.Errorf("method Range with canceled context: err = %v, want context.Canceled", err)
		}
		if _, err := s.Get(ctx, "A"); !errors.Is(err, biometric.ErrNotEnrolled) {
			return fmt.Errorf("method Put with canceled context stored the record (Get err = %v)", err)
		}
		return nil
	}},
}

// TestEnrolmentStore runs every contract check as a subtest, each against a
// fresh, empty store from newStore. The checks write IDs "A", "B", "C",
// "absent" and "w<worker>-<i>".
func TestEnrolmentStore(t *testing.T, newStore func(t *testing.T) biometric.EnrolmentStore) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if err := c.run(t.Context(), newStore(t)); err != nil {
				t.Error(err)
			}
		})
	}
}

// CheckEnrolmentStore runs every check, each against a fresh store from
// newStore, and returns the failures joined, or nil (for use outside
// tests, such as a host's start-up self-check against a scratch namespace).
func CheckEnrolmentStore(ctx context.Context, newStore func() (biometric.EnrolmentStore, error)) error {
	var errs []error
	for _, c := range checks {
		s, err := newStore()
		if err != nil {
			return fmt.Errorf("biometrictest: new store: %w", err)
		}
		if err := c.run(ctx, s); err != nil {
			errs = append(errs, fmt.Errorf("biometrictest: %s: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}
