package risk

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// NeighborSource is the Signal.Source of the neighbour assessor.
const NeighborSource = "neighbors"

// Reason codes of the neighbour assessor ("neighbors.<what>").
const (
	ReasonNeighborsMatch          = "neighbors.match"
	ReasonNeighborsNoProfile      = "neighbors.no_profile"
	ReasonNeighborsEmpty          = "neighbors.empty"
	ReasonNeighborsRandomizedOnly = "neighbors.randomized_only"
	ReasonNeighborsThinProfile    = "neighbors.thin_profile"
	ReasonNeighborsFewKnown       = "neighbors.few_known"
	ReasonNeighborsMissing        = "neighbors.missing"
	ReasonNeighborsUnknown        = "neighbors.unknown"
	ReasonNeighborsRSSIShift      = "neighbors.rssi_shift"
	ReasonNeighborsRSSIUniform    = "neighbors.rssi_uniform"
)

// Deprecated names of NeighborSource and the Reason… codes, kept so that
// existing callers compile.
const (
	// Deprecated: use NeighborSource.
	SourceNeighbors = NeighborSource
	// Deprecated: use ReasonNeighborsMatch.
	CodeNeighborsMatch = ReasonNeighborsMatch
	// Deprecated: use ReasonNeighborsNoProfile.
	CodeNeighborsNoProfile = ReasonNeighborsNoProfile
	// Deprecated: use ReasonNeighborsEmpty.
	CodeNeighborsEmpty = ReasonNeighborsEmpty
	// Deprecated: use ReasonNeighborsRandomizedOnly.
	CodeNeighborsRandomizedOnly = ReasonNeighborsRandomizedOnly
	// Deprecated: use ReasonNeighborsThinProfile.
	CodeNeighborsThinProfile = ReasonNeighborsThinProfile
	// Deprecated: use ReasonNeighborsFewKnown.
	CodeNeighborsFewKnown = ReasonNeighborsFewKnown
	// Deprecated: use ReasonNeighborsMissing.
	CodeNeighborsMissing = ReasonNeighborsMissing
	// Deprecated: use ReasonNeighborsUnknown.
	CodeNeighborsUnknown = ReasonNeighborsUnknown
	// Deprecated: use ReasonNeighborsRSSIShift.
	CodeNeighborsRSSIShift = ReasonNeighborsRSSIShift
	// Deprecated: use ReasonNeighborsRSSIUniform.
	CodeNeighborsRSSIUniform = ReasonNeighborsRSSIUniform
)

