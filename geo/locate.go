package geo

import (
	"context"
	"math"
)

// member is a known observed cell during Locate.
type member struct {
	p       LatLng
	x, y, z float64 // unit vector
	r       float64 // coverage radius, metres
	w       float64 // weight
	radio   Radio
	root    int8 // union-find parent
}

// Locate estimates the terminal position from the observed cells.
//
// Each known cell gets a weight from its signal strength (a log-distance
// path-loss model: an estimated distance d ∝ 10^(−dBm/(10γ)) and weight
// 1/d, so stronger means closer), its timing advance if reported, the
// number of samples behind its own position (log₂(2+samples)) and the age
// of the observation. Cells whose coverage circles do not touch are split
// into clusters (union-find over "distance ≤ range₁ + range₂"); the cluster
// with the most cells (then the most weight) wins, so one mislocated cell
// cannot drag the fix. When no cluster holds a strict majority of the
// known cells the fix is ambiguous and its accuracy is widened to cover
// every known cell's coverage circle.
// Cell ranges are capped at DBConfig.MaxAccuracyM of their radio class.
// The fix is the weighted centroid of the winning cluster (on the unit
// sphere, safe across the antimeridian). Its 95 % accuracy is the largest
// of the 95th-percentile distance of the member cells from the fix, the
// members' weighted mean range shrunk by √(members), and the
// DBConfig.MinAccuracyM of the finest member's radio class.
// If no cell is known but a LAC/TAC is, the area's centroid is returned
// with the area's 95 % radius (at least AreaMinAccuracyM) and MethodArea.
//
// Locate does not allocate on success and is safe for concurrent use. Its
// errors are those of the CellLocator contract (ErrNoObservations, the
// bad-input sentinels, ErrCellNotFound, ctx.Err()).
func (db *CellDB) Locate(ctx context.Context, obs []CellObservation) (Position, error) {
	if err := ctx.Err(); err != nil {
		return Position{}, err
	}
	if err := checkObservations(obs); err != nil {
		return Position{}, err
	}
	// Look every cell up first. On a large table each lookup is two cache
	// misses (hash slot, then record); loading every home slot and then
	// every record they point at with no branch in between lets the CPU
	// overlap the misses of all observations instead of serialising them
	// (measured: 3 cold lookups on 1 M cells 1.2 µs → 0.7 µs).
	var at [MaxObservations]int32
	if len(db.index) > 0 {
		var home [MaxObservations]uint32
		for i := range obs {
			home[i] = db.index[db.slot(areaKeyOf(obs[i].CellID), obs[i].CellID.Cell)]
		}
		var touch uint64
		for i := range obs {
			if h := home[i]; h != 0 {
				touch += db.rec(int(h - 1)).cell
			}
		}
		if touch == math.MaxUint64 { // never true; keeps the loads from being dropped
			at[0] = -1
		}
	}
	for i := range obs {
		at[i] = -1
		if db.cfg.MaxAge > 0 && obs[i].Age > db.cfg.MaxAge {
			continue
		}
		at[i] = int32(db.find(obs[i].CellID))
	}
	var ms [MaxObservations]member
	n := 0
	for i := range obs {
		o := &obs[i]
		j := int(at[i])
		if j < 0 {
			continue
		}
		m := &ms[n]
		m.p = db.pos(j)
		m.x, m.y, m.z = unitVec(m.p)
		m.radio = o.CellID.Radio
		// A cell's range is capped at its class's MaxAccuracyM: bogus
		// ranges (OpenCelliD has cells "covering" 1000 km) would otherwise
		// join any outlier to the cluster and drag the fix with it.
		m.r = math.Min(db.rangeOf(j, m.radio), db.cfg.MaxAccuracyM[m.radio])
		m.w = db.weight(o, uint32(db.rec(j).samples))
		m.root = int8(n)
		n++
	}
	if n == 0 {
		return db.locateArea(obs)
	}
	members := ms[:n]

	// Cluster cells whose coverage circles touch.
	for i := 1; i < n; i++ {
		for j := 0; j < i; j++ {
			if touching(&members[i], &members[j]) {
				union(members, i, j)
			}
		}
	}
	var support [MaxObservations]float64
	var count [MaxObservations]int
	best := -1
	for i := range members {
		r := find(members, i)
		support[r] += members[i].w
		count[r]++
	}
	for r := range n {
		if count[r] == 0 {
			continue
		}
		if best < 0 || count[r] > count[best] || (count[r] == count[best] && support[r] > support[best]) {
			best = r
		}
	}

	// Weighted centroid of the winning cluster.
	var x, y, z, wsum, rsum float64
	var in [MaxObservations]bool
	for i := range members {
		in[i] = find(members, i) == best
	}
	finest := Radio(0)
	k := 0
	for i := range members {
		m := &members[i]
		if !in[i] {
			continue
		}
		x, y, z = x+m.w*m.x, y+m.w*m.y, z+m.w*m.z
		wsum += m.w
		rsum += m.w * m.r
		if m.radio > finest {
			finest = m.radio
		}
		members[k], members[i] = members[i], members[k] // cluster to the front
		in[k], in[i] = in[i], in[k]
		k++
	}
	c := fromVec(x, y, z)
	var cx, cy, cz float64
	if nv := math.Sqrt(x*x + y*y + z*z); nv > 0 {
		cx, cy, cz = x/nv, y/nv, z/nv // the centroid's unit vector, without trigonometry
	} else {
		cx, cy, cz = unitVec(c)
	}

	// 95th-percentile member distance (nearest-rank) and coverage term.
	// Distance grows with the chord, so the squared chords are ranked and
	// only the chosen one is turned into metres.
	var ds [MaxObservations]float64
	for i := range k {
		ds[i] = chord2(&members[i], cx, cy, cz)
	}
	rank := max(int(math.Ceil(0.95*float64(k)))-1, 0)
	if rank == k-1 { // k ≤ 19: the nearest-rank 95th percentile is the maximum
		for i := range k - 1 {
			ds[rank] = math.Max(ds[rank], ds[i])
		}
	} else {
		sortSmall(ds[:k])
	}
	spread := EarthRadiusM * 2 * math.Asin(math.Min(1, math.Sqrt(ds[rank])/2))
	cover := rsum / wsum / math.Sqrt(float64(k))
	// The spread is measured, so it is never clamped down: a cluster of a
	// GSM and an LTE cell 30 km apart is not located to LTE's 20 km.
	acc := math.Max(spread, math.Max(cover, db.cfg.MinAccuracyM[finest]))
	if k < n && 2*k <= n {
		// No strict majority agrees: the fix is ambiguous, so its circle
		// must cover every located cell's coverage, outliers included.
		for i := k; i < n; i++ {
			m := &members[i]
			acc = math.Max(acc, EarthRadiusM*vecAngle(m, cx, cy, cz)+m.r)
		}
	}
	return Position{LatLng: c, AccuracyM: acc, Method: MethodCells, Cells: k, Outliers: n - k}, nil
}

