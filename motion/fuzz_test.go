package motion

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// samplesFromBytes decodes 14-byte records: Δt int16 (×100 µs, may be
// negative), accel 3×int16 (×0.01 m/s²), gyro 3×int16 (×0.001 rad/s). A Δt of
// exactly -32768 poisons the record's x acceleration with NaN.
func samplesFromBytes(b []byte) []Sample {
	var out []Sample
	var t time.Duration
	for len(b) >= 14 {
		dt := int16(binary.LittleEndian.Uint16(b))
		t += time.Duration(dt) * 100 * time.Microsecond
		var s Sample
		s.T = t
		for k := range 3 {
			s.Accel[k] = float64(int16(binary.LittleEndian.Uint16(b[2+2*k:]))) / 100
			s.Gyro[k] = float64(int16(binary.LittleEndian.Uint16(b[8+2*k:]))) / 1000
		}
		if dt == math.MinInt16 {
			s.Accel[0] = math.NaN()
		}
		out = append(out, s)
		b = b[14:]
	}
	return out
}

func bytesFromSamples(s []Sample) []byte {
	var b []byte
	var prev time.Duration
	for _, x := range s {
		b = binary.LittleEndian.AppendUint16(b, uint16(int16((x.T-prev)/(100*time.Microsecond))))
		prev = x.T
		for k := range 3 {
			b = binary.LittleEndian.AppendUint16(b, uint16(int16(x.Accel[k]*100)))
		}
		for k := range 3 {
			b = binary.LittleEndian.AppendUint16(b, uint16(int16(x.Gyro[k]*1000)))
		}
	}
	return b
}

func FuzzWindow(f *testing.F) {
	f.Add(bytesFromSamples(benchWindow()))
	f.Add(bytesFromSamples(regular(30, 50)))
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{200, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 20))
	cfg := Config{MinDuration: 200 * time.Millisecond, MaxGap: time.Second, MaxSamples: 512}
	e, err := NewExtractor(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 14*600 {
			t.Skip()
		}
		s := samplesFromBytes(data)
		info, err := ValidateWindow(s, cfg)
		if err != nil {
			if _, ok := errors.AsType[*WindowError](err); !ok {
				t.Fatalf("error %T is not a *WindowError: %v", err, err)
			}
			if _, err2 := e.Extract(s); err2 == nil {
				t.Fatal("Extract accepted a window ValidateWindow rejects")
			}
			return
		}
		r, err := Resample(nil, s, cfg.withDefaults().Rate)
		if err != nil {
			t.Fatalf("Resample after validation: %v", err)
		}
		if len(r) != info.Resampled || r[0].T != s[0].T || r[len(r)-1].T > s[len(s)-1].T {
			t.Fatalf("resampled %d samples (%v…%v), info %+v", len(r), r[0].T, r[len(r)-1].T, info)
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, x := range s {
			lo, hi = min(lo, x.Accel[1]), max(hi, x.Accel[1])
		}
		for i, x := range r {
			if x.Accel[1] < lo-1e-9 || x.Accel[1] > hi+1e-9 {
				t.Fatalf("interpolated value %v outside [%v, %v]", x.Accel[1], lo, hi)
			}
			if i > 0 && math.Abs((x.T-r[i-1].T).Seconds()-0.02) > 1e-9 {
				t.Fatalf("irregular grid at %d", i)
			}
		}
		feat, err := e.Extract(s)
		if err != nil {
			t.Fatalf("Extract after validation: %v", err)
		}
		for j, v := range feat {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("feature %s = %v", featureNames[j], v)
			}
		}
	})
}

func FuzzModelUnmarshal(f *testing.F) {
	good := DefaultModelBytes()
	f.Add(good)
	f.Add(good[:60])
	f.Add([]byte(modelMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			t.Skip()
		}
		var m Model
		if err := m.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, ErrModel) && !errors.Is(err, ErrLayout) {
				t.Fatalf("error %v wraps neither ErrModel nor ErrLayout", err)
			}
			return
		}
		b, err := m.MarshalBinary()
		if err != nil || !bytes.Equal(b, data) {
			t.Fatalf("accepted encoding is not canonical (%v)", err)
		}
		var feat Features
		for j := range feat {
			feat[j] = float64(j%7-3) * 1e100
		}
		for _, x := range []Features{{}, feat} {
			l, p := m.Classify(x)
			var sum float64
			for _, v := range p {
				sum += v
			}
			if l == "" || len(p) != len(m.labels) || !(math.Abs(sum-1) < 1e-9) {
				t.Fatalf("decoded model classifies to %q %v", l, p)
			}
		}
	})
}

func FuzzReadRawCSV(f *testing.F) {
	f.Add("user,activity,timestamp,x,y,z\n7,Walking,1000,1,2,3;\n7,Walking,2000,1,2,3;\n")
	f.Add("1,a,5,1e308,-0,3\n\n1,a,4,1,2,3\n")
	f.Add("1,a,1,1,2\n")
	f.Add("u,walk,0,0,0,9.8\nu,walk,31.25,0,0,9.8\nu,walk,62.5,0.1,0,9.8\nu,walk,1e2,0,0,9.8\n")
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > 1<<16 {
			t.Skip()
		}
		raw, err := ReadRawCSV(strings.NewReader(in), CSVConfig{MaxRows: 1000, TimeUnit: time.Millisecond})
		if err != nil {
			if !errors.Is(err, ErrCSV) {
				t.Fatalf("error %v does not wrap ErrCSV", err)
			}
			return
		}
		n := 0
		for _, r := range raw.Recordings {
			if r.Subject == "" || r.Activity == "" || len(r.Samples) == 0 {
				t.Fatalf("bad recording %+v", r)
			}
			for i, s := range r.Samples {
				if i > 0 && s.T <= r.Samples[i-1].T {
					t.Fatal("recording not increasing in time")
				}
				for _, v := range s.Accel {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatal("non-finite sample")
					}
				}
			}
			n += len(r.Samples)
		}
		if n != raw.Rows || n > 1000 {
			t.Fatalf("%d samples for %d rows", n, raw.Rows)
		}
	})
}
