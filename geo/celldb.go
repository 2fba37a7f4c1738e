package geo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"time"
	"unsafe"
)

// DBConfig tunes how a CellDB turns cells into a position. The zero value
// is usable: zero fields take the values of DefaultDBConfig.
type DBConfig struct {
	// PathLossExponent γ of the log-distance model used to turn signal
	// strength into a relative distance (2 free space … 4 dense urban).
	PathLossExponent float64
	// MaxAge ignores observations older than this (0 = no limit).
	MaxAge time.Duration
	// MinAccuracyM and MaxAccuracyM clamp a cell fix's 95 % radius per
	// radio class, indexed by Radio (GSM…NR); index 0 is unused.
	MinAccuracyM, MaxAccuracyM [5]float64
	// DefaultRangeM is the coverage radius assumed for cells whose range
	// is unknown, indexed by Radio.
	DefaultRangeM [5]float64
	// AreaMinAccuracyM is the smallest 95 % radius of an area fallback fix.
	AreaMinAccuracyM float64
}

// DefaultDBConfig returns the defaults: γ = 3, accuracy clamps GSM
// 500 m–35 km, UMTS 300 m–20 km, LTE 150 m–20 km, NR 50 m–5 km (the upper
// bounds follow the maximum cell radius of each technology), default ranges
// 3 km / 2 km / 1.5 km / 500 m, and area fixes no better than 5 km.
func DefaultDBConfig() DBConfig {
	return DBConfig{
		PathLossExponent: 3,
		MinAccuracyM:     [5]float64{0, 500, 300, 150, 50},
		MaxAccuracyM:     [5]float64{0, 35000, 20000, 20000, 5000},
		DefaultRangeM:    [5]float64{0, 3000, 2000, 1500, 500},
		AreaMinAccuracyM: 5000,
	}
}

// Validate reports an inconsistent configuration with an error wrapping
// ErrInvalidConfig. Zero fields are valid (they take the defaults).
func (c DBConfig) Validate() error {
	c = c.withDefaults()
	if !(c.PathLossExponent >= 1 && c.PathLossExponent <= 10) {
		return fmt.Errorf("%w: PathLossExponent %v outside [1, 10]", ErrInvalidConfig, c.PathLossExponent)
	}
	if c.MaxAge < 0 {
		return fmt.Errorf("%w: negative MaxAge %v", ErrInvalidConfig, c.MaxAge)
	}
	for r := GSM; r <= NR; r++ {
		lo, hi, d := c.MinAccuracyM[r], c.MaxAccuracyM[r], c.DefaultRangeM[r]
		if !(lo > 0 && hi >= lo && !math.IsInf(hi, 0)) || !(d > 0 && !math.IsInf(d, 0)) {
			return fmt.Errorf("%w: %v accuracy clamp [%v, %v] / default range %v", ErrInvalidConfig, r, lo, hi, d)
		}
	}
	if !(c.AreaMinAccuracyM > 0 && !math.IsInf(c.AreaMinAccuracyM, 0)) {
		return fmt.Errorf("%w: AreaMinAccuracyM %v", ErrInvalidConfig, c.AreaMinAccuracyM)
	}
	return nil
}

func (c DBConfig) withDefaults() DBConfig {
	d := DefaultDBConfig()
	if c.PathLossExponent == 0 {
		c.PathLossExponent = d.PathLossExponent
	}
	for r := GSM; r <= NR; r++ {
		if c.MinAccuracyM[r] == 0 {
			c.MinAccuracyM[r] = d.MinAccuracyM[r]
		}
		if c.MaxAccuracyM[r] == 0 {
			c.MaxAccuracyM[r] = d.MaxAccuracyM[r]
		}
		if c.DefaultRangeM[r] == 0 {
			c.DefaultRangeM[r] = d.DefaultRangeM[r]
		}
	}
	if c.AreaMinAccuracyM == 0 {
		c.AreaMinAccuracyM = d.AreaMinAccuracyM
	}
	return c
}

// CellDB is the reference CellLocator: an immutable, compact in-memory
// table of cells, built once with NewCellDB or LoadCSV and then safe for
// concurrent use.
//
// Storage is a table of 32-byte records sorted by cell key (no pointers, so
// the garbage collector never scans it, and a lookup touches one cache
// line), an open-addressing hash index of 32-bit positions (6 bytes a cell)
// and a 20-byte-per-area table, so the world's ~40 M cells take about
// 1.6 GB.
// Positions are stored to 1e-7° (≈1 cm).
type CellDB struct {
	cfg DBConfig

	cells []cellRec // sorted by (key, cell)

	index []uint32 // linear-probing hash slots: 0 empty, else position+1

	areaKey []uint64 // sorted distinct keys
	areaLat []int32
	areaLng []int32
	areaRad []uint32 // 95 % radius of the area, metres
}

