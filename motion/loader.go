package motion

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// ErrCSV reports malformed raw CSV input; errors are *CSVError values
// wrapping it.
var ErrCSV = errors.New("motion: malformed raw CSV")

// CSVError locates a defect in raw CSV input.
type CSVError struct {
	Line int    // 1-based
	Msg  string // what is wrong with the line
}

// Error names the line and the defect.
func (e *CSVError) Error() string { return fmt.Sprintf("%v: line %d: %s", ErrCSV, e.Line, e.Msg) }

// Unwrap returns ErrCSV.
func (e *CSVError) Unwrap() error { return ErrCSV }

// CSVConfig controls ReadRawCSV. The zero value reads the WISDM layout
// with nanosecond timestamps.
type CSVConfig struct {
	// TimeUnit is the unit of the timestamp column, which holds a whole
	// number or a decimal fraction of it (31.25 with time.Millisecond;
	// rounded to the nanosecond). Default time.Nanosecond (WISDM v1.1 and
	// the WISDM 2019 smartphone/smartwatch set); use time.Millisecond for
	// exports that count milliseconds.
	TimeUnit time.Duration
	// MaxRows bounds the number of data rows; default 1 000 000, at most
	// 10⁸.
	MaxRows int
	// MaxLineBytes bounds one line; default 4096, at least 16, at most 1 MiB.
	MaxLineBytes int
	// SkipMalformed skips rows that fail to parse instead of failing,
	// counting them in RawCSV.Skipped (WISDM v1.1 has a few truncated rows).
	SkipMalformed bool
}

// Bounds on CSVConfig.
const (
	maxCSVRows      = 100_000_000
	maxCSVLineBytes = 1 << 20
)

// DefaultCSVConfig returns the configuration the zero CSVConfig stands for.
func DefaultCSVConfig() CSVConfig { return CSVConfig{}.withDefaults() }

func (c CSVConfig) withDefaults() CSVConfig {
	if c.TimeUnit == 0 {
		c.TimeUnit = time.Nanosecond
	}
	if c.MaxRows == 0 {
		c.MaxRows = 1_000_000
	}
	if c.MaxLineBytes == 0 {
		c.MaxLineBytes = 4096
	}
	return c
}

// Validate reports whether the configuration (after defaults) is usable:
// TimeUnit positive, MaxRows in [1, 10⁸], MaxLineBytes in [16, 1 MiB].
// Errors wrap ErrConfig.
func (c CSVConfig) Validate() error {
	d := c.withDefaults()
	switch {
	case d.TimeUnit < 0:
		return fmt.Errorf("%w: TimeUnit %v is negative", ErrConfig, d.TimeUnit)
	case d.MaxRows < 1 || d.MaxRows > maxCSVRows:
		return fmt.Errorf("%w: MaxRows %d not in [1, %d]", ErrConfig, d.MaxRows, maxCSVRows)
	case d.MaxLineBytes < 16 || d.MaxLineBytes > maxCSVLineBytes:
		return fmt.Errorf("%w: MaxLineBytes %d not in [16, %d]", ErrConfig, d.MaxLineBytes, maxCSVLineBytes)
	}
	return nil
}

// Recording is a run of consecutive rows with the same user and activity
// whose timestamps increase. Samples hold the accelerometer only (Gyro is
// zero: the raw format has no gyroscope columns).
type Recording struct {
	Subject  string   // the user column
	Activity string   // the activity column
	Samples  []Sample // in increasing time order
}

// RawCSV is the result of ReadRawCSV.
type RawCSV struct {
	Recordings []Recording // runs of rows with one user and activity and rising time
	Rows       int         // data rows accepted
	Skipped    int         // malformed rows skipped (SkipMalformed only)
}

// ReadRawCSV reads the raw accelerometer layout used by WISDM and by
// UCI-HAR-style exports: one sample a line,
//
//	user,activity,timestamp,x,y,z
//
// with accelerations in m/s². A ';' ends a record as a newline does: WISDM
// v1.1 ends every line with one and joins a few records on one line with it.
// Blank records are skipped, and so is a first non-blank record whose
// timestamp field is not a number (a header). Consecutive rows of the same
// user and activity form a Recording; a timestamp that does not increase
// starts a new one (WISDM restarts its clock between sessions). All sizes are
// bounded by cfg.
//
// A malformed row (unless cfg.SkipMalformed), more than cfg.MaxRows rows or
// a line longer than cfg.MaxLineBytes is a *CSVError wrapping ErrCSV; an
// error reading r is returned as it is.
func ReadRawCSV(r io.Reader, cfg CSVConfig) (*RawCSV, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("%w: nil reader", ErrConfig)
	}
	cfg = cfg.withDefaults()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(cfg.MaxLineBytes, 64<<10)), cfg.MaxLineBytes)
	out := &RawCSV{}
	var cur *Recording
	var fields [6][]byte
	line := 0
	first := true // no non-blank line seen yet: it may be a header
	for sc.Scan() {
		line++
		// ';' ends a record. WISDM v1.1 ends every line with one, and a few of
		// its lines hold two records ("…,1.76;21,Jogging,…"), which a
		// line-per-record reader mistakes for an 11-field row.
		rest := sc.Bytes()
		for len(rest) > 0 {
			b := rest
			if i := bytes.IndexByte(rest, ';'); i >= 0 {
				b, rest = rest[:i], rest[i+1:]
			} else {
				rest = nil
			}
			b = bytes.TrimSpace(b)
			if len(b) == 0 {
				continue
			}
			s, user, act, err := parseRawRow(b, &fields, cfg.TimeUnit)
			header := first && errors.Is(err, errHeader)
			first = false
			if err != nil {
				if header {
					continue
				}
				if cfg.SkipMalformed {
					out.Skipped++
					continue
				}
				return nil, &CSVError{Line: line, Msg: err.Error()}
			}
			if out.Rows == cfg.MaxRows {
				return nil, &CSVError{Line: line, Msg: fmt.Sprintf("more than %d rows", cfg.MaxRows)}
			}
			out.Rows++
			if cur == nil || string(user) != cur.Subject || string(act) != cur.Activity ||
				s.T <= cur.Samples[len(cur.Samples)-1].T {
				out.Recordings = append(out.Recordings, Recording{Subject: string(user), Activity: string(act)})
				cur = &out.Recordings[len(out.Recordings)-1]
			}
			cur.Samples = append(cur.Samples, s)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &CSVError{Line: line + 1, Msg: fmt.Sprintf("line longer than %d bytes", cfg.MaxLineBytes)}
		}
		return nil, err
	}
	return out, nil
}