// NeighborConfig tunes the neighbour scorer. The zero value selects the
// defaults shown; every field must be non-negative.
type NeighborConfig struct {
	// MinExpected is how many distinct expected devices must be matched
	// before the scan is trusted (default 2, so one cloned access point
	// cannot pass). Below it the confidence is capped at FewKnownCap. A
	// device is a universal address or a BLE static random address;
	// addresses that differ only in the last hex digit (the BSSIDs of one
	// multi-SSID or dual-band access point) are one device, and locally
	// administered addresses (secondary BSSIDs, randomised clients) are none
	// — an attacker cloning one access point clones all its BSSIDs.
	MinExpected int
	// FullRecall is the weighted share of expected neighbours that counts as
	// a complete match (default 0.8): radio scans routinely miss a few
	// access points, so seeing 80 % of the expected weight is as good as
	// seeing all of it. Recall below it scales linearly.
	FullRecall float64
	// MinFrequency is the learned frequency from which a neighbour is
	// expected in every scan (default 0.5). Pinned neighbours always are.
	MinFrequency float64
	// MinObservations is the decayed observation count a learned profile
	// needs before its neighbours are expected (default 3); until then a
	// profile without pinned neighbours scores like no profile
	// (NoProfileConfidence), less UnknownPenalty when a scan shares no
	// neighbour with it. The count settles at 1/(1 − 2^(−Δ/HalfLife))
	// for scans every Δ, so a terminal must be scanned (learned) at least
	// every 0.58 half-lives to reach 3: scan idle terminals periodically,
	// or lower MinObservations or lengthen Learn.HalfLife.
	MinObservations float64
	// RSSISigma is the RSSI difference in dB at which similarity falls to
	// 2/3 (default 6 dB).
	RSSISigma float64
	// RSSIShift is the mean absolute RSSI difference in dB above which the
	// scan is reported as shifted (default 10 dB).
	RSSIShift float64
	// RSSIPenalty is the share of confidence that RSSI dissimilarity can
	// remove (default 0.6, at most 1).
	RSSIPenalty float64
	// UnknownPenalty is the share of confidence that a scan full of unknown
	// stable neighbours can remove (default 0.5, at most 1).
	UnknownPenalty float64
	// UniformPenalty multiplies the score when matched neighbours that the
	// profile knows at widely different strengths all arrive at nearly the
	// same RSSI — the signature of one radio replaying several cloned
	// identifiers (default 0.4, at most 1).
	UniformPenalty float64
	// LocalWeight is the weight of locally administered (possibly
	// randomised) addresses relative to universal ones (default 0.25, at
	// most 1).
	LocalWeight float64
	// StaticRandomWeight is the weight of Bluetooth LE static random
	// addresses (default 0.5, at most 1). Private (rotating) addresses
	// always weigh 0.
	StaticRandomWeight float64
	// Floor and Ceiling are the confidences of the worst (q = 0) and best
	// (q = 1) scored scan (defaults 0.01 and 0.99, likelihood ratios 1:99
	// and 99:1); the score is linear in log-odds between them, so that with
	// the defaults q = 0.5 is exactly neutral (0.5). Floor must lie in
	// (0, 0.5), Ceiling in (0.5, 1).
	Floor, Ceiling float64
	// FewKnownCap caps the confidence when fewer than MinExpected distinct
	// expected devices were matched or the profile expects fewer (default
	// 0.2).
	FewKnownCap float64
	// EmptyConfidence is returned for an empty scan or one of randomised
	// addresses only (default 0.1).
	EmptyConfidence float64
	// NoProfileConfidence is returned when the store has no profile for
	// the terminal, and for a learned profile too young to expect anything
	// (default 0.5: no evidence either way, as DESIGN.md asks of a scorer
	// that cannot judge — fused, it leaves the host's prior unchanged, which
	// PSD2Policy does not approve without PIN at an even prior).
	NoProfileConfidence float64
	// Learn configures NeighborAssessor.Learn.
	Learn LearnConfig
}

// DefaultNeighborConfig returns the defaults explicitly.
func DefaultNeighborConfig() NeighborConfig { return NeighborConfig{}.withDefaults() }

func (c NeighborConfig) withDefaults() NeighborConfig {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	if c.MinExpected == 0 {
		c.MinExpected = 2
	}
	def(&c.FullRecall, 0.8)
	def(&c.MinFrequency, 0.5)
	def(&c.MinObservations, 3)
	def(&c.RSSISigma, 6)
	def(&c.RSSIShift, 10)
	def(&c.RSSIPenalty, 0.6)
	def(&c.UnknownPenalty, 0.5)
	def(&c.UniformPenalty, 0.4)
	def(&c.LocalWeight, 0.25)
	def(&c.StaticRandomWeight, 0.5)
	def(&c.Floor, 0.01)
	def(&c.Ceiling, 0.99)
	def(&c.FewKnownCap, 0.2)
	def(&c.EmptyConfidence, 0.1)
	def(&c.NoProfileConfidence, 0.5)
	c.Learn = c.Learn.withDefaults()
	return c
}

