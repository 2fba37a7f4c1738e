package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/payedge/payedge/geo"
	"github.com/payedge/payedge/internal/zerotest"
	"github.com/payedge/payedge/pgstore"
	"github.com/payedge/payedge/risk"
	"github.com/payedge/payedge/sdn"
	"github.com/payedge/payedge/vision"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func observation(terminal string) risk.NeighborObservation {
	return risk.NeighborObservation{TerminalID: terminal, At: t0, Seen: []risk.Neighbor{
		{ID: "00:11:22:33:44:55", Kind: risk.KindWiFi, RSSI: -52},
		{ID: "00:11:22:33:44:66", Kind: risk.KindWiFi, RSSI: -61},
		{ID: "3c:22:fb:00:00:01", Kind: risk.KindBluetooth, RSSI: -70},
	}}
}

func learn(ctx context.Context, s risk.ProfileStore, terminal string) error {
	obs := observation(terminal)
	return s.Update(ctx, terminal, func(cur *risk.Profile) (*risk.Profile, error) {
		return cur.Learn(obs, risk.LearnConfig{})
	})
}

// Two clients (separate pools, as two switch instances) learn the same
// terminals at once; every learn must count. Learning one observation at a
// fixed time adds exactly 1 to Profile.Weight, so a lost update shows as a
// smaller weight.
func TestConcurrentClientsLoseNoLearn(t *testing.T) {
	schema := newSchema(t)
	clients := []*pgstore.ProfileStore{pgstore.NewProfileStore(poolFor(t, schema)), pgstore.NewProfileStore(poolFor(t, schema))}
	const workers, rounds = 4, 15
	terminals := []string{"T-1", "T-2", "T-3"}
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, len(clients)*workers)
	for _, c := range clients {
		for range workers {
			wg.Go(func() {
				for range rounds {
					for _, term := range terminals {
						if err := learn(ctx, c, term); err != nil {
							errs <- err
							return
						}
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, term := range terminals {
		p, err := clients[0].Profile(ctx, term)
		if err != nil {
			t.Fatal(err)
		}
		if want := float64(len(clients) * workers * rounds); p.Weight != want {
			t.Errorf("%s: weight %v, want %v (lost updates)", term, p.Weight, want)
		}
	}
}

func fingerprint(t testing.TB, seed int) *vision.Fingerprint {
	t.Helper()
	m := image.NewGray(image.Rect(0, 0, 64, 64))
	for k := range m.Pix {
		m.Pix[k] = uint8((k*(seed+3))^(k/64*(7+seed))) & 0xF8
	}
	fp, err := vision.Extract(m)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// Two clients register scenes for the same merchants at once: every Add
// below the bound lands exactly once and the bound holds across clients.
func TestConcurrentClientsSceneBound(t *testing.T) {
	schema := newSchema(t)
	a, b := pgstore.NewSceneStore(poolFor(t, schema)), pgstore.NewSceneStore(poolFor(t, schema))
	a.MaxReferences, b.MaxReferences = 10, 10
	fp := fingerprint(t, 1)
	ctx := t.Context()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, full := 0, 0
	for i := range 16 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			err := s.Add(ctx, "M-1", fp)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, vision.ErrStoreFull):
				full++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	refs, err := b.References(ctx, "M-1")
	if err != nil {
		t.Fatal(err)
	}
	if ok != 10 || full != 6 || len(refs) != 10 {
		t.Errorf("added %d, full %d, stored %d; want 10, 6, 10", ok, full, len(refs))
	}
}

func TestSiteStore(t *testing.T) {
	s := pgstore.NewSiteStore(newPool(t))
	ctx := t.Context()
	if _, err := s.Site(ctx, "nobody"); !errors.Is(err, geo.ErrSiteNotFound) {
		t.Errorf("unknown merchant: %v, want ErrSiteNotFound", err)
	}
	site := geo.Site{Location: geo.LatLng{Lat: 48.8566, Lng: 2.3522}, RadiusM: 150}
	if err := s.Put(ctx, "M-1", site); err != nil {
		t.Fatal(err)
	}
	got, err := s.Site(ctx, "M-1")
	if err != nil || got != site {
		t.Errorf("Site = %+v, %v; want %+v", got, err, site)
	}
	if err := s.Put(ctx, "M-1", geo.Site{Location: geo.LatLng{Lat: 91}}); !errors.Is(err, geo.ErrInvalidSite) {
		t.Errorf("invalid site: %v, want ErrInvalidSite", err)
	}
	if err := s.Put(ctx, "", site); !errors.Is(err, geo.ErrInvalidSite) {
		t.Errorf("empty merchant: %v, want ErrInvalidSite", err)
	}
	if got, _ := s.Site(ctx, "M-1"); got != site {
		t.Errorf("a rejected Put changed the site to %+v", got)
	}
	if err := s.Delete(ctx, "M-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Site(ctx, "M-1"); !errors.Is(err, geo.ErrSiteNotFound) {
		t.Errorf("after Delete: %v, want ErrSiteNotFound", err)
	}
}

func TestCorruptRows(t *testing.T) {
	pool := newPool(t)
	ctx := t.Context()
	if _, err := pool.Exec(ctx, `INSERT INTO payedge_risk_profiles (terminal_id, profile) VALUES ('T', '{"TerminalID": 7}')`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO payedge_risk_profiles (terminal_id, profile) VALUES ('U', '{"TerminalID": "U", "Weight": -1}')`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO payedge_geo_sites (merchant_id, site) VALUES ('M', '{"RadiusM": -5}')`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO payedge_vision_merchants VALUES ('M', 1);
		INSERT INTO payedge_vision_scenes VALUES ('M', 1, '\xdeadbeef')`); err != nil {
		t.Fatal(err)
	}
	profiles := pgstore.NewProfileStore(pool)
	for _, id := range []string{"T", "U"} {
		_, err := profiles.Profile(ctx, id)
		var de *pgstore.DecodeError
		if !errors.Is(err, pgstore.ErrCorrupt) || !errors.As(err, &de) || de.Key != id {
			t.Errorf("Profile(%s) = %v, want a DecodeError for it", id, err)
		}
		called := false
		err = profiles.Update(ctx, id, func(*risk.Profile) (*risk.Profile, error) { called = true; return nil, nil })
		if !errors.Is(err, pgstore.ErrCorrupt) || called {
			t.Errorf("Update(%s) = %v (fn called %v), want ErrCorrupt before fn", id, err, called)
		}
	}
	if _, err := pgstore.NewSiteStore(pool).Site(ctx, "M"); !errors.Is(err, pgstore.ErrCorrupt) {
		t.Errorf("corrupt site: %v", err)
	}
	if _, err := pgstore.NewSceneStore(pool).References(ctx, "M"); !errors.Is(err, pgstore.ErrCorrupt) {
		t.Errorf("corrupt scene: %v", err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	pool := newPool(t)
	ctx := t.Context()
	if _, err := pool.Exec(ctx, `UPDATE payedge_schema SET version = $1`, pgstore.SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	if err := pgstore.Migrate(ctx, pool); !errors.Is(err, pgstore.ErrSchemaTooNew) {
		t.Errorf("Migrate = %v, want ErrSchemaTooNew", err)
	}
	if _, err := pgstore.NewProfileStore(pool).Profile(ctx, "T"); !errors.Is(err, pgstore.ErrSchemaTooNew) {
		t.Errorf("Profile = %v, want ErrSchemaTooNew", err)
	}
	if err := pgstore.NewSceneStore(pool).Add(ctx, "M", fingerprint(t, 2)); !errors.Is(err, pgstore.ErrSchemaTooNew) {
		t.Errorf("Add = %v, want ErrSchemaTooNew", err)
	}
}

func TestMigrateIdempotent(t *testing.T) {
	pool := newPool(t) // migrated once
	for range 3 {
		if err := pgstore.Migrate(t.Context(), pool); err != nil {
			t.Fatal(err)
		}
	}
}

// A failing update function and a cancelled context leave no partial write.
func TestNoPartialWrites(t *testing.T) {
	s := pgstore.NewProfileStore(newPool(t))
	ctx := t.Context()
	boom := errors.New("boom")
	err := s.Update(ctx, "T", func(cur *risk.Profile) (*risk.Profile, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Errorf("Update = %v, want fn's error", err)
	}
	if _, err := s.Profile(ctx, "T"); !errors.Is(err, risk.ErrNoProfile) {
		t.Errorf("after failed first Update: %v, want ErrNoProfile (no placeholder left)", err)
	}
	if err := learn(ctx, s, "T"); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	err = s.Update(cctx, "T", func(cur *risk.Profile) (*risk.Profile, error) {
		cancel()
		return cur.Learn(observation("T"), risk.LearnConfig{})
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update cancelled mid-transaction = %v, want context.Canceled", err)
	}
	p, err := s.Profile(ctx, "T")
	if err != nil || p.Weight != 1 {
		t.Errorf("after cancelled Update: weight %v, %v; want 1 (no partial write)", p.Weight, err)
	}
	if err := s.Update(ctx, "T", func(*risk.Profile) (*risk.Profile, error) {
		return &risk.Profile{TerminalID: "other", Updated: t0, Weight: 1}, nil
	}); !errors.Is(err, risk.ErrProfile) {
		t.Errorf("profile for another terminal: %v, want ErrProfile", err)
	}
}

func TestZeroValuesAndNilPool(t *testing.T) {
	ctx := context.Background()
	checks := map[string]error{}
	_, checks["ProfileStore.Profile"] = new(pgstore.ProfileStore).Profile(ctx, "T")
	checks["ProfileStore.Update"] = new(pgstore.ProfileStore).Update(ctx, "T", nil)
	_, checks["SiteStore.Site"] = new(pgstore.SiteStore).Site(ctx, "M")
	checks["SiteStore.Put"] = new(pgstore.SiteStore).Put(ctx, "M", geo.Site{})
	checks["SiteStore.Delete"] = new(pgstore.SiteStore).Delete(ctx, "M")
	_, checks["SceneStore.References"] = new(pgstore.SceneStore).References(ctx, "M")
	checks["SceneStore.Add"] = new(pgstore.SceneStore).Add(ctx, "M", nil)
	checks["Migrate(nil)"] = pgstore.Migrate(ctx, nil)
	checks["NewProfileStore(nil)"] = pgstore.NewProfileStore(nil).Update(ctx, "T", nil)
	for name, err := range checks {
		if !errors.Is(err, pgstore.ErrNilPool) {
			t.Errorf("%s = %v, want ErrNilPool", name, err)
		}
	}
	_, checks["EnrolmentStore.Get"] = new(pgstore.EnrolmentStore).Get(ctx, "x")
	checks["EnrolmentStore.Put"] = new(pgstore.EnrolmentStore).Put(ctx, "x", nil)
	checks["EnrolmentStore.Delete"] = new(pgstore.EnrolmentStore).Delete(ctx, "x")
	checks["EnrolmentStore.Range"] = new(pgstore.EnrolmentStore).Range(ctx, nil)
	_, checks["TenantStore.Get"] = new(pgstore.TenantStore).Get(ctx, "x")
	checks["TenantStore.Put"] = new(pgstore.TenantStore).Put(ctx, sdn.TenantRecord{})
	checks["TenantStore.Delete"] = new(pgstore.TenantStore).Delete(ctx, "x")
	_, checks["TenantStore.List"] = new(pgstore.TenantStore).List(ctx)
	_, checks["TenantStore.Lock"] = new(pgstore.TenantStore).Lock(ctx)
	for name, err := range checks {
		if !errors.Is(err, pgstore.ErrNilPool) {
			t.Errorf("%s = %v, want ErrNilPool", name, err)
		}
	}
	zerotest.Covered(t, "ProfileStore", "SiteStore", "SceneStore", "EnrolmentStore", "TenantStore", "DecodeError")
	if got := (&pgstore.DecodeError{Table: "x", Key: "k", Err: errors.New("bad")}).Error(); got == "" {
		t.Error("empty DecodeError message")
	}
}

// The server stops mid-run: calls fail with ErrUnavailable (no panic, no
// silent success); once it is back, the same store works again and nothing
// written before the stop is lost. Needs the cluster started by
// .ci/postgres.sh (PAYEDGE_PG_DIR), which the test stops and restarts.
func TestServerRestart(t *testing.T) {
	dir := os.Getenv("PAYEDGE_PG_DIR")
	if dir == "" {
		databaseURL(t)
		t.Skip("PAYEDGE_PG_DIR not set: the server was not started by .ci/postgres.sh, so this test cannot restart it")
	}
	script, err := filepath.Abs("../.ci/postgres.sh")
	if err != nil {
		t.Fatal(err)
	}
	pool := newPool(t)
	s := pgstore.NewProfileStore(pool)
	ctx := t.Context()
	for i := range 5 {
		if err := learn(ctx, s, fmt.Sprintf("R-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			if out, err := exec.Command(script, "resume").CombinedOutput(); err != nil {
				t.Fatalf("resume: %v\n%s", err, out)
			}
		}
	}
	if out, err := exec.Command(script, "halt").CombinedOutput(); err != nil {
		t.Fatalf("halt: %v\n%s", err, out)
	}
	defer resume()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.Profile(cctx, "R-0"); !errors.Is(err, pgstore.ErrUnavailable) {
		t.Errorf("Profile with the server down = %v, want ErrUnavailable", err)
	}
	if err := learn(cctx, s, "R-0"); !errors.Is(err, pgstore.ErrUnavailable) {
		t.Errorf("Update with the server down = %v, want ErrUnavailable", err)
	}
	resume()
	// The pool reconnects; the first calls may still meet a dead connection.
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := s.Profile(ctx, "R-0")
		if err == nil {
			break
		}
		if !errors.Is(err, pgstore.ErrUnavailable) {
			t.Fatalf("after restart: %v, want success or ErrUnavailable", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("store did not recover within 20 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i := range 5 {
		p, err := s.Profile(ctx, fmt.Sprintf("R-%d", i))
		if err != nil || p.Weight != 1 {
			t.Errorf("R-%d after restart: %v, %v; want weight 1", i, p, err)
		}
	}
	if err := learn(ctx, s, "R-0"); err != nil {
		t.Errorf("learn after restart: %v", err)
	}
}

// An sdn.Controller restarted on the same PostgreSQL store derives the
// same state: nothing to plan, the same identifiers held.
func TestControllerRestartFromPostgres(t *testing.T) {
	ctx := t.Context()
	parts := []sdn.Partition{
		{ID: "p1", ASN: 65001, RouterID: netip.MustParseAddr("10.255.0.1")},
		{ID: "p2", ASN: 65002, RouterID: netip.MustParseAddr("10.255.0.2")},
	}
	fabric, err := sdn.NewFabric(parts...)
	if err != nil {
		t.Fatal(err)
	}
	store := pgstore.NewTenantStore(newPool(t))
	cfg := sdn.Config{Partitions: parts}
	c1, err := sdn.NewController(ctx, cfg, store, fabric.Routers())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		id := fmt.Sprintf("tenant-%d", i)
		if _, err := c1.CreateTenant(ctx, sdn.TenantSpec{ID: id}); err != nil {
			t.Fatal(err)
		}
		if err := c1.AttachRouter(ctx, id, sdn.VirtualRouter{Partition: "p1", Prefixes: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24")}}); err != nil {
			t.Fatal(err)
		}
	}
	c2, err := sdn.NewController(ctx, cfg, store, fabric.Routers())
	if err != nil {
		t.Fatal(err)
	}
	if plan, err := c2.Plan(ctx); err != nil || len(plan) != 0 {
		t.Errorf("restarted controller plans %d changes, %v", len(plan), err)
	}
	if u1, u2 := c1.Usage(), c2.Usage(); u1.VNIs != u2.VNIs || u1.RouteTargets != u2.RouteTargets || u2.VNIs != 5 {
		t.Errorf("usage before %+v, after restart %+v", u1, u2)
	}
	b1, _ := c1.Tenant("tenant-3")
	b2, _ := c2.Tenant("tenant-3")
	if b1.Binding.VNI != b2.Binding.VNI || b1.Binding.RD["p2"] != b2.Binding.RD["p2"] {
		t.Errorf("binding changed across restart: %+v vs %+v", b1.Binding, b2.Binding)
	}
}
