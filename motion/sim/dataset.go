package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"

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

// DefaultDatasetConfig returns the configuration the zero DatasetConfig
// stands for.
func DefaultDatasetConfig() DatasetConfig { return DatasetConfig{}.withDefaults() }

func (cfg DatasetConfig) withDefaults() DatasetConfig {
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
	return cfg
}

// Validate reports whether the configuration (after defaults) is usable:
// Subjects in [1, 10000], WindowsPerClass in [1, 1000], GyroMissing at most
// 1, every class known to Generator.Window, a valid Generator. Errors wrap
// ErrConfig.
func (cfg DatasetConfig) Validate() error {
	d := cfg.withDefaults()
	switch {
	case d.Subjects < 1 || d.Subjects > 10000 || d.WindowsPerClass < 1 || d.WindowsPerClass > 1000:
		return fmt.Errorf("%w: %d subjects × %d windows out of range", ErrConfig, d.Subjects, d.WindowsPerClass)
	case !(d.GyroMissing <= 1):
		return fmt.Errorf("%w: GyroMissing %v above 1", ErrConfig, d.GyroMissing)
	}
	for _, c := range d.Classes {
		if !slices.Contains(allClasses, c) {
			return fmt.Errorf("%w: unknown class %q", ErrConfig, c)
		}
	}
	return d.Generator.Validate()
}

// Dataset generates cfg.Subjects subjects and, for each, WindowsPerClass
// windows of every class, in subject, class, window order. An invalid cfg
// (see DatasetConfig.Validate) or a nil rng is an error wrapping ErrConfig.
func Dataset(cfg DatasetConfig, rng *rand.Rand) ([]Window, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if rng == nil {
		return nil, fmt.Errorf("%w: nil rng", ErrConfig)
	}
	cfg = cfg.withDefaults()
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

// DefaultTrainingSet is the simulated part of the training set of motion's
// default model (which adds real HAPT recordings and more vehicle windows;
// see motion.DefaultModel).
func DefaultTrainingSet() ([]motion.Example, error) {
	rng := rand.New(rand.NewPCG(DefaultSeed1, DefaultSeed2))
	ws, err := Dataset(DatasetConfig{Subjects: DefaultSubjects, WindowsPerClass: DefaultWindowsPerClass, IDPrefix: "train"}, rng)
	if err != nil {
		return nil, err
	}
	return Examples(ws, motion.Config{})
}

// TrainDefault trains a simulator-only model for the four payment classes
// from DefaultTrainingSet with the default TrainConfig.
//
// Deprecated: motion's embedded default model is no longer simulator-only;
// it also learns from real recordings (see motion.DefaultModel). This
// remains for comparisons with the simulator-only model.
func TrainDefault() (*motion.Model, error) {
	ex, err := DefaultTrainingSet()
	if err != nil {
		return nil, err
	}
	return motion.Train(ex, motion.TrainConfig{})
}