var _ CellLocator = (*CellDB)(nil)

const coordScale = 1e7

// cellRec is one stored cell: 32 bytes, so a lookup touches one cache line.
type cellRec struct {
	key     uint64 // radio|mcc|mnc|area
	cell    uint64
	lat     int32  // degrees × 1e7
	lng     int32  // degrees × 1e7
	rng     uint32 // coverage radius, metres (0 = unknown)
	samples uint16 // saturating
	signal  int16  // average dBm (0 = unknown)
}

func areaKeyOf(id CellID) uint64 {
	return uint64(id.Radio)<<36 | uint64(id.MCC)<<26 | uint64(id.MNC)<<16 | uint64(id.Area)
}

func hashKey(k, c uint64) uint64 {
	h := k*0x9E3779B97F4A7C15 ^ c
	h ^= h >> 31
	h *= 0xD6E8FEB86659FD93
	h ^= h >> 32
	return h
}

// Len returns the number of cells.
func (db *CellDB) Len() int { return len(db.cells) }

// Areas returns the number of distinct location/tracking areas.
func (db *CellDB) Areas() int { return len(db.areaKey) }

// MemoryBytes returns the bytes held by the table's arrays.
func (db *CellDB) MemoryBytes() int {
	return int(unsafe.Sizeof(cellRec{}))*cap(db.cells) + 4*cap(db.index) +
		8*cap(db.areaKey) + 4*cap(db.areaLat) + 4*cap(db.areaLng) + 4*cap(db.areaRad)
}

// slot maps a key to its home slot by the multiply-high "fastrange"
// reduction, so the table need not be a power of two.
func (db *CellDB) slot(k, c uint64) int {
	hi, _ := bits.Mul64(hashKey(k, c), uint64(len(db.index)))
	return int(hi)
}

func (db *CellDB) next(h int) int {
	if h++; h == len(db.index) {
		return 0
	}
	return h
}

// find returns the position of id, or -1.
func (db *CellDB) find(id CellID) int {
	if len(db.index) == 0 {
		return -1
	}
	k := areaKeyOf(id)
	for h := db.slot(k, id.Cell); ; h = db.next(h) {
		s := db.index[h]
		if s == 0 {
			return -1
		}
		if i := int(s - 1); db.cells[i].key == k && db.cells[i].cell == id.Cell {
			return i
		}
	}
}

// Lookup returns the stored record of a cell. Created, Updated, Unit and
// Changeable are not kept and come back zero / −1 / false; Samples is
// saturated at 65535 and the location rounded to 1e-7°.
func (db *CellDB) Lookup(id CellID) (CellRecord, bool) {
	i := db.find(id)
	if i < 0 {
		return CellRecord{}, false
	}
	return CellRecord{
		ID:           id,
		Unit:         -1,
		Location:     db.pos(i),
		RangeM:       float64(db.cells[i].rng),
		Samples:      int(db.cells[i].samples),
		AvgSignalDBm: int(db.cells[i].signal),
	}, true
}

// builder accumulates cells before sorting.
type builder struct {
	ents []cellRec
	dups int
}

func (b *builder) add(rec *CellRecord) {
	b.ents = append(b.ents, cellRec{
		key:     areaKeyOf(rec.ID),
		cell:    rec.ID.Cell,
		lat:     int32(math.Round(rec.Location.Lat * coordScale)),
		lng:     int32(math.Round(rec.Location.Lng * coordScale)),
		rng:     uint32(math.Min(math.Max(rec.RangeM, 0), math.MaxUint32)),
		samples: uint16(min(max(rec.Samples, 0), math.MaxUint16)),
		signal:  int16(rec.AvgSignalDBm),
	})
}

