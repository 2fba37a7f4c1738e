package sched

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Sampling selects how many feasible nodes are scored per decision.
type Sampling uint8

const (
	// SampleLog2 scores the first max(SampleMin, ⌈log₂ N⌉) feasible nodes
	// found from a random starting point, as Nomad limits its ranking
	// iterator to log₂ of the cluster size. It is the default.
	SampleLog2 Sampling = iota
	// SampleAdaptive scores max(SampleMin, N × p) feasible nodes with
	// p = max(5 %, 50 % − N/125 %), kube-scheduler's adaptive
	// percentageOfNodesToScore (SampleMin defaults to 100).
	SampleAdaptive
	// SampleFull scores every feasible node: the slow, exact baseline.
	SampleFull
)

// String names the mode.
func (s Sampling) String() string {
	switch s {
	case SampleLog2:
		return "log2"
	case SampleAdaptive:
		return "adaptive"
	case SampleFull:
		return "full"
	}
	return fmt.Sprintf("Sampling(%d)", uint8(s))
}

// Weights weigh the scorers. The zero value means {BestFit: 1, Taint: 1}.
type Weights struct {
	// BestFit favours the fullest node that fits (bin packing, Nomad's
	// ScoreFitBinPack).
	BestFit float64
	// Spread favours the emptiest node (Nomad's ScoreFitSpread,
	// kube-scheduler's LeastAllocated).
	Spread float64
	// Taint penalises nodes whose PreferNoSchedule taints the request does
	// not tolerate.
	Taint float64
}

// Validate reports whether every weight is in [0, 1e6]; errors wrap
// ErrInvalidConfig. The zero Weights stands for DefaultWeights.
func (w Weights) Validate() error {
	for _, v := range []float64{w.BestFit, w.Spread, w.Taint} {
		if !(v >= 0 && v <= 1e6) {
			return fmt.Errorf("%w: weight %v outside [0, 1e6]", ErrInvalidConfig, v)
		}
	}
	return nil
}

// DefaultWeights returns the weights the zero Weights stands for: best fit
// (bin packing) with the PreferNoSchedule penalty.
func DefaultWeights() Weights { return Weights{BestFit: 1, Taint: 1} }

