package geo

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"math"
	"slices"
	"testing"
)

// FuzzParseCellRow checks that the CSV row parser never panics, that every
// failure is a RowError, ErrHeader or ErrUnknownRadio, and that accepted
// rows are valid and survive a format round trip.
func FuzzParseCellRow(f *testing.F) {
	for _, s := range []string{
		"UMTS,262,2,801,86355,0,13.285512,52.522202,1000,7,1,1282569574,1300155341,0",
		"GSM,262,2,801,1795,0,13.276907,52.525714,5716,9,1,1282569574,1300155341,0\r",
		"LTE,505,1,54321,12345,,153.021000,-27.471000,500,10,1,1609459200,1609459200,-80",
		"NR,310,260,65533,68719476735,1007,-122.4,37.7,,,,,,",
		"radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal",
		"CDMA,310,4,7,8,0,13.27,52.52,5716,9,1,1,1,0",
		"GSM,262,2,801,1795,0,1e2,52.52,5716,9,1,1,1,0",
		"GSM,262,2,801,1795,0,NaN,52.52,5716,9,1,1,1,0",
		"WIMAX,1,1,1,1,1,1,1,1,1,1,1,1,1",
		"LTE,262,1,40000,1234567,7,13.40,52.51,800,40,1,2010-08-23T13:19:34.5+02:00,2011-03-15,-90",
		"LTE,262,1,40000,1234567,7,13.40,52.51,800,40,1,2010-02-30,2011-03-15 08:00,-90",
		",,,,,,,,,,,,,",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if len(line) > 4096 {
			t.Skip()
		}
		rec, err := ParseCellRow(line)
		if err != nil {
			var re *RowError
			if !errors.As(err, &re) && err != ErrHeader && !errors.Is(err, ErrUnknownRadio) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		if err := rec.ID.Validate(); err != nil {
			t.Fatalf("accepted invalid id: %v", err)
		}
		if err := rec.Location.Validate(); err != nil {
			t.Fatalf("accepted invalid location: %v", err)
		}
		if rec.RangeM < 0 || rec.Samples < 0 || math.IsNaN(rec.RangeM) {
			t.Fatalf("accepted negative range/samples: %+v", rec)
		}
		// The loader accepts the same line with any line ending.
		db, st, err := LoadCSV(context.Background(), bytes.NewReader(append(bytes.Clone(line), '\r', '\n')), LoadOptions{})
		if err != nil {
			t.Fatalf("loader rejected a parsable row: %v", err)
		}
		if len(line) <= 1024 && !bytes.ContainsAny(line, "\n") && st.Kept != 1 {
			t.Fatalf("row parsed but not kept: %+v", st)
		}
		if db.Len() == 1 {
			got, ok := db.Lookup(rec.ID)
			if !ok || math.Abs(got.Location.Lat-rec.Location.Lat) > 1e-7 || math.Abs(got.Location.Lng-rec.Location.Lng) > 1e-7 {
				t.Fatalf("stored %+v, parsed %+v", got, rec)
			}
		}
	})
}

// FuzzLoadCSV feeds whole files: the loader must never panic, must return
// only LineError or nil, and its counts must add up.
func FuzzLoadCSV(f *testing.F) {
	f.Add([]byte(openCelliDSample))
	f.Add([]byte("GSM,262,2,801,1795,0,13.27,52.52,5716,9,1,1,1,0\r\nGSM,262,2,801,1795,0,13.28,52.52,5716,19,1,1,1,0"))
	f.Add([]byte("\xef\xbb\xbfradio,mcc\n\n\nLTE,1,1,1,1,,1,1,,,,,,\nWIMAX,1"))
	f.Add([]byte("GSM,262,2,801,1795,0,13.27,52.52,5716,9,1,2010-08-23T13:19:34Z,2011-03-15 08:00:00+01:00,0\n"))
	// gzip: a valid member holding one row, and a truncated one.
	gz := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}
	f.Add(gz)
	f.Add(append(slices.Clone(gz), 1, 0, 0, 0xff, 0xff))
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write([]byte(openCelliDSample))
	_ = zw.Close()
	f.Add(z.Bytes())
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 1<<16 {
			t.Skip()
		}
		db, st, err := LoadCSV(context.Background(), bytes.NewReader(in), LoadOptions{MaxLineBytes: 200})
		if errors.Is(err, ErrNoCells) {
			if db != nil || st.Kept != 0 || st.Rows != st.SkippedTotal() {
				t.Fatalf("ErrNoCells with db %v, stats %+v", db, st)
			}
			return
		}
		if err != nil {
			var le *LineError
			// Line 1 before any line was read: a bad gzip header.
			if !errors.As(err, &le) || le.Line < 1 || le.Line > max(st.Lines, 1) {
				t.Fatalf("unexpected error %T %v (stats %+v)", err, err, st)
			}
			return
		}
		if st.Rows != st.Kept+st.SkippedTotal() || db.Len() != st.Kept {
			t.Fatalf("counts do not add up: %+v, len %d", st, db.Len())
		}
	})
}

// FuzzGeodesic: for any pair of valid points the inverse solution is
// finite, symmetric, no longer than half the meridian, and following its
// azimuth for its length with GeodesicDirect lands on the second point.
func FuzzGeodesic(f *testing.F) {
	for _, s := range [][4]float64{
		{-30, 0, 29.9, 179.8}, {0, 0, 0.5, 179.5}, {0, 0, 0, 180}, {-90, 0, 90, 0},
		{1e-300, 0, -1e-300, 179.9999}, {89.999999, -180, -89.9999999, 180}, {5e-324, 0, 0, 90},
		{45, 10, 45.0000001, 10.0000001}, {0, -179.9, 0, 179.9}, {math.Copysign(0, -1), 0, 0, math.Copysign(0, -1)},
		{23.225828498891, 0, -23.225828498891, 179.44518683104154539},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, lat1, lon1, lat2, lon2 float64) {
		a, b := LatLng{lat1, lon1}, LatLng{lat2, lon2}
		if !a.valid() || !b.valid() {
			if !math.IsNaN(Geodesic(a, b)) {
				t.Fatalf("invalid %v %v gave a distance", a, b)
			}
			return
		}
		s12, azi1, azi2, err := GeodesicInverse(a, b)
		if err != nil || math.IsNaN(s12) || s12 < 0 || s12 > 20003931.4587 || math.IsNaN(azi1) || math.IsNaN(azi2) {
			t.Fatalf("GeodesicInverse(%v, %v) = %v, %v, %v, %v", a, b, s12, azi1, azi2, err)
		}
		if r := Geodesic(b, a); math.Abs(r-s12) > 1e-6 {
			t.Fatalf("asymmetric: %v vs %v", s12, r)
		}
		q, _, err := GeodesicDirect(a, azi1, s12)
		if err != nil {
			t.Fatal(err)
		}
		// Compare on the ground: 1 mm, well above the nanometre error.
		if d := Haversine(q, b); d > 1e-3 {
			t.Fatalf("GeodesicDirect(%v, %v, %v) = %v, %v m from %v", a, azi1, s12, q, d, b)
		}
	})
}
