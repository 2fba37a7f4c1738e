package pgstore_test

import (
	"testing"

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
