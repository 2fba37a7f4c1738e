package geo

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync"
	"time"

	"github.com/payedge/payedge/risk"
)

// Reason codes of the geo risk.Signal.
const (
	ReasonMoved   = "geo.moved"   // N of the last M fixes lie wholly outside the site
	ReasonOutside = "geo.outside" // this fix lies outside, hysteresis not yet met
	ReasonAtSite  = "geo.at_site" // the fix's 95 % circle lies within the site
	ReasonNear    = "geo.near"    // consistent with the site, but the fix is coarse
	ReasonUnknown = "geo.unknown" // no usable fix (cells unknown or not reported)
	ReasonArea    = "geo.area"    // the fix came from the location-area fallback
)

// SignalSource is the Source of every geo risk.Signal.
const SignalSource = "geo"

// Errors of the machine-moving monitor.
var (
	// ErrSiteNotFound is returned by a SiteStore for an unknown merchant.
	ErrSiteNotFound = errors.New("geo: merchant site not found")
	// ErrInvalidSite reports a site with an invalid location or radius.
	ErrInvalidSite = errors.New("geo: invalid site")
	// ErrInvalidReport reports a Report without terminal, merchant or time.
	ErrInvalidReport = errors.New("geo: invalid report")
)

// MaxIDBytes bounds terminal and merchant identifiers.
const MaxIDBytes = 256

// Site is where a merchant's terminals are allowed to be: a registered
// location and an allowed radius in metres.
type Site struct {
	Location LatLng
	RadiusM  float64
}

// Validate checks the location and that the radius is finite and ≥ 0.
func (s Site) Validate() error {
	if err := s.Location.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSite, err)
	}
	if !(s.RadiusM >= 0) || math.IsInf(s.RadiusM, 0) {
		return fmt.Errorf("%w: radius %v", ErrInvalidSite, s.RadiusM)
	}
	return nil
}

// SiteStore maps a merchant to its registered site. Site returns an error
// wrapping ErrSiteNotFound for an unknown merchant. Implementations must be
// safe for concurrent use.
type SiteStore interface {
	Site(ctx context.Context, merchantID string) (Site, error)
}

// MemorySiteStore is an in-memory SiteStore, safe for concurrent use.
type MemorySiteStore struct {
	mu    sync.RWMutex
	sites map[string]Site
}

var _ SiteStore = (*MemorySiteStore)(nil)

// NewMemorySiteStore returns an empty store.
func NewMemorySiteStore() *MemorySiteStore {
	return &MemorySiteStore{sites: make(map[string]Site)}
}

// Put registers or replaces a merchant's site.
func (s *MemorySiteStore) Put(merchantID string, site Site) error {
	if merchantID == "" || len(merchantID) > MaxIDBytes {
		return fmt.Errorf("%w: merchant id length %d", ErrInvalidSite, len(merchantID))
	}
	if err := site.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	s.sites[merchantID] = site
	s.mu.Unlock()
	return nil
}

// Delete removes a merchant's site.
func (s *MemorySiteStore) Delete(merchantID string) {
	s.mu.Lock()
	delete(s.sites, merchantID)
	s.mu.Unlock()
}

// Site implements SiteStore.
func (s *MemorySiteStore) Site(ctx context.Context, merchantID string) (Site, error) {
	if err := ctx.Err(); err != nil {
		return Site{}, err
	}
	s.mu.RLock()
	site, ok := s.sites[merchantID]
	s.mu.RUnlock()
	if !ok {
		return Site{}, fmt.Errorf("%w: %q", ErrSiteNotFound, merchantID)
	}
	return site, nil
}

// Report is what a terminal uploads with a transaction.
type Report struct {
	TerminalID string
	MerchantID string
	At         time.Time
	Cells      []CellObservation
}

// Status is the monitor's conclusion about a terminal.
type Status uint8

// Statuses. The zero value is StatusUnknown.
const (
	StatusUnknown  Status = iota // no usable fix
	StatusNotMoved               // the fix is consistent with the site
	StatusSuspect                // this fix is outside, but fewer than N of M
	StatusMoved                  // at least N of the last M fixes are outside
)

var statusNames = [...]string{"unknown", "not-moved", "suspect", "moved"}

// String returns "unknown", "not-moved", "suspect" or "moved".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Verdict is the result of Monitor.Check.
type Verdict struct {
	Status     Status
	TerminalID string
	MerchantID string
	// Position is the located fix (zero when Status is StatusUnknown).
	Position Position
	Site     Site
	// DistanceM is the ellipsoidal distance from the fix to the site.
	DistanceM float64
	// AccuracyM is the fix's 95 % radius.
	AccuracyM float64
	// MarginM = DistanceM − AccuracyM − Site.RadiusM: by how much the fix's
	// 95 % circle clears the allowed circle. Outside is MarginM > threshold.
	MarginM float64
	Outside bool
	// OutsideCount of the last WindowCount located reports were outside.
	OutsideCount, WindowCount int
	// Detail says why the status is unknown, if it is.
	Detail string
}