// radixSort sorts a by (key, cell) with a stable least-significant-digit
// radix sort on bytes (5 of cell, then 5 of key), skipping bytes that are
// the same in every record. Stability keeps duplicates in input order. It
// returns the sorted slice, which is either a or tmp (len(tmp) ≥ len(a)).
func radixSort(a, tmp []cellRec) []cellRec {
	if len(a) < 2 {
		return a
	}
	var hist [10][256]int
	for i := range a {
		c, k := a[i].cell, a[i].key
		for d := range 5 {
			hist[d][byte(c>>(8*d))]++
			hist[5+d][byte(k>>(8*d))]++
		}
	}
	src, dst := a, tmp[:len(a)]
	for d := range 10 {
		shift := uint(8 * (d % 5))
		digit := func(r *cellRec) byte {
			if d >= 5 {
				return byte(r.key >> shift)
			}
			return byte(r.cell >> shift)
		}
		h := &hist[d]
		if h[digit(&src[0])] == len(src) {
			continue // every record has the same byte here
		}
		sum := 0
		for b := range h {
			h[b], sum = sum, sum+h[b]
		}
		for i := range src {
			b := digit(&src[i])
			dst[h[b]] = src[i]
			h[b]++
		}
		src, dst = dst, src
	}
	return src
}

// NewCellDB builds a CellDB from records. Invalid records are rejected with
// an error naming their index; for duplicate CellIDs the record with more
// samples (then the later one) wins. cfg may be the zero value.
func NewCellDB(recs []CellRecord, cfg DBConfig) (*CellDB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(recs) >= math.MaxUint32/2 {
		return nil, fmt.Errorf("%w: %d records", ErrTooManyCells, len(recs))
	}
	b := &builder{ents: make([]cellRec, 0, len(recs))}
	for i := range recs {
		if err := recs[i].ID.Validate(); err != nil {
			return nil, fmt.Errorf("%w %d: %w", ErrInvalidRecord, i, err)
		}
		if err := recs[i].Location.Validate(); err != nil {
			return nil, fmt.Errorf("%w %d: %w", ErrInvalidRecord, i, err)
		}
		if !(recs[i].RangeM >= 0) || math.IsInf(recs[i].RangeM, 0) {
			return nil, fmt.Errorf("%w %d: range %v", ErrInvalidRecord, i, recs[i].RangeM)
		}
		b.add(&recs[i])
	}
	return b.build(cfg.withDefaults()), nil
}

func (b *builder) build(cfg DBConfig) *CellDB {
	ents := radixSort(b.ents, make([]cellRec, len(b.ents)))
	b.ents = nil // the sort's other buffer is garbage from here on
	// Deduplicate: keep the most-sampled (then latest) entry of each key.
	out := ents[:0]
	for _, e := range ents {
		if n := len(out); n > 0 && out[n-1].key == e.key && out[n-1].cell == e.cell {
			b.dups++
			if e.samples >= out[n-1].samples {
				out[n-1] = e
			}
			continue
		}
		out = append(out, e)
	}
	n := len(out)
	db := &CellDB{cfg: cfg, cells: out}
	if n < cap(out)-cap(out)/8 {
		// Many duplicates: copy to a right-sized table so they do not
		// hold memory for the table's lifetime. Otherwise the sorted
		// buffer is kept, which saves a third of the peak memory of a
		// world-sized load.
		db.cells = make([]cellRec, n)
		copy(db.cells, out)
	}
	nAreas := 0
	for i, e := range out {
		if i == 0 || e.key != out[i-1].key {
			nAreas++
		}
	}
	// Hash index at load factor 2/3: 6 bytes a cell.
	size := 0
	if n > 0 {
		size = n + n/2 + 1
	}
	db.index = make([]uint32, size)
	for i := range n {
		h := db.slot(db.cells[i].key, db.cells[i].cell)
		for db.index[h] != 0 {
			h = db.next(h)
		}
		db.index[h] = uint32(i + 1)
	}
	db.buildAreas(nAreas)
	return db
}

