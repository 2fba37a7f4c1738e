package vehicle

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// RadioConfig is the sidelink link budget of the simulation.
type RadioConfig struct {
	CarrierGHz    float64       // carrier frequency; 0 = 5.9 (ITS band)
	TxPowerDBm    float64       // 0 = 23 (UE power class 3)
	NoiseFigureDB float64       // 0 = 9
	SubChannelHz  float64       // bandwidth of one sub-channel; 0 = 1.8e6 (10 PRB × 180 kHz)
	Slot          time.Duration // slot duration; 0 = 1 ms (15 kHz SCS)
	ShadowingDB   float64       // log-normal shadowing σ; 0 = 3 (TR 37.885 highway LOS)
	Efficiency    float64       // fraction of Shannon capacity a real MCS reaches; 0 = 0.6
}

// DefaultRadioConfig returns the defaults named in RadioConfig's fields.
func DefaultRadioConfig() RadioConfig { return RadioConfig{}.withDefaults() }

// Validate reports values out of range; zero fields are fine (defaults).
func (r RadioConfig) Validate() error {
	bad := func(x float64) bool { return x < 0 || math.IsNaN(x) || math.IsInf(x, 0) }
	switch {
	case bad(r.CarrierGHz), bad(r.SubChannelHz), bad(r.NoiseFigureDB), bad(r.ShadowingDB):
		return configErr("Radio", "carrier, bandwidth, noise figure and shadowing must be finite and ≥ 0")
	case bad(r.Efficiency) || r.Efficiency > 1:
		return configErr("Radio.Efficiency", "%v, want 0…1", r.Efficiency)
	case math.IsNaN(r.TxPowerDBm) || math.IsInf(r.TxPowerDBm, 0):
		return configErr("Radio.TxPowerDBm", "%v is not finite", r.TxPowerDBm)
	case r.Slot < 0:
		return configErr("Radio.Slot", "%s is negative", r.Slot)
	}
	return nil
}

func (r RadioConfig) withDefaults() RadioConfig {
	def := func(x *float64, v float64) {
		if *x == 0 {
			*x = v
		}
	}
	def(&r.CarrierGHz, 5.9)
	def(&r.TxPowerDBm, 23)
	def(&r.NoiseFigureDB, 9)
	def(&r.SubChannelHz, 1.8e6)
	def(&r.ShadowingDB, 3)
	def(&r.Efficiency, 0.6)
	if r.Slot == 0 {
		r.Slot = time.Millisecond
	}
	return r
}

// LatencyConfig is the delay model of the Uu (vehicle ↔ base station) hops
// and the payment platform.
type LatencyConfig struct {
	// SRPeriod is the scheduling-request period: an uplink waits
	// uniformly up to this long for its grant; 0 = 5 ms.
	SRPeriod time.Duration
	// HARQRTT is the delay added by each retransmission; 0 = 8 ms.
	HARQRTT time.Duration
	// BLER is the first-transmission block error rate; 0 = 0.1, the
	// target of 3GPP TS 38.214's CQI tables.
	BLER float64
	// MaxRetx bounds retransmissions per hop; 0 = 4.
	MaxRetx int
	// Processing is the base station's handling time per message; 0 = 1 ms.
	Processing time.Duration
	// PlatformMedian and PlatformSigma give the platform's log-normal
	// response time; 0 = 20 ms and 0.5.
	PlatformMedian time.Duration
	PlatformSigma  float64
}

// DefaultLatencyConfig returns the defaults named in LatencyConfig's fields.
func DefaultLatencyConfig() LatencyConfig { return LatencyConfig{}.withDefaults() }

