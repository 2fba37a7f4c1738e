package geo

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// CellRecord is one row of the OpenCelliD / Mozilla Location Service cell
// exchange format:
//
//	radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal
//
// (OpenCelliD "Cell towers database" description, https://wiki.opencellid.org/wiki/Menu_map_view#database,
// and the MLS "Cell ID export" documentation).
type CellRecord struct {
	ID       CellID // radio, MCC, MNC, area and cell columns
	Unit     int    // PSC (UMTS) / PCI (LTE, NR); −1 when empty
	Location LatLng // the lat/lon columns: the estimated cell position
	// RangeM is the estimated coverage radius in metres (0 = unknown).
	RangeM float64
	// Samples is the number of measurements behind the estimate.
	Samples int
	// Changeable is true when the position is computed from measurements
	// rather than taken from the operator.
	Changeable bool
	// Created and Updated are the record timestamps (zero when empty), in
	// UTC. In the CSV they are Unix times in seconds, as OpenCelliD and
	// MLS export them ("1282569574"); ISO 8601 / RFC 3339 dates as other
	// tools write them are accepted too: "2010-08-23",
	// "2010-08-23T13:19:34Z", "2010-08-23 13:19:34", with optional
	// fractional seconds and a "Z" or ±hh:mm offset (no offset is UTC).
	// Anything else skips the row as SkipBadField.
	Created, Updated time.Time
	// AvgSignalDBm is the average reported signal (0 = unknown).
	AvgSignalDBm int
}

// SkipReason classifies a CSV row the loader skipped.
type SkipReason uint8

// Reasons a CSV row is skipped. They index LoadStats.Skipped.
const (
	SkipFieldCount       SkipReason = iota // not exactly 14 fields
	SkipBadKey                             // radio key field non-numeric or out of range
	SkipBadCoordinates                     // lon/lat non-numeric, NaN, out of range or 0,0
	SkipBadField                           // range, samples, unit, changeable, times or signal malformed
	SkipLineTooLong                        // longer than LoadOptions.MaxLineBytes
	SkipUnsupportedRadio                   // CDMA rows (valid in the format, not a 3GPP CellID)
	SkipDuplicate                          // same CellID as a row with more samples
	NumSkipReasons                         // number of reasons
)

var skipNames = [...]string{"field-count", "bad-key", "bad-coordinates", "bad-field", "line-too-long", "unsupported-radio", "duplicate"}

// String returns a short kebab-case name of r.
func (r SkipReason) String() string {
	if int(r) < len(skipNames) {
		return skipNames[r]
	}
	return fmt.Sprintf("SkipReason(%d)", uint8(r))
}

// RowError is returned by ParseCellRow for a row the loader skips and counts.
// To keep the skip path allocation-free the returned values are shared:
// read them, never modify them.
type RowError struct {
	Reason SkipReason // why the row is skipped (the LoadStats.Skipped index)
	Field  string     // offending column, if any
}

// Error implements error.
func (e *RowError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("geo: csv row skipped (%v): field %s", e.Reason, e.Field)
	}
	return fmt.Sprintf("geo: csv row skipped (%v)", e.Reason)
}

// ErrHeader is returned by ParseCellRow for the header line.
var ErrHeader = errors.New("geo: csv header line")

// The CSV layout.
const csvFields = 14

// Pre-built row errors so the skip path does not allocate. They are never
// modified.
var (
	rowErrFieldCount = &RowError{Reason: SkipFieldCount}
	rowErrCDMA       = &RowError{Reason: SkipUnsupportedRadio, Field: "radio"}
	rowErrKey        = [5]*RowError{
		{Reason: SkipBadKey, Field: "radio"}, {Reason: SkipBadKey, Field: "mcc"},
		{Reason: SkipBadKey, Field: "net"}, {Reason: SkipBadKey, Field: "area"},
		{Reason: SkipBadKey, Field: "cell"},
	}
	rowErrCoord = [2]*RowError{{Reason: SkipBadCoordinates, Field: "lon"}, {Reason: SkipBadCoordinates, Field: "lat"}}
	rowErrNull  = &RowError{Reason: SkipBadCoordinates, Field: "lon,lat"}
	rowErrField = [csvFields]*RowError{
		5: {Reason: SkipBadField, Field: "unit"}, 8: {Reason: SkipBadField, Field: "range"},
		9: {Reason: SkipBadField, Field: "samples"}, 10: {Reason: SkipBadField, Field: "changeable"},
		11: {Reason: SkipBadField, Field: "created"}, 12: {Reason: SkipBadField, Field: "updated"},
		13: {Reason: SkipBadField, Field: "averageSignal"},
	}
)

