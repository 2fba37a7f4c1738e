package geotest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/payedge/payedge/geo"
)

// NewSiteStore returns the geo.SiteStore under test holding exactly sites
// (merchant ID → site) and no others. It may call t.Fatal.
type NewSiteStore func(t *testing.T, sites map[string]geo.Site) geo.SiteStore

// Sites returns the merchants TestSiteStore loads into the store: ordinary
// ones, a zero-radius site, one at the antimeridian and near a pole, a
// merchant ID of geo.MaxIDBytes bytes, and IDs that differ only in case or
// by a trailing space (a store must not fold them together).
func Sites() map[string]geo.Site {
	return map[string]geo.Site{
		"shop-17":                           {Location: site, RadiusM: 300},
		"SHOP-17":                           {Location: munich, RadiusM: 50},
		"shop-17 ":                          {Location: geo.LatLng{Lat: 48.8566, Lng: 2.3522}, RadiusM: 1000},
		"kiosk":                             {Location: geo.LatLng{Lat: -33.8688, Lng: 151.2093}},
		"dateline":                          {Location: dateline, RadiusM: 2000},
		"polar":                             {Location: polar, RadiusM: geo.MaxSiteRadiusM},
		"m/ü/日本":                            {Location: geo.LatLng{Lat: 35.6762, Lng: 139.6503}, RadiusM: 150.5},
		strings.Repeat("x", geo.MaxIDBytes): {Location: geo.LatLng{Lat: 1e-7, Lng: -1e-7}, RadiusM: 1},
		"merchant-with-a-rather-long-but-ordinary-id": {Location: geo.LatLng{Lat: 90, Lng: 180}, RadiusM: 10},
	}
}

// TestSiteStore checks the geo.SiteStore contract: every loaded merchant's
// site comes back exactly; an unknown merchant (including the empty ID and
// near misses of known IDs) gives an error wrapping geo.ErrSiteNotFound;
// a done context gives ctx.Err(); and Site is safe for concurrent use (run
// the suite with -race). newStore is called once, with Sites().
func TestSiteStore(t *testing.T, newStore NewSiteStore) {
	t.Helper()
	want := Sites()
	store := newStore(t, Sites())
	ctx := context.Background()

	get := func(t *testing.T, ctx context.Context, id string) (s geo.Site, err error) {
		t.Helper()
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("Site(%q) panicked: %v", id, r)
			}
		}()
		return store.Site(ctx, id)
	}

	t.Run("Known", func(t *testing.T) {
		for id, w := range want {
			got, err := get(t, ctx, id)
			if err != nil || got != w {
				t.Errorf("Site(%q) = %+v, %v; want %+v", id, got, err, w)
			}
		}
	})
	t.Run("Unknown", func(t *testing.T) {
		for _, id := range []string{"", "shop-1", "shop-177", "Shop-17", " shop-17", "nobody", strings.Repeat("x", geo.MaxIDBytes-1), strings.Repeat("x", geo.MaxIDBytes+1)} {
			if _, err := get(t, ctx, id); !errors.Is(err, geo.ErrSiteNotFound) {
				t.Errorf("Site(%q) error = %v, want geo.ErrSiteNotFound", id, err)
			}
		}
	})
	t.Run("Cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := get(t, cctx, "shop-17"); !errors.Is(err, context.Canceled) {
			t.Errorf("Site with cancelled context: %v, want context.Canceled", err)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		ids := make([]string, 0, len(want))
		for id := range want {
			ids = append(ids, id)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := range 8 {
			wg.Go(func() {
				for i := range 100 {
					id := ids[(g+i)%len(ids)]
					got, err := store.Site(ctx, id)
					if err != nil || got != want[id] {
						errs <- fmt.Errorf("goroutine %d call %d: Site(%q) = %+v, %v; want %+v", g, i, id, got, err, want[id])
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}
