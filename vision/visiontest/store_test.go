package visiontest

import (
	"testing"

	"github.com/payedge/payedge/vision"
)

func TestMemoryStoreConformance(t *testing.T) {
	TestSceneStore(t, func() vision.SceneStore { return vision.NewMemoryStore() })
}