// Signal converts v into a risk.Signal with Source "geo". The confidences
// are fixed operating points, not fitted probabilities: moved 0.05,
// suspect 0.35, unknown 0.5, coarse-but-consistent 0.8, at site 0.95
// (multiply by your own calibration if you have labelled data).
func (v Verdict) Signal() risk.Signal {
	s := risk.Signal{Source: SignalSource}
	km := func(m float64) float64 { return m / 1000 }
	switch v.Status {
	case StatusMoved:
		s.Confidence = 0.05
		s.Reasons = append(s.Reasons, risk.Reason{Code: ReasonMoved, Detail: fmt.Sprintf(
			"terminal %.1f km from the registered site (fix ±%.1f km, allowed %.1f km); %d of last %d fixes outside",
			km(v.DistanceM), km(v.AccuracyM), km(v.Site.RadiusM), v.OutsideCount, v.WindowCount)})
	case StatusSuspect:
		s.Confidence = 0.35
		s.Reasons = append(s.Reasons, risk.Reason{Code: ReasonOutside, Detail: fmt.Sprintf(
			"fix %.1f km from the site clears the allowed circle by %.1f km; %d of last %d fixes outside",
			km(v.DistanceM), km(v.MarginM), v.OutsideCount, v.WindowCount)})
	case StatusNotMoved:
		if v.DistanceM+v.AccuracyM <= v.Site.RadiusM {
			s.Confidence = 0.95
			s.Reasons = append(s.Reasons, risk.Reason{Code: ReasonAtSite, Detail: fmt.Sprintf(
				"fix within the allowed %.1f km of the site", km(v.Site.RadiusM))})
		} else {
			s.Confidence = 0.8
			s.Reasons = append(s.Reasons, risk.Reason{Code: ReasonNear, Detail: fmt.Sprintf(
				"fix %.1f km from the site is consistent with it (±%.1f km)", km(v.DistanceM), km(v.AccuracyM))})
		}
	default:
		s.Confidence = 0.5
		s.Reasons = append(s.Reasons, risk.Reason{Code: ReasonUnknown, Detail: v.Detail})
	}
	if v.Status != StatusUnknown && v.Position.Method == MethodArea {
		s.Reasons = append(s.Reasons, risk.Reason{Code: ReasonArea, Detail: "located from the LAC/TAC only"})
	}
	return s
}

// MonitorConfig configures a Monitor. The zero value is usable: zero fields
// take the values of DefaultMonitorConfig.
type MonitorConfig struct {
	// ThresholdM is the extra clearance, beyond the site radius, the 95 %
	// circle must have to count as outside (default 0; may be negative
	// only if you accept accusing honest merchants).
	ThresholdM float64
	// N and M: alert when at least N of the last M located reports of a
	// terminal are outside (default 3 of 5; 1 ≤ N ≤ M ≤ 64).
	N, M int
	// MaxTerminals bounds the per-terminal state; the least recently
	// seen terminal is forgotten first (default 100 000).
	MaxTerminals int
	// StateTTL forgets a terminal's history after this long without a
	// located report (default 7 days).
	StateTTL time.Duration
}

// DefaultMonitorConfig returns threshold 0, 3 of 5, 100 000 terminals, 7 days.
func DefaultMonitorConfig() MonitorConfig {
	return MonitorConfig{N: 3, M: 5, MaxTerminals: 100000, StateTTL: 7 * 24 * time.Hour}
}

func (c MonitorConfig) withDefaults() MonitorConfig {
	d := DefaultMonitorConfig()
	if c.N == 0 && c.M == 0 {
		c.N, c.M = d.N, d.M
	}
	if c.MaxTerminals == 0 {
		c.MaxTerminals = d.MaxTerminals
	}
	if c.StateTTL == 0 {
		c.StateTTL = d.StateTTL
	}
	return c
}

// Validate reports an inconsistent configuration.
func (c MonitorConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case math.IsNaN(c.ThresholdM) || math.IsInf(c.ThresholdM, 0):
		return fmt.Errorf("geo: ThresholdM %v not finite", c.ThresholdM)
	case c.N < 1 || c.M < c.N || c.M > 64:
		return fmt.Errorf("geo: need 1 ≤ N ≤ M ≤ 64, got N=%d M=%d", c.N, c.M)
	case c.MaxTerminals < 1:
		return fmt.Errorf("geo: MaxTerminals %d < 1", c.MaxTerminals)
	case c.StateTTL < 0:
		return fmt.Errorf("geo: negative StateTTL %v", c.StateTTL)
	}
	return nil
}

// Monitor detects "machine moving": terminals used away from the merchant
// they are registered to. It is safe for concurrent use.
type Monitor struct {
	loc   CellLocator
	sites SiteStore
	cfg   MonitorConfig

	mu    sync.Mutex
	state map[string]*list.Element // terminal → *termState in lru
	lru   *list.List               // front = most recently seen
}