// Validate reports values out of range; zero fields are fine (defaults).
func (l LatencyConfig) Validate() error {
	switch {
	case l.SRPeriod < 0, l.HARQRTT < 0, l.Processing < 0, l.PlatformMedian < 0:
		return configErr("Latency", "durations must be ≥ 0")
	case l.BLER < 0 || l.BLER >= 1 || math.IsNaN(l.BLER):
		return configErr("Latency.BLER", "%v, want 0…<1", l.BLER)
	case l.MaxRetx < 0 || l.MaxRetx > 32:
		return configErr("Latency.MaxRetx", "%d, want 0…32", l.MaxRetx)
	case l.PlatformSigma < 0 || math.IsNaN(l.PlatformSigma) || math.IsInf(l.PlatformSigma, 0):
		return configErr("Latency.PlatformSigma", "%v, want finite ≥ 0", l.PlatformSigma)
	}
	return nil
}

func (l LatencyConfig) withDefaults() LatencyConfig {
	if l.SRPeriod == 0 {
		l.SRPeriod = 5 * time.Millisecond
	}
	if l.HARQRTT == 0 {
		l.HARQRTT = 8 * time.Millisecond
	}
	if l.BLER == 0 {
		l.BLER = 0.1
	}
	if l.MaxRetx == 0 {
		l.MaxRetx = 4
	}
	if l.Processing == 0 {
		l.Processing = time.Millisecond
	}
	if l.PlatformMedian == 0 {
		l.PlatformMedian = 20 * time.Millisecond
	}
	if l.PlatformSigma == 0 {
		l.PlatformSigma = 0.5
	}
	return l
}

// SimConfig configures Simulate. The zero value is usable: zero fields take
// the values of DefaultSimConfig.
type SimConfig struct {
	Seed     uint64
	Vehicles int // 0 = 500
	Payments int // 0 = 10 000

	RoadLength  float64 // metres of highway, vehicles leaving one end re-enter at the other; 0 = 5000
	LanesPerDir int     // lanes in each direction, 4 m apart; 0 = 3
	SpeedMean   float64 // m/s; 0 = 30 (108 km/h)
	SpeedStdDev float64 // m/s, speeds clipped to [½, 1½] × mean; 0 = 4

	CoverageRadius    float64       // metres around the base station at mid-road, 35 m off the road; 0 = 1500
	RequestRate       float64       // payment requests per second over the road; 0 = 50
	PacketSize        int           // request payload and sidelink packet, bytes (≤ MaxPayload); 0 = 256
	FriendsPerVehicle int           // mean friends per vehicle; 0 = 4
	DuplicateRate     float64       // probability a PaymentInfo is delivered twice; 0 = 0.05, negative = none
	Session           time.Duration // how long a pair keeps its sidelink grant before releasing it; 0 = 10 s
	PRRBin            float64       // metres per PRR distance bin; 0 = 100

	Radio   RadioConfig
	Latency LatencyConfig
	Pool    PoolConfig
}

// DefaultSimConfig returns the defaults named in SimConfig's fields.
func DefaultSimConfig() SimConfig {
	return SimConfig{Vehicles: 500, Payments: 10_000, RoadLength: 5000, LanesPerDir: 3,
		SpeedMean: 30, SpeedStdDev: 4, CoverageRadius: 1500, RequestRate: 50, PacketSize: 256,
		FriendsPerVehicle: 4, DuplicateRate: 0.05, Session: 10 * time.Second, PRRBin: 100,
		Radio: DefaultRadioConfig(), Latency: DefaultLatencyConfig(), Pool: DefaultPoolConfig()}
}

// Bounds on simulation sizes, so a config cannot ask for unbounded work.
const (
	MaxSimVehicles = 100_000
	MaxSimPayments = 10_000_000
)

