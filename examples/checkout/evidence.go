package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/payedge/payedge/geo"
	"github.com/payedge/payedge/motion"
	"github.com/payedge/payedge/motion/sim"
	"github.com/payedge/payedge/risk"
	"github.com/payedge/payedge/vision"
	"github.com/payedge/payedge/vision/visiontest"
)

const merchant = "shop-17"

// otherEvidence renders each scene's photo, motion window and cell report
// from the story's truth (AtShop, Moving), registers the merchant's premises
// with the vision and geo back ends, and returns one evidence function per
// source: vision, motion, geo.
func otherEvidence(ctx context.Context, seed uint64, at time.Time, scenes []scene, st stores) ([]evidence, error) {
	rng := rand.New(rand.NewPCG(seed, 0xe71de))

	// Vision: the merchant photographed the shop at onboarding. Each payment
	// brings a new shot: of the shop (another viewpoint, light and clutter),
	// or of wherever the terminal really is.
	photos, err := visiontest.Generate(visiontest.Reshot, 2, visiontest.Options{}, seed)
	if err != nil {
		return nil, fmt.Errorf("rendering photos: %w", err)
	}
	scenesDB := st.scenes
	ref, err := vision.Extract(photos.Refs[0])
	if err != nil {
		return nil, fmt.Errorf("fingerprinting the shop: %w", err)
	}
	if err := scenesDB.Add(ctx, merchant, ref); err != nil {
		return nil, err
	}
	eye, err := vision.NewAssessor(vision.Config{}, scenesDB)
	if err != nil {
		return nil, err
	}

	// Motion: one cashier's terminal; each payment brings a 2.56 s window.
	cashier := sim.NewSubject("cashier", 0, rng)
	var gen sim.Generator
	gait, err := motion.NewAssessor(motion.AssessorConfig{}, nil) // nil: the embedded default model
	if err != nil {
		return nil, err
	}

	// Geo: the shop's registered site and the cells around it and around
	// the place 27 km away where the terminal turns up.
	shopCell := geo.CellID{Radio: geo.LTE, MCC: 262, MNC: 1, Area: 4711, Cell: 10_501}
	shopCell2 := geo.CellID{Radio: geo.LTE, MCC: 262, MNC: 1, Area: 4711, Cell: 10_502}
	farCell := geo.CellID{Radio: geo.LTE, MCC: 262, MNC: 1, Area: 4790, Cell: 88_301}
	farCell2 := geo.CellID{Radio: geo.LTE, MCC: 262, MNC: 1, Area: 4790, Cell: 88_302}
	cells, err := geo.NewCellDB([]geo.CellRecord{
		{ID: shopCell, Unit: -1, Location: geo.LatLng{Lat: 52.5210, Lng: 13.4065}, RangeM: 900, Samples: 140},
		{ID: shopCell2, Unit: -1, Location: geo.LatLng{Lat: 52.5172, Lng: 13.3990}, RangeM: 1200, Samples: 95},
		{ID: farCell, Unit: -1, Location: geo.LatLng{Lat: 52.3920, Lng: 13.0660}, RangeM: 1000, Samples: 60},
		{ID: farCell2, Unit: -1, Location: geo.LatLng{Lat: 52.3985, Lng: 13.0560}, RangeM: 1500, Samples: 44},
	}, geo.DBConfig{})
	if err != nil {
		return nil, err
	}
	sites := st.sites
	if err := sites.Put(ctx, merchant, geo.Site{Location: geo.LatLng{Lat: 52.5200, Lng: 13.4050}, RadiusM: 300}); err != nil {
		return nil, err
	}
	monitor, err := geo.NewAssessor(geo.Config{}, cells, sites)
	if err != nil {
		return nil, err
	}

	for i := range scenes {
		sc := &scenes[i]
		near, second := shopCell, shopCell2
		sc.Photo = photos.Queries[0]
		if !sc.AtShop {
			near, second = farCell, farCell2
			sc.Photo = photos.Queries[1]
		}
		sc.Cells = []geo.CellObservation{
			{CellID: near, SignalDBm: -70 - rng.IntN(10)},
			{CellID: second, SignalDBm: -90 - rng.IntN(10)},
		}
		if sc.Window, err = gen.Window(&cashier, sc.Moving, rng); err != nil {
			return nil, fmt.Errorf("scene %q: motion window: %w", sc.Name, err)
		}
	}

	return []evidence{
		func(ctx context.Context, sc *scene) (risk.Signal, error) {
			return eye.Assess(ctx, merchant, sc.Photo)
		},
		func(ctx context.Context, sc *scene) (risk.Signal, error) {
			return gait.Score(ctx, sc.Window)
		},
		func(ctx context.Context, sc *scene) (risk.Signal, error) {
			// The monitor's N-of-M hysteresis: one far fix does not condemn
			// a terminal, the reports it uploaded before the payment count too.
			for i := range sc.Heartbeats {
				hb := geo.Report{TerminalID: terminal, MerchantID: merchant,
					At: at.Add(-time.Duration(sc.Heartbeats-i) * 10 * time.Minute), Cells: sc.Cells}
				if _, err := monitor.Check(ctx, hb); err != nil {
					return risk.Signal{}, err
				}
			}
			return monitor.Score(ctx, geo.Report{TerminalID: terminal, MerchantID: merchant, At: at, Cells: sc.Cells})
		},
	}, nil
}