// Validate reports whether c (after defaults) is usable; errors wrap
// ErrConfig.
func (c NeighborConfig) Validate() error {
	if c.MinExpected < 0 {
		return fmt.Errorf("%w: NeighborConfig.MinExpected %d is negative", ErrConfig, c.MinExpected)
	}
	d := c.withDefaults()
	fields := [...]struct {
		name    string
		v, max  float64
		maxIncl bool
	}{
		{"FullRecall", d.FullRecall, 1, true},
		{"MinFrequency", d.MinFrequency, 1, true},
		{"MinObservations", d.MinObservations, 1e9, true},
		{"RSSISigma", d.RSSISigma, 100, true},
		{"RSSIShift", d.RSSIShift, 200, true},
		{"RSSIPenalty", d.RSSIPenalty, 1, true},
		{"UnknownPenalty", d.UnknownPenalty, 1, true},
		{"UniformPenalty", d.UniformPenalty, 1, true},
		{"LocalWeight", d.LocalWeight, 1, true},
		{"StaticRandomWeight", d.StaticRandomWeight, 1, true},
		{"Floor", d.Floor, 1, true},
		{"Ceiling", d.Ceiling, 1, true},
		{"FewKnownCap", d.FewKnownCap, 1, true},
		{"EmptyConfidence", d.EmptyConfidence, 1, true},
		{"NoProfileConfidence", d.NoProfileConfidence, 1, true},
	}
	for _, f := range fields {
		if math.IsNaN(f.v) || f.v < 0 || f.v > f.max {
			return fmt.Errorf("%w: NeighborConfig.%s %v not in [0, %v]", ErrConfig, f.name, f.v, f.max)
		}
	}
	if !(d.Floor > 0 && d.Floor < 0.5 && d.Ceiling > 0.5 && d.Ceiling < 1) {
		return fmt.Errorf("%w: NeighborConfig.Floor %v must be in (0, 0.5) and Ceiling %v in (0.5, 1)", ErrConfig, d.Floor, d.Ceiling)
	}
	return c.Learn.Validate()
}

// NeighborAssessor compares a terminal's radio scan with the neighbourhood
// it has learned (or was preconfigured with) and returns a Signal that the
// scan was taken where the terminal belongs. It implements
// Scorer[NeighborObservation] and is safe for concurrent use. Create it with
// NewNeighborAssessor; the zero NeighborAssessor has no store, and its
// methods return an error wrapping ErrNotInitialized.
//
// The score is not a bare Jaccard index. Each profile neighbour weighs
// frequency × class weight (universal addresses 1, locally administered
// LocalWeight, BLE static random StaticRandomWeight, rotating private 0);
// neighbours with frequency ≥ MinFrequency in a mature profile, and pinned
// ones, are expected. With r the weighted share of expected neighbours seen,
// s the mean RSSI similarity 1/(1 + ½(Δ/σ)²) over matched pairs with RSSI on
// both sides (a Cauchy kernel: heavy-tailed, so one odd reading does not
// dominate), and u the weighted share of seen stable neighbours that the
// profile does not know:
//
//	q = min(1, r/FullRecall) · (1 − RSSIPenalty·(1−s)) · (1 − UnknownPenalty·u) · [UniformPenalty]
//	logit(confidence) = logit(Floor) + q·(logit(Ceiling) − logit(Floor))
//
// capped at FewKnownCap while fewer than MinExpected distinct expected
// devices are matched. A learned profile younger than MinObservations that expects
// nothing yet scores NoProfileConfidence, less UnknownPenalty when the scan
// shares no neighbour with it.
type NeighborAssessor struct {
	store ProfileStore
	cfg   NeighborConfig
}

// NeighborScorer is the former name of NeighborAssessor.
//
// Deprecated: use NeighborAssessor.
type NeighborScorer = NeighborAssessor

var _ Scorer[NeighborObservation] = (*NeighborAssessor)(nil)

// NewNeighborAssessor returns an assessor configured by cfg that reads and
// learns profiles in store. A nil store or an invalid cfg (see
// NeighborConfig.Validate) is an error wrapping ErrConfig. The zero
// NeighborConfig takes every default.
func NewNeighborAssessor(cfg NeighborConfig, store ProfileStore) (*NeighborAssessor, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil ProfileStore", ErrConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &NeighborAssessor{store: store, cfg: cfg.withDefaults()}, nil
}

// NewNeighborScorer is NewNeighborAssessor with its arguments in the
// former order.
//
// Deprecated: use NewNeighborAssessor(cfg, store).
func NewNeighborScorer(store ProfileStore, cfg NeighborConfig) (*NeighborAssessor, error) {
	return NewNeighborAssessor(cfg, store)
}