// Validate reports values out of range.
func (c SimConfig) Validate() error {
	bad := func(x float64) bool { return x < 0 || math.IsNaN(x) || math.IsInf(x, 0) }
	switch {
	case c.Vehicles < 0 || c.Vehicles > MaxSimVehicles:
		return configErr("Vehicles", "%d, want 0…%d", c.Vehicles, MaxSimVehicles)
	case c.Vehicles == 1:
		return configErr("Vehicles", "need at least 2 vehicles")
	case c.Payments < 0 || c.Payments > MaxSimPayments:
		return configErr("Payments", "%d, want 0…%d", c.Payments, MaxSimPayments)
	case bad(c.RoadLength), bad(c.SpeedMean), bad(c.SpeedStdDev), bad(c.CoverageRadius), bad(c.RequestRate), bad(c.PRRBin):
		return configErr("distances, speeds and rates", "must be finite and ≥ 0")
	case c.LanesPerDir < 0 || c.LanesPerDir > 16:
		return configErr("LanesPerDir", "%d, want 0…16", c.LanesPerDir)
	case c.PacketSize < 0 || c.PacketSize > MaxPayload:
		return configErr("PacketSize", "%d, want 0…%d", c.PacketSize, MaxPayload)
	case c.FriendsPerVehicle < 0 || c.FriendsPerVehicle > DefaultMaxFriends:
		return configErr("FriendsPerVehicle", "%d, want 0…%d", c.FriendsPerVehicle, DefaultMaxFriends)
	case math.IsNaN(c.DuplicateRate) || c.DuplicateRate > 1:
		return configErr("DuplicateRate", "%v, want ≤ 1", c.DuplicateRate)
	case c.Session < 0:
		return configErr("Session", "%s is negative", c.Session)
	}
	if err := c.Radio.Validate(); err != nil {
		return err
	}
	if err := c.Latency.Validate(); err != nil {
		return err
	}
	return c.Pool.Validate()
}

func (c SimConfig) withDefaults() SimConfig {
	d := DefaultSimConfig()
	if c.Vehicles == 0 {
		c.Vehicles = d.Vehicles
	}
	if c.Payments == 0 {
		c.Payments = d.Payments
	}
	for _, f := range []struct {
		x *float64
		v float64
	}{
		{&c.RoadLength, d.RoadLength}, {&c.SpeedMean, d.SpeedMean}, {&c.SpeedStdDev, d.SpeedStdDev},
		{&c.CoverageRadius, d.CoverageRadius}, {&c.RequestRate, d.RequestRate}, {&c.PRRBin, d.PRRBin},
		{&c.DuplicateRate, d.DuplicateRate},
	} {
		if *f.x == 0 {
			*f.x = f.v
		}
	}
	if c.DuplicateRate < 0 {
		c.DuplicateRate = 0
	}
	if c.LanesPerDir == 0 {
		c.LanesPerDir = d.LanesPerDir
	}
	if c.PacketSize == 0 {
		c.PacketSize = d.PacketSize
	}
	if c.FriendsPerVehicle == 0 {
		c.FriendsPerVehicle = d.FriendsPerVehicle
	}
	if c.Session == 0 {
		c.Session = d.Session
	}
	c.Radio = c.Radio.withDefaults()
	c.Latency = c.Latency.withDefaults()
	c.Pool = c.Pool.withDefaults()
	if c.Pool.GrantLifetime < c.Session {
		c.Pool.GrantLifetime = 2 * c.Session // sessions release explicitly; expiry catches the rest
	}
	return c
}

// HighwayLOSPathLoss is the V2V sidelink path loss, in dB, of 3GPP TR
// 37.885 V15.3.0 §6.2.1 Table 6.2.1-1, highway LOS:
// PL = 32.4 + 20·log10(d) + 20·log10(fc), d the 3-D distance in metres
// (clamped to ≥ 1 m), fc in GHz; shadow fading σ = 3 dB is applied
// separately.
func HighwayLOSPathLoss(d, fcGHz float64) float64 {
	return 32.4 + 20*math.Log10(max(d, 1)) + 20*math.Log10(fcGHz)
}

// ThermalNoiseDBm is kTB at 290 K: −174 dBm/Hz + 10·log10(bandwidth).
func ThermalNoiseDBm(bandwidthHz float64) float64 { return -174 + 10*math.Log10(bandwidthHz) }

