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

// Source is the risk.Signal.Source of every geo signal.
const Source = "geo"

// SignalSource is the Source of every geo risk.Signal.
//
// Deprecated: use Source.
const SignalSource = Source

// Reason codes of the geo risk.Signal.
const (
	ReasonMoved   = "geo.moved"   // N of the last M fixes lie wholly outside the site
	ReasonOutside = "geo.outside" // this fix lies outside, hysteresis not yet met
	ReasonAtSite  = "geo.at_site" // the fix's 95 % circle lies within the site
	ReasonNear    = "geo.near"    // consistent with the site, but the fix is coarse
	ReasonUnknown = "geo.unknown" // no usable fix (cells unknown or not reported)
	ReasonArea    = "geo.area"    // the fix came from the location-area fallback
)

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

// MaxSiteRadiusM bounds a site's allowed radius and
// MonitorConfig.MovedRadiusM: half the equator, 20 037 508 m, beyond which
// every point on Earth is inside.
const MaxSiteRadiusM = 20037508

// Site is where a merchant's terminals are allowed to be: a registered
// location and an allowed radius in metres.
type Site struct {
	Location LatLng  // the registered location
	RadiusM  float64 // allowed radius in metres, 0 to MaxSiteRadiusM
}

// Validate checks the location and that the radius is in
// [0, MaxSiteRadiusM] metres; the error wraps ErrInvalidSite.
func (s Site) Validate() error {
	if err := s.Location.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSite, err)
	}
	if !(s.RadiusM >= 0 && s.RadiusM <= MaxSiteRadiusM) {
		return fmt.Errorf("%w: radius %v", ErrInvalidSite, s.RadiusM)
	}
	return nil
}

// SiteStore maps a merchant to its registered site. Site returns an error
// wrapping ErrSiteNotFound for an unknown merchant and ctx.Err() for a done
// context. Implementations must be safe for concurrent use;
// geotest.TestSiteStore checks the contract.
type SiteStore interface {
	Site(ctx context.Context, merchantID string) (Site, error)
}

// MemorySiteStore is an in-memory SiteStore, safe for concurrent use. The
// zero value is an empty store.
type MemorySiteStore struct {
	mu    sync.RWMutex
	sites map[string]Site
}

var _ SiteStore = (*MemorySiteStore)(nil)

// NewMemorySiteStore returns an empty store.
func NewMemorySiteStore() *MemorySiteStore {
	return &MemorySiteStore{sites: make(map[string]Site)}
}

// Put registers or replaces a merchant's site. It returns an error wrapping
// ErrInvalidSite for an empty or over-long (MaxIDBytes) merchant ID or an
// invalid site, and ctx.Err() for a done context.
func (s *MemorySiteStore) Put(ctx context.Context, merchantID string, site Site) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if merchantID == "" || len(merchantID) > MaxIDBytes {
		return fmt.Errorf("%w: merchant id length %d", ErrInvalidSite, len(merchantID))
	}
	if err := site.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.sites == nil {
		s.sites = make(map[string]Site)
	}
	s.sites[merchantID] = site
	s.mu.Unlock()
	return nil
}

// Delete removes a merchant's site; removing an unknown merchant is not an
// error. It returns ctx.Err() for a done context.
func (s *MemorySiteStore) Delete(ctx context.Context, merchantID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.sites, merchantID)
	s.mu.Unlock()
	return nil
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
	TerminalID string            // required, at most MaxIDBytes
	MerchantID string            // required, at most MaxIDBytes; names the Site
	At         time.Time         // when the cells were heard; required, drives StateTTL
	Cells      []CellObservation // the cells heard; none gives StatusUnknown
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
	Status     Status // the N-of-M outcome, or StatusUnknown
	TerminalID string // from the Report
	MerchantID string // from the Report
	// Position is the located fix (zero when Status is StatusUnknown).
	Position Position
	Site     Site // the merchant's site from the SiteStore
	// DistanceM is the ellipsoidal (WGS84) distance in metres from the fix
	// to the site.
	DistanceM float64
	// AccuracyM is the fix's 95 % radius in metres.
	AccuracyM float64
	// MarginM = DistanceM − AccuracyM − Site.RadiusM, in metres: by how much
	// the fix's 95 % circle clears the allowed circle. Outside is MarginM >
	// MonitorConfig.ThresholdM.
	MarginM float64
	Outside bool // this report alone counts as outside
	// OutsideCount of the last WindowCount located reports were outside
	// (for StatusUnknown: of the terminal's history, which is unchanged).
	OutsideCount, WindowCount int
	// FixLogOdds is the natural-log odds, from this fix alone, that the
	// terminal is at its site rather than moved (see MonitorConfig); it is
	// non-increasing in DistanceM and bounded by ±MaxFixLogOdds.
	FixLogOdds float64
	// Confidence is the calibrated probability, from even prior odds,
	// that the terminal is at its site now, filtering the FixLogOdds of
	// its located reports (see Monitor.Check). Signal reports it.
	Confidence float64
	// Detail says why the status is unknown, if it is.
	Detail string
}

