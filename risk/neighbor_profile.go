package risk

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// MaxProfileNeighbors bounds the neighbours of one Profile.
const MaxProfileNeighbors = 4096

// maxRSSIVar bounds ProfileNeighbor.RSSIVar: the variance of readings in
// [MinRSSI, MaxRSSI] cannot exceed (127/2)² dB².
const maxRSSIVar = (MaxRSSI - MinRSSI) * (MaxRSSI - MinRSSI) / 4

// ProfileNeighbor is what a terminal knows about one neighbour. Its fields
// are ordered so that it takes 48 bytes.
type ProfileNeighbor struct {
	// Frequency is the exponentially decayed share of observations in
	// which the neighbour was seen, in [0, 1].
	Frequency float64
	// MeanRSSI is the exponentially decayed mean RSSI in dBm; meaningful
	// only when RSSIWeight > 0.
	MeanRSSI float64
	// RSSIWeight is the decayed number of RSSI samples behind MeanRSSI.
	RSSIWeight float64
	// RSSIVar is the exponentially decayed variance of the RSSI samples
	// about MeanRSSI, in dB² (0 until a second sample, and for a surveyed
	// neighbour); the assessor floors the spread at
	// NeighborConfig.RSSISpreadFloor.
	RSSIVar float64
	Addr    Addr         // the neighbour's MAC address
	Kind    NeighborKind // the radio it was heard on
	Class   AddrClass    // its stability class (see Classify)
	// Pinned marks a neighbour preconfigured by the acquirer: its Frequency
	// stays 1, it is never pruned and counts as expected from the start.
	Pinned bool
}

func (n ProfileNeighbor) key() uint64 { return makeKey(n.Kind, n.Addr) }

// Profile is the learned or preconfigured neighbourhood of one terminal.
// Profiles are values: Learn returns a new Profile and never modifies its
// receiver, so a *Profile obtained from a ProfileStore may be shared between
// goroutines but must not be modified.
type Profile struct {
	// TerminalID is the terminal the profile belongs to (1 to 256 bytes).
	TerminalID string
	// Updated is the time of the newest observation learned.
	Updated time.Time
	// Weight is the exponentially decayed number of observations learned.
	Weight float64
	// Neighbors is sorted by (Kind, Addr) without duplicates; build
	// profiles with NewProfile or Learn to keep it so.
	Neighbors []ProfileNeighbor
}

// Clone returns a deep copy of p (nil for nil), which the caller may
// modify freely.
func (p *Profile) Clone() *Profile {
	if p == nil {
		return nil
	}
	c := *p
	c.Neighbors = slices.Clone(p.Neighbors)
	return &c
}

// NewProfile validates and returns a profile holding a sorted copy of
// neighbors. Errors wrap ErrProfile.
func NewProfile(terminalID string, updated time.Time, weight float64, neighbors []ProfileNeighbor) (*Profile, error) {
	p := &Profile{TerminalID: terminalID, Updated: updated, Weight: weight, Neighbors: slices.Clone(neighbors)}
	slices.SortFunc(p.Neighbors, func(a, b ProfileNeighbor) int { return cmp.Compare(a.key(), b.key()) })
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// PreconfiguredProfile builds the profile an acquirer knows from a site
// survey: every neighbour Pinned, with its RSSI (when given) as the mean.
// A neighbour listed twice is kept once: the first listing wins. A
// malformed identifier, kind or RSSI, or an invalid terminal ID, time or
// neighbour count (as NeighborObservation.Validate), is an error wrapping
// ErrProfile.
func PreconfiguredProfile(terminalID string, at time.Time, neighbors []Neighbor) (*Profile, error) {
	obs := NeighborObservation{TerminalID: terminalID, At: at, Seen: neighbors}
	if err := obs.validateHeader(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProfile, err)
	}
	out := make([]ProfileNeighbor, 0, len(neighbors))
	for i := range neighbors {
		s, err := neighbors[i].parse(i)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrProfile, err)
		}
		pn := ProfileNeighbor{Addr: Addr(s.key & addrMask), Kind: neighbors[i].Kind, Class: s.class, Frequency: 1, Pinned: true}
		if s.rssi != 0 {
			pn.MeanRSSI, pn.RSSIWeight = s.rssi, 1
		}
		out = append(out, pn)
	}
	// Stable, so that of duplicate listings the first one given is kept.
	slices.SortStableFunc(out, func(a, b ProfileNeighbor) int { return cmp.Compare(a.key(), b.key()) })
	out = slices.CompactFunc(out, func(a, b ProfileNeighbor) bool { return a.key() == b.key() })
	return NewProfile(terminalID, at, 0, out)
}

