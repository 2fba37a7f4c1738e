package motion

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

func TestReadRawCSVSample(t *testing.T) {
	f, err := os.Open("testdata/wisdm_sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	raw, err := ReadRawCSV(f, CSVConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if raw.Rows != 11 || raw.Skipped != 0 {
		t.Fatalf("rows %d skipped %d", raw.Rows, raw.Skipped)
	}
	type rec struct {
		subj, act string
		n         int
	}
	want := []rec{{"7", "Walking", 4}, {"7", "Standing", 2}, {"12", "Standing", 2}, {"12", "Standing", 3}}
	if len(raw.Recordings) != len(want) {
		t.Fatalf("%d recordings", len(raw.Recordings))
	}
	for i, w := range want {
		r := raw.Recordings[i]
		if r.Subject != w.subj || r.Activity != w.act || len(r.Samples) != w.n {
			t.Errorf("recording %d = %s/%s ×%d, want %+v", i, r.Subject, r.Activity, len(r.Samples), w)
		}
	}
	s := raw.Recordings[0].Samples[1]
	if s.T != 1050*time.Millisecond || s.Accel != [3]float64{5.01, 11.26, 0.95} || s.Gyro != [3]float64{} {
		t.Fatalf("sample %+v", s)
	}
	if s := raw.Recordings[2].Samples[1]; s.T != 2150*time.Millisecond || s.Accel[2] != 0.30 {
		t.Fatalf("spaces not trimmed: %+v", s)
	}
	// The last line joins two records with ';', as some WISDM v1.1 lines do.
	if s := raw.Recordings[3].Samples[2]; s.T != 2250*time.Millisecond || s.Accel != [3]float64{0.12, 9.81, 0.30} {
		t.Fatalf("second record of a joined line: %+v", s)
	}
}

func TestReadRawCSVErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		cfg      CSVConfig
		line     int
	}{
		{"five fields", "1,Walking,100,1,2\n", CSVConfig{}, 1},
		{"seven fields", "1,Walking,100,1,2,3,4\n", CSVConfig{}, 1},
		{"bad number", "1,Walking,100,1,2,3\n1,Walking,200,1,x,3\n", CSVConfig{}, 2},
		{"NaN", "1,Walking,100,1,NaN,3\n", CSVConfig{}, 1},
		{"Inf", "1,Walking,100,+Inf,2,3\n", CSVConfig{}, 1},
		{"bad timestamp after first line", "1,Walking,100,1,2,3\n1,Walking,abc,1,2,3\n", CSVConfig{}, 2},
		{"negative timestamp", "1,Walking,-100,1,2,3\n", CSVConfig{}, 1},
		{"overflowing timestamp", "1,Walking,9223372036854775,1,2,3\n", CSVConfig{TimeUnit: time.Second}, 1},
		{"empty user", ",Walking,100,1,2,3\n", CSVConfig{}, 1},
		{"long activity", "1," + strings.Repeat("a", 65) + ",100,1,2,3\n", CSVConfig{}, 1},
		{"long line", "1,Walking,100,1,2," + strings.Repeat("3", 100) + "\n", CSVConfig{MaxLineBytes: 64}, 1},
		{"too many rows", "1,W,1,1,2,3\n1,W,2,1,2,3\n1,W,3,1,2,3\n", CSVConfig{MaxRows: 2}, 3},
		{"bad second record of a joined line", "1,W,1,1,2,3\n1,W,2,1,2,3;1,W,3,1,2;\n", CSVConfig{}, 2},
		{"too many joined rows", "1,W,1,1,2,3;1,W,2,1,2,3;1,W,3,1,2,3;\n", CSVConfig{MaxRows: 2}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadRawCSV(strings.NewReader(tc.in), tc.cfg)
			ce, ok := errors.AsType[*CSVError](err)
			if !ok || !errors.Is(err, ErrCSV) {
				t.Fatalf("err = %v, want *CSVError", err)
			}
			if ce.Line != tc.line {
				t.Fatalf("line %d, want %d (%v)", ce.Line, tc.line, err)
			}
		})
	}
	raw, err := ReadRawCSV(strings.NewReader("1,W,1,1,2,3\n1,W,2,1,x,3\n1,W,3,1,2,3;\n"), CSVConfig{SkipMalformed: true})
	if err != nil || raw.Skipped != 1 || raw.Rows != 2 {
		t.Fatalf("skip: %+v %v", raw, err)
	}
}

// wisdmText writes a 20 Hz accelerometer recording in the WISDM layout.
func wisdmText(user, activity string, seconds float64, acc func(t float64) [3]float64) string {
	var b strings.Builder
	for i := 0; float64(i)/20 < seconds; i++ {
		x := float64(i) / 20
		a := acc(x)
		fmt.Fprintf(&b, "%s,%s,%d,%.4f,%.4f,%.4f;\n", user, activity, int64(5e9+x*1e9), a[0], a[1], a[2])
	}
	return b.String()
}