type termState struct {
	terminal string
	merchant string
	bits     uint64 // 1 = outside, bit 0 newest
	n        int    // outcomes in the window (≤ M)
	last     time.Time
}

var _ risk.Scorer[Report] = (*Monitor)(nil)

// NewMonitor returns a Monitor locating with loc and looking sites up in
// sites.
func NewMonitor(loc CellLocator, sites SiteStore, cfg MonitorConfig) (*Monitor, error) {
	if loc == nil || sites == nil {
		return nil, errors.New("geo: NewMonitor needs a CellLocator and a SiteStore")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Monitor{loc: loc, sites: sites, cfg: cfg.withDefaults(), state: make(map[string]*list.Element), lru: list.New()}, nil
}

// Terminals returns how many terminals' histories are held.
func (m *Monitor) Terminals() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}

// Check locates the report's cells, compares the fix with the merchant's
// site and updates the terminal's N-of-M history.
//
// A report counts as outside only when the fix's whole 95 % circle lies
// outside the allowed circle by more than ThresholdM
// (distance − accuracy − radius > ThresholdM), so a coarse fix never
// accuses an honest merchant. A report whose cells are unknown or missing
// gives StatusUnknown with a nil error and leaves the history unchanged.
// Errors: ErrInvalidReport, the SiteStore's error (ErrSiteNotFound), the
// locator's bad-input errors, and ctx.Err(); the Verdict then has
// StatusUnknown.
func (m *Monitor) Check(ctx context.Context, r Report) (Verdict, error) {
	v := Verdict{TerminalID: r.TerminalID, MerchantID: r.MerchantID}
	switch {
	case r.TerminalID == "" || len(r.TerminalID) > MaxIDBytes:
		return v, fmt.Errorf("%w: terminal id length %d", ErrInvalidReport, len(r.TerminalID))
	case r.MerchantID == "" || len(r.MerchantID) > MaxIDBytes:
		return v, fmt.Errorf("%w: merchant id length %d", ErrInvalidReport, len(r.MerchantID))
	case r.At.IsZero():
		return v, fmt.Errorf("%w: zero time", ErrInvalidReport)
	}
	site, err := m.sites.Site(ctx, r.MerchantID)
	if err != nil {
		return v, fmt.Errorf("geo: site of merchant %q: %w", r.MerchantID, err)
	}
	if err := site.Validate(); err != nil {
		return v, err
	}
	v.Site = site
	pos, err := m.loc.Locate(ctx, r.Cells)
	switch {
	case errors.Is(err, ErrCellNotFound):
		v.Detail = "none of the reported cells is known"
		return v, nil
	case errors.Is(err, ErrNoObservations):
		v.Detail = "no cells reported"
		return v, nil
	case err != nil:
		return v, err
	}
	v.Position = pos
	v.DistanceM = Geodesic(pos.LatLng, site.Location)
	v.AccuracyM = pos.AccuracyM
	v.MarginM = v.DistanceM - v.AccuracyM - site.RadiusM
	v.Outside = v.MarginM > m.cfg.ThresholdM

	v.OutsideCount, v.WindowCount = m.record(r, v.Outside)
	switch {
	case v.OutsideCount >= m.cfg.N:
		v.Status = StatusMoved
	case v.Outside:
		v.Status = StatusSuspect
	default:
		v.Status = StatusNotMoved
	}
	return v, nil
}

// Score implements risk.Scorer[Report]: Check followed by Verdict.Signal.
func (m *Monitor) Score(ctx context.Context, r Report) (risk.Signal, error) {
	v, err := m.Check(ctx, r)
	if err != nil {
		return risk.Signal{}, err
	}
	return v.Signal(), nil
}

// record appends an outcome to the terminal's window and returns
// (outside count, window length).
func (m *Monitor) record(r Report, outside bool) (int, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var st *termState
	if e, ok := m.state[r.TerminalID]; ok {
		st = e.Value.(*termState)
		m.lru.MoveToFront(e)
		if st.merchant != r.MerchantID || r.At.Sub(st.last) > m.cfg.StateTTL {
			*st = termState{terminal: r.TerminalID, merchant: r.MerchantID}
		}
	} else {
		st = &termState{terminal: r.TerminalID, merchant: r.MerchantID}
		m.state[r.TerminalID] = m.lru.PushFront(st)
		for m.lru.Len() > m.cfg.MaxTerminals {
			old := m.lru.Back()
			delete(m.state, old.Value.(*termState).terminal)
			m.lru.Remove(old)
		}
	}
	mask := uint64(1)<<m.cfg.M - 1
	if m.cfg.M == 64 {
		mask = math.MaxUint64
	}
	st.bits <<= 1
	if outside {
		st.bits |= 1
	}
	st.bits &= mask
	st.n = min(st.n+1, m.cfg.M)
	if r.At.After(st.last) {
		st.last = r.At
	}
	return bits.OnesCount64(st.bits), st.n
}
