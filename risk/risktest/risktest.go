package risktest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/payedge/payedge/risk"
)

// check is one clause of the ProfileStore contract.
type check struct {
	name string
	run  func(ctx context.Context, s risk.ProfileStore) error
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// observation returns a small valid scan of terminal id.
func observation(id string, at time.Time) risk.NeighborObservation {
	return risk.NeighborObservation{TerminalID: id, At: at, Seen: []risk.Neighbor{
		{ID: "00:11:22:33:44:01", Kind: risk.KindWiFi, RSSI: -50},
		{ID: "00:11:22:33:44:02", Kind: risk.KindWiFi, RSSI: -65},
	}}
}

func learn(p *risk.Profile, id string, at time.Time) (*risk.Profile, error) {
	return p.Learn(observation(id, at), risk.LearnConfig{})
}

// sameProfile compares the fields a store must preserve. Times compare
// with Equal, so stores may normalise locations.
func sameProfile(want, got *risk.Profile) error {
	switch {
	case got == nil:
		return errors.New("got nil profile")
	case got.TerminalID != want.TerminalID:
		return fmt.Errorf("terminal %q, want %q", got.TerminalID, want.TerminalID)
	case !got.Updated.Equal(want.Updated):
		return fmt.Errorf("updated %v, want %v", got.Updated, want.Updated)
	case math.Abs(got.Weight-want.Weight) > 1e-9:
		return fmt.Errorf("weight %v, want %v", got.Weight, want.Weight)
	case len(got.Neighbors) != len(want.Neighbors):
		return fmt.Errorf("%d neighbours, want %d", len(got.Neighbors), len(want.Neighbors))
	}
	for i := range want.Neighbors {
		if got.Neighbors[i] != want.Neighbors[i] {
			return fmt.Errorf("neighbour %d = %+v, want %+v", i, got.Neighbors[i], want.Neighbors[i])
		}
	}
	return nil
}

var checks = []check{
	{"Missing", func(ctx context.Context, s risk.ProfileStore) error {
		if _, err := s.Profile(ctx, "absent"); !errors.Is(err, risk.ErrNoProfile) {
			return fmt.Errorf("method Profile of unknown terminal: err = %v, want ErrNoProfile", err)
		}
		return nil
	}},
	{"CreateAndRead", func(ctx context.Context, s risk.ProfileStore) error {
		want, err := learn(nil, "T", t0)
		if err != nil {
			return err
		}
		err = s.Update(ctx, "T", func(cur *risk.Profile) (*risk.Profile, error) {
			if cur != nil {
				return nil, fmt.Errorf("method Update of new terminal passed %+v, want nil", cur)
			}
			return want, nil
		})
		if err != nil {
			return err
		}
		got, err := s.Profile(ctx, "T")
		if err != nil {
			return fmt.Errorf("method Profile after Update: %w", err)
		}
		return sameProfile(want, got)
	}},
	{"UpdateSeesCurrent", func(ctx context.Context, s risk.ProfileStore) error {
		first, err := learn(nil, "T", t0)
		if err != nil {
			return err
		}
		if err := s.Update(ctx, "T", func(*risk.Profile) (*risk.Profile, error) { return first, nil }); err != nil {
			return err
		}
		var seen *risk.Profile
		err = s.Update(ctx, "T", func(cur *risk.Profile) (*risk.Profile, error) {
			seen = cur
			return learn(cur, "T", t0.Add(time.Hour))
		})
		if err != nil {
			return err
		}
		if err := sameProfile(first, seen); err != nil {
			return fmt.Errorf("second Update passed a different profile: %w", err)
		}
		got, err := s.Profile(ctx, "T")
		if err != nil {
			return err
		}
		if got.Weight <= first.Weight {
			return fmt.Errorf("weight %v after second update, want > %v", got.Weight, first.Weight)
		}
		return nil
	}},
	{"FailedUpdateStoresNothing", func(ctx context.Context, s risk.ProfileStore) error {
		first, err := learn(nil, "T", t0)
		if err != nil {
			return err
		}
		if err := s.Update(ctx, "T", func(*risk.Profile) (*risk.Profile, error) { return first, nil }); err != nil {
			return err
		}
		boom := errors.New("risktest: refused")
		err = s.Update(ctx, "T", func(cur *risk.Profile) (*risk.Profile, error) {
			next, lerr := learn(cur, "T", t0.Add(time.Hour))
			if lerr != nil {
				return nil, lerr
			}
			return next, boom
		})
		if !errors.Is(err, boom) {
			return fmt.Errorf("method Update with failing fn: err = %v, want the fn's error", err)
		}
		got, err := s.Profile(ctx, "T")
		if err != nil {
			return err
		}
		return sameProfile(first, got)
	}},
	{"NilDeletes", func(ctx context.Context, s risk.ProfileStore) error {
		p, err := learn(nil, "T", t0)
		if err != nil {
			return err
		}
		if err := s.Update(ctx, "T", func(*risk.Profile) (*risk.Profile, error) { return p, nil }); err != nil {
			return err
		}
		if err := s.Update(ctx, "T", func(*risk.Profile) (*risk.Profile, error) { return nil, nil }); err != nil {
			return err
		}
		if _, err := s.Profile(ctx, "T"); !errors.Is(err, risk.ErrNoProfile) {
			return fmt.Errorf("method Profile after delete: err = %v, want ErrNoProfile", err)
		}
		return nil
	}},
	{"TerminalsAreSeparate", func(ctx context.Context, s risk.ProfileStore) error {
		a, err := learn(nil, "A", t0)
		if err != nil {
			return err
		}
		if err := s.Update(ctx, "A", func(*risk.Profile) (*risk.Profile, error) { return a, nil }); err != nil {
			return err
		}
		if _, err := s.Profile(ctx, "B"); !errors.Is(err, risk.ErrNoProfile) {
			return fmt.Errorf("method Profile of B after storing A: err = %v, want ErrNoProfile", err)
		}
		return nil
	}},
	{"NoLostUpdates", func(ctx context.Context, s risk.ProfileStore) error {
		const writers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for range writers {
			wg.Go(func() {
				for range each {
					// Same instant: no decay, so Weight counts updates.
					err := s.Update(ctx, "T", func(cur *risk.Profile) (*risk.Profile, error) { return learn(cur, "T", t0) })
					if err != nil {
						errs <- err
						return
					}
					if _, err := s.Profile(ctx, "T"); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil { // nil once closed and empty
			return err
		}
		p, err := s.Profile(ctx, "T")
		if err != nil {
			return err
		}
		if p.Weight != writers*each {
			return fmt.Errorf("weight %v after %d concurrent updates: updates were lost", p.Weight, writers*each)
		}
		return nil
	}},
	{"OwnsProfiles", func(ctx context.Context, s risk.ProfileStore) error {
		mine, err := learn(nil, "T", t0)
		if err != nil {
			return err
		}
		want := mine.Clone()
		if err := s.Update(ctx, "T", func(*risk.Profile) (*risk.Profile, error) { return mine, nil }); err != nil {
			return err
		}
		mine.Weight, mine.Neighbors[0].Frequency = 99, 0
		got, err := s.Profile(ctx, "T")
		if err != nil {
			return err
		}
		if err := sameProfile(want, got); err != nil {
			return fmt.Errorf("changing the profile fn returned changed the stored one: %w", err)
		}
		got.Weight, got.Neighbors[0].MeanRSSI = 98, -1
		boom := errors.New("risktest: refused")
		err = s.Update(ctx, "T", func(cur *risk.Profile) (*risk.Profile, error) {
			if cur != nil && len(cur.Neighbors) > 0 {
				cur.Weight, cur.Neighbors[0].MeanRSSI = 97, -2
			}
			return nil, boom
		})
		if !errors.Is(err, boom) {
			return fmt.Errorf("method Update with failing fn: err = %v, want the fn's error", err)
		}
		again, err := s.Profile(ctx, "T")
		if err != nil {
			return err
		}
		if err := sameProfile(want, again); err != nil {
			return fmt.Errorf("changing a profile the store handed out changed the stored one: %w", err)
		}
		return nil
	}},
	{"DoneContext", func(ctx context.Context, s risk.ProfileStore) error {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Profile(cctx, "T"); !errors.Is(err, context.Canceled) {
			return fmt.Errorf("method Profile with canceled context: err = %v, want context.Canceled", err)
		}
		called := false
		err := s.Update(cctx, "T", func(*risk.Profile) (*risk.Profile, error) { called = true; return nil, nil })
		if !errors.Is(err, context.Canceled) {
			return fmt.Errorf("method Update with canceled context: err = %v, want context.Canceled", err)
		}
		if called {
			return errors.New("method Update with canceled context called fn")
		}
		return nil
	}},
}

// TestProfileStore is the conformance suite of risk.ProfileStore, in the
// shape of testing/fstest.TestFS: it runs every contract check as a
// subtest, each against a fresh, empty store from newStore. The checks
// read, write and delete profiles under the terminal IDs "T", "A", "B" and
// "absent".
// A nil newStore, or a nil store from it, fails the test (it does not
// panic).
func TestProfileStore(t *testing.T, newStore func(t *testing.T) risk.ProfileStore) {
	t.Helper()
	if newStore == nil {
		t.Fatal("risktest: TestProfileStore: nil newStore")
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if err := c.check(t.Context(), newStore(t)); err != nil {
				t.Error(err)
			}
		})
	}
}

// errNilStore reports a nil ProfileStore from newStore.
var errNilStore = errors.New("newStore returned a nil ProfileStore")

// check runs c against s; a nil s is an error, not a panic.
func (c check) check(ctx context.Context, s risk.ProfileStore) error {
	if s == nil {
		return errNilStore
	}
	return c.run(ctx, s)
}

// CheckProfileStore runs the checks of TestProfileStore outside a test
// (for example at start-up), each against a fresh, empty store from
// newStore, and returns the failures joined, or nil; an error from
// newStore stops the run and is returned wrapped; a nil ctx or newStore is
// an error wrapping risk.ErrNilContext or risk.ErrNotInitialized, a nil
// store from newStore a failed check. The checks read, write
// and delete profiles under the terminal IDs "T", "A", "B" and "absent", so at
// start-up give it an isolated namespace (a scratch key prefix or schema),
// never the live store.
//
// Deprecated: use TestProfileStore, the conformance suite every payedge
// package ships as <pkg>test.Test<Interface>; CheckProfileStore stays for
// callers without a *testing.T.
func CheckProfileStore(ctx context.Context, newStore func() (risk.ProfileStore, error)) error {
	switch {
	case ctx == nil:
		return fmt.Errorf("risktest: %w", risk.ErrNilContext)
	case newStore == nil:
		return fmt.Errorf("risktest: nil newStore: %w", risk.ErrNotInitialized)
	}
	var errs []error
	for _, c := range checks {
		s, err := newStore()
		if err != nil {
			return fmt.Errorf("risktest: new store: %w", err)
		}
		if err := c.check(ctx, s); err != nil {
			errs = append(errs, fmt.Errorf("risktest: %s: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}
