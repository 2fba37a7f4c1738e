package pgstore_test

import (
	"testing"

	"github.com/payedge/payedge/biometric"
	"github.com/payedge/payedge/biometric/biometrictest"
	"github.com/payedge/payedge/geo"
	"github.com/payedge/payedge/geo/geotest"
	"github.com/payedge/payedge/sdn"
	"github.com/payedge/payedge/sdn/sdntest"

	"github.com/payedge/payedge/pgstore"
	"github.com/payedge/payedge/risk"
	"github.com/payedge/payedge/risk/risktest"
	"github.com/payedge/payedge/vision"
	"github.com/payedge/payedge/vision/visiontest"
)

func TestProfileStoreConformance(t *testing.T) {
	risktest.TestProfileStore(t, func(t *testing.T) risk.ProfileStore {
		return pgstore.NewProfileStore(newPool(t))
	})
}

func TestSceneStoreConformance(t *testing.T) {
	visiontest.TestSceneStore(t, func() vision.SceneStore {
		return pgstore.NewSceneStore(newPool(t))
	})
}

func TestEnrolmentStoreConformance(t *testing.T) {
	biometrictest.TestEnrolmentStore(t, func(t *testing.T) biometric.EnrolmentStore {
		return pgstore.NewEnrolmentStore(newPool(t))
	})
}

func TestTenantStoreConformance(t *testing.T) {
	sdntest.TestStore(t, func(t *testing.T) sdn.Store {
		return pgstore.NewTenantStore(newPool(t))
	})
}

func TestSiteStoreConformance(t *testing.T) {
	geotest.TestSiteStore(t, func(t *testing.T, sites map[string]geo.Site) geo.SiteStore {
		s := pgstore.NewSiteStore(newPool(t))
		for id, site := range sites {
			if err := s.Put(t.Context(), id, site); err != nil {
				t.Fatal(err)
			}
		}
		return s
	})
}