// ready reports whether s was built by NewNeighborAssessor and ctx is
// usable: errors wrap ErrNotInitialized or ErrNilContext.
func (s *NeighborAssessor) ready(ctx context.Context) error {
	if s == nil || s.store == nil {
		return fmt.Errorf("%w: NeighborAssessor not made by NewNeighborAssessor", ErrNotInitialized)
	}
	if ctx == nil {
		return ErrNilContext
	}
	return nil
}

// Config returns the configuration in use, defaults filled in (the
// defaults for a zero or nil NeighborAssessor).
func (s *NeighborAssessor) Config() NeighborConfig {
	if s == nil || s.store == nil {
		return DefaultNeighborConfig()
	}
	return s.cfg
}

// neighborFlags records which reasons apply to a score.
type neighborFlags uint16

const (
	flagMatch neighborFlags = 1 << iota
	flagNoProfile
	flagEmpty
	flagRandomizedOnly
	flagThinProfile
	flagFewKnown
	flagMissing
	flagUnknown
	flagRSSIShift
	flagRSSIUniform
)

var neighborReasons = [...]Reason{
	{ReasonNeighborsMatch, "scan matches the learned neighbourhood"},
	{ReasonNeighborsNoProfile, "no neighbourhood known for this terminal"},
	{ReasonNeighborsEmpty, "scan reported no neighbours"},
	{ReasonNeighborsRandomizedOnly, "scan holds only randomised or rotating addresses"},
	{ReasonNeighborsThinProfile, "profile expects fewer neighbours than required"},
	{ReasonNeighborsFewKnown, "fewer expected neighbours seen than required"},
	{ReasonNeighborsMissing, "most expected neighbours are missing"},
	{ReasonNeighborsUnknown, "most stable neighbours are unknown here"},
	{ReasonNeighborsRSSIShift, "known neighbours at unusual signal strengths"},
	{ReasonNeighborsRSSIUniform, "known neighbours at implausibly uniform signal strengths"},
}

// NeighborScore is the numeric evidence behind a neighbour Signal.
type NeighborScore struct {
	Confidence float64 // the Signal's Confidence, in [0, 1]
	Scanned    int     // neighbours in the scan
	Randomized int     // of which locally administered or private
	Expected   int     // neighbours the profile expects
	Matched    int     // expected neighbours seen
	// ExpectedDevices and MatchedDevices count the distinct devices among
	// Expected and Matched (see NeighborConfig.MinExpected); the cap
	// applies while either is below MinExpected.
	ExpectedDevices, MatchedDevices int
	Unknown                         int     // stable neighbours seen that the profile lacks
	Recall                          float64 // weighted share of expected neighbours seen
	// UnknownShare is the weighted share of seen stable neighbours the
	// profile lacks.
	UnknownShare float64
	// RSSIPairs counts matched neighbours with RSSI on both sides;
	// RSSISimilarity and RSSIShift (mean |Δ| in dB) are over them.
	RSSIPairs      int
	RSSISimilarity float64
	RSSIShift      float64
	flags          neighborFlags
}

// Reasons returns the reasons for sc, most important first. It allocates
// one slice.
func (sc NeighborScore) Reasons() []Reason {
	n := 0
	for f := sc.flags; f != 0; f &= f - 1 {
		n++
	}
	out := make([]Reason, 0, n)
	// Negative evidence first, the positive match last.
	for i := 1; i < len(neighborReasons); i++ {
		if sc.flags&(1<<i) != 0 {
			out = append(out, neighborReasons[i])
		}
	}
	if sc.flags&flagMatch != 0 {
		out = append(out, neighborReasons[0])
	}
	return out
}

// Has reports whether the score carries the reason code.
func (sc NeighborScore) Has(code string) bool {
	for i, r := range neighborReasons {
		if r.Code == code {
			return sc.flags&(1<<i) != 0
		}
	}
	return false
}

