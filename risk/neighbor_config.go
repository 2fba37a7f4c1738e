package risk

import (
	"context"
	"fmt"
	"math"
	"time"
)

// NeighborConfig tunes the neighbour assessor. The zero value selects the
// defaults shown (DefaultNeighborConfig spells them out); every numeric
// field must be non-negative.
type NeighborConfig struct {
	// MinExpected is how many distinct expected devices must be matched
	// before the scan is trusted (default 2, so that cloning every
	// identifier of one device cannot pass). Below it the confidence is
	// capped at FewKnownCap. Universal addresses and BLE static random
	// addresses count; locally administered ones (secondary BSSIDs,
	// randomised clients) never add a device. How identifiers are grouped
	// into devices is DeviceBlock's rule.
	MinExpected int
	// DeviceBlock is the size of the address block one physical device is
	// assumed to draw its identifiers from (default 256, at most 2^24).
	// Vendors allocate a device's addresses from one block of their OUI
	// across radios: the BSSIDs of a multi-SSID, dual- or tri-band access
	// point (base, base+1 …, base+0x10, base+0x20, or other offsets
	// anywhere in the low byte, such as base+0x40 or base+0x80), the WiFi
	// and Bluetooth
	// addresses of a combo chip (consecutive, a carry may cross a nibble or
	// an octet), and locally administered variants whose first octet
	// differs. So two identifiers, of any radio, may be one device when
	// their second and third octets are equal and their last three octets
	// differ by less than DeviceBlock; the first octet is ignored. The
	// device count is the least number of such blocks that covers the
	// identifiers (greedy from the lowest, which is optimal), so cloning
	// every identifier of any one device counts as one device. The rule can
	// merge two real devices from one batch (consecutive units of one
	// vendor, a few hundred addresses apart) — that makes a genuine match
	// harder, never an attack easier; a shop whose only devices are such a
	// batch steps up to the PIN. A block of 64 missed devices with
	// identifiers further apart in the low byte: cloning one counted as
	// two devices. Counting stops at MinExpected: that is all the cap
	// needs.
	DeviceBlock int
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
	// neighbour with it. The count decays from the profile's last update to
	// the scan's time, so an idle profile ages when scored. It settles at
	// 1/(1 − 2^(−Δ/HalfLife)) for scans every Δ, so a terminal must be
	// scanned (learned) at least every 0.58 half-lives to reach 3: scan
	// idle terminals periodically, or lower MinObservations or lengthen
	// Learn.HalfLife.
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
	// RSSISpreadFloor is the least RSSI standard deviation in dB assumed
	// for a neighbour (default 4 dB, at most 50): a profile learns each
	// neighbour's spread (ProfileNeighbor.RSSIVar) but few samples, or a
	// site survey, understate it.
	RSSISpreadFloor float64
	// RSSIPatternSlack is how much better, in nats of log-likelihood, a
	// scan's RSSIs must fit "one transmitter at one strength" than "the
	// learned pattern of strengths" before the scan is penalised (default
	// 2). With rᵢ the scan's RSSIs, μᵢ and σᵢ the learned means and
	// spreads (σᵢ ≥ RSSISpreadFloor) of the k ≥ 2 matched neighbours with
	// RSSI, dᵢ = rᵢ − μᵢ, and SS(x) = Σ ((xᵢ − x̄)/σᵢ)² with x̄ the
	// 1/σᵢ²-weighted mean (a common gain offset is free in both models),
	//
	//	S = ½ (SS(d) − SS(r))
	//
	// and q is multiplied by exp(−(S − RSSIPatternSlack)) when S exceeds it
	// (reason neighbors.rssi_uniform). Clones replayed by one radio arrive
	// at one strength whatever their learned spread, so S grows with the
	// spread of the learned means and with the number of clones: two
	// devices learned 20 dB apart and cloned at one strength give S ≈ 6 at
	// the default 4 dB spread. A genuine scan exceeds the default slack
	// with probability below 2.5 % for any profile (S − slack is then small).
	RSSIPatternSlack float64
	// RSSIOneStrength is the standard deviation in dB within which the
	// RSSIs of the matched neighbours count as one transmitter (default
	// 1.5 dB, at most 20): when the readings of every matched neighbour
	// with a learned strength spread no more than that and they belong to
	// two or more devices, they count as one device (so FewKnownCap
	// applies; reason neighbors.rssi_uniform). Clones replayed by one radio
	// arrive at one strength, give or take the radio's jitter, whatever
	// the devices' learned strengths — and the likelihood test of
	// RSSIPatternSlack cannot tell them from a genuine scan when those lie
	// within a few dB of each other. A genuine scan meets it only when all
	// its matched devices read within a few dB of each other. With 4 dB of
	// noise per reading, a shop whose only two devices were learned at one
	// strength (the worst case) meets it in 40 % of scans, 10 dB apart in
	// 10 %, 20 dB apart in 0.1 %; three devices at one strength in 19 %,
	// 5 dB apart in 5 %. Such a payment steps up to the PIN: the price of
	// finding clones at one strength suspicious from two devices up.
	RSSIOneStrength float64
	// UnknownPenalty is the share of confidence that a scan full of unknown
	// stable neighbours can remove (default 0.5, at most 1).
	UnknownPenalty float64
	// UniformPenalty is no longer used: the uniform-strength check is the
	// likelihood test of RSSIPatternSlack. It is still validated (at most
	// 1) so that existing configurations stay valid.
	//
	// Deprecated: see RSSIPatternSlack.
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
	// (0, 0.5), Ceiling in (0.5, 1). A replayed scan scores Floor.
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

	// Clock returns the current time for the freshness check of Score
	// (default time.Now). Inject a fixed or simulated clock in tests and
	// replays of recorded traffic.
	Clock func() time.Time
	// MaxAge is how old a scored observation may be against Clock
	// (default 5 minutes); MaxSkew how far in the future its time may be
	// (default 1 minute). Outside that Score and Evaluate return a
	// *FreshnessError (wrapping ErrStale). Learn does not check freshness:
	// a host may learn from recorded scans.
	MaxAge, MaxSkew time.Duration
	// ReplayWindow is how many recent scan fingerprints the assessor keeps
	// per terminal (default 16, at most 1024): of scans learned, and of
	// scans scored as a match — a scan that does not vouch for the
	// terminal is not kept, so junk cannot flush genuine scans out of the
	// window. A scan whose neighbours and RSSIs are identical to one of
	// them is not a fresh scan, whatever its time, and scores Floor with
	// reason neighbors.replayed. ReplayTerminals bounds the terminals
	// tracked (default 65 536, at most 2^24; the oldest-tracked terminal is
	// forgotten first), so the cache holds at most about ReplayTerminals ×
	// (8·ReplayWindow + 100) bytes. The cache lives in the assessor: hosts
	// running several instances route a terminal to one instance or also
	// check replays in their own store. It catches identical resubmissions
	// only; a scan altered in any reading is new to it — terminals that can
	// be impersonated need the Authenticator.
	ReplayWindow, ReplayTerminals int
	// Authenticator, when set, must accept every observation before Score
	// or Evaluate look at it (for terminals that sign their scans: see
	// NeighborObservation.Signature and SigningBytes); its error is
	// returned wrapped with ErrUnauthenticated. Learn calls it too.
	Authenticator ScanAuthenticator

	// Learn configures NeighborAssessor.Learn.
	Learn LearnConfig
}

