package risk

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync"
	"time"
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
	ReasonNeighborsReplayed       = "neighbors.replayed"
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
//	q = min(1, r/FullRecall) · (1 − RSSIPenalty·(1−s)) · (1 − UnknownPenalty·u) · [exp(−(S − RSSIPatternSlack))]
//	logit(confidence) = logit(Floor) + q·(logit(Ceiling) − logit(Floor))
//
// where the last factor applies when the scan's RSSIs fit one transmitter
// at one strength better than the learned pattern by more than
// RSSIPatternSlack (see NeighborConfig), capped at FewKnownCap while fewer
// than MinExpected distinct expected devices (DeviceBlock) are matched —
// devices whose matched strengths all lie within RSSIOneStrength count as
// one, and a neighbour listed without the RSSI its profile learned is not
// matched (NeighborScore.NoRSSI). A
// learned profile younger than MinObservations that expects nothing yet
// scores NoProfileConfidence, less UnknownPenalty when the scan shares no
// neighbour with it. Before scoring, Score checks the observation's
// freshness against Clock and, when configured, its Authenticator; after,
// a scan identical to one of the terminal's recent ones (scored or
// learned) scores Floor (neighbors.replayed).
type NeighborAssessor struct {
	store  ProfileStore
	cfg    NeighborConfig
	replay *replayCache
	// lf and lc are logit(Floor) and logit(Ceiling).
	lf, lc float64
	// tables holds scan tables too large for the stack (*[maxTable]slot),
	// so that Evaluate does not allocate for big scans either.
	tables sync.Pool
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
	cfg = cfg.withDefaults()
	return &NeighborAssessor{store: store, cfg: cfg, replay: newReplayCache(cfg.ReplayWindow, cfg.ReplayTerminals),
		lf: logit(cfg.Floor), lc: logit(cfg.Ceiling)}, nil
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
	flagReplayed
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
	{ReasonNeighborsReplayed, "scan identical to a recent scan of this terminal"},
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
	RSSISimilarity float64 // mean Cauchy similarity, 1 without pairs
	RSSIShift      float64 // mean |Δ| in dB
	// RSSIPattern is S of NeighborConfig.RSSIPatternSlack: how much better
	// (in nats) the scan's RSSIs fit one transmitter at one strength than
	// the learned pattern; 0 with fewer than two RSSI pairs.
	RSSIPattern float64
	// RSSISpread is the standard deviation in dB of the RSSIs of the
	// matched neighbours with a learned strength (0 with fewer than two);
	// within NeighborConfig.RSSIOneStrength they count as one device.
	RSSISpread float64
	// NoRSSI counts expected neighbours that the scan lists without the
	// RSSI their profile learned: they are not counted as matched (every
	// scanner reports strength; a reading left out is a scan assembled by
	// hand, and would escape the strength checks).
	NoRSSI int
	// Replayed reports a scan identical (neighbours and RSSIs) to a recent
	// one of the same terminal; it scores Floor.
	Replayed bool
	flags    neighborFlags
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
// without profile, yields a Signal with a reason, not an error; so does a
// replayed scan (Floor, neighbors.replayed). Errors: a malformed observation
// (wrapping ErrObservation, or a *NeighborError naming the bad identifier),
// one outside NeighborConfig.MaxAge/MaxSkew of the clock (*FreshnessError,
// ErrStale), one the Authenticator refuses (ErrUnauthenticated), a malformed
// stored profile (ErrProfile), a store failure (wrapping ErrStore and the
// store's error), and ErrNotInitialized / ErrNilContext. Score allocates
// only the Reasons slice (one allocation) at every scan size up to MaxScan.
func (s *NeighborAssessor) Score(ctx context.Context, obs NeighborObservation) (Signal, error) {
	sc, err := s.Evaluate(ctx, obs)
	if err != nil {
		return Signal{}, err
	}
	return Signal{Source: NeighborSource, Confidence: sc.Confidence, Reasons: sc.Reasons()}, nil
}

// maxTable is the table size for MaxScan neighbours at most half full.
const maxTable = 2 * MaxScan

// Evaluate scores obs like Score but returns the numbers behind the
// signal; like Score it records a matching scan for replay detection (call
// one of them per payment). It does not allocate. Its errors are those of
// Score.
func (s *NeighborAssessor) Evaluate(ctx context.Context, obs NeighborObservation) (NeighborScore, error) {
	if err := s.ready(ctx); err != nil {
		return NeighborScore{}, err
	}
	if err := obs.validateHeader(); err != nil {
		return NeighborScore{}, err
	}
	if err := s.fresh(obs); err != nil {
		return NeighborScore{}, err
	}
	if err := s.authenticate(ctx, obs); err != nil {
		return NeighborScore{}, err
	}
	// Hash the scan into a table at most half full as it is parsed: O(scan
	// + profile) matching without sorting.
	var tbuf [128]slot
	size := 16
	for size < 2*len(obs.Seen) {
		size <<= 1
	}
	var table []slot
	if size <= len(tbuf) {
		table = tbuf[:size]
	} else {
		big, _ := s.tables.Get().(*[maxTable]slot)
		if big == nil {
			big = new([maxTable]slot)
		}
		defer s.tables.Put(big)
		table = big[:size]
		clear(table)
	}
	t := scanTable{slots: table, mask: uint64(size - 1), shift: uint(64 - bits.TrailingZeros(uint(size)))}
	sc := NeighborScore{Scanned: len(obs.Seen)}
	var fp uint64 // order-independent fingerprint of (neighbour, RSSI)
	for i := range obs.Seen {
		n, err := obs.Seen[i].parse(i)
		if err != nil {
			return NeighborScore{}, err
		}
		fp += fingerprint(n)
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
	s.score(&sc, p, &t, obs.At)
	// Replays matter only where the scan could vouch for the terminal, and
	// only a scan that vouches (a match) is remembered: scans that do not
	// cannot flush the terminal's genuine ones out of the window.
	if sc.flags&(flagEmpty|flagRandomizedOnly) == 0 && s.replay.seen(obs.TerminalID, fp, sc.flags&flagMatch != 0) {
		sc.Replayed = true
		sc.Confidence = s.cfg.Floor
		sc.flags = sc.flags&^flagMatch | flagReplayed
	}
	return sc, nil
}

// fingerprint is one neighbour's share of a scan's order-independent
// fingerprint (the sum over its neighbours): its kind, address and RSSI.
func fingerprint(n seen) uint64 { return mix64(n.key ^ math.Float64bits(n.rssi)*0x9e3779b97f4a7c15) }

// fresh checks obs.At against the clock.
func (s *NeighborAssessor) fresh(obs NeighborObservation) error {
	now := s.cfg.Clock()
	switch {
	case obs.At.Before(now.Add(-s.cfg.MaxAge)):
		return &FreshnessError{TerminalID: truncate(obs.TerminalID, 64), At: obs.At, Now: now, Limit: s.cfg.MaxAge}
	case obs.At.After(now.Add(s.cfg.MaxSkew)):
		return &FreshnessError{TerminalID: truncate(obs.TerminalID, 64), At: obs.At, Now: now, Limit: s.cfg.MaxSkew, Future: true}
	}
	return nil
}

// authenticate runs the configured Authenticator, if any.
func (s *NeighborAssessor) authenticate(ctx context.Context, obs NeighborObservation) error {
	if s.cfg.Authenticator == nil {
		return nil
	}
	if err := s.cfg.Authenticator.AuthenticateScan(ctx, obs); err != nil {
		return fmt.Errorf("%w: terminal %q: %w", ErrUnauthenticated, truncate(obs.TerminalID, 64), err)
	}
	return nil
}

// mix64 is the SplitMix64 finaliser (Steele, Lea and Flood, "Fast
// splittable pseudorandom number generators", OOPSLA 2014).
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
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
// every scan of a profile of (decayed) weight w, else 0.
func (s *NeighborAssessor) expected(w float64, n *ProfileNeighbor) float64 {
	if !n.Pinned && (n.Frequency < s.cfg.MinFrequency || w < s.cfg.MinObservations) {
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

// isDevice reports whether an address of class c counts as a device.
func isDevice(c AddrClass) bool { return c == ClassUniversal || c == ClassStaticRandom }

// deviceValue is the part of an address that places it in a vendor block:
// the low 40 bits (octets 2–6); the first octet, which locally administered
// variants change, is ignored.
func deviceValue(a Addr) uint64 { return uint64(a) & (1<<40 - 1) }

// countDevices returns the least number of DeviceBlock-sized address
// blocks that cover the device values of the profile neighbours selected —
// those marked in matched, or with matched nil those expected at profile
// weight w — counting at most limit (greedy from the lowest uncovered value
// is optimal for covering points with intervals). It makes at most limit
// passes over the profile and does not allocate.
func (s *NeighborAssessor) countDevices(p *Profile, limit int, w float64, matched *[MaxProfileNeighbors / 64]uint64) int {
	block := uint64(s.cfg.DeviceBlock)
	end := uint64(0) // values below end are covered
	n := 0
	for n < limit {
		lo, found := uint64(0), false
		for j := range p.Neighbors {
			pn := &p.Neighbors[j]
			if !isDevice(pn.Class) {
				continue
			}
			if matched != nil {
				if matched[j/64]&(1<<(j%64)) == 0 {
					continue
				}
			} else if s.expected(w, pn) == 0 {
				continue
			}
			if v := deviceValue(pn.Addr); v >= end && (!found || v < lo) {
				lo, found = v, true
			}
		}
		if !found {
			break
		}
		n++
		// The block stays inside the 2-octet prefix of its first value.
		end = blockEnd(lo, block)
	}
	return n
}

// devicesUpTo2 is countDevices for limit ≤ 2 from the lowest and highest
// device value of the set (lo > hi for an empty set): one block covers the
// set exactly when the highest value lies in the lowest value's block.
func (s *NeighborAssessor) devicesUpTo2(lo, hi uint64, limit int) int {
	n := 0
	switch {
	case lo > hi:
	case hi < blockEnd(lo, uint64(s.cfg.DeviceBlock)):
		n = 1
	default:
		n = 2
	}
	return min(n, limit)
}

// blockEnd is the end (exclusive) of the device block starting at lo.
func blockEnd(lo, block uint64) uint64 { return min(lo+block, lo|(1<<24-1)+1) }

func (s *NeighborAssessor) score(sc *NeighborScore, p *Profile, t *scanTable, at time.Time) {
	cfg := &s.cfg
	table, mask := t.slots, t.mask
	// The profile ages to the scan's time: an idle profile loses weight
	// (and with it the right to expect) as if learned with nothing.
	w := p.Weight
	if dt := at.Sub(p.Updated); dt > 0 {
		w *= math.Exp2(-float64(dt) / float64(cfg.Learn.HalfLife))
	}
	// Which profile neighbours were matched, for the device count, and the
	// lowest and highest device values of the expected and matched ones
	// (with MinExpected ≤ 2 they settle the count without another pass).
	var matchedBits [MaxProfileNeighbors / 64]uint64
	expLo, expHi, matLo, matHi := uint64(math.MaxUint64), uint64(0), uint64(math.MaxUint64), uint64(0)
	known := 0 // scanned neighbours the profile knows, expected or not
	var expW, matchW, seenW, unknownW float64
	var rssiW, simSum, shiftSum float64
	// Sums for the RSSI pattern test, weighted by 1/σ².
	var pw, pd, pdd, pr, prr float64
	// Sums of matched RSSIs, and the lowest and highest device values of
	// the neighbours behind them, for the one-strength rule.
	var r0, rs, rss float64 // sums of matched RSSIs about the first
	pairLo, pairHi := uint64(math.MaxUint64), uint64(0)
	floorVar := cfg.RSSISpreadFloor * cfg.RSSISpreadFloor
	for j := range p.Neighbors {
		pn := &p.Neighbors[j]
		ew := s.expected(w, pn)
		k := pn.key()
		dev := isDevice(pn.Class)
		dv := deviceValue(pn.Addr)
		if ew > 0 {
			expW += ew
			sc.Expected++
			if dev {
				expLo, expHi = min(expLo, dv), max(expHi, dv)
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
			if ew == 0 {
				break // known but not (yet) expected: neither for nor against
			}
			if sl.rssi == 0 && pn.RSSIWeight > 0 {
				// Listed without the strength it always had: not a match
				// (see NeighborScore.NoRSSI).
				sc.NoRSSI++
				break
			}
			sc.Matched++
			matchW += ew
			matchedBits[j/64] |= 1 << (j % 64)
			if dev {
				matLo, matHi = min(matLo, dv), max(matHi, dv)
			}
			if sl.rssi != 0 && pn.RSSIWeight > 0 {
				r := sl.rssi
				delta := r - pn.MeanRSSI
				z := delta / cfg.RSSISigma
				sc.RSSIPairs++
				rssiW += ew
				simSum += ew / (1 + 0.5*z*z)
				shiftSum += ew * math.Abs(delta)
				iv := 1 / max(pn.RSSIVar, floorVar)
				pw += iv
				pd += iv * delta
				pdd += iv * delta * delta
				pr += iv * r
				prr += iv * r * r
				if sc.RSSIPairs == 1 {
					r0 = r
				}
				rs += r - r0
				rss += (r - r0) * (r - r0)
				if dev {
					pairLo, pairHi = min(pairLo, dv), max(pairHi, dv)
				}
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
	if sc.RSSIPairs >= 2 {
		// S = ½(SS(d) − SS(r)), each SS the 1/σ²-weighted sum of squares
		// about the weighted mean (see NeighborConfig.RSSIPatternSlack).
		ssd := pdd - pd*pd/pw
		ssr := prr - pr*pr/pw
		sc.RSSIPattern = 0.5 * (ssd - ssr)
		if excess := sc.RSSIPattern - cfg.RSSIPatternSlack; excess > 0 {
			q *= math.Exp(-excess)
			sc.flags |= flagRSSIUniform
		}
	}
	sc.Confidence = sigmoid(s.lf + q*(s.lc-s.lf))
	if sc.Expected == 0 && w < cfg.MinObservations {
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
	if cfg.MinExpected <= 2 {
		sc.ExpectedDevices = s.devicesUpTo2(expLo, expHi, cfg.MinExpected)
		sc.MatchedDevices = s.devicesUpTo2(matLo, matHi, cfg.MinExpected)
	} else {
		sc.ExpectedDevices = s.countDevices(p, cfg.MinExpected, w, nil)
		sc.MatchedDevices = s.countDevices(p, cfg.MinExpected, w, &matchedBits)
	}
	if sc.RSSIPairs >= 2 {
		n := float64(sc.RSSIPairs)
		sc.RSSISpread = math.Sqrt(max(0, rss/n-(rs/n)*(rs/n)))
		// Every matched strength within one transmitter's spread, over two
		// or more devices: clones replayed by one radio look like this.
		if sc.RSSISpread <= cfg.RSSIOneStrength && sc.MatchedDevices > 1 && s.devicesUpTo2(pairLo, pairHi, 2) > 1 {
			sc.MatchedDevices = 1
			sc.flags |= flagRSSIUniform
		}
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
// *NeighborError for bad input, ErrUnauthenticated when the configured
// Authenticator refuses the scan, ErrStore for store failures, and
// ErrNotInitialized / ErrNilContext. Learn does not check freshness or
// replays: it accepts recorded scans in any order (see Profile.Learn). It
// does record each learned scan for replay detection, so a later Score of
// the same neighbours and RSSIs is a replay (neighbors.replayed) whatever
// its time: a captured routine scan, sent again newly dated, cannot pass.
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
	if err := s.authenticate(ctx, obs); err != nil {
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
	// A learned scan is as replayable as a scored one (an attacker who
	// captured a terminal's routine scan sends it again, newly dated): its
	// fingerprint joins the terminal's recent scans.
	var fp uint64
	for i := range obs.Seen {
		n, err := obs.Seen[i].parse(i)
		if err != nil {
			return err // not reached: Profile.Learn parsed the scan
		}
		fp += fingerprint(n)
	}
	s.replay.seen(obs.TerminalID, fp, true)
	return nil
}