// Score implements Scorer. An empty or all-unknown scan, or a terminal
// without profile, yields a low-confidence Signal with a reason, not an
// error. Errors: a malformed observation (wrapping ErrObservation, or a
// *NeighborError naming the bad identifier), a malformed stored profile
// (ErrProfile), or a store failure (wrapping ErrStore and the store's
// error). Score allocates only the Reasons slice for scans of up to 64
// neighbours.
func (s *NeighborAssessor) Score(ctx context.Context, obs NeighborObservation) (Signal, error) {
	sc, err := s.Evaluate(ctx, obs)
	if err != nil {
		return Signal{}, err
	}
	return Signal{Source: NeighborSource, Confidence: sc.Confidence, Reasons: sc.Reasons()}, nil
}

// Evaluate scores obs like Score but returns the numbers behind the
// signal. It does not allocate for scans of up to 64 neighbours. Its errors
// are those of Score.
func (s *NeighborAssessor) Evaluate(ctx context.Context, obs NeighborObservation) (NeighborScore, error) {
	if err := s.ready(ctx); err != nil {
		return NeighborScore{}, err
	}
	if err := obs.validateHeader(); err != nil {
		return NeighborScore{}, err
	}
	// Hash the scan into a table at most half full as it is parsed: O(scan
	// + profile) matching without sorting. Duplicate reports keep the first
	// reading; rotating private addresses carry no weight and stay out.
	var tbuf [128]slot
	size := 16
	for size < 2*len(obs.Seen) {
		size <<= 1
	}
	var table []slot
	if size <= len(tbuf) {
		table = tbuf[:size]
	} else {
		table = make([]slot, size)
	}
	t := scanTable{slots: table, mask: uint64(size - 1), shift: uint(64 - bits.TrailingZeros(uint(size)))}
	sc := NeighborScore{Scanned: len(obs.Seen)}
	for i := range obs.Seen {
		n, err := obs.Seen[i].parse(i)
		if err != nil {
			return NeighborScore{}, err
		}
		// Rotating private addresses (and classes configured to weigh 0)
		// carry no weight: they are kept in the table only to catch
		// duplicates, and never match.
		ignore := s.classWeight(n.class) == 0
		for h := t.hash(n.key); ; h = (h + 1) & t.mask {
			sl := &t.slots[h]
			if !sl.used {
				*sl = slot{key: n.key, rssi: n.rssi, class: n.class, used: true, ignore: ignore, index: int32(i)}
				if !ignore && n.class != ClassLocal {
					t.stable++
				}
				break
			}
			if sl.key == n.key {
				return NeighborScore{}, duplicateError(&obs.Seen[i], i, int(sl.index))
			}
		}
		if n.class == ClassLocal || n.class == ClassPrivate {
			sc.Randomized++
		}
	}
	var p *Profile
	var err error
	viewer, trusted := s.store.(profileViewer)
	if trusted {
		p, err = viewer.viewProfile(ctx, obs.TerminalID)
	} else {
		p, err = s.store.Profile(ctx, obs.TerminalID)
	}
	switch {
	case errors.Is(err, ErrNoProfile):
		sc.Confidence, sc.flags = s.cfg.NoProfileConfidence, flagNoProfile
		return sc, nil
	case err != nil:
		return NeighborScore{}, fmt.Errorf("%w: terminal %q: %w", ErrStore, truncate(obs.TerminalID, 64), err)
	case p == nil:
		return NeighborScore{}, fmt.Errorf("%w: store returned nil profile for %q", ErrStore, truncate(obs.TerminalID, 64))
	}
	// A host's store may hand back anything: check the invariants the
	// scorer relies on (O(n), no allocation when valid). This package's
	// stores validated the profile when it was stored.
	if !trusted {
		if err := p.Validate(); err != nil {
			return NeighborScore{}, fmt.Errorf("terminal %q: %w", truncate(obs.TerminalID, 64), err)
		}
		if p.TerminalID != obs.TerminalID {
			return NeighborScore{}, fmt.Errorf("%w: store returned the profile of %q for %q", ErrProfile, truncate(p.TerminalID, 64), truncate(obs.TerminalID, 64))
		}
	}
	s.score(&sc, p, &t)
	return sc, nil
}