var errHeader = errors.New("timestamp is not a number")

func parseRawRow(b []byte, f *[6][]byte, unit time.Duration) (Sample, []byte, []byte, error) {
	var s Sample
	n := 0
	for n < 5 {
		i := bytes.IndexByte(b, ',')
		if i < 0 {
			break
		}
		f[n] = bytes.TrimSpace(b[:i])
		b = b[i+1:]
		n++
	}
	if n != 5 || bytes.IndexByte(b, ',') >= 0 {
		return s, nil, nil, fmt.Errorf("want 6 comma-separated fields")
	}
	f[5] = bytes.TrimSpace(b)
	if len(f[0]) == 0 || len(f[0]) > MaxLabelLen || len(f[1]) == 0 || len(f[1]) > MaxLabelLen {
		return s, nil, nil, fmt.Errorf("user and activity must be 1–%d bytes", MaxLabelLen)
	}
	t, err := parseTimestamp(f[2], unit)
	if err != nil {
		return s, nil, nil, err
	}
	s.T = t
	for k := range 3 {
		v, err := strconv.ParseFloat(string(f[3+k]), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return s, nil, nil, fmt.Errorf("acceleration %q is not a finite number", f[3+k])
		}
		s.Accel[k] = v
	}
	return s, f[0], f[1], nil
}

// parseTimestamp reads a timestamp in units of unit: a whole number, or a
// decimal fraction (31.25 ms at 32 Hz) rounded to the nanosecond. A field
// that is not a number is errHeader.
func parseTimestamp(b []byte, unit time.Duration) (time.Duration, error) {
	if ts, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		if ts < 0 || ts > math.MaxInt64/int64(unit) {
			return 0, fmt.Errorf("timestamp %d out of range", ts)
		}
		return time.Duration(ts) * unit, nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(v) || bytes.ContainsAny(b, "xXpP_") {
		return 0, errHeader
	}
	ns := v * float64(unit)
	// 2^63 ns is just above MaxInt64; the comparison is exact in float64.
	if !(ns >= 0 && ns < 1<<63) {
		return 0, fmt.Errorf("timestamp %s out of range", b)
	}
	return time.Duration(math.Round(ns)), nil
}

// Windows cuts rec into consecutive windows of length d, starting a new one
// every hop (hop = d for non-overlapping windows, d/2 for the 50 % overlap
// of UCI-HAR). Windows are sub-slices of rec.Samples (no copying); a final
// window shorter than d is dropped. A d or hop that is not positive is an
// error wrapping ErrConfig.
func (rec *Recording) Windows(d, hop time.Duration) ([][]Sample, error) {
	if d <= 0 || hop <= 0 {
		return nil, fmt.Errorf("%w: window %v, hop %v", ErrConfig, d, hop)
	}
	s := rec.Samples
	var out [][]Sample
	start := 0
	for start < len(s) {
		t0 := s[start].T
		end := start
		for end < len(s) && s[end].T-t0 < d {
			end++
		}
		if end == len(s) && s[end-1].T-t0 < d-d/16 {
			break // the remainder is too short
		}
		out = append(out, s[start:end])
		next := start
		for next < len(s) && s[next].T-t0 < hop {
			next++
		}
		start = max(next, start+1)
	}
	return out, nil
}

// Skipped counts the windows RecordingExamples left out and keeps the first
// reason for diagnosis.
type Skipped struct {
	N     int   // windows left out
	First error // nil when N == 0
}

// RecordingExamples cuts recordings into windows (see Recording.Windows) and
// extracts each window's features with one Extractor, labelling them with
// the activity and subject. Windows that fail validation are skipped and
// counted in Skipped (real recordings contain gaps), not returned as an
// error; err reports only a bad d, hop or cfg.
func RecordingExamples(recs []Recording, d, hop time.Duration, cfg Config) (ex []Example, skipped Skipped, err error) {
	e, err := NewExtractor(cfg)
	if err != nil {
		return nil, skipped, err
	}
	for i := range recs {
		ws, err := recs[i].Windows(d, hop)
		if err != nil {
			return nil, skipped, err
		}
		for _, w := range ws {
			var f Features
			if werr := e.ExtractInto(&f, w); werr != nil {
				skipped.N++
				if skipped.First == nil {
					skipped.First = fmt.Errorf("%s/%s at %v: %w", recs[i].Subject, recs[i].Activity, w[0].T, werr)
				}
				continue
			}
			ex = append(ex, Example{Features: f, Label: recs[i].Activity, Subject: recs[i].Subject,
				Sequence: fmt.Sprintf("%s#%d", recs[i].Subject, i)})
		}
	}
	return ex, skipped, nil
}