// buildAreas computes each area's centroid and 95 % radius. With the cells'
// distances from the centroid treated as a 2-D normal scatter, the 95 %
// radius is √(χ²₂(0.95)/2) ≈ 1.73 times the RMS distance; the mean cell
// range is added for the coverage of the outermost cells.
func (db *CellDB) buildAreas(nAreas int) {
	db.areaKey = make([]uint64, 0, nAreas)
	db.areaLat = make([]int32, 0, nAreas)
	db.areaLng = make([]int32, 0, nAreas)
	db.areaRad = make([]uint32, 0, nAreas)
	for lo := 0; lo < len(db.cells); {
		hi := lo + 1
		for hi < len(db.cells) && db.cells[hi].key == db.cells[lo].key {
			hi++
		}
		var x, y, z, rsum float64
		radio := Radio(db.cells[lo].key >> 36)
		for i := lo; i < hi; i++ {
			p := db.pos(i)
			cx, cy, cz := unitVec(p)
			x, y, z = x+cx, y+cy, z+cz
			rsum += math.Min(db.rangeOf(i, radio), db.cfg.MaxAccuracyM[radio]) // bogus ranges capped as in Locate
		}
		c := fromVec(x, y, z)
		// Mean squared chord to the mean direction, in one pass:
		// Σ|vᵢ − ĉ|² = 2n − 2|Σvᵢ| for unit vectors (chord ≈ arc here).
		cnt := float64(hi - lo)
		msq := math.Max(0, 2-2*math.Sqrt(x*x+y*y+z*z)/cnt)
		rad := 1.73*EarthRadiusM*math.Sqrt(msq) + rsum/cnt
		db.areaKey = append(db.areaKey, db.cells[lo].key)
		db.areaLat = append(db.areaLat, int32(math.Round(c.Lat*coordScale)))
		db.areaLng = append(db.areaLng, int32(math.Round(c.Lng*coordScale)))
		db.areaRad = append(db.areaRad, uint32(math.Min(rad, math.MaxUint32)))
		lo = hi
	}
}

func (db *CellDB) pos(i int) LatLng {
	return LatLng{Lat: float64(db.cells[i].lat) / coordScale, Lng: float64(db.cells[i].lng) / coordScale}
}

func (db *CellDB) rangeOf(i int, r Radio) float64 {
	if db.cells[i].rng > 0 {
		return float64(db.cells[i].rng)
	}
	return db.cfg.DefaultRangeM[r]
}

func unitVec(p LatLng) (x, y, z float64) {
	sl, cl := math.Sincos(p.Lat * deg)
	sg, cg := math.Sincos(p.Lng * deg)
	return cl * cg, cl * sg, sl
}

func fromVec(x, y, z float64) LatLng {
	h := math.Hypot(x, y)
	lat := math.Atan2(z, h) / deg
	lng := 0.0
	if h > 0 {
		lng = math.Atan2(y, x) / deg
	}
	return LatLng{Lat: math.Max(-90, math.Min(90, lat)), Lng: math.Max(-180, math.Min(180, lng))}
}

// LoadStats counts what a CSV load did.
type LoadStats struct {
	Lines   int                 // lines read, including header and blank lines
	Rows    int                 // data rows (lines that are neither header nor blank)
	Kept    int                 // distinct cells in the table
	Header  bool                // the first data line was a header (not counted in Rows)
	Skipped [NumSkipReasons]int // rows skipped, by SkipReason
}

// SkippedTotal returns the number of skipped rows.
func (s LoadStats) SkippedTotal() int {
	t := 0
	for _, n := range s.Skipped {
		t += n
	}
	return t
}

// LoadOptions configures LoadCSV. The zero value is usable: zero fields
// take the values of DefaultLoadOptions.
type LoadOptions struct {
	// MaxLineBytes bounds a line (default 1024; a real row is ~100 bytes).
	// Longer lines are skipped as SkipLineTooLong without being buffered.
	MaxLineBytes int
	// Progress, if set, is called from the loading goroutine every
	// ProgressEvery lines (default 1<<20) and once at the end.
	Progress      func(LoadStats)
	ProgressEvery int // lines between Progress calls; default 1<<20
	// SizeHint, if positive, is the expected number of rows; the loader
	// preallocates for up to 64 M rows to avoid regrowing its buffer.
	SizeHint int
	// Config tunes the resulting CellDB.
	Config DBConfig
}

// DefaultLoadOptions returns the defaults the zero LoadOptions stands for:
// lines up to 1024 bytes, Progress every 1<<20 lines (when set), no
// SizeHint and DefaultDBConfig.
func DefaultLoadOptions() LoadOptions {
	return LoadOptions{MaxLineBytes: 1024, ProgressEvery: 1 << 20, Config: DefaultDBConfig()}
}

// Validate reports options LoadCSV would reject, with an error wrapping
// ErrInvalidConfig: MaxLineBytes above 1 MiB or an invalid Config. Zero and
// negative MaxLineBytes, ProgressEvery and SizeHint take the defaults.
func (o LoadOptions) Validate() error {
	if o.MaxLineBytes > 1<<20 {
		return fmt.Errorf("%w: MaxLineBytes %d above 1 MiB", ErrInvalidConfig, o.MaxLineBytes)
	}
	return o.Config.Validate()
}

// LineError is a fatal CSV error at a line.
type LineError struct {
	Line int   // 1-based
	Err  error // the cause: ErrUnknownRadio, ErrTooManyCells or a read error
}