func (s *NeighborAssessor) classWeight(c AddrClass) float64 {
	switch c {
	case ClassUniversal:
		return 1
	case ClassLocal:
		return s.cfg.LocalWeight
	case ClassStaticRandom:
		return s.cfg.StaticRandomWeight
	}
	return 0
}

// expected returns the weight of profile neighbour n if it is expected in
// every scan, else 0.
func (s *NeighborAssessor) expected(p *Profile, n *ProfileNeighbor) float64 {
	if !n.Pinned && (n.Frequency < s.cfg.MinFrequency || p.Weight < s.cfg.MinObservations) {
		return 0
	}
	return s.classWeight(n.Class) * n.Frequency
}

// slot is one entry of the open-addressing table of scanned neighbours.
type slot struct {
	key     uint64
	rssi    float64
	index   int32 // position in the observation
	class   AddrClass
	used    bool
	matched bool
	ignore  bool // weight 0: never matches, never counts
}

// scanTable is a scan hashed by key (Fibonacci hashing, linear probing).
type scanTable struct {
	slots  []slot
	mask   uint64
	shift  uint
	stable int // distinct stable (not locally administered) neighbours
}

func (t *scanTable) hash(k uint64) uint64 { return (k * 0x9e3779b97f4a7c15) >> t.shift }

