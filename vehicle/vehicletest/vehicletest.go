package vehicletest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/payedge/payedge/vehicle"
)

// TestFriendRegistry runs the FriendRegistry contract against fresh
// registries from newRegistry, one per subtest.
func TestFriendRegistry(t *testing.T, newRegistry func(t *testing.T) vehicle.FriendRegistry) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, vehicle.FriendRegistry)
	}{
		{"EnrolAndLookup", testEnrol},
		{"BadEnrolment", testBadEnrol},
		{"Rotate", testRotate},
		{"Befriend", testBefriend},
		{"Unfriend", testUnfriend},
		{"NextSequence", testSequence},
		{"ConcurrentSequence", testConcurrentSequence},
		{"CanceledContext", testCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRegistry(t)
			if r == nil {
				t.Fatal("newRegistry returned nil")
			}
			tc.fn(t, r)
		})
	}
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func info(t *testing.T, id string, seed byte) vehicle.VehicleInfo {
	t.Helper()
	k, err := vehicle.GenerateKey(rand.NewChaCha8([32]byte{seed, byte(len(id))}))
	if err != nil {
		t.Fatal(err)
	}
	return vehicle.VehicleInfo{ID: vehicle.VehicleID(id), PublicKey: k.PublicKey().Bytes(), Generation: 1,
		Enrolment: vehicle.Enrolment{Account: "acct-" + id, EnrolledAt: epoch}}
}

func enrol(t *testing.T, r vehicle.FriendRegistry, ids ...string) {
	t.Helper()
	for i, id := range ids {
		if err := r.Enrol(context.Background(), info(t, id, byte(i+1))); err != nil {
			t.Fatalf("Enrol(%s): %v", id, err)
		}
	}
}

func sameInfo(a, b vehicle.VehicleInfo) bool {
	return a.ID == b.ID && slices.Equal(a.PublicKey, b.PublicKey) && a.Generation == b.Generation &&
		a.Enrolment.Account == b.Enrolment.Account && a.Enrolment.EnrolledAt.Equal(b.Enrolment.EnrolledAt)
}

