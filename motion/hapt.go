package motion

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrHAPT reports malformed HAPT input; errors are *HAPTError values
// wrapping it.
var ErrHAPT = errors.New("motion: malformed HAPT data")

// HAPTError locates a defect in HAPT input.
type HAPTError struct {
	File string // path within the file system
	Line int    // 1-based; 0 when the defect concerns the whole file
	Msg  string // what is wrong
}

// Error names the file, the line and the defect.
func (e *HAPTError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%v: %s line %d: %s", ErrHAPT, e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%v: %s: %s", ErrHAPT, e.File, e.Msg)
}

// Unwrap returns ErrHAPT.
func (e *HAPTError) Unwrap() error { return ErrHAPT }

// HAPTRate is the sample rate of the HAPT recordings in Hz.
const HAPTRate = 50

// haptActivities are the activity names of the HAPT activity_labels.txt,
// ids 1–12 (Reyes-Ortiz et al., Neurocomputing 171, 2016).
var haptActivities = [...]string{
	"WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING",
	"STAND_TO_SIT", "SIT_TO_STAND", "SIT_TO_LIE", "LIE_TO_SIT", "STAND_TO_LIE", "LIE_TO_STAND",
}

// HAPTActivity returns the name of HAPT activity id (1–12) as the data set's
// activity_labels.txt spells it ("LAYING" included), or "" for another id.
func HAPTActivity(id int) string {
	if id < 1 || id > len(haptActivities) {
		return ""
	}
	return haptActivities[id-1]
}

// HAPTBasicActivities returns the six basic activities of HAPT (the UCI-HAR
// classes, ids 1–6); the other six are postural transitions.
func HAPTBasicActivities() []string { return slices.Clone(haptActivities[:6]) }

// HAPTConfig controls ReadHAPT. The zero value reads every subject with the
// default bounds.
type HAPTConfig struct {
	// Subjects restricts loading to these user ids (1–30); nil means all.
	Subjects []int
	// MaxFileBytes bounds each file's decompressed size; default 8 MiB (the
	// largest HAPT file is about 2.2 MB), at most 1 GiB.
	MaxFileBytes int64
	// MaxFiles bounds the number of experiments read; default 200.
	MaxFiles int
}

// DefaultHAPTConfig returns the configuration the zero HAPTConfig stands for.
func DefaultHAPTConfig() HAPTConfig { return HAPTConfig{}.withDefaults() }

func (c HAPTConfig) withDefaults() HAPTConfig {
	if c.MaxFileBytes == 0 {
		c.MaxFileBytes = 8 << 20
	}
	if c.MaxFiles == 0 {
		c.MaxFiles = 200
	}
	return c
}

// Validate reports whether the configuration (after defaults) is usable;
// errors wrap ErrConfig.
func (c HAPTConfig) Validate() error {
	d := c.withDefaults()
	switch {
	case d.MaxFileBytes < 1 || d.MaxFileBytes > 1<<30:
		return fmt.Errorf("%w: MaxFileBytes %d not in [1, 2^30]", ErrConfig, d.MaxFileBytes)
	case d.MaxFiles < 1 || d.MaxFiles > 10000:
		return fmt.Errorf("%w: MaxFiles %d not in [1, 10000]", ErrConfig, d.MaxFiles)
	}
	for _, s := range d.Subjects {
		if s < 1 || s > 99 {
			return fmt.Errorf("%w: subject %d not in [1, 99]", ErrConfig, s)
		}
	}
	return nil
}

// HAPT is the content of the HAPT raw-data folder: one Recording per
// labelled segment, in experiment and time order.
type HAPT struct {
	// Segments hold one labelled segment each: Subject is "user" and the
	// two-digit id ("user07"), Activity the HAPT name (HAPTActivity),
	// Samples the accelerometer (m/s², converted from g with
	// StandardGravity) and gyroscope (rad/s) at HAPTRate, T = line index /
	// 50 Hz from the start of the experiment.
	Segments []Recording
	// Experiment[i] is the experiment number of Segments[i].
	Experiment []int
	// Experiments is the number of experiments read; Samples the number of
	// sample lines read (labelled or not).
	Experiments, Samples int
}

var haptFile = regexp.MustCompile(`^acc_exp(\d\d)_user(\d\d)\.txt(\.gz)?$`)