// Error implements error.
func (e *LineError) Error() string { return fmt.Sprintf("geo: csv line %d: %v", e.Line, e.Err) }

// Unwrap returns the underlying error.
func (e *LineError) Unwrap() error { return e.Err }

// LoadCSV reads the OpenCelliD / MLS cell CSV from r (header optional, LF or
// CRLF line ends; decompress gzip exports with compress/gzip first; the
// created/updated columns are Unix seconds or ISO 8601 dates, see
// CellRecord) and builds a CellDB. Malformed rows are skipped and counted
// in LoadStats; a row with an unknown radio word aborts the load with a
// *LineError wrapping ErrUnknownRadio; a done ctx aborts it with
// ctx.Err(). When no row is kept (empty input, only a header, or every
// row skipped) LoadCSV returns ErrNoCells and the stats that say why.
// Other errors: a nil r (ErrNilReader), invalid opts (ErrInvalidConfig,
// see LoadOptions.Validate), a read error from r (a *LineError wrapping
// it) and a table past the cell limit (a *LineError wrapping
// ErrTooManyCells). The stats are valid even when an error is returned.
// The returned CellDB is safe for concurrent use.
func LoadCSV(ctx context.Context, r io.Reader, opts LoadOptions) (*CellDB, LoadStats, error) {
	var st LoadStats
	if err := opts.Validate(); err != nil {
		return nil, st, err
	}
	if r == nil {
		return nil, st, ErrNilReader
	}
	maxLine := opts.MaxLineBytes
	if maxLine <= 0 {
		maxLine = 1024
	}
	every := opts.ProgressEvery
	if every <= 0 {
		every = 1 << 20
	}
	br := bufio.NewReaderSize(r, max(64<<10, maxLine+2))
	b := &builder{ents: make([]cellRec, 0, min(max(opts.SizeHint, 0), 64<<20))}
	for {
		if st.Lines&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, st, err
			}
		}
		line, err := br.ReadSlice('\n')
		if len(line) == 0 && err == io.EOF {
			break
		}
		st.Lines++
		if errors.Is(err, bufio.ErrBufferFull) {
			// Too long: drop it without buffering, up to the next newline.
			for errors.Is(err, bufio.ErrBufferFull) {
				if cerr := ctx.Err(); cerr != nil {
					return nil, st, cerr
				}
				_, err = br.ReadSlice('\n')
			}
			line = nil
			st.Rows++
			st.Skipped[SkipLineTooLong]++
		}
		if err != nil && err != io.EOF {
			return nil, st, &LineError{Line: st.Lines, Err: err}
		}
		body := line
		if n := len(body); n > 0 && body[n-1] == '\n' {
			body = body[:n-1]
		}
		if n := len(body); n > 0 && body[n-1] == '\r' {
			body = body[:n-1]
		}
		if st.Lines == 1 && len(body) >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF {
			body = body[3:] // UTF-8 byte-order mark
		}
		switch {
		case len(body) > maxLine:
			st.Rows++
			st.Skipped[SkipLineTooLong]++
		case len(body) == 0 || line == nil:
		default:
			rec, perr := ParseCellRow(body)
			switch {
			case perr == nil:
				st.Rows++
				b.add(&rec)
			case perr == ErrHeader && st.Rows == 0 && !st.Header:
				st.Header = true
			default:
				st.Rows++
				if re, ok := perr.(*RowError); ok {
					st.Skipped[re.Reason]++
				} else if perr == ErrHeader {
					st.Skipped[SkipBadKey]++ // a second header mid-file
				} else {
					return nil, st, &LineError{Line: st.Lines, Err: perr}
				}
			}
		}
		if opts.Progress != nil && st.Lines%every == 0 {
			opts.Progress(st)
		}
		if err == io.EOF {
			break
		}
		if len(b.ents) >= math.MaxUint32/2 {
			return nil, st, &LineError{Line: st.Lines, Err: ErrTooManyCells}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, st, err
	}
	db := b.build(opts.Config.withDefaults())
	st.Skipped[SkipDuplicate] += b.dups
	st.Kept = db.Len()
	if opts.Progress != nil {
		opts.Progress(st)
	}
	if st.Kept == 0 {
		return nil, st, fmt.Errorf("%w: %d lines, %d data rows, %d skipped", ErrNoCells, st.Lines, st.Rows, st.SkippedTotal())
	}
	return db, st, nil
}