func testEnrol(t *testing.T, r vehicle.FriendRegistry) {
	ctx := context.Background()
	want := info(t, "car-1", 1)
	if err := r.Enrol(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := r.Vehicle(ctx, "car-1")
	if err != nil {
		t.Fatal(err)
	}
	if !sameInfo(got, want) {
		t.Fatalf("Vehicle = %+v, want %+v", got, want)
	}
	got.PublicKey[0] ^= 0xff // must not alias the registry's copy
	again, _ := r.Vehicle(ctx, "car-1")
	if !sameInfo(again, want) {
		t.Fatal("Vehicle result aliases the registry's memory")
	}
	if err := r.Enrol(ctx, want); !errors.Is(err, vehicle.ErrAlreadyEnrolled) {
		t.Fatalf("second Enrol: %v, want ErrAlreadyEnrolled", err)
	}
	if _, err := r.Vehicle(ctx, "nobody"); !errors.Is(err, vehicle.ErrUnknownVehicle) {
		t.Fatalf("Vehicle(unknown): %v, want ErrUnknownVehicle", err)
	}
	if fs, err := r.Friends(ctx, "car-1"); err != nil || len(fs) != 0 {
		t.Fatalf("Friends of a new vehicle = %v, %v; want none", fs, err)
	}
}

func testBadEnrol(t *testing.T, r vehicle.FriendRegistry) {
	ctx := context.Background()
	good := info(t, "car-1", 1)
	for _, c := range []struct {
		name string
		mod  func(*vehicle.VehicleInfo)
		want error
	}{
		{"empty ID", func(i *vehicle.VehicleInfo) { i.ID = "" }, vehicle.ErrInvalidID},
		{"long ID", func(i *vehicle.VehicleInfo) { i.ID = vehicle.VehicleID(make([]byte, vehicle.MaxIDLen+1)) }, vehicle.ErrInvalidID},
		{"short key", func(i *vehicle.VehicleInfo) { i.PublicKey = i.PublicKey[:31] }, vehicle.ErrInvalidKey},
		{"generation 0", func(i *vehicle.VehicleInfo) { i.Generation = 0 }, vehicle.ErrInvalidKey},
	} {
		bad := good
		bad.PublicKey = slices.Clone(good.PublicKey)
		c.mod(&bad)
		if err := r.Enrol(ctx, bad); !errors.Is(err, c.want) {
			t.Errorf("Enrol with %s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := r.Vehicle(ctx, "car-1"); !errors.Is(err, vehicle.ErrUnknownVehicle) {
		t.Fatalf("a rejected enrolment was stored: %v", err)
	}
}

func testRotate(t *testing.T, r vehicle.FriendRegistry) {
	ctx := context.Background()
	enrol(t, r, "car-1")
	next := info(t, "car-1", 99)
	next.Generation = 2
	next.Enrolment = vehicle.Enrolment{}
	if err := r.Rotate(ctx, next); err != nil {
		t.Fatal(err)
	}
	got, err := r.Vehicle(ctx, "car-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Generation != 2 || !slices.Equal(got.PublicKey, next.PublicKey) {
		t.Fatalf("after Rotate: generation %d, key updated %v", got.Generation, slices.Equal(got.PublicKey, next.PublicKey))
	}
	if got.Enrolment.Account != "acct-car-1" || !got.Enrolment.EnrolledAt.Equal(epoch) {
		t.Fatalf("Rotate lost the enrolment data: %+v", got.Enrolment)
	}
	for _, g := range []uint32{2, 1} {
		old := next
		old.Generation = g
		if err := r.Rotate(ctx, old); !errors.Is(err, vehicle.ErrStaleGeneration) {
			t.Errorf("Rotate to generation %d after 2: %v, want ErrStaleGeneration", g, err)
		}
	}
	ghost := info(t, "ghost", 3)
	ghost.Generation = 2
	if err := r.Rotate(ctx, ghost); !errors.Is(err, vehicle.ErrUnknownVehicle) {
		t.Errorf("Rotate(unknown): %v, want ErrUnknownVehicle", err)
	}
}

func testBefriend(t *testing.T, r vehicle.FriendRegistry) {
	ctx := context.Background()
	enrol(t, r, "a", "b", "c", "d")
	for _, p := range [][2]vehicle.VehicleID{{"a", "c"}, {"b", "a"}, {"a", "c"}} { // the repeat is idempotent
		if err := r.Befriend(ctx, p[0], p[1]); err != nil {
			t.Fatalf("Befriend%v: %v", p, err)
		}
	}
	want := map[vehicle.VehicleID][]vehicle.VehicleID{"a": {"b", "c"}, "b": {"a"}, "c": {"a"}, "d": {}}
	for id, w := range want {
		got, err := r.Friends(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, w) && !(len(got) == 0 && len(w) == 0) {
			t.Errorf("Friends(%s) = %v, want %v (mutual, ascending)", id, got, w)
		}
	}
	if err := r.Befriend(ctx, "a", "a"); !errors.Is(err, vehicle.ErrSelfFriend) {
		t.Errorf("Befriend(a, a): %v, want ErrSelfFriend", err)
	}
	if err := r.Befriend(ctx, "a", "ghost"); !errors.Is(err, vehicle.ErrUnknownVehicle) {
		t.Errorf("Befriend(a, ghost): %v, want ErrUnknownVehicle", err)
	}
	if _, err := r.Friends(ctx, "ghost"); !errors.Is(err, vehicle.ErrUnknownVehicle) {
		t.Errorf("Friends(ghost): %v, want ErrUnknownVehicle", err)
	}
}

func testUnfriend(t *testing.T, r vehicle.FriendRegistry) {
	ctx := context.Background()
	enrol(t, r, "a", "b")
	if err := r.Befriend(ctx, "a", "b"); err != nil {
		t.Fatal(err)
	}
	if err := r.Unfriend(ctx, "b", "a"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []vehicle.VehicleID{"a", "b"} {
		if fs, _ := r.Friends(ctx, id); len(fs) != 0 {
			t.Errorf("Friends(%s) after Unfriend = %v", id, fs)
		}
	}
	if err := r.Unfriend(ctx, "a", "b"); !errors.Is(err, vehicle.ErrNotFriends) {
		t.Errorf("second Unfriend: %v, want ErrNotFriends", err)
	}
	if _, err := r.NextSequence(ctx, "a", "b"); !errors.Is(err, vehicle.ErrNotFriends) {
		t.Errorf("NextSequence after Unfriend: %v, want ErrNotFriends", err)
	}
}

func testSequence(t *testing.T, r vehicle.FriendRegistry) {
	ctx := context.Background()
	enrol(t, r, "a", "b", "c")
	if _, err := r.NextSequence(ctx, "a", "b"); !errors.Is(err, vehicle.ErrNotFriends) {
		t.Fatalf("NextSequence of strangers: %v, want ErrNotFriends", err)
	}
	if _, err := r.NextSequence(ctx, "a", "ghost"); !errors.Is(err, vehicle.ErrUnknownVehicle) && !errors.Is(err, vehicle.ErrNotFriends) {
		t.Fatalf("NextSequence to unknown: %v", err)
	}
	for _, p := range [][2]vehicle.VehicleID{{"a", "b"}, {"a", "c"}} {
		if err := r.Befriend(ctx, p[0], p[1]); err != nil {
			t.Fatal(err)
		}
	}
	next := func(from, to vehicle.VehicleID) uint64 {
		t.Helper()
		s, err := r.NextSequence(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for want := uint64(1); want <= 3; want++ {
		if got := next("a", "b"); got != want {
			t.Fatalf("NextSequence(a, b) #%d = %d", want, got)
		}
	}
	if got := next("b", "a"); got != 1 {
		t.Errorf("reverse direction starts at %d, want 1", got)
	}
	if got := next("a", "c"); got != 1 {
		t.Errorf("another pair starts at %d, want 1", got)
	}
	// Unfriend and befriend again: numbering continues, never repeats.
	if err := r.Unfriend(ctx, "a", "b"); err != nil {
		t.Fatal(err)
	}
	if err := r.Befriend(ctx, "a", "b"); err != nil {
		t.Fatal(err)
	}
	if got := next("a", "b"); got <= 3 {
		t.Errorf("after re-befriending, NextSequence(a, b) = %d, repeats an earlier number", got)
	}
}

func testConcurrentSequence(t *testing.T, r vehicle.FriendRegistry) {
	ctx := context.Background()
	enrol(t, r, "a", "b")
	if err := r.Befriend(ctx, "a", "b"); err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 50
	var mu sync.Mutex
	seen := map[uint64]bool{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				s, err := r.NextSequence(ctx, "a", "b")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[s] {
					t.Errorf("sequence %d handed out twice", s)
				}
				seen[s] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for s := uint64(1); s <= workers*each; s++ {
		if !seen[s] {
			t.Fatalf("sequence %d skipped: %s", s, fmt.Sprint(len(seen), " handed out"))
		}
	}
}

func testCanceled(t *testing.T, r vehicle.FriendRegistry) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	i := info(t, "a", 1)
	checks := map[string]error{
		"Enrol":    r.Enrol(ctx, i),
		"Rotate":   r.Rotate(ctx, i),
		"Befriend": r.Befriend(ctx, "a", "b"),
		"Unfriend": r.Unfriend(ctx, "a", "b"),
	}
	_, checks["Vehicle"] = r.Vehicle(ctx, "a")
	_, checks["Friends"] = r.Friends(ctx, "a")
	_, checks["NextSequence"] = r.NextSequence(ctx, "a", "b")
	for name, err := range checks {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: %v, want context.Canceled", name, err)
		}
	}
}