// chord2 is the squared chord between m and the unit vector (x, y, z).
func chord2(m *member, x, y, z float64) float64 {
	dx, dy, dz := m.x-x, m.y-y, m.z-z
	return dx*dx + dy*dy + dz*dz
}

// touching reports whether the coverage circles of a and b meet: their
// central angle θ is at most (rₐ + r_b)/R, tested on the chord,
// |Δ| ≤ 2 sin(θ/2), so no inverse trigonometry is needed.
func touching(a, b *member) bool {
	half := (a.r + b.r) / (2 * EarthRadiusM)
	if half >= math.Pi/2 {
		return true
	}
	var s float64
	if half < 0.05 { // Taylor series to x⁵: relative error < 1e-13
		h2 := half * half
		s = half * (1 - h2/6*(1-h2/20))
	} else {
		s = math.Sin(half)
	}
	return chord2(a, b.x, b.y, b.z) <= 4*s*s
}

// vecAngle is the central angle between m and the unit vector (x, y, z),
// from the chord length: θ = 2·asin(|Δ|/2), accurate at all distances.
func vecAngle(m *member, x, y, z float64) float64 {
	dx, dy, dz := m.x-x, m.y-y, m.z-z
	h := math.Sqrt(dx*dx+dy*dy+dz*dz) / 2
	return 2 * math.Asin(math.Min(1, h))
}

// weight combines signal (or timing advance), sample count and age.
func (db *CellDB) weight(o *CellObservation, samples uint32) float64 {
	w := 1.0
	if o.SignalDBm != 0 {
		// Relative distance 10^((−100 − dBm)/(10γ)); weight = 1/distance.
		w = math.Exp(math.Ln10 * float64(o.SignalDBm+100) / (10 * db.cfg.PathLossExponent))
	}
	if o.TimingAdvance.Valid {
		if step, _ := taStepM(o.CellID.Radio); step > 0 {
			// Distance from the antenna ≈ (TA + ½)·step; 1 km counts as 1.
			d := (float64(o.TimingAdvance.Steps) + 0.5) * step
			w *= math.Max(0.1, math.Min(10, 1000/d))
		}
	}
	w *= math.Log2(2 + float64(samples))
	if o.Age > 0 {
		w /= 1 + o.Age.Minutes()/10
	}
	return w
}

// locateArea is the LAC/TAC fallback: the area of the first observation
// whose area is known, preferring stronger signals.
func (db *CellDB) locateArea(obs []CellObservation) (Position, error) {
	bestI, bestW := -1, math.Inf(-1)
	for i := range obs {
		if db.cfg.MaxAge > 0 && obs[i].Age > db.cfg.MaxAge {
			continue
		}
		a, ok := db.findArea(areaKeyOf(obs[i].CellID))
		if !ok {
			continue
		}
		w := float64(obs[i].SignalDBm)
		if obs[i].SignalDBm == 0 {
			w = -100
		}
		if w > bestW {
			bestI, bestW = a, w
		}
	}
	if bestI < 0 {
		return Position{}, ErrCellNotFound
	}
	p := LatLng{Lat: float64(db.areaLat[bestI]) / coordScale, Lng: float64(db.areaLng[bestI]) / coordScale}
	acc := math.Max(db.cfg.AreaMinAccuracyM, float64(db.areaRad[bestI]))
	return Position{LatLng: p, AccuracyM: acc, Method: MethodArea}, nil
}

func (db *CellDB) findArea(k uint64) (int, bool) {
	lo, hi := 0, len(db.areaKey)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if db.areaKey[m] < k {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(db.areaKey) && db.areaKey[lo] == k
}

func find(ms []member, i int) int {
	for int(ms[i].root) != i {
		ms[i].root = ms[ms[i].root].root
		i = int(ms[i].root)
	}
	return i
}

func union(ms []member, i, j int) {
	ri, rj := find(ms, i), find(ms, j)
	if ri != rj {
		if ri < rj {
			ms[rj].root = int8(ri)
		} else {
			ms[ri].root = int8(rj)
		}
	}
}

// sortSmall is an insertion sort for at most MaxObservations values.
func sortSmall(a []float64) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