// ParseCellRow parses one CSV line (without its line terminator; a trailing
// '\r' is ignored). It returns ErrHeader for the header line, an error
// wrapping ErrUnknownRadio for a radio word other than GSM, UMTS, LTE, NR or
// CDMA, and a *RowError for any other malformed row (an empty radio field
// is a missing key, SkipBadKey, not an unknown word). It does not allocate
// unless a number needs the slow float path.
func ParseCellRow(line []byte) (CellRecord, error) {
	var rec CellRecord
	line = bytes.TrimSuffix(line, []byte{'\r'})
	var f [csvFields][]byte
	n := 0
	for start := 0; ; {
		i := bytes.IndexByte(line[start:], ',')
		if n == csvFields {
			return rec, rowErrFieldCount
		}
		if i < 0 {
			f[n] = line[start:]
			n++
			break
		}
		f[n] = line[start : start+i]
		n++
		start += i + 1
	}
	if n != csvFields {
		if n >= 1 && eqFold(f[0], "RADIO") {
			return rec, ErrHeader
		}
		return rec, rowErrFieldCount
	}
	r, ok := parseRadio(f[0])
	if !ok {
		switch {
		case len(f[0]) == 0:
			return rec, rowErrKey[0] // a missing key, not an unknown word
		case eqFold(f[0], "CDMA"):
			return rec, rowErrCDMA
		case eqFold(f[0], "RADIO"):
			return rec, ErrHeader
		}
		return rec, fmt.Errorf("%w: %q", ErrUnknownRadio, truncate(f[0], 32))
	}
	rec.ID.Radio = r
	mcc, ok := parseUint(f[1], 999)
	if !ok || mcc < 1 {
		return rec, rowErrKey[1]
	}
	mnc, ok := parseUint(f[2], 999)
	if !ok {
		return rec, rowErrKey[2]
	}
	area, ok := parseUint(f[3], 65533)
	if !ok || area < 1 {
		return rec, rowErrKey[3]
	}
	cell, ok := parseUint(f[4], r.MaxCell())
	if !ok {
		return rec, rowErrKey[4]
	}
	rec.ID.MCC, rec.ID.MNC, rec.ID.Area, rec.ID.Cell = uint16(mcc), uint16(mnc), uint32(area), cell

	rec.Unit = -1
	if len(f[5]) > 0 {
		u, ok := parseUint(f[5], 1<<20)
		if !ok {
			return rec, rowErrField[5]
		}
		rec.Unit = int(u)
	}
	lon, ok := parseFloat(f[6])
	if !ok || !(lon >= -180 && lon <= 180) {
		return rec, rowErrCoord[0]
	}
	lat, ok := parseFloat(f[7])
	if !ok || !(lat >= -90 && lat <= 90) {
		return rec, rowErrCoord[1]
	}
	if lat == 0 && lon == 0 {
		return rec, rowErrNull // "Null Island": a placeholder, not a measurement
	}
	rec.Location = LatLng{Lat: lat, Lng: lon}

	var v uint64
	if v, ok = optUint(f[8], 1<<31); !ok {
		return rec, rowErrField[8]
	}
	rec.RangeM = float64(v)
	if v, ok = optUint(f[9], 1<<31); !ok {
		return rec, rowErrField[9]
	}
	rec.Samples = int(v)
	if v, ok = optUint(f[10], 1); !ok {
		return rec, rowErrField[10]
	}
	rec.Changeable = v == 1
	for k, dst := range [2]*time.Time{&rec.Created, &rec.Updated} {
		if v, ok = optUint(f[11+k], 1<<40); ok {
			if v != 0 {
				*dst = time.Unix(int64(v), 0).UTC()
			}
			continue
		}
		if *dst, ok = parseISOTime(f[11+k]); !ok {
			return rec, rowErrField[11+k]
		}
	}
	if s := f[13]; len(s) > 0 {
		neg := s[0] == '-'
		if neg {
			s = s[1:]
		}
		v, ok := parseUint(s, 1000)
		if !ok {
			return rec, rowErrField[13]
		}
		sig := int(v)
		if neg {
			sig = -sig
		}
		if sig >= -150 && sig <= -20 {
			rec.AvgSignalDBm = sig // other values (0, positive ASU) mean "unknown"
		}
	}
	return rec, nil
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// parseUint parses a non-empty decimal number ≤ max.
func parseUint(b []byte, max uint64) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > max/10 {
			return 0, false
		}
		v *= 10
		if d > max-v {
			return 0, false
		}
		v += d
	}
	return v, true
}