// ScanAuthenticator checks that an observation comes from the terminal it
// names, for example by verifying an HMAC or signature over
// obs.SigningBytes() carried in obs.Signature. Implementations must be safe
// for concurrent use and compare MACs in constant time (crypto/hmac.Equal).
type ScanAuthenticator interface {
	AuthenticateScan(ctx context.Context, obs NeighborObservation) error
}

// ScanAuthenticatorFunc adapts a function to ScanAuthenticator.
type ScanAuthenticatorFunc func(ctx context.Context, obs NeighborObservation) error

// AuthenticateScan calls f(ctx, obs); a nil f returns an error wrapping
// ErrNotInitialized.
func (f ScanAuthenticatorFunc) AuthenticateScan(ctx context.Context, obs NeighborObservation) error {
	if f == nil {
		return fmt.Errorf("%w: nil ScanAuthenticatorFunc", ErrNotInitialized)
	}
	return f(ctx, obs)
}

// DefaultNeighborConfig returns the defaults the zero NeighborConfig
// selects (Clock is time.Now, Authenticator nil).
func DefaultNeighborConfig() NeighborConfig { return NeighborConfig{}.withDefaults() }

func (c NeighborConfig) withDefaults() NeighborConfig {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defInt(&c.MinExpected, 2)
	defInt(&c.DeviceBlock, 256)
	def(&c.FullRecall, 0.8)
	def(&c.MinFrequency, 0.5)
	def(&c.MinObservations, 3)
	def(&c.RSSISigma, 6)
	def(&c.RSSIShift, 10)
	def(&c.RSSIPenalty, 0.6)
	def(&c.RSSISpreadFloor, 4)
	def(&c.RSSIPatternSlack, 2)
	def(&c.RSSIOneStrength, 1.5)
	def(&c.UnknownPenalty, 0.5)
	def(&c.UniformPenalty, 0.4)
	def(&c.LocalWeight, 0.25)
	def(&c.StaticRandomWeight, 0.5)
	def(&c.Floor, 0.01)
	def(&c.Ceiling, 0.99)
	def(&c.FewKnownCap, 0.2)
	def(&c.EmptyConfidence, 0.1)
	def(&c.NoProfileConfidence, 0.5)
	if c.Clock == nil {
		c.Clock = time.Now
	}
	defDur(&c.MaxAge, 5*time.Minute)
	defDur(&c.MaxSkew, time.Minute)
	defInt(&c.ReplayWindow, 16)
	defInt(&c.ReplayTerminals, 1<<16)
	c.Learn = c.Learn.withDefaults()
	return c
}

