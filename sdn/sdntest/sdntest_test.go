package sdntest_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/payedge/payedge/sdn"
	"github.com/payedge/payedge/sdn/sdntest"
)

var (
	partA = sdn.Partition{ID: "a", ASN: 65001, RouterID: netip.MustParseAddr("10.0.0.1"), Kind: "memory"}
	partB = sdn.Partition{ID: "b", ASN: 65002, RouterID: netip.MustParseAddr("10.0.0.2"), Kind: "memory"}
)

func fabricSetup() (sdntest.Setup, error) {
	f, err := sdn.NewFabric(partA, partB)
	if err != nil {
		return sdntest.Setup{}, err
	}
	a, _ := f.Router("a")
	b, _ := f.Router("b")
	return sdntest.Setup{A: a, B: b, PartA: partA, PartB: partB}, nil
}

func TestFabricRouteController(t *testing.T) {
	sdntest.TestRouteController(t, func(t *testing.T) sdntest.Setup {
		s, err := fabricSetup()
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestMemoryStore(t *testing.T) {
	sdntest.TestStore(t, func(*testing.T) sdn.Store { return sdn.NewMemoryStore() })
}

// The suite must fail controllers that break the contract.
func TestSuiteCatchesBrokenControllers(t *testing.T) {
	broken := map[string]func(rc sdn.RouteController, other sdn.RouteController) sdn.RouteController{
		// leaks: reports every route of the other side whatever the RTs
		"leaky": func(rc, other sdn.RouteController) sdn.RouteController {
			f := sdn.Wrap(rc)
			f.ReceivedRoutesFunc = func(ctx context.Context, vrf string) ([]sdn.Route, error) {
				rs, err := rc.ReceivedRoutes(ctx, vrf)
				if err != nil {
					return nil, err
				}
				for _, name := range []string{"t-red", "t-blue"} {
					if adv, err := other.AdvertisedRoutes(ctx, name); err == nil {
						rs = append(rs, adv...)
					}
				}
				return rs, nil
			}
			return f
		},
		// never withdraws: deleting an instance is a no-op
		"sticky": func(rc, _ sdn.RouteController) sdn.RouteController {
			f := sdn.Wrap(rc)
			f.DeleteBGPInstanceFunc = func(context.Context, string) error { return nil }
			return f
		},
		// IPv4 only: drops the IPv6 networks it is asked to originate
		"ipv4-only": func(rc, _ sdn.RouteController) sdn.RouteController {
			f := sdn.Wrap(rc)
			f.EnsureBGPInstanceFunc = func(ctx context.Context, b sdn.BGPSpec) error {
				b.Networks = slices.DeleteFunc(slices.Clone(b.Networks), func(p netip.Prefix) bool { return p.Addr().Is6() })
				return rc.EnsureBGPInstance(ctx, b)
			}
			return f
		},
		// not idempotent: a repeated EnsureVRF fails
		"not-idempotent": func(rc, _ sdn.RouteController) sdn.RouteController {
			f := sdn.Wrap(rc)
			var mu sync.Mutex
			seen := map[string]bool{}
			f.EnsureVRFFunc = func(ctx context.Context, v sdn.VRFSpec) error {
				mu.Lock()
				defer mu.Unlock()
				if seen[v.Name] {
					return errors.New("exists")
				}
				seen[v.Name] = true
				return rc.EnsureVRF(ctx, v)
			}
			return f
		},
	}
	for name, wrap := range broken {
		t.Run(name, func(t *testing.T) {
			err := sdntest.CheckRouteController(t.Context(), func() (sdntest.Setup, error) {
				s, err := fabricSetup()
				if err != nil {
					return s, err
				}
				a, b := s.A, s.B
				s.A, s.B = wrap(a, b), wrap(b, a)
				return s, nil
			})
			if err == nil {
				t.Fatal("the suite passed a broken controller")
			}
			if !strings.Contains(err.Error(), "sdntest:") {
				t.Errorf("unexpected error form: %v", err)
			}
		})
	}
	if err := sdntest.CheckRouteController(t.Context(), fabricSetup); err != nil {
		t.Errorf("the suite fails the reference fabric: %v", err)
	}
}