// RequiredSINRdB is the SINR at which a packet of the given bits fits one
// sub-channel for one slot at efficiency × the Shannon capacity
// B·T·log2(1+SINR).
func RequiredSINRdB(bits int, bandwidthHz float64, slot time.Duration, efficiency float64) float64 {
	per := float64(bits) / (bandwidthHz * slot.Seconds() * efficiency)
	return 10 * math.Log10(math.Exp2(per)-1)
}

// LatencyStats summarises end-to-end payment latencies.
type LatencyStats struct {
	Samples             []time.Duration // sorted ascending
	Mean, P50, P90, P99 time.Duration
	Max                 time.Duration
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of the samples, 0 if none.
func (s LatencyStats) Quantile(q float64) time.Duration {
	if len(s.Samples) == 0 || math.IsNaN(q) {
		return 0
	}
	q = min(max(q, 0), 1)
	return s.Samples[int(math.Round(q*float64(len(s.Samples)-1)))]
}

// PRRBin is one distance bin of the packet-reception ratio.
type PRRBin struct {
	From, To      float64 // metres
	Sent          int
	Received      int // with co-channel interference from other grants
	ReceivedNoise int // the same packets against noise only
}

// PRR is Received/Sent (NaN when nothing was sent).
func (b PRRBin) PRR() float64 { return ratio(b.Received, b.Sent) }

// PRRNoiseOnly is ReceivedNoise/Sent (NaN when nothing was sent).
func (b PRRBin) PRRNoiseOnly() float64 { return ratio(b.ReceivedNoise, b.Sent) }

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// DecodeStats counts TryOpen work: every vehicle in coverage tries every
// broadcast.
type DecodeStats struct {
	Attempts         int     // TryOpen calls
	Opened           int     // successful opens (the friends)
	WrongOpens       int     // opens by a vehicle the request was not for (must be 0)
	PerVehicleMean   float64 // attempts per vehicle
	PerVehicleMax    int
	PerBroadcastMean float64 // vehicles trying each broadcast
}

// Report is the outcome of Simulate.
type Report struct {
	Config    SimConfig      // with defaults filled in
	Requested int            // payment requests issued
	Completed int            // settled on the platform
	Failures  map[string]int // by reason (error text of the sentinel)

	Latency LatencyStats // end-to-end, request sent → result delivered, of completed payments
	Decode  DecodeStats
	Grants  PoolStats
	PRR     []PRRBin
	// RequiredSINRdB is the decoding threshold of one PacketSize packet.
	RequiredSINRdB float64

	Duplicates     int   // PaymentInfo messages delivered twice
	DuplicateMoves int   // duplicates that moved money (must be 0)
	BalanceBefore  int64 // sum of all balances before
	BalanceAfter   int64 // and after (equal: money is conserved)
	SimulatedTime  time.Duration
}

// GrantSuccessRate is the share of sidelink grant requests granted.
func (r Report) GrantSuccessRate() float64 { return r.Grants.SuccessRate() }

type simVehicle struct {
	v      *Vehicle
	x0, vx float64 // position at t=0 and velocity along the road (m, m/s)
	y      float64
	tries  int
}

func (s *simVehicle) pos(t float64, road float64) Position {
	x := math.Mod(s.x0+s.vx*t, road)
	if x < 0 {
		x += road
	}
	return Position{X: x, Y: s.y}
}

type release struct {
	at float64
	id uint64
}

type releaseHeap []release

func (h releaseHeap) Len() int           { return len(h) }
func (h releaseHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h releaseHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *releaseHeap) Push(x any)        { *h = append(*h, x.(release)) }
func (h *releaseHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Simulate runs the whole protocol — registry, base station, vehicles,
// payment platform and sidelink pool, with real keys and real envelopes —
// over vehicles moving on a highway, and reports latency, decoding work,
// grant success and the packet-reception ratio of the first sidelink packet
// of each granted pair against distance. Everything random comes from
// cfg.Seed, and simulated time never reads the wall clock, so equal configs
// give equal reports.
//
// Models: vehicles on LanesPerDir lanes each way at normally distributed
// speeds; Poisson requests from vehicles in coverage to a random friend;
// each Uu hop waits for a scheduling opportunity and is retransmitted with
// probability BLER per attempt; the platform answers in log-normal time;
// the sidelink packet is received when its SINR — TR 37.885 highway LOS
// path loss with 3 dB shadowing, thermal noise, and co-channel interference
// from every other live grant on the same resource — reaches
// RequiredSINRdB.
func Simulate(cfg SimConfig) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	cfg = cfg.withDefaults()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed_ca75))
	var cs [32]byte
	for i := range 8 {
		cs[i] = byte(cfg.Seed >> (8 * i))
	}
	crand := rand.NewChaCha8(cs)
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t := 0.0 // seconds since epoch
	now := func() time.Time { return epoch.Add(time.Duration(t * float64(time.Second))) }

	netKey, err := GenerateKey(crand)
	if err != nil {
		return Report{}, err
	}
	reg, err := NewMemoryRegistry(RegistryConfig{})
	if err != nil {
		return Report{}, err
	}
	platform, err := NewMemoryPlatform(PlatformConfig{Now: now})
	if err != nil {
		return Report{}, err
	}
	pool, err := NewResourcePool(cfg.Pool)
	if err != nil {
		return Report{}, err
	}
	const opening = int64(1) << 40
	vs := make([]*simVehicle, cfg.Vehicles)
	byID := make(map[VehicleID]*simVehicle, cfg.Vehicles)
	lanes := 2 * cfg.LanesPerDir
	for i := range vs {
		id := VehicleID(fmt.Sprintf("veh-%05d", i))
		v, err := NewVehicle(VehicleConfig{ID: id, Network: netKey.PublicKey(), Now: now, Rand: crand})
		if err != nil {
			return Report{}, err
		}
		info, _ := v.Info()
		if err := reg.Enrol(ctx, info); err != nil {
			return Report{}, err
		}
		if err := platform.Open(ctx, string(id), opening); err != nil {
			return Report{}, err
		}
		lane := rng.IntN(lanes)
		speed := cfg.SpeedMean + cfg.SpeedStdDev*rng.NormFloat64()
		speed = min(max(speed, cfg.SpeedMean/2), 1.5*cfg.SpeedMean)
		dir := 1.0
		if lane >= cfg.LanesPerDir {
			dir = -1
		}
		vs[i] = &simVehicle{v: v, x0: rng.Float64() * cfg.RoadLength, vx: dir * speed, y: 4 * float64(lane)}
		byID[id] = vs[i]
	}
	// Friendships: each vehicle befriends FriendsPerVehicle/2 random others
	// (so FriendsPerVehicle on average), within the registry's bound.
	for i, a := range vs {
		for range (cfg.FriendsPerVehicle + 1) / 2 {
			j := rng.IntN(len(vs) - 1)
			if j >= i {
				j++
			}
			b := vs[j]
			if err := reg.Befriend(ctx, a.v.ID(), b.v.ID()); err != nil {
				if errors.Is(err, ErrTooManyFriends) {
					continue
				}
				return Report{}, err
			}
			if err := a.v.AddFriend(b.v.ID()); err != nil {
				return Report{}, err
			}
			if err := b.v.AddFriend(a.v.ID()); err != nil {
				return Report{}, err
			}
		}
	}
	bsPos := Position{X: cfg.RoadLength / 2, Y: -35}
	locate := func(id VehicleID) (Position, bool) {
		s, ok := byID[id]
		if !ok {
			return Position{}, false
		}
		return s.pos(t, cfg.RoadLength), true
	}
	bs, err := NewBaseStation(BaseStationConfig{ID: "gNB-sim", NetworkKey: netKey, Now: now, Rand: crand,
		Locate: locate, Position: bsPos, CoverageRadius: cfg.CoverageRadius, Pool: pool}, reg, platform)
	if err != nil {
		return Report{}, err
	}

	rep := Report{Config: cfg, Failures: map[string]int{}}
	rep.BalanceBefore, _ = platform.Total(ctx)
	r := cfg.Radio
	noiseMW := dbmToMW(ThermalNoiseDBm(r.SubChannelHz) + r.NoiseFigureDB)
	rep.RequiredSINRdB = RequiredSINRdB(8*cfg.PacketSize, r.SubChannelHz, r.Slot, r.Efficiency)
	thresh := math.Pow(10, rep.RequiredSINRdB/10)
	nBins := int(math.Ceil(2*cfg.CoverageRadius/cfg.PRRBin)) + 1
	bins := make([]PRRBin, nBins)
	for i := range bins {
		bins[i].From, bins[i].To = float64(i)*cfg.PRRBin, float64(i+1)*cfg.PRRBin
	}
	var releases releaseHeap
	var latencies []time.Duration
	inCov := make([]*simVehicle, 0, len(vs))
	payload := make([]byte, cfg.PacketSize)
	fail := func(err error) {
		for _, s := range []error{ErrFriendOutOfCoverage, ErrRequesterOutOfCoverage, ErrNotFriends, ErrPoolExhausted, ErrInsufficientFunds} {
			if errors.Is(err, s) {
				rep.Failures[s.Error()]++
				return
			}
		}
		rep.Failures[err.Error()]++
	}
	hop := func() float64 { // one Uu hop, seconds
		d := rng.Float64()*cfg.Latency.SRPeriod.Seconds() + r.Slot.Seconds()
		for k := 0; k < cfg.Latency.MaxRetx && rng.Float64() < cfg.Latency.BLER; k++ {
			d += cfg.Latency.HARQRTT.Seconds()
		}
		return d
	}
	friends := map[VehicleID][]VehicleID{}

	for range cfg.Payments {
		t += rng.ExpFloat64() / cfg.RequestRate
		for len(releases) > 0 && releases[0].at <= t {
			rel := heap.Pop(&releases).(release)
			_ = pool.Release(rel.id, now()) // an already expired grant is fine
		}
		inCov = inCov[:0]
		for _, s := range vs {
			if s.pos(t, cfg.RoadLength).Distance(bsPos) <= cfg.CoverageRadius {
				inCov = append(inCov, s)
			}
		}
		if len(inCov) == 0 {
			rep.Failures["no vehicle in coverage"]++
			continue
		}
		req := inCov[rng.IntN(len(inCov))]
		fl, ok := friends[req.v.ID()]
		if !ok {
			fl, _ = reg.Friends(ctx, req.v.ID())
			friends[req.v.ID()] = fl
		}
		if len(fl) == 0 {
			rep.Failures[ErrNotFriends.Error()]++
			continue
		}
		friend := byID[fl[rng.IntN(len(fl))]]
		rep.Requested++
		request, err := req.v.Request(friend.v.ID(), 1+rng.Int64N(5000), payload)
		if err != nil {
			return Report{}, err
		}
		bc, err := bs.Request(ctx, request)
		if err != nil {
			fail(err)
			continue
		}
		var opened Opened
		ok = false
		for _, s := range inCov {
			s.tries++
			rep.Decode.Attempts++
			o, err := s.v.TryOpen(bc.Envelope)
			switch {
			case err == nil && s == friend:
				opened, ok = o, true
				rep.Decode.Opened++
			case err == nil:
				rep.Decode.WrongOpens++
			case !errors.Is(err, ErrNotForMe):
				fail(err)
			}
		}
		if !ok {
			rep.Failures["friend did not open"]++
			continue
		}
		info, err := friend.v.Respond(opened, true)
		if err != nil {
			fail(err)
			continue
		}
		res, err := bs.Pay(ctx, info)
		if err != nil {
			fail(err)
			continue
		}
		rep.Completed++
		if rng.Float64() < cfg.DuplicateRate {
			rep.Duplicates++
			before, _ := platform.Total(ctx)
			dup, err := bs.Pay(ctx, info)
			after, _ := platform.Total(ctx)
			if err != nil || !dup.Duplicate || after != before {
				rep.DuplicateMoves++
			}
		}
		lat := hop() + cfg.Latency.Processing.Seconds() + // request up, base station seals
			rng.Float64()*r.Slot.Seconds() + r.Slot.Seconds() + // broadcast down
			hop() + cfg.Latency.Processing.Seconds() + // payment information up
			cfg.Latency.PlatformMedian.Seconds()*math.Exp(cfg.Latency.PlatformSigma*rng.NormFloat64()) +
			rng.Float64()*r.Slot.Seconds() + r.Slot.Seconds() // result down
		latencies = append(latencies, time.Duration(lat*float64(time.Second)))

		if res.Grant == nil {
			continue
		}
		g := *res.Grant
		heap.Push(&releases, release{at: t + cfg.Session.Seconds(), id: g.ID})
		if _, err := pool.Use(g.ID, now()); err != nil {
			fail(err)
			continue
		}
		// The first sidelink packet: friend → requester.
		tx, rx := friend.pos(t, cfg.RoadLength), req.pos(t, cfg.RoadLength)
		d := tx.Distance(rx)
		sig := dbmToMW(r.TxPowerDBm - HighwayLOSPathLoss(d, r.CarrierGHz) + r.ShadowingDB*rng.NormFloat64())
		interf := 0.0
		var co []Grant
		pool.coChannel(g, now(), func(h Grant) { co = append(co, h) })
		slices.SortFunc(co, func(a, b Grant) int { return int(a.ID) - int(b.ID) }) // draw shadowing in a fixed order
		for _, h := range co {
			if s, ok := byID[h.A]; ok {
				di := s.pos(t, cfg.RoadLength).Distance(rx)
				interf += dbmToMW(r.TxPowerDBm - HighwayLOSPathLoss(di, r.CarrierGHz) + r.ShadowingDB*rng.NormFloat64())
			}
		}
		bi := min(int(d/cfg.PRRBin), len(bins)-1)
		bins[bi].Sent++
		if sig/(noiseMW+interf) >= thresh {
			bins[bi].Received++
		}
		if sig/noiseMW >= thresh {
			bins[bi].ReceivedNoise++
		}
	}
	rep.SimulatedTime = time.Duration(t * float64(time.Second))
	rep.BalanceAfter, _ = platform.Total(ctx)
	rep.Grants = pool.Stats()
	rep.PRR = bins
	slices.Sort(latencies)
	rep.Latency = latencyStats(latencies)
	for _, s := range vs {
		rep.Decode.PerVehicleMax = max(rep.Decode.PerVehicleMax, s.tries)
	}
	rep.Decode.PerVehicleMean = float64(rep.Decode.Attempts) / float64(len(vs))
	if n := rep.Decode.Opened + rep.Failures["friend did not open"]; n > 0 {
		rep.Decode.PerBroadcastMean = float64(rep.Decode.Attempts) / float64(n)
	}
	for _, s := range vs {
		_ = s.v.Close()
	}
	return rep, nil
}

func dbmToMW(dbm float64) float64 { return math.Pow(10, dbm/10) }

func latencyStats(s []time.Duration) LatencyStats {
	ls := LatencyStats{Samples: s}
	if len(s) == 0 {
		return ls
	}
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	ls.Mean = sum / time.Duration(len(s))
	ls.P50, ls.P90, ls.P99 = ls.Quantile(0.5), ls.Quantile(0.9), ls.Quantile(0.99)
	ls.Max = s[len(s)-1]
	return ls
}