func (s *NeighborAssessor) score(sc *NeighborScore, p *Profile, t *scanTable) {
	cfg := &s.cfg
	table, mask := t.slots, t.mask
	// Devices: same-group keys are contiguous in the sorted profile, so
	// remembering the last group counted is enough.
	const noGroup = ^uint64(0)
	lastExp, lastMatch := noGroup, noGroup
	known := 0 // scanned neighbours the profile knows, expected or not
	var expW, matchW, seenW, unknownW float64
	var rssiW, simSum, shiftSum float64
	var obsSum, obsSq, meanSum, meanSq float64
	for j := range p.Neighbors {
		pn := &p.Neighbors[j]
		w := s.expected(p, pn)
		k := pn.key()
		g, device := noGroup, pn.Class == ClassUniversal || pn.Class == ClassStaticRandom
		if device {
			g = k &^ 0xf
		}
		if w > 0 {
			expW += w
			sc.Expected++
			if device && g != lastExp {
				sc.ExpectedDevices++
				lastExp = g
			}
		}
		for h := t.hash(k); table[h].used; h = (h + 1) & mask {
			sl := &table[h]
			if sl.key != k {
				continue
			}
			if sl.ignore {
				break
			}
			sl.matched = true
			if w == 0 {
				break // known but not (yet) expected: neither for nor against
			}
			n := sl
			sc.Matched++
			matchW += w
			if device && g != lastMatch {
				sc.MatchedDevices++
				lastMatch = g
			}
			if n.rssi != 0 && pn.RSSIWeight > 0 {
				delta := n.rssi - pn.MeanRSSI
				z := delta / cfg.RSSISigma
				sc.RSSIPairs++
				rssiW += w
				simSum += w / (1 + 0.5*z*z)
				shiftSum += w * math.Abs(delta)
				obsSum += n.rssi
				obsSq += n.rssi * n.rssi
				meanSum += pn.MeanRSSI
				meanSq += pn.MeanRSSI * pn.MeanRSSI
			}
			break
		}
	}
	for i := range table {
		n := &table[i]
		if !n.used || n.ignore {
			continue
		}
		cw := s.classWeight(n.class)
		switch {
		case n.matched:
			seenW += cw
			known++
		case n.class != ClassLocal:
			// An unknown locally administered address is most likely a
			// passing phone: it says nothing about the place.
			seenW += cw
			unknownW += cw
			sc.Unknown++
		}
	}

	switch {
	case sc.Scanned == 0:
		sc.Confidence, sc.flags = cfg.EmptyConfidence, flagEmpty
		return
	case t.stable == 0 && sc.Matched == 0:
		sc.Confidence, sc.flags = cfg.EmptyConfidence, flagRandomizedOnly
		return
	}
	if expW > 0 {
		sc.Recall = matchW / expW
	}
	if seenW > 0 {
		sc.UnknownShare = unknownW / seenW
	}
	sc.RSSISimilarity = 1
	if rssiW > 0 {
		sc.RSSISimilarity = simSum / rssiW
		sc.RSSIShift = shiftSum / rssiW
	}
	q := min(1, sc.Recall/cfg.FullRecall) * (1 - cfg.RSSIPenalty*(1-sc.RSSISimilarity)) * (1 - cfg.UnknownPenalty*sc.UnknownShare)
	if sc.RSSIPairs >= 3 {
		k := float64(sc.RSSIPairs)
		obsVar := math.Max(0, obsSq/k-(obsSum/k)*(obsSum/k))
		meanVar := math.Max(0, meanSq/k-(meanSum/k)*(meanSum/k))
		// Known strengths spread by at least one sigma, observed ones by
		// less than a quarter of that: one transmitter replaying clones.
		if meanVar >= cfg.RSSISigma*cfg.RSSISigma && obsVar*16 < meanVar {
			q *= cfg.UniformPenalty
			sc.flags |= flagRSSIUniform
		}
	}
	lf := logit(cfg.Floor)
	sc.Confidence = sigmoid(lf + q*(logit(cfg.Ceiling)-lf))
	if sc.Expected == 0 && p.Weight < cfg.MinObservations {
		// A learned profile too young to expect anything cannot vouch for
		// a scan, so it scores like no profile — learning never leaves a
		// genuine terminal worse off than not learning — but it can count
		// against one: a scan sharing no neighbour with it scores lower.
		sc.Confidence, sc.flags = cfg.NoProfileConfidence, flagThinProfile|flagFewKnown
		if known == 0 && sc.Unknown > 0 {
			// Not one neighbour it has seen before: another place.
			sc.Confidence *= 1 - cfg.UnknownPenalty
			sc.flags |= flagUnknown
		}
		return
	}
	capped := false
	if sc.ExpectedDevices < cfg.MinExpected {
		sc.flags |= flagThinProfile
		capped = true
	}
	if sc.MatchedDevices < cfg.MinExpected {
		sc.flags |= flagFewKnown
		capped = true
	}
	if capped && sc.Confidence > cfg.FewKnownCap {
		sc.Confidence = cfg.FewKnownCap
	}
	if sc.Recall < 0.5 && sc.Expected > 0 {
		sc.flags |= flagMissing
	}
	if sc.UnknownShare > 0.5 {
		sc.flags |= flagUnknown
	}
	if sc.RSSIPairs > 0 && sc.RSSIShift > cfg.RSSIShift {
		sc.flags |= flagRSSIShift
	}
	if !capped && sc.Confidence >= 0.5 {
		sc.flags |= flagMatch
	}
}

// Learn folds obs into the terminal's stored profile (creating it on first
// sight) with the configured LearnConfig. Errors wrap ErrObservation /
// *NeighborError for bad input and ErrStore for store failures.
//
// Learn only from scans the host trusts — periodic scans of a terminal known
// to be in place, scans whose Score matched, or scans of payments completed
// with cardholder verification. Learning a relocated or spoofed scan teaches
// the profile the attacker's neighbourhood; exponential decay forgets it
// again only over several half-lives.
func (s *NeighborAssessor) Learn(ctx context.Context, obs NeighborObservation) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if err := obs.validateHeader(); err != nil {
		return err
	}
	var learnErr error
	fn := func(p *Profile) (*Profile, error) {
		next, err := p.Learn(obs, s.cfg.Learn)
		learnErr = err
		return next, err
	}
	var err error
	if u, ok := s.store.(profileUpdater); ok {
		err = u.updateOwned(ctx, obs.TerminalID, fn)
	} else {
		err = s.store.Update(ctx, obs.TerminalID, fn)
	}
	switch {
	case learnErr != nil:
		return learnErr
	case err != nil:
		return fmt.Errorf("%w: terminal %q: %w", ErrStore, truncate(obs.TerminalID, 64), err)
	}
	return nil
}