// Signal converts v into a risk.Signal with Source "geo" and Confidence
// v.Confidence; that is 0.5, "no evidence", when the Confidence is not a
// probability or when Status is StatusUnknown and the terminal has no
// history (WindowCount 0). The first reason's code follows the
// status: geo.moved, geo.outside, geo.at_site or geo.near, geo.unknown;
// geo.area is added for a location-area fix.
func (v Verdict) Signal() risk.Signal {
	s := risk.Signal{Source: Source, Confidence: v.Confidence}
	if (v.Status == StatusUnknown && v.WindowCount == 0) || !(v.Confidence >= 0 && v.Confidence <= 1) {
		s.Confidence = 0.5
	}
	km := func(m float64) float64 { return m / 1000 }
	switch v.Status {
	case StatusMoved:
		s.Reasons = append(s.Reasons, risk.Reason{Code: ReasonMoved, Detail: fmt.Sprintf(
			"terminal %.1f km from the registered site (fix ±%.1f km, allowed %.1f km); %d of last %d fixes outside",
			km(v.DistanceM), km(v.AccuracyM), km(v.Site.RadiusM), v.OutsideCount, v.WindowCount)})
	case StatusSuspect:
		s.Reasons = append(s.Reasons, risk.Reason{Code: ReasonOutside, Detail: fmt.Sprintf(
			"fix %.1f km from the site clears the allowed circle by %.1f km; %d of last %d fixes outside",
			km(v.DistanceM), km(v.MarginM), v.OutsideCount, v.WindowCount)})
	case StatusNotMoved:
		if v.DistanceM+v.AccuracyM <= v.Site.RadiusM {
			s.Reasons = append(s.Reasons, risk.Reason{Code: ReasonAtSite, Detail: fmt.Sprintf(
				"fix within the allowed %.1f km of the site", km(v.Site.RadiusM))})
		} else {
			s.Reasons = append(s.Reasons, risk.Reason{Code: ReasonNear, Detail: fmt.Sprintf(
				"fix %.1f km from the site is consistent with it (±%.1f km)", km(v.DistanceM), km(v.AccuracyM))})
		}
	default:
		d := v.Detail
		if v.WindowCount > 0 {
			d += fmt.Sprintf("; %d of the last %d fixes were outside", v.OutsideCount, v.WindowCount)
		}
		s.Reasons = append(s.Reasons, risk.Reason{Code: ReasonUnknown, Detail: d})
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
	// MaxTerminals bounds the state: the number of (terminal, merchant)
	// histories held; the least recently seen is forgotten first
	// (default 100 000).
	MaxTerminals int
	// StateTTL forgets a terminal's history after this long without a
	// located report (default 7 days).
	StateTTL time.Duration
	// MovedRadiusM is the scale of the "moved" hypothesis behind
	// Verdict.Confidence: a moved terminal is taken to be anywhere within
	// RadiusM + MovedRadiusM of the site (default 10 km, the same-city
	// resale or cash-out move the monitor is for). Larger values make a
	// fix near the site stronger evidence of honesty.
	MovedRadiusM float64
	// MinConfidence floors Verdict.Confidence at MinConfidence and caps it
	// at 1 − MinConfidence, the rate at which the cell data itself is wrong
	// (default 0.02; must be in (0, 0.5)).
	MinConfidence float64
	// Now is the monitor's clock (default time.Now). A report stamped more
	// than MaxClockSkew after Now() is refused with ErrInvalidReport: a
	// terminal whose clock is set ahead could otherwise step its report
	// times past StateTTL and wipe its history at every report.
	Now func() time.Time
	// MaxClockSkew is how far ahead of Now a report's time may be
	// (default 1 hour; must not be negative).
	MaxClockSkew time.Duration
}

// DefaultMonitorConfig returns threshold 0, 3 of 5, 100 000 terminals, 7
// days, a 10 km moved scale, confidences within [0.02, 0.98], and report
// times up to 1 hour ahead of time.Now.
func DefaultMonitorConfig() MonitorConfig {
	return MonitorConfig{N: 3, M: 5, MaxTerminals: 100000, StateTTL: 7 * 24 * time.Hour,
		MovedRadiusM: 10000, MinConfidence: 0.02, Now: time.Now, MaxClockSkew: time.Hour}
}

func (c MonitorConfig) withDefaults() MonitorConfig {
	d := DefaultMonitorConfig()
	switch {
	case c.N == 0 && c.M == 0:
		c.N, c.M = d.N, d.M
	case c.M == 0: // "alert on N": a window of at least N
		c.M = max(c.N, d.M)
	case c.N == 0: // a window of M: alert on the default N, or all of M
		c.N = min(d.N, c.M)
	}
	if c.MovedRadiusM == 0 {
		c.MovedRadiusM = d.MovedRadiusM
	}
	if c.MinConfidence == 0 {
		c.MinConfidence = d.MinConfidence
	}
	if c.MaxTerminals == 0 {
		c.MaxTerminals = d.MaxTerminals
	}
	if c.StateTTL == 0 {
		c.StateTTL = d.StateTTL
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	if c.MaxClockSkew == 0 {
		c.MaxClockSkew = d.MaxClockSkew
	}
	return c
}

// Validate reports an inconsistent configuration with an error wrapping
// ErrInvalidConfig. Zero fields are valid (they take the defaults).
func (c MonitorConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case math.IsNaN(c.ThresholdM) || math.IsInf(c.ThresholdM, 0):
		return fmt.Errorf("%w: ThresholdM %v not finite", ErrInvalidConfig, c.ThresholdM)
	case c.N < 1 || c.M < c.N || c.M > 64:
		return fmt.Errorf("%w: need 1 ≤ N ≤ M ≤ 64, got N=%d M=%d", ErrInvalidConfig, c.N, c.M)
	case c.MaxTerminals < 1:
		return fmt.Errorf("%w: MaxTerminals %d < 1", ErrInvalidConfig, c.MaxTerminals)
	case c.StateTTL < 0:
		return fmt.Errorf("%w: negative StateTTL %v", ErrInvalidConfig, c.StateTTL)
	case c.MaxClockSkew < 0:
		return fmt.Errorf("%w: negative MaxClockSkew %v", ErrInvalidConfig, c.MaxClockSkew)
	case !(c.MovedRadiusM > 0 && c.MovedRadiusM <= MaxSiteRadiusM):
		return fmt.Errorf("%w: MovedRadiusM %v outside (0, %v]", ErrInvalidConfig, c.MovedRadiusM, MaxSiteRadiusM)
	case !(c.MinConfidence > 0 && c.MinConfidence < 0.5):
		return fmt.Errorf("%w: MinConfidence %v outside (0, 0.5)", ErrInvalidConfig, c.MinConfidence)
	}
	return nil
}

// Config configures an Assessor; it is MonitorConfig under the name the
// evidence packages share (DESIGN.md, "Evidence packages"). The zero value
// is usable.
type Config = MonitorConfig

// DefaultConfig returns DefaultMonitorConfig().
func DefaultConfig() Config { return DefaultMonitorConfig() }

// Assessor is the geo evidence scorer under the name every evidence
// package uses (DESIGN.md, "Evidence packages"): it is Monitor, so
// (*Assessor).Score is the risk.Scorer[Report] method and
// (*Assessor).Check gives the richer Verdict. Make one with NewAssessor
// or NewMonitor.
type Assessor = Monitor

// NewAssessor returns an Assessor (a Monitor) that locates reports with
// loc and looks merchants' sites up in sites. It is NewMonitor with the
// arguments in the order the evidence packages share (configuration
// first) and has its errors: ErrInvalidConfig for a nil loc or sites or an
// invalid cfg.
func NewAssessor(cfg Config, loc CellLocator, sites SiteStore) (*Assessor, error) {
	return NewMonitor(loc, sites, cfg)
}

// Monitor detects "machine moving": terminals used away from the merchant
// they are registered to. Make it with NewMonitor or NewAssessor (the
// methods of a zero Monitor return an error wrapping ErrNotInitialized and
// ErrInvalidConfig, and Terminals returns 0). It is safe for concurrent
// use.
type Monitor struct {
	loc   CellLocator
	sites SiteStore
	cfg   MonitorConfig

	mu    sync.Mutex
	state map[stateKey]*list.Element // (terminal, merchant) → *termState in lru
	lru   *list.List                 // front = most recently seen
}

// stateKey names one history: a terminal's reports against one merchant.
// Keying by the pair (not the terminal alone) means a terminal whose
// uploads alternate between merchant IDs cannot wipe its history by
// switching: each merchant's window keeps its own suspicion.
type stateKey struct{ terminal, merchant string }

type termState struct {
	key     stateKey
	bits    uint64  // 1 = outside, bit 0 newest
	n       int     // outcomes in the window (≤ M)
	logOdds float64 // filtered log-odds of "at the site" after the newest fix
	last    time.Time
}

var _ risk.Scorer[Report] = (*Monitor)(nil)

// NewMonitor returns a Monitor locating with loc and looking sites up in
// sites. It returns an error wrapping ErrInvalidConfig when loc or sites is
// nil or cfg is invalid (see MonitorConfig.Validate).
func NewMonitor(loc CellLocator, sites SiteStore, cfg MonitorConfig) (*Monitor, error) {
	if loc == nil || sites == nil {
		return nil, fmt.Errorf("%w: NewMonitor needs a CellLocator and a SiteStore", ErrInvalidConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Monitor{loc: loc, sites: sites, cfg: cfg.withDefaults(), state: make(map[stateKey]*list.Element), lru: list.New()}, nil
}

// Terminals returns how many histories are held: one per (terminal,
// merchant) pair seen within StateTTL, at most MaxTerminals.
func (m *Monitor) Terminals() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lru == nil {
		return 0
	}
	return m.lru.Len()
}

// Check locates the report's cells, compares the fix with the merchant's
// site and updates the terminal's N-of-M history.
//
// A report counts as outside only when the fix's whole 95 % circle lies
// outside the allowed circle by more than ThresholdM
// (distance − accuracy − radius > ThresholdM), so a coarse fix never
// accuses an honest merchant. A report whose cells are unknown or missing
// gives StatusUnknown with a nil error and leaves the history unchanged;
// its Confidence, OutsideCount and WindowCount come from the terminal's
// live history, so suppressing cell data does not reset suspicion.
// Errors: ErrInvalidReport (also for a time more than MaxClockSkew ahead
// of MonitorConfig.Now), the SiteStore's error (ErrSiteNotFound),
// ErrInvalidSite, the locator's bad-input errors, ErrInvalidPosition when
// the locator breaks its contract, and ctx.Err(); the Verdict then has
// StatusUnknown.
//
// Verdict.Confidence is the probability, from even prior odds (the
// neutral reference of risk.Signal; the host's prior belongs in risk.Fuse),
// that the terminal is at its site now. Each located fix gives log-odds
// (FixLogOdds) of "uniformly within the allowed radius" against "uniformly
// within RadiusM + MovedRadiusM", with the fix error a circular normal of
// σ = AccuracyM/Sigma95 (see ProbWithin); a coarse fix near the site
// therefore still favours the merchant, and a precise fix far away
// condemns it. The fixes of a terminal are combined by a two-state hidden
// Markov filter ("at the site" / "moved"): between two reports the
// terminal may switch state with probability q = 1/(M+1), so the history
// carries at most ln(M) of log-odds into the newest fix — a long honest
// history cannot outvote a precise fix far away now (a relocated terminal
// is at its site in its past fixes), and one coarse fix cannot erase a
// history. The filtered log-odds L give
// Confidence = ε + (1 − 2ε)/(1 + e^{−L}) with ε = MinConfidence, so a
// fix that lies outside gives a Confidence below 0.5 unless the fix is too
// coarse to tell. It is monotone: a fix farther from the site never raises
// it.
//
// A report stamped before the newest located report of its history (a
// late upload, or a replayed report from when the terminal was still at
// its site) leaves the history unchanged; its Confidence is the live one,
// or lower if this fix is evidence against the site, never higher, and
// Detail says so. Its OutsideCount and WindowCount are the live history's.
func (m *Monitor) Check(ctx context.Context, r Report) (Verdict, error) {
	v := Verdict{TerminalID: r.TerminalID, MerchantID: r.MerchantID}
	if m == nil || m.loc == nil || m.sites == nil || m.state == nil {
		return v, fmt.Errorf("%w (%w)", ErrNotInitialized, ErrInvalidConfig)
	}
	switch {
	case r.TerminalID == "" || len(r.TerminalID) > MaxIDBytes:
		return v, fmt.Errorf("%w: terminal id length %d", ErrInvalidReport, len(r.TerminalID))
	case r.MerchantID == "" || len(r.MerchantID) > MaxIDBytes:
		return v, fmt.Errorf("%w: merchant id length %d", ErrInvalidReport, len(r.MerchantID))
	case r.At.IsZero():
		return v, fmt.Errorf("%w: zero time", ErrInvalidReport)
	}
	if now := m.cfg.Now(); r.At.Sub(now) > m.cfg.MaxClockSkew {
		return v, fmt.Errorf("%w: time %v is more than %v ahead of the monitor's clock (%v)",
			ErrInvalidReport, r.At, m.cfg.MaxClockSkew, now)
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
		m.unknown(&v, r)
		return v, nil
	case errors.Is(err, ErrNoObservations):
		v.Detail = "no cells reported"
		m.unknown(&v, r)
		return v, nil
	case err != nil:
		return v, err
	case !pos.LatLng.valid() || !(pos.AccuracyM > 0) || math.IsInf(pos.AccuracyM, 0):
		// A broken locator must not turn into "not moved" through NaN
		// distances that compare false.
		return v, fmt.Errorf("%w: %v ±%v", ErrInvalidPosition, pos.LatLng, pos.AccuracyM)
	}
	v.Position = pos
	v.DistanceM = Geodesic(pos.LatLng, site.Location)
	v.AccuracyM = pos.AccuracyM
	v.MarginM = v.DistanceM - v.AccuracyM - site.RadiusM
	v.Outside = v.MarginM > m.cfg.ThresholdM
	v.FixLogOdds = fixLogOdds(v.DistanceM, v.AccuracyM, site.RadiusM, m.cfg.MovedRadiusM)

	var logOdds float64
	var late bool
	v.OutsideCount, v.WindowCount, logOdds, late = m.record(r, v.Outside, v.FixLogOdds)
	if late {
		v.Detail = "report older than the terminal's newest; history unchanged"
	}
	eps := m.cfg.MinConfidence
	v.Confidence = eps + (1-2*eps)*logistic(logOdds)
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

// unknown fills an unlocated verdict from the terminal's live window, if
// any, without changing it: a terminal that has been seen far away does
// not regain a neutral 0.5 by reporting cells nobody knows (or none).
func (m *Monitor) unknown(v *Verdict, r Report) {
	v.Confidence = 0.5
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.state[stateKey{r.TerminalID, r.MerchantID}]
	if !ok {
		return
	}
	st := e.Value.(*termState)
	if r.At.Sub(st.last) > m.cfg.StateTTL || st.n == 0 {
		return
	}
	v.OutsideCount, v.WindowCount = bits.OnesCount64(st.bits), st.n
	eps := m.cfg.MinConfidence
	v.Confidence = eps + (1-2*eps)*logistic(st.logOdds)
}

// predictLogOdds carries the filtered log-odds x of "at the site" across
// one step of the two-state Markov chain that switches state with
// probability q: P' = P(1−q) + (1−P)q. The result lies within
// ±ln((1−q)/q) and is increasing in x.
func predictLogOdds(x, q float64) float64 {
	p := logistic(x)
	p = p*(1-q) + (1-p)*q
	return math.Log(p / (1 - p))
}

// record appends an outcome to the terminal's window and returns the
// outside count, the window length and the filtered log-odds.
//
// A report stamped before the newest one of its history (late, or a
// replay of a report from when the terminal was still at its site) does
// not change the history: its counts are the live ones, and its log-odds
// are the live ones or, if lower, the live ones updated by this fix — an
// out-of-order fix may add suspicion, never remove it. late reports it.
func (m *Monitor) record(r Report, outside bool, logOdds float64) (count, n int, filtered float64, late bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var st *termState
	k := stateKey{r.TerminalID, r.MerchantID}
	if e, ok := m.state[k]; ok {
		st = e.Value.(*termState)
		m.lru.MoveToFront(e)
		if r.At.Sub(st.last) > m.cfg.StateTTL {
			*st = termState{key: k}
		}
		if st.n > 0 && r.At.Before(st.last) {
			q := 1 / float64(m.cfg.M+1)
			return bits.OnesCount64(st.bits), st.n, math.Min(st.logOdds, predictLogOdds(st.logOdds, q)+logOdds), true
		}
	} else {
		st = &termState{key: k}
		m.state[k] = m.lru.PushFront(st)
		for m.lru.Len() > m.cfg.MaxTerminals {
			old := m.lru.Back()
			delete(m.state, old.Value.(*termState).key)
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
	if st.n == 0 {
		st.logOdds = logOdds // even prior odds before the first fix
	} else {
		st.logOdds = predictLogOdds(st.logOdds, 1/float64(m.cfg.M+1)) + logOdds
	}
	st.n = min(st.n+1, m.cfg.M)
	st.last = r.At
	return bits.OnesCount64(st.bits), st.n, st.logOdds, false
}
