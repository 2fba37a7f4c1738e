package sim

import (
	"fmt"
	"math/rand/v2"

	"github.com/payedge/payedge/motion"
)

// Window is one generated, labelled window.
type Window struct {
	Subject string          // Subject.ID
	Label   string          // the class
	Samples []motion.Sample // as the device would deliver them
}

// DatasetConfig sizes a generated data set. The zero value is usable.
type DatasetConfig struct {
	// Subjects is the number of people (each with their own device).
	// Default 20; at most 10000.
	Subjects int
	// WindowsPerClass is the number of windows per subject and class.
	// Default 8; at most 1000.
	WindowsPerClass int
	// GyroMissing is the fraction of devices without a gyroscope; default
	// 0.15, negative means none.
	GyroMissing float64
	// IDPrefix starts every subject ID (so that two data sets drawn with
	// different seeds can be told apart); default "s".
	IDPrefix string
	// Classes to generate; default Classes().
	Classes []string
	// Generator shapes the windows.
	Generator Generator
}

// Dataset generates cfg.Subjects subjects and, for each, WindowsPerClass
// windows of every class, in subject, class, window order. It fails for
// Subjects or WindowsPerClass out of range and for a class in cfg.Classes
// that Generator.Window does not know. The errors are plain (this package
// has no sentinels): they are programming errors, not data errors.
func Dataset(cfg DatasetConfig, rng *rand.Rand) ([]Window, error) {
	if cfg.Subjects == 0 {
		cfg.Subjects = 20
	}
	if cfg.WindowsPerClass == 0 {
		cfg.WindowsPerClass = 8
	}
	if cfg.GyroMissing == 0 {
		cfg.GyroMissing = 0.15
	} else if cfg.GyroMissing < 0 {
		cfg.GyroMissing = 0
	}
	if cfg.IDPrefix == "" {
		cfg.IDPrefix = "s"
	}
	if cfg.Classes == nil {
		cfg.Classes = Classes()
	}
	if cfg.Subjects < 0 || cfg.Subjects > 10000 || cfg.WindowsPerClass < 0 || cfg.WindowsPerClass > 1000 {
		return nil, fmt.Errorf("sim: %d subjects × %d windows out of range", cfg.Subjects, cfg.WindowsPerClass)
	}
	out := make([]Window, 0, cfg.Subjects*cfg.WindowsPerClass*len(cfg.Classes))
	for i := range cfg.Subjects {
		s := NewSubject(fmt.Sprintf("%s%04d", cfg.IDPrefix, i), cfg.GyroMissing, rng)
		for _, c := range cfg.Classes {
			for range cfg.WindowsPerClass {
				w, err := cfg.Generator.Window(&s, c, rng)
				if err != nil {
					return nil, err
				}
				out = append(out, Window{Subject: s.ID, Label: c, Samples: w})
			}
		}
	}
	return out, nil
}

// Examples extracts the features of every window with one reused
// motion.Extractor. An invalid cfg is an error wrapping motion.ErrConfig; a
// window the extractor rejects is its *motion.WindowError, wrapped with the
// window's index, subject and label.
func Examples(ws []Window, cfg motion.Config) ([]motion.Example, error) {
	e, err := motion.NewExtractor(cfg)
	if err != nil {
		return nil, err
	}
	out := make([]motion.Example, len(ws))
	for i := range ws {
		if err := e.ExtractInto(&out[i].Features, ws[i].Samples); err != nil {
			return nil, fmt.Errorf("sim: window %d (%s, %s): %w", i, ws[i].Subject, ws[i].Label, err)
		}
		out[i].Label = ws[i].Label
		out[i].Subject = ws[i].Subject
	}
	return out, nil
}

// The default model's recipe: generator seeds and sizes. Changing any of
// them changes motion's embedded default model; run `go generate` in the
// motion directory afterwards.
const (
	DefaultSeed1           = 0x7061796564676531 // "payedge1"
	DefaultSeed2           = 5                  // issue number of the motion package
	DefaultSubjects        = 48
	DefaultWindowsPerClass = 6
)

// DefaultTrainingSet is the data set motion's default model is trained on.
func DefaultTrainingSet() ([]motion.Example, error) {
	rng := rand.New(rand.NewPCG(DefaultSeed1, DefaultSeed2))
	ws, err := Dataset(DatasetConfig{Subjects: DefaultSubjects, WindowsPerClass: DefaultWindowsPerClass, IDPrefix: "train"}, rng)
	if err != nil {
		return nil, err
	}
	return Examples(ws, motion.Config{})
}

// TrainDefault trains motion's default model from DefaultTrainingSet with
// the default TrainConfig. The result, marshalled, is the embedded
// default_model.bin (bit for bit on the platform it was generated on).
func TrainDefault() (*motion.Model, error) {
	ex, err := DefaultTrainingSet()
	if err != nil {
		return nil, err
	}
	return motion.Train(ex, motion.TrainConfig{})
}
