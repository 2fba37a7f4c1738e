package motion_test

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/payedge/payedge/motion"
	"github.com/payedge/payedge/motion/sim"
)

// freshSubjects generates subjects the default model has never seen (another
// seed and ID prefix than sim.DefaultTrainingSet).
func freshSubjects(t testing.TB, subjects, perClass int, seed uint64) []motion.Example {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	ws, err := sim.Dataset(sim.DatasetConfig{Subjects: subjects, WindowsPerClass: perClass, IDPrefix: "fresh"}, rng)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := sim.Examples(ws, motion.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

func TestDefaultModelAccuracyOnFreshSubjects(t *testing.T) {
	m, err := motion.DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	ev, err := motion.Evaluate(m, freshSubjects(t, 24, 4, 12345))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("default model on 24 fresh subjects:\n%s", ev)
	if ev.Accuracy < 0.95 {
		t.Errorf("accuracy %.4f < 0.95", ev.Accuracy)
	}
	if ev.ECE > 0.05 {
		t.Errorf("expected calibration error %.4f > 0.05", ev.ECE)
	}
}

func TestDefaultModelReproducible(t *testing.T) {
	m, err := sim.TrainDefault()
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := motion.DefaultModelBytes()
	if runtime.GOARCH != "amd64" {
		// Other architectures may fuse multiply-adds (Go spec, "Floating-point
		// operators"), so only the accuracy test applies there. On amd64
		// training and simulation avoid math.Exp, whose result depends on
		// the CPU's FMA support.
		t.Skipf("embedded model generated on amd64; GOARCH=%s", runtime.GOARCH)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("regenerated default model differs from default_model.bin (%d vs %d bytes); run go generate ./motion", len(got), len(want))
	}
}