// optUint is parseUint that maps an empty field to 0.
func optUint(b []byte, max uint64) (uint64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	return parseUint(b, max)
}

var pow10tab = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat parses a finite decimal number. Plain "[-+]ddd.ddd" with at most
// 15 significant digits takes an exact, allocation-free path (an integer
// mantissa below 2⁵³ divided by an exact power of ten is correctly rounded);
// anything else goes through strconv.
func parseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || len(b) > 64 {
		return 0, false
	}
	s := b
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	var mant uint64
	digits, frac := 0, 0
	dot := false
	fast := len(s) > 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			if digits == 0 && c == '0' && !dot {
				continue // leading zeros
			}
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			fast = false
		}
		if !fast || digits > 15 {
			fast = false
			break
		}
	}
	if fast && (len(s) > 1 || s[0] != '.') {
		if dot && digits == 0 {
			// "0.000": count fractional zeros only to validate; value is 0.
			frac = 0
		}
		if frac < len(pow10tab) {
			v := float64(mant) / pow10tab[frac]
			if neg {
				v = -v
			}
			return v, true
		}
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// parseISOTime parses the ISO 8601 / RFC 3339 forms CellRecord documents:
// YYYY-MM-DD, optionally followed by 'T' or ' ' and hh:mm[:ss[.fraction]],
// optionally followed by 'Z' or an offset ±hh:mm / ±hhmm. It returns the
// time in UTC and does not allocate.
func parseISOTime(b []byte) (time.Time, bool) {
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, len(s) > 0
	}
	if len(b) < 10 || len(b) > 40 || b[4] != '-' || b[7] != '-' {
		return time.Time{}, false
	}
	y, ok1 := num(b[0:4])
	mo, ok2 := num(b[5:7])
	d, ok3 := num(b[8:10])
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	var h, mi, sec, nsec, off int
	rest := b[10:]
	if len(rest) > 0 {
		if rest[0] != 'T' && rest[0] != ' ' || len(rest) < 6 || rest[3] != ':' {
			return time.Time{}, false
		}
		var ok bool
		if h, ok = num(rest[1:3]); !ok || h > 23 {
			return time.Time{}, false
		}
		if mi, ok = num(rest[4:6]); !ok || mi > 59 {
			return time.Time{}, false
		}
		rest = rest[6:]
		if len(rest) >= 3 && rest[0] == ':' {
			if sec, ok = num(rest[1:3]); !ok || sec > 59 {
				return time.Time{}, false
			}
			rest = rest[3:]
			if len(rest) > 1 && (rest[0] == '.' || rest[0] == ',') {
				i, scale := 1, 100000000
				for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
					nsec += int(rest[i]-'0') * scale
					scale /= 10
				}
				if i == 1 {
					return time.Time{}, false
				}
				rest = rest[i:]
			}
		}
		switch {
		case len(rest) == 0:
		case len(rest) == 1 && rest[0] == 'Z':
		case (len(rest) == 6 && rest[3] == ':' || len(rest) == 5) && (rest[0] == '+' || rest[0] == '-'):
			oh, ok1 := num(rest[1:3])
			om, ok2 := num(rest[len(rest)-2:])
			if !ok1 || !ok2 || oh > 23 || om > 59 {
				return time.Time{}, false
			}
			off = oh*3600 + om*60
			if rest[0] == '-' {
				off = -off
			}
		default:
			return time.Time{}, false
		}
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, nsec, time.UTC)
	if t.Day() != d { // 31 April and the like
		return time.Time{}, false
	}
	return t.Add(-time.Duration(off) * time.Second), true
}