// The loader feeds training and evaluation on a public-data-set layout:
// windows at WISDM's 20 Hz, labelled with the activity, split by subject.
func TestRawCSVTrainEvaluate(t *testing.T) {
	var in strings.Builder
	for u := 1; u <= 4; u++ {
		amp := 1 + 0.2*float64(u)
		in.WriteString(wisdmText(fmt.Sprint(u), "Jogging", 12, func(x float64) [3]float64 {
			return [3]float64{0.5 * math.Sin(2*math.Pi*1.3*x), StandardGravity + 3*amp*math.Sin(2*math.Pi*2.6*x), 0.3}
		}))
		in.WriteString(wisdmText(fmt.Sprint(u), "Sitting", 12, func(x float64) [3]float64 {
			return [3]float64{0.02 * math.Sin(float64(u)*x), 0.5, StandardGravity - 0.01*amp*math.Cos(7*x)}
		}))
	}
	raw, err := ReadRawCSV(strings.NewReader(in.String()), CSVConfig{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Rate: 20}
	ex, skipped, err := RecordingExamples(raw.Recordings, 2560*time.Millisecond, 1280*time.Millisecond, cfg)
	if err != nil || skipped.N != 0 {
		t.Fatalf("%v, %d skipped (%v)", err, skipped.N, skipped.First)
	}
	if len(ex) != 4*2*8 { // 12 s at 50 % overlap of 2.56 s windows: 8 whole windows
		t.Fatalf("%d examples", len(ex))
	}
	train, test := LeaveSubjectsOut(ex, []string{"4"})
	m, err := Train(train, TrainConfig{Features: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if m.FeatureConfig().Rate != 20 {
		t.Fatal("rate not stored")
	}
	ev, err := Evaluate(m, test)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Accuracy != 1 {
		t.Fatalf("accuracy on a held-out subject:\n%s", ev)
	}
}

func TestRecordingExamplesSkipsBadWindows(t *testing.T) {
	rec := Recording{Subject: "1", Activity: "Sitting"}
	for i := range 200 { // 20 Hz with a 0.5 s hole after 1 s, inside the first window
		ts := time.Duration(i) * 50 * time.Millisecond
		if i >= 20 {
			ts += 500 * time.Millisecond
		}
		rec.Samples = append(rec.Samples, Sample{T: ts, Accel: [3]float64{0, 0, StandardGravity + 0.01*float64(i%3)}})
	}
	ex, sk, err := RecordingExamples([]Recording{rec}, 2560*time.Millisecond, 2560*time.Millisecond, Config{Rate: 20})
	if err != nil {
		t.Fatal(err)
	}
	if sk.N != 1 || !errors.Is(sk.First, ErrGap) || len(ex) != 3 {
		t.Fatalf("%d examples, skipped %+v", len(ex), sk)
	}
	if _, _, err := RecordingExamples(nil, time.Second, time.Second, Config{Rate: -1}); !errors.Is(err, ErrConfig) {
		t.Fatal(err)
	}
}

func TestRecordingWindows(t *testing.T) {
	var rec Recording
	for i := range 100 { // 0 … 4.95 s at 20 Hz
		rec.Samples = append(rec.Samples, Sample{T: time.Duration(i) * 50 * time.Millisecond})
	}
	ws, err := rec.Windows(2*time.Second, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 4 { // starting at 0, 1, 2, 3 s; the one at 4 s is too short
		t.Fatalf("%d windows", len(ws))
	}
	for i, w := range ws {
		if len(w) != 40 || w[0].T != time.Duration(i)*time.Second {
			t.Fatalf("window %d: %d samples from %v", i, len(w), w[0].T)
		}
	}
	if _, err := rec.Windows(0, time.Second); !errors.Is(err, ErrConfig) {
		t.Fatal(err)
	}
}

// TestReadRawCSVFractionalTimestamps: a 32 Hz export counts 31.25 ms
// steps; the old reader rejected every row after the first as malformed.
func TestReadRawCSVFractionalTimestamps(t *testing.T) {
	in := "u1,walk,0,0,0,9.8\nu1,walk,31.25,0,0,9.8\nu1,walk,62.5,0,0,9.8\nu1,walk,93.75,0.1,0,9.8\n"
	raw, err := ReadRawCSV(strings.NewReader(in), CSVConfig{TimeUnit: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(raw.Recordings) != 1 || raw.Rows != 4 {
		t.Fatalf("%d recordings, %d rows", len(raw.Recordings), raw.Rows)
	}
	for i, want := range []time.Duration{0, 31250 * time.Microsecond, 62500 * time.Microsecond, 93750 * time.Microsecond} {
		if got := raw.Recordings[0].Samples[i].T; got != want {
			t.Errorf("sample %d: T = %v, want %v", i, got, want)
		}
	}
	for _, bad := range []string{"u1,walk,-0.5,0,0,9.8\n", "u1,walk,1e300,0,0,9.8\n", "u1,walk,0,0,0,9.8\nu1,walk,0x1p3,0,0,9.8\n", "u1,walk,0,0,0,9.8\nu1,walk,NaN,0,0,9.8\n"} {
		if _, err := ReadRawCSV(strings.NewReader(bad), CSVConfig{TimeUnit: time.Millisecond}); !errors.Is(err, ErrCSV) {
			t.Errorf("%q: %v, want ErrCSV", bad, err)
		}
	}
	if _, err := ReadRawCSV(nil, CSVConfig{}); !errors.Is(err, ErrConfig) {
		t.Errorf("nil reader: %v", err)
	}
	if _, err := ReadRawCSV(strings.NewReader(in), CSVConfig{MaxRows: -1}); !errors.Is(err, ErrConfig) {
		t.Errorf("MaxRows -1: %v", err)
	}
}