// Validate checks the invariants of p. Errors wrap ErrProfile.
func (p *Profile) Validate() error {
	if p == nil {
		return fmt.Errorf("%w: nil", ErrProfile)
	}
	if p.TerminalID == "" || len(p.TerminalID) > 256 {
		return fmt.Errorf("%w: terminal ID empty or longer than 256 bytes", ErrProfile)
	}
	if math.IsNaN(p.Weight) || math.IsInf(p.Weight, 0) || p.Weight < 0 {
		return fmt.Errorf("%w: weight %v", ErrProfile, p.Weight)
	}
	if len(p.Neighbors) > MaxProfileNeighbors {
		return fmt.Errorf("%w: %d neighbours exceeds %d", ErrProfile, len(p.Neighbors), MaxProfileNeighbors)
	}
	if p.neighborsValid() {
		return nil
	}
	var prev uint64
	for i, n := range p.Neighbors {
		bad := func(what string, v any) error {
			return fmt.Errorf("%w: neighbour %d (%s %v): %s %v", ErrProfile, i, n.Kind, n.Addr, what, v)
		}
		switch {
		case n.Kind < KindWiFi || n.Kind > KindBLE:
			return bad("kind", n.Kind)
		case n.Addr == 0 || n.Addr > addrMask:
			return bad("address", uint64(n.Addr))
		case n.Class > ClassPrivate:
			return bad("class", n.Class)
		case math.IsNaN(n.Frequency) || n.Frequency < 0 || n.Frequency > 1:
			return bad("frequency", n.Frequency)
		case math.IsNaN(n.RSSIWeight) || math.IsInf(n.RSSIWeight, 0) || n.RSSIWeight < 0:
			return bad("RSSI weight", n.RSSIWeight)
		case n.RSSIWeight > 0 && (math.IsNaN(n.MeanRSSI) || n.MeanRSSI < MinRSSI || n.MeanRSSI > MaxRSSI):
			return bad("mean RSSI", n.MeanRSSI)
		case !(n.RSSIVar >= 0 && n.RSSIVar <= maxRSSIVar):
			return bad("RSSI variance", n.RSSIVar)
		case i > 0 && n.key() <= prev:
			return bad("order (must be sorted by kind and address, no duplicates)", "")
		}
		prev = n.key()
	}
	return nil
}

// neighborsValid is the fast path of Validate: the same checks on
// Neighbors, without building an error.
func (p *Profile) neighborsValid() bool {
	var prev uint64
	for i := range p.Neighbors {
		n := &p.Neighbors[i]
		k := n.key()
		ok := n.Kind >= KindWiFi && n.Kind <= KindBLE &&
			n.Addr != 0 && n.Addr <= addrMask &&
			n.Class <= ClassPrivate &&
			n.Frequency >= 0 && n.Frequency <= 1 && // false for NaN
			n.RSSIWeight >= 0 && n.RSSIWeight <= math.MaxFloat64 &&
			(n.RSSIWeight == 0 || (n.MeanRSSI >= MinRSSI && n.MeanRSSI <= MaxRSSI)) &&
			n.RSSIVar >= 0 && n.RSSIVar <= maxRSSIVar &&
			(i == 0 || k > prev)
		if !ok {
			return false
		}
		prev = k
	}
	return true
}

// LearnConfig tunes how observations update a profile. The zero value
// selects the defaults shown (DefaultLearnConfig spells them out).
type LearnConfig struct {
	// HalfLife is the time after which an observation's influence halves
	// (default 7 days). Frequencies and mean RSSI decay with it.
	HalfLife time.Duration
	// MinSightings drops unpinned neighbours whose decayed number of
	// sightings, Frequency × Profile.Weight, falls below it (default 0.5:
	// a neighbour seen once is forgotten about one half-life later). It is
	// a count, not a frequency, so that a newly installed access point is
	// kept from its first sighting however mature the profile is.
	MinSightings float64
	// MaxNeighbors bounds the profile; the least frequent unpinned
	// neighbours go first (default 256, at most MaxProfileNeighbors).
	// Pinned neighbours are kept even beyond it.
	MaxNeighbors int
}