// Config configures a Coordinator. The zero value is usable.
type Config struct {
	// Classes maps a node class to its allocation ratios.
	Classes map[string]Ratios
	// DefaultRatios apply to nodes with an empty class.
	DefaultRatios Ratios
	// Sampling selects the candidate sampling mode.
	Sampling Sampling
	// SampleMin is the minimum number of feasible candidates scored; 0
	// means 2 for SampleLog2 and 100 for SampleAdaptive.
	SampleMin int
	// Weights weigh the scorers.
	Weights Weights
	// MaxAttempts bounds backend attempts per request (the first choice
	// plus alternates, as Nova's alternate hosts); 0 means 3.
	MaxAttempts int
	// MaxConflicts bounds re-decisions after a commit found the decision
	// stale; 0 means 8.
	MaxConflicts int
	// BackendTimeout bounds each backend Create and Delete; 0 means 30 s.
	BackendTimeout time.Duration
	// NotifyRetries is how often a failed notification is retried before
	// it is left in the outbox; 0 means 3.
	NotifyRetries int
	// NotifyBackoff is the first delay between notification retries; it
	// doubles each time. 0 means 10 ms.
	NotifyBackoff time.Duration
	// NotifyTimeout bounds each ResourceChanged call; 0 means 5 s.
	NotifyTimeout time.Duration
	// CompensateRetries bounds the attempts to undo a backend Create the
	// ledger cannot accept (timed out, over capacity, malformed); 0 means 5.
	CompensateRetries int
	// MaxPending bounds the pending queue; 0 disables it, so requests
	// that do not fit fail with ErrNoCapacity instead of waiting.
	MaxPending int
	// OnPending, if set, is called with the outcome of every queued
	// request that was retried. It must not call back into the Coordinator.
	OnPending func(Placement, error)
	// OnNotifyError, if set, is called when a change could not be
	// delivered after the retries. It must not call back into the Coordinator.
	OnNotifyError func(*NotifyError)
	// MaxRepairs bounds the drift repairs one Reconcile call makes; the
	// rest are reported as deferred and repaired by the next call, so a
	// host that calls Reconcile every period bounds the repair rate. 0
	// means 1000.
	MaxRepairs int
	// OnDrift, if set, is called with every drift event Reconcile or
	// Recover found, after the ledger was updated. It must not call back
	// into the Coordinator.
	OnDrift func(DriftEvent)
	// Preemption lets a request that fits nowhere evict workloads of
	// strictly lower Priority from one node, through their backends; see
	// Coordinator.Create. Requests with PinNUMA never preempt (evicting
	// for a single NUMA cell is not planned).
	Preemption bool
	// Rand picks the sampling start; nil means a fixed-seed PCG of the
	// Coordinator's own. Calls are serialised by the Coordinator, so a
	// source must not be shared between Coordinators.
	Rand rand.Source
	// Now stamps changes; nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns the configuration the zero Config stands for, with
// every default spelled out (Rand and Now stay nil: each Coordinator gets
// its own source and the wall clock). New(DefaultConfig(), …) and
// New(Config{}, …) behave the same.
func DefaultConfig() Config {
	c := Config{}.withDefaults()
	c.Rand, c.Now = nil, nil
	return c
}

// Validate reports whether the configuration is usable; errors wrap
// ErrInvalidConfig. New calls it.
func (c Config) Validate() error {
	if err := c.DefaultRatios.Validate(); err != nil {
		return err
	}
	for name, r := range c.Classes {
		if len(name) > MaxLabelLen {
			return fmt.Errorf("%w: class name longer than %d bytes", ErrInvalidConfig, MaxLabelLen)
		}
		if err := r.Validate(); err != nil {
			return fmt.Errorf("class %q: %w", name, err)
		}
	}
	if c.Sampling > SampleFull {
		return fmt.Errorf("%w: sampling mode %d", ErrInvalidConfig, c.Sampling)
	}
	if err := c.Weights.Validate(); err != nil {
		return err
	}
	for _, v := range []int{c.SampleMin, c.MaxAttempts, c.MaxConflicts, c.NotifyRetries, c.CompensateRetries, c.MaxPending, c.MaxRepairs} {
		if v < 0 || v > 1<<20 {
			return fmt.Errorf("%w: count %d outside [0, 2^20]", ErrInvalidConfig, v)
		}
	}
	if c.BackendTimeout < 0 || c.NotifyBackoff < 0 || c.NotifyTimeout < 0 {
		return fmt.Errorf("%w: negative duration", ErrInvalidConfig)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Weights == (Weights{}) {
		c.Weights = DefaultWeights()
	}
	if c.SampleMin == 0 {
		c.SampleMin = 2
		if c.Sampling == SampleAdaptive {
			c.SampleMin = 100
		}
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 3
	}
	if c.MaxConflicts == 0 {
		c.MaxConflicts = 8
	}
	if c.BackendTimeout == 0 {
		c.BackendTimeout = 30 * time.Second
	}
	if c.NotifyRetries == 0 {
		c.NotifyRetries = 3
	}
	if c.NotifyBackoff == 0 {
		c.NotifyBackoff = 10 * time.Millisecond
	}
	if c.NotifyTimeout == 0 {
		c.NotifyTimeout = 5 * time.Second
	}
	if c.CompensateRetries == 0 {
		c.CompensateRetries = 5
	}
	if c.MaxRepairs == 0 {
		c.MaxRepairs = 1000
	}
	if c.Rand == nil {
		c.Rand = rand.NewPCG(0x5c4ed, 0x1ed9e7)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