// Validate reports whether c (after defaults) is usable; errors wrap
// ErrConfig.
func (c NeighborConfig) Validate() error {
	ints := [...]struct {
		name   string
		v, max int
	}{
		{"MinExpected", c.MinExpected, 1 << 12},
		{"DeviceBlock", c.DeviceBlock, 1 << 24},
		{"ReplayWindow", c.ReplayWindow, 1024},
		{"ReplayTerminals", c.ReplayTerminals, 1 << 24},
	}
	for _, f := range ints {
		if f.v < 0 || f.v > f.max {
			return fmt.Errorf("%w: NeighborConfig.%s %d not in [0, %d]", ErrConfig, f.name, f.v, f.max)
		}
	}
	if c.MaxAge < 0 || c.MaxSkew < 0 {
		return fmt.Errorf("%w: NeighborConfig.MaxAge %v and MaxSkew %v must not be negative", ErrConfig, c.MaxAge, c.MaxSkew)
	}
	d := c.withDefaults()
	fields := [...]struct {
		name   string
		v, max float64
	}{
		{"FullRecall", d.FullRecall, 1},
		{"MinFrequency", d.MinFrequency, 1},
		{"MinObservations", d.MinObservations, 1e9},
		{"RSSISigma", d.RSSISigma, 100},
		{"RSSIShift", d.RSSIShift, 200},
		{"RSSIPenalty", d.RSSIPenalty, 1},
		{"RSSISpreadFloor", d.RSSISpreadFloor, 50},
		{"RSSIPatternSlack", d.RSSIPatternSlack, 1e6},
		{"RSSIOneStrength", d.RSSIOneStrength, 20},
		{"UnknownPenalty", d.UnknownPenalty, 1},
		{"UniformPenalty", d.UniformPenalty, 1},
		{"LocalWeight", d.LocalWeight, 1},
		{"StaticRandomWeight", d.StaticRandomWeight, 1},
		{"Floor", d.Floor, 1},
		{"Ceiling", d.Ceiling, 1},
		{"FewKnownCap", d.FewKnownCap, 1},
		{"EmptyConfidence", d.EmptyConfidence, 1},
		{"NoProfileConfidence", d.NoProfileConfidence, 1},
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