// Validate reports whether c is usable; errors wrap ErrConfig.
func (c LearnConfig) Validate() error {
	if c.HalfLife < 0 {
		return fmt.Errorf("%w: LearnConfig.HalfLife %v is negative", ErrConfig, c.HalfLife)
	}
	if math.IsNaN(c.MinSightings) || c.MinSightings < 0 || c.MinSightings > 1 {
		return fmt.Errorf("%w: LearnConfig.MinSightings %v not in [0, 1]", ErrConfig, c.MinSightings)
	}
	if c.MaxNeighbors < 0 || c.MaxNeighbors > MaxProfileNeighbors {
		return fmt.Errorf("%w: LearnConfig.MaxNeighbors %d not in [0, %d]", ErrConfig, c.MaxNeighbors, MaxProfileNeighbors)
	}
	return nil
}

// DefaultLearnConfig returns the defaults the zero LearnConfig selects.
func DefaultLearnConfig() LearnConfig { return LearnConfig{}.withDefaults() }

func (c LearnConfig) withDefaults() LearnConfig {
	if c.HalfLife == 0 {
		c.HalfLife = 7 * 24 * time.Hour
	}
	if c.MinSightings == 0 {
		c.MinSightings = 0.5
	}
	if c.MaxNeighbors == 0 {
		c.MaxNeighbors = 256
	}
	return c
}

