package geo

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
// 1.6 GB. The records are held in chunks of 4096 (128 KiB) that loading
// fills once and sorts in place, so a load never copies or regrows the
// table and its peak memory is the final table plus about one chunk.
// Positions are stored to 1e-7° (≈1 cm).
type CellDB struct {
	cfg DBConfig

	chunks [][]cellRec // sorted by (key, cell); record i is chunks[i>>chunkShift][i&chunkMask]
	n      int         // records

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

// Record chunks: 1<<chunkShift records (128 KiB) each. Small chunks keep
// the slack of the last one, and so a load's peak above the final table,
// near 128 KiB; the chunk headers of a 40 M-cell table take 240 KB, few
// enough to stay in cache for the extra load a lookup makes.
const (
	chunkShift = 12
	chunkSize  = 1 << chunkShift
	chunkMask  = chunkSize - 1
)

// rec returns record i.
func (db *CellDB) rec(i int) *cellRec { return &db.chunks[i>>chunkShift][i&chunkMask] }

// Len returns the number of cells.
func (db *CellDB) Len() int { return db.n }

// Areas returns the number of distinct location/tracking areas.
func (db *CellDB) Areas() int { return len(db.areaKey) }

// MemoryBytes returns the bytes held by the table's arrays.
func (db *CellDB) MemoryBytes() int {
	recs := 0
	for _, c := range db.chunks {
		recs += cap(c)
	}
	return int(unsafe.Sizeof(cellRec{}))*recs + 4*cap(db.index) +
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
		if r := db.rec(int(s - 1)); r.key == k && r.cell == id.Cell {
			return int(s - 1)
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
	r := db.rec(i)
	return CellRecord{
		ID:           id,
		Unit:         -1,
		Location:     db.pos(i),
		RangeM:       float64(r.rng),
		Samples:      int(r.samples),
		AvgSignalDBm: int(r.signal),
	}, true
}

// builder accumulates cells in chunks before sorting. Each record carries
// its arrival number in the bits of key and cell above seqShift (unused by
// either: keys have 39 bits, cells at most 36), so that duplicates can be
// resolved in arrival order after an unstable in-place sort.
type builder struct {
	chunks [][]cellRec
	n      int // records added
	est    int // expected records (0: unknown); sizes the first and last chunks
	dups   int
}

// Arrival numbers: the low 24 bits in cell, the high ones in key.
const (
	seqShift = 40
	seqMask  = 1<<seqShift - 1 // the real key and cell bits
)

func (b *builder) add(rec *CellRecord) {
	k := b.n >> chunkShift
	if k == len(b.chunks) {
		// Full chunks, except that the expected size (or 4096 records when
		// unknown) bounds the first and the last; a chunk that proves too
		// small grows by append, a copy of at most one chunk.
		c := chunkSize
		switch {
		case b.est > 0:
			c = min(c, max(b.est-b.n, 1024))
		case k == 0:
			c = 4096
		}
		b.chunks = append(b.chunks, make([]cellRec, 0, c))
	}
	b.chunks[k] = append(b.chunks[k], cellRec{
		key:     areaKeyOf(rec.ID) | uint64(b.n>>24)<<seqShift,
		cell:    rec.ID.Cell | uint64(b.n&(1<<24-1))<<seqShift,
		lat:     int32(math.Round(rec.Location.Lat * coordScale)),
		lng:     int32(math.Round(rec.Location.Lng * coordScale)),
		rng:     uint32(math.Min(math.Max(rec.RangeM, 0), math.MaxUint32)),
		samples: uint16(min(max(rec.Samples, 0), math.MaxUint16)),
		signal:  int16(rec.AvgSignalDBm),
	})
	b.n++
}

// seqOf returns a record's arrival number.
func seqOf(r *cellRec) uint64 { return (r.key>>seqShift)<<24 | r.cell>>seqShift }

// lessKey orders records by (key, cell), ignoring arrival numbers.
func lessKey(a, b *cellRec) bool {
	ak, bk := a.key&seqMask, b.key&seqMask
	return ak < bk || ak == bk && a.cell&seqMask < b.cell&seqMask
}

// digit returns sort digit d of r: d = 0…4 the bytes of key from the most
// significant (bits 32–39) down, d = 5…9 those of cell.
func digit(r *cellRec, d int) byte {
	if d < 5 {
		return byte(r.key >> (8 * (4 - d)))
	}
	return byte(r.cell >> (8 * (9 - d)))
}

// sortInPlace sorts records [lo, hi) of db by (key, cell) with an
// in-place most-significant-digit radix sort ("American flag sort",
// McIlroy, Bostic & McIlroy, "Engineering radix sort", Computing Systems
// 6(1), 1993): per bucket, one counting pass and one permutation pass by
// swaps, no buffer. Digits that are the same throughout a bucket are
// skipped; buckets of up to 32 records are finished by insertion sort.
// The sort is not stable; builder.build resolves duplicates by arrival
// number instead.
func (db *CellDB) sortInPlace(lo, hi, d int) {
	for hi-lo > 32 && d < 10 {
		var count [256]int
		for i := lo; i < hi; i++ {
			count[digit(db.rec(i), d)]++
		}
		if count[digit(db.rec(lo), d)] == hi-lo {
			d++ // one bucket holds everything: next digit
			continue
		}
		var next, end [256]int
		at := lo
		for b := range 256 {
			next[b] = at
			at += count[b]
			end[b] = at
		}
		for b := range 256 {
			for next[b] < end[b] {
				r := db.rec(next[b])
				x := digit(r, d)
				if int(x) == b {
					next[b]++
					continue
				}
				// Swap r into its bucket; what comes back is examined next.
				o := db.rec(next[x])
				*r, *o = *o, *r
				next[x]++
			}
		}
		at = lo
		for b := range 256 {
			if c := count[b]; c > 1 {
				db.sortInPlace(at, at+c, d+1)
			}
			at += count[b]
		}
		return
	}
	for i := lo + 1; i < hi; i++ {
		for j := i; j > lo && lessKey(db.rec(j), db.rec(j-1)); j-- {
			a, b := db.rec(j), db.rec(j-1)
			*a, *b = *b, *a
		}
	}
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
	b := &builder{est: len(recs)}
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

// build sorts the chunks in place, keeps the most-sampled (then latest)
// record of each cell, and adds the hash index and the area table. The
// chunks become the CellDB's table; nothing is copied except, when
// duplicates or the last chunk's slack would hold more than an eighth of
// a chunk, the last chunk itself.
func (b *builder) build(cfg DBConfig) *CellDB {
	db := &CellDB{cfg: cfg, chunks: b.chunks, n: b.n}
	b.chunks = nil
	db.sortInPlace(0, db.n, 0)
	// Deduplicate in place: of each run of equal (key, cell) keep the
	// record with the most samples, then the latest arrival.
	out := 0
	for i := 0; i < db.n; {
		best := db.rec(i)
		j := i + 1
		for ; j < db.n; j++ {
			r := db.rec(j)
			if r.key&seqMask != best.key&seqMask || r.cell&seqMask != best.cell&seqMask {
				break
			}
			if r.samples > best.samples || r.samples == best.samples && seqOf(r) > seqOf(best) {
				best = r
			}
		}
		b.dups += j - i - 1
		rec := *best
		rec.key &= seqMask
		rec.cell &= seqMask
		*db.rec(out) = rec
		out++
		i = j
	}
	db.n = out
	// Drop emptied chunks; give the last one back its slack when that is
	// worth a copy (small tables, or many duplicates).
	nc := (out + chunkMask) >> chunkShift
	clear(db.chunks[nc:])
	db.chunks = db.chunks[:nc:nc]
	if nc > 0 {
		last := db.chunks[nc-1][:out-(nc-1)<<chunkShift]
		if cap(last)-len(last) > chunkSize/8 || nc == 1 && cap(last)-len(last) > len(last)/8 {
			last = append([]cellRec(nil), last...)
		}
		db.chunks[nc-1] = last
	}
	n := out
	nAreas := 0
	for i := range n {
		if i == 0 || db.rec(i).key != db.rec(i-1).key {
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
		r := db.rec(i)
		h := db.slot(r.key, r.cell)
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
	for lo := 0; lo < db.n; {
		key := db.rec(lo).key
		hi := lo + 1
		for hi < db.n && db.rec(hi).key == key {
			hi++
		}
		var x, y, z, rsum float64
		radio := Radio(key >> 36)
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
		db.areaKey = append(db.areaKey, key)
		db.areaLat = append(db.areaLat, int32(math.Round(c.Lat*coordScale)))
		db.areaLng = append(db.areaLng, int32(math.Round(c.Lng*coordScale)))
		db.areaRad = append(db.areaRad, uint32(math.Min(rad, math.MaxUint32)))
		lo = hi
	}
}

func (db *CellDB) pos(i int) LatLng {
	r := db.rec(i)
	return LatLng{Lat: float64(r.lat) / coordScale, Lng: float64(r.lng) / coordScale}
}

func (db *CellDB) rangeOf(i int, r Radio) float64 {
	if r := db.rec(i); r.rng > 0 {
		return float64(r.rng)
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
	// SizeHint, if positive, is the expected number of rows. It is not
	// needed: the table grows in fixed chunks of 4096 rows that are
	// never copied, and the first and last chunks are sized from the
	// input's length where that can be known (see LoadCSV); a hint
	// replaces that estimate, which saves at most one chunk's copy.
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

// inputSize returns the bytes left in r where the reader tells it (Len,
// as bytes.Reader, strings.Reader and bytes.Buffer do; Stat of a regular
// file such as *os.File, less the current offset; or an io.Seeker, which
// is moved to the end and back), or −1. If the input is a gzip stream
// (RFC 1952) that r can read at an offset (io.ReaderAt and io.Seeker, as
// *os.File and bytes.Reader), it also returns the uncompressed size from
// the stream's ISIZE trailer (the size modulo 2³², taken as the first
// value at least twice the compressed size, since CSV compresses well;
// for a multi-member file it is only the last member's), else −1. Both
// are only estimates. It returns an error only when seeking back failed.
func inputSize(r io.Reader) (size, gzipSize int64, err error) {
	size, gzipSize = -1, -1
	switch v := r.(type) {
	case interface{ Len() int }:
		size = int64(v.Len())
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
			if sk, ok := r.(io.Seeker); ok {
				if off, err := sk.Seek(0, io.SeekCurrent); err == nil {
					size -= off
				}
			}
		}
	case io.Seeker:
		off, err := v.Seek(0, io.SeekCurrent)
		if err != nil {
			break
		}
		end, err := v.Seek(0, io.SeekEnd)
		if _, serr := v.Seek(off, io.SeekStart); serr != nil {
			return -1, -1, fmt.Errorf("geo: seeking back after measuring the input: %w", serr)
		}
		if err == nil {
			size = end - off
		}
	}
	ra, ok1 := r.(io.ReaderAt)
	sk, ok2 := r.(io.Seeker)
	if !ok1 || !ok2 || size < 18 { // a gzip member has a 10-byte header and an 8-byte trailer
		return size, -1, nil
	}
	off, err := sk.Seek(0, io.SeekCurrent)
	if err != nil {
		return size, -1, nil
	}
	var head [3]byte
	var tail [4]byte
	if _, err := ra.ReadAt(head[:], off); err != nil || head != [3]byte{0x1f, 0x8b, 8} {
		return size, -1, nil
	}
	if _, err := ra.ReadAt(tail[:], off+size-4); err != nil {
		return size, -1, nil
	}
	gzipSize = int64(binary.LittleEndian.Uint32(tail[:]))
	for i := 0; i < 64 && gzipSize < 2*size; i++ {
		gzipSize += 1 << 32
	}
	return size, gzipSize, nil
}

// estimateRows estimates the rows in size bytes of CSV from the bytes per
// line of the first 64 KiB, peeked through br without consuming them; 0
// when size is unknown.
func estimateRows(size int64, br *bufio.Reader) int {
	if size <= 0 {
		return 0
	}
	head, _ := br.Peek(min(br.Size(), int(min(size, math.MaxInt32))))
	lines := bytes.Count(head, []byte{'\n'})
	if len(head) == 0 || lines == 0 {
		return 0
	}
	if int64(len(head)) >= size {
		return lines + 1
	}
	// 2 % above the first lines' rate: rows vary a little in length.
	return int(min(float64(size)/float64(len(head))*float64(lines)*1.02+1, math.MaxInt32))
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
// CRLF line ends; gzip exports (RFC 1952, as OpenCelliD ships them) are
// recognised by their magic bytes and decompressed; the
// created/updated columns are Unix seconds or ISO 8601 dates, see
// CellRecord) and builds a CellDB. Malformed rows are skipped and counted
// in LoadStats; a row with an unknown radio word aborts the load with a
// *LineError wrapping ErrUnknownRadio; a done ctx aborts it with
// ctx.Err(). When no row is kept (empty input, only a header, or every
// row skipped) LoadCSV returns ErrNoCells and the stats that say why.
// Other errors: a nil r (ErrNilReader), invalid opts (ErrInvalidConfig,
// see LoadOptions.Validate), a read error from r (a *LineError wrapping
// it) and a table past the cell limit (a *LineError wrapping
// ErrTooManyCells, or an error from seeking r back after measuring it).
// The stats are valid even when an error is returned. The returned CellDB
// is safe for concurrent use.
//
// Cost: linear in the rows; the peak memory is the final table plus at
// most about two chunks (256 KiB) and the 64 KiB read buffers, with no
// SizeHint. Where r tells its length (Len, Stat of a regular file, or
// Seek — a Seeker is moved to the end and back before reading; for a
// gzip file that r can read at an offset, the trailer's uncompressed
// size) the first and last chunks are sized from it, which keeps small
// tables free of slack; pipes and wrapped streams grow chunk by chunk.
// Errors of a gzip input are *LineError values wrapping the
// compress/gzip error (gzip.ErrHeader, gzip.ErrChecksum).
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
	size, gzipSize, err := inputSize(r)
	if err != nil {
		return nil, st, &LineError{Line: 1, Err: err}
	}
	br := bufio.NewReaderSize(r, max(64<<10, maxLine+2))
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		// A gzip export (no CSV starts with byte 0x1F): decompress it.
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, st, &LineError{Line: 1, Err: err}
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, max(64<<10, maxLine+2))
		size = gzipSize
	}
	b := &builder{est: opts.SizeHint}
	if b.est <= 0 {
		b.est = estimateRows(size, br)
	}
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
		if b.n >= math.MaxUint32/2 {
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