// ReadHAPT reads the raw layout of the UCI HAPT data set ("Smartphone-Based
// Recognition of Human Activities and Postural Transitions", Reyes-Ortiz et
// al., 2016; CC BY 4.0): acc_expXX_userYY.txt and gyro_expXX_userYY.txt
// (three space-separated numbers a line, g and rad/s, 50 Hz, line n of one
// the same instant as line n of the other) and labels.txt (experiment, user,
// activity id, first and last line, 1-based inclusive). Each file may also
// be gzip-compressed with ".gz" appended. fsys holds the files, either at
// its root or in a RawData folder.
//
// Unlabelled stretches are dropped. A malformed line, an acc/gyro pair of
// different lengths, a label outside its file or a file over
// cfg.MaxFileBytes is a *HAPTError wrapping ErrHAPT; an invalid cfg wraps
// ErrConfig; a missing labels file or experiment file is the fs error.
func ReadHAPT(fsys fs.FS, cfg HAPTConfig) (*HAPT, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if fsys == nil {
		return nil, fmt.Errorf("%w: nil file system", ErrConfig)
	}
	cfg = cfg.withDefaults()
	dir := "."
	if fi, err := fs.Stat(fsys, "RawData"); err == nil && fi.IsDir() {
		dir = "RawData"
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	type exp struct{ name, user string }
	exps := map[int]exp{}
	var order []int
	for _, e := range entries {
		m := haptFile.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		x, _ := strconv.Atoi(m[1])
		u, _ := strconv.Atoi(m[2])
		if cfg.Subjects != nil && !slices.Contains(cfg.Subjects, u) {
			continue
		}
		base := strings.TrimSuffix(e.Name(), ".gz")
		if prev, dup := exps[x]; dup {
			if prev.name == base {
				continue // both plain and compressed: the plain one is read
			}
			return nil, &HAPTError{File: e.Name(), Msg: fmt.Sprintf("experiment %d appears twice", x)}
		}
		if len(exps) == cfg.MaxFiles {
			return nil, &HAPTError{File: dir, Msg: fmt.Sprintf("more than %d experiments", cfg.MaxFiles)}
		}
		exps[x] = exp{name: base, user: m[2]}
		order = append(order, x)
	}
	slices.Sort(order)
	labelsName := path.Join(dir, "labels.txt")
	lb, err := readMaybeGzip(fsys, labelsName, cfg.MaxFileBytes)
	if err != nil {
		return nil, err
	}
	type seg struct{ act, lo, hi int }
	segs := map[int][]seg{}
	for i, line := range bytes.Split(lb, []byte{'\n'}) {
		f := bytes.Fields(line)
		if len(f) == 0 {
			continue
		}
		var v [5]int
		bad := len(f) != 5
		for k := 0; !bad && k < 5; k++ {
			n, err := strconv.Atoi(string(f[k]))
			bad = err != nil || n < 0 || n > 1<<30
			v[k] = n
		}
		if bad || HAPTActivity(v[2]) == "" || v[3] < 1 || v[4] < v[3] {
			return nil, &HAPTError{File: labelsName, Line: i + 1, Msg: fmt.Sprintf("want experiment user activity(1–12) first last (1 ≤ first ≤ last), got %q", line)}
		}
		e, ok := exps[v[0]]
		if !ok {
			continue // an experiment not loaded
		}
		if u, _ := strconv.Atoi(e.user); u != v[1] {
			return nil, &HAPTError{File: labelsName, Line: i + 1, Msg: fmt.Sprintf("experiment %d belongs to user %d, not %d", v[0], u, v[1])}
		}
		segs[v[0]] = append(segs[v[0]], seg{v[2], v[3], v[4]})
	}
	out := &HAPT{}
	step := time.Second / HAPTRate
	for _, x := range order {
		e := exps[x]
		accName := path.Join(dir, e.name)
		gyroName := path.Join(dir, "gyro"+e.name[len("acc"):])
		acc, err := readHAPTAxes(fsys, accName, cfg.MaxFileBytes)
		if err != nil {
			return nil, err
		}
		gyro, err := readHAPTAxes(fsys, gyroName, cfg.MaxFileBytes)
		if err != nil {
			return nil, err
		}
		if len(acc) != len(gyro) {
			return nil, &HAPTError{File: gyroName, Msg: fmt.Sprintf("%d lines, accelerometer file has %d", len(gyro), len(acc))}
		}
		out.Experiments++
		out.Samples += len(acc)
		for _, s := range segs[x] {
			if s.hi > len(acc) {
				return nil, &HAPTError{File: labelsName, Msg: fmt.Sprintf("experiment %d segment %d–%d beyond its %d lines", x, s.lo, s.hi, len(acc))}
			}
			rec := Recording{Subject: "user" + e.user, Activity: HAPTActivity(s.act), Samples: make([]Sample, 0, s.hi-s.lo+1)}
			for i := s.lo - 1; i < s.hi; i++ {
				var smp Sample
				smp.T = time.Duration(i) * step
				for k := range 3 {
					smp.Accel[k] = acc[i][k] * StandardGravity
					smp.Gyro[k] = gyro[i][k]
				}
				rec.Samples = append(rec.Samples, smp)
			}
			out.Segments = append(out.Segments, rec)
			out.Experiment = append(out.Experiment, x)
		}
	}
	return out, nil
}

// readMaybeGzip reads name, or name+".gz" decompressed, up to limit bytes.
func readMaybeGzip(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	gz := false
	if errors.Is(err, fs.ErrNotExist) {
		f, err = fsys.Open(name + ".gz")
		gz = true
		name += ".gz"
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if gz {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, &HAPTError{File: name, Msg: err.Error()}
		}
		defer zr.Close()
		r = zr
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, &HAPTError{File: name, Msg: err.Error()}
	}
	if int64(len(b)) > limit {
		return nil, &HAPTError{File: name, Msg: fmt.Sprintf("larger than %d bytes", limit)}
	}
	return b, nil
}

// readHAPTAxes reads a HAPT sensor file: three finite numbers a line.
func readHAPTAxes(fsys fs.FS, name string, limit int64) ([][3]float64, error) {
	b, err := readMaybeGzip(fsys, name, limit)
	if err != nil {
		return nil, err
	}
	out := make([][3]float64, 0, len(b)/56)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 4096)
	line := 0
	for sc.Scan() {
		line++
		f := bytes.Fields(sc.Bytes())
		if len(f) != 3 { // a blank line too: labels count lines
			return nil, &HAPTError{File: name, Line: line, Msg: fmt.Sprintf("want 3 numbers, got %d fields", len(f))}
		}
		var v [3]float64
		for k := range 3 {
			x, err := strconv.ParseFloat(string(f[k]), 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1e3 {
				return nil, &HAPTError{File: name, Line: line, Msg: fmt.Sprintf("%q is not a finite sensor value", f[k])}
			}
			v[k] = x
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, &HAPTError{File: name, Line: line + 1, Msg: err.Error()}
	}
	return out, nil
}