// Learn returns a new profile that also reflects obs; p may be nil for a
// terminal seen for the first time. With d = 2^(−Δt/HalfLife) for the time
// Δt since p.Updated, the decayed observation count becomes W' = d·W + 1,
// each neighbour's frequency f' = (d·W·f + seen)/W', and its mean and
// variance of RSSI the d-weighted running mean and variance (West's
// weighted update). An observation older than p.Updated (Δt < 0) does not
// decay the profile but counts only e = 2^(Δt/HalfLife) in place of 1, as
// if it had been learned in order, so late or replayed scans cannot
// outweigh fresh ones. The result's Neighbors slice has no spare capacity
// to speak of (a stored profile costs what it holds). p is validated
// (errors wrap ErrProfile) and not modified. Observations repeating a
// neighbour are refused (*NeighborError wrapping ErrDuplicateNeighbor).
//
// Volatile identifiers are not added: rotating Bluetooth private addresses
// never, and a locally administered address only when it looks like a
// secondary BSSID of a universal address in the same scan (same kind, and
// either the same low 40 bits or the same bits apart from the U/L bit and
// the last nibble — how multi-SSID access points commonly derive them);
// other locally administered addresses are randomised phones. Neighbours
// already in the profile (learned or pinned) are updated whatever their
// class, except rotating private addresses, which a scan never matches
// (a pinned one keeps Frequency 1 and its surveyed RSSI).
func (p *Profile) Learn(obs NeighborObservation, cfg LearnConfig) (*Profile, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := obs.validateHeader(); err != nil {
		return nil, err
	}
	if p != nil {
		// p may come from a host's store: the merge below relies on its
		// invariants (sorted, no duplicates, values in range).
		if err := p.Validate(); err != nil {
			return nil, err
		}
		if p.TerminalID != obs.TerminalID {
			return nil, fmt.Errorf("%w: observation of terminal %q applied to profile of %q", ErrObservation, obs.TerminalID, p.TerminalID)
		}
	}
	scan := make([]seen, 0, len(obs.Seen))
	for i := range obs.Seen {
		s, err := obs.Seen[i].parse(i)
		if err != nil {
			return nil, err
		}
		s.index = int32(i)
		scan = append(scan, s)
	}
	slices.SortFunc(scan, func(a, b seen) int { return cmp.Compare(a.key, b.key) })
	for i := 1; i < len(scan); i++ {
		if scan[i].key == scan[i-1].key {
			a, b := int(scan[i-1].index), int(scan[i].index)
			return nil, duplicateError(&obs.Seen[max(a, b)], max(a, b), min(a, b))
		}
	}
	// Rotating private addresses are never learned.
	scan = slices.DeleteFunc(scan, func(s seen) bool { return s.class == ClassPrivate })
	derived := derivedBSSIDs(scan)

	var old []ProfileNeighbor
	var weight float64
	updated := obs.At
	// d decays the profile to the newer of the two times; e is the weight of
	// the observation at that time (1 unless it arrives late).
	d, e := 1.0, 1.0
	if p != nil {
		old, weight = p.Neighbors, p.Weight
		if dt := obs.At.Sub(p.Updated); dt > 0 {
			d = math.Exp2(-float64(dt) / float64(cfg.HalfLife))
		} else {
			updated = p.Updated
			e = math.Exp2(float64(dt) / float64(cfg.HalfLife))
		}
	}
	w := d*weight + e
	out := make([]ProfileNeighbor, 0, len(old)+len(scan))
	step := func(n ProfileNeighbor, rssi float64, wasSeen bool) {
		x := 0.0
		if wasSeen {
			x = e
		}
		if n.Pinned {
			n.Frequency = 1
		} else {
			n.Frequency = math.Min(1, (d*weight*n.Frequency+x)/w)
		}
		n.RSSIWeight *= d
		if wasSeen && rssi != 0 && e > 0 {
			// Weighted incremental mean and variance (West 1979): decay
			// leaves the variance, a sample of weight e moves both.
			wn := n.RSSIWeight + e
			delta := rssi - n.MeanRSSI
			mean := n.MeanRSSI + e*delta/wn
			if n.RSSIWeight > 0 {
				n.RSSIVar = min(maxRSSIVar, (n.RSSIVar*n.RSSIWeight+e*delta*(rssi-mean))/wn)
			}
			n.MeanRSSI, n.RSSIWeight = mean, wn
		}
		if n.Pinned || n.Frequency*w >= cfg.MinSightings {
			out = append(out, n)
		}
	}
	i, j := 0, 0
	for i < len(old) || j < len(scan) {
		switch {
		case j == len(scan) || (i < len(old) && old[i].key() < scan[j].key):
			step(old[i], 0, false)
			i++
		case i == len(old) || scan[j].key < old[i].key():
			k := scan[j].key
			if scan[j].class != ClassLocal || derived(k) {
				step(ProfileNeighbor{Addr: Addr(k & addrMask), Kind: NeighborKind(k >> 48), Class: scan[j].class}, scan[j].rssi, true)
			}
			j++
		default:
			n := old[i]
			n.Class = scan[j].class
			step(n, scan[j].rssi, true)
			i++
			j++
		}
	}
	// Pinned neighbours are never pruned, even beyond MaxNeighbors (there
	// are at most MaxProfileNeighbors of them: p was validated and new
	// neighbours are never pinned).
	limit := cfg.MaxNeighbors
	if len(out) > limit {
		pinned := 0
		for i := range out {
			if out[i].Pinned {
				pinned++
			}
		}
		limit = max(limit, pinned)
	}
	if len(out) > limit {
		slices.SortFunc(out, func(a, b ProfileNeighbor) int {
			if a.Pinned != b.Pinned {
				if a.Pinned {
					return -1
				}
				return 1
			}
			return cmp.Compare(b.Frequency, a.Frequency)
		})
		out = out[:limit]
		slices.SortStableFunc(out, func(a, b ProfileNeighbor) int { return cmp.Compare(a.key(), b.key()) })
	}
	// out was sized for the worst case (old and scan disjoint); a stored
	// profile keeps exactly what it holds.
	if cap(out)-len(out) > len(out)/8 {
		out = append(make([]ProfileNeighbor, 0, len(out)), out...)
	}
	return &Profile{TerminalID: obs.TerminalID, Updated: updated, Weight: w, Neighbors: out}, nil
}

// derivedBSSIDs returns a predicate telling whether the locally administered
// key k looks derived from a universal address of the same kind in scan,
// which must be sorted by key.
func derivedBSSIDs(scan []seen) func(k uint64) bool {
	const (
		low40  = 1<<40 - 1
		ulBit  = 0x02 << 40
		nibble = 0xf
	)
	var universal []uint64
	for _, s := range scan {
		if s.class == ClassUniversal {
			universal = append(universal, s.key)
		}
	}
	return func(k uint64) bool {
		kind := k >> 48
		for _, u := range universal {
			if u>>48 != kind {
				continue
			}
			if u&low40 == k&low40 || (u^k)&^(ulBit|nibble) == 0 {
				return true
			}
		}
		return false
	}
}
