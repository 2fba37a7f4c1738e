package geo

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Real rows of OpenCelliD's cell_towers.csv export (Berlin, MCC 262) as
// quoted in the Miller documentation ("Questions about joins" / performance
// page, johnkerl/miller), in the format described at
// https://wiki.opencellid.org/wiki/Database_format.
const openCelliDSample = "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n" +
	"UMTS,262,2,801,86355,0,13.285512,52.522202,1000,7,1,1282569574,1300155341,0\n" +
	"GSM,262,2,801,1795,0,13.276907,52.525714,5716,9,1,1282569574,1300155341,0\n" +
	"GSM,262,2,801,1794,0,13.285064,52.524,6280,13,1,1282569574,1300796207,0\n" +
	"UMTS,262,2,801,211250,0,13.285446,52.521744,1000,3,1,1282569574,1299466955,0\n"

func TestParseCellRowReal(t *testing.T) {
	rec, err := ParseCellRow([]byte("UMTS,262,2,801,86355,0,13.285512,52.522202,1000,7,1,1282569574,1300155341,0"))
	if err != nil {
		t.Fatal(err)
	}
	want := CellRecord{
		ID:         CellID{Radio: UMTS, MCC: 262, MNC: 2, Area: 801, Cell: 86355},
		Unit:       0,
		Location:   LatLng{Lat: 52.522202, Lng: 13.285512},
		RangeM:     1000,
		Samples:    7,
		Changeable: true,
		Created:    time.Unix(1282569574, 0).UTC(),
		Updated:    time.Unix(1300155341, 0).UTC(),
	}
	if d := cmp.Diff(want, rec); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	// MLS-style row: empty unit and averageSignal, CRLF, negative signal.
	rec, err = ParseCellRow([]byte("LTE,505,1,54321,12345,,153.021000,-27.471000,500,10,1,1609459200,1609459200,-80\r"))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Unit != -1 || rec.AvgSignalDBm != -80 || rec.Location != (LatLng{-27.471, 153.021}) {
		t.Errorf("got %+v", rec)
	}
}

func TestParseCellRowBad(t *testing.T) {
	tests := []struct {
		line   string
		reason SkipReason
		field  string
	}{
		{"GSM,262,2,801,1795,0,13.27,52.52,5716,9,1,1,1", SkipFieldCount, ""},
		{"GSM,262,2,801,1795,0,13.27,52.52,5716,9,1,1,1,0,0", SkipFieldCount, ""},
		{"", SkipFieldCount, ""},
		{"GSM,26x,2,801,1795,0,13.27,52.52,5716,9,1,1,1,0", SkipBadKey, "mcc"},
		{"GSM,0,2,801,1795,0,13.27,52.52,5716,9,1,1,1,0", SkipBadKey, "mcc"},
		{"GSM,262,1000,801,1795,0,13.27,52.52,5716,9,1,1,1,0", SkipBadKey, "net"},
		{"GSM,262,2,0,1795,0,13.27,52.52,5716,9,1,1,1,0", SkipBadKey, "area"},
		{"LTE,262,2,65534,1795,0,13.27,52.52,5716,9,1,1,1,0", SkipBadKey, "area"},
		{"GSM,262,2,801,65536,0,13.27,52.52,5716,9,1,1,1,0", SkipBadKey, "cell"},
		{"LTE,262,2,801,268435456,0,13.27,52.52,5716,9,1,1,1,0", SkipBadKey, "cell"},
		{"NR,262,2,801,68719476736,0,13.27,52.52,5716,9,1,1,1,0", SkipBadKey, "cell"},
		{"GSM,262,2,801,-5,0,13.27,52.52,5716,9,1,1,1,0", SkipBadKey, "cell"},
		{"GSM,262,2,801,1795,0,181,52.52,5716,9,1,1,1,0", SkipBadCoordinates, "lon"},
		{"GSM,262,2,801,1795,0,13.27,-90.5,5716,9,1,1,1,0", SkipBadCoordinates, "lat"},
		{"GSM,262,2,801,1795,0,NaN,52.52,5716,9,1,1,1,0", SkipBadCoordinates, "lon"},
		{"GSM,262,2,801,1795,0,13.27,Inf,5716,9,1,1,1,0", SkipBadCoordinates, "lat"},
		{"GSM,262,2,801,1795,0,,52.52,5716,9,1,1,1,0", SkipBadCoordinates, "lon"},
		{"GSM,262,2,801,1795,0,0,0,5716,9,1,1,1,0", SkipBadCoordinates, "lon,lat"},
		{"GSM,262,2,801,1795,0,13.27,52.52,far,9,1,1,1,0", SkipBadField, "range"},
		{"GSM,262,2,801,1795,0,13.27,52.52,5716,9,2,1,1,0", SkipBadField, "changeable"},
		{"GSM,262,2,801,1795,0,13.27,52.52,5716,9,1,1,1,x", SkipBadField, "averageSignal"},
		{"CDMA,310,4,7,8,0,13.27,52.52,5716,9,1,1,1,0", SkipUnsupportedRadio, "radio"},
		{",262,2,801,1795,0,13.27,52.52,5716,9,1,1,1,0", SkipBadKey, "radio"},
	}
	for _, tt := range tests {
		_, err := ParseCellRow([]byte(tt.line))
		var re *RowError
		if !errors.As(err, &re) {
			t.Errorf("%q: err %v, want RowError", tt.line, err)
			continue
		}
		if re.Reason != tt.reason || re.Field != tt.field {
			t.Errorf("%q: got %v/%q, want %v/%q", tt.line, re.Reason, re.Field, tt.reason, tt.field)
		}
	}
	if _, err := ParseCellRow([]byte("WIMAX,262,2,801,1795,0,13.27,52.52,5716,9,1,1,1,0")); !errors.Is(err, ErrUnknownRadio) {
		t.Errorf("unknown radio: %v", err)
	}
	if _, err := ParseCellRow([]byte("radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal")); err != ErrHeader {
		t.Errorf("header: %v", err)
	}
}

func TestParseFloat(t *testing.T) {
	for _, s := range []string{"0", "-0.5", "13.285512", "52.522202", "+1.25", "179.99999999", "0.000001", "1e2", "12345678901234567890.5", "-180", "007.5"} {
		got, ok := parseFloat([]byte(s))
		want, err := strconv.ParseFloat(s, 64)
		if !ok || err != nil || got != want {
			t.Errorf("parseFloat(%q) = %v,%v want %v,%v", s, got, ok, want, err)
		}
	}
	for _, s := range []string{"", ".", "-", "1.2.3", "NaN", "inf", "1,5", "1e999", "--1"} {
		if v, ok := parseFloat([]byte(s)); ok {
			t.Errorf("parseFloat(%q) = %v, want failure", s, v)
		}
	}
}

func TestLoadCSV(t *testing.T) {
	in := strings.ReplaceAll(openCelliDSample, "\n", "\r\n") +
		"GSM,262,2,801,1794,0,13.3,52.5,6280,2,1,1282569574,1300796207,0\r\n" + // duplicate, fewer samples
		"GSM,26x,2,801,1,0,13.3,52.5,1,1,1,1,1,0\r\n" +
		"GSM,262,2,801,2,0,13.3,952.5,1,1,1,1,1,0\r\n" +
		"GSM,262,2,801,3\r\n" +
		"CDMA,310,4,7,8,0,13.27,52.52,5716,9,1,1,1,0\r\n" +
		"\r\n" +
		strings.Repeat("x", 5000) + "\r\n" +
		"LTE,262,1,40000,1234567,7,13.40,52.51,800,40,1,1,1,-90" // no final newline
	var calls int
	db, st, err := LoadCSV(context.Background(), strings.NewReader(in), LoadOptions{Progress: func(LoadStats) { calls++ }, ProgressEvery: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := LoadStats{Lines: 13, Rows: 11, Kept: 5, Header: true}
	want.Skipped[SkipDuplicate] = 1
	want.Skipped[SkipBadKey] = 1
	want.Skipped[SkipBadCoordinates] = 1
	want.Skipped[SkipFieldCount] = 1
	want.Skipped[SkipUnsupportedRadio] = 1
	want.Skipped[SkipLineTooLong] = 1
	if d := cmp.Diff(want, st); d != "" {
		t.Errorf("stats (-want +got)\n%s", d)
	}
	if st.Rows != st.Kept+st.SkippedTotal() {
		t.Errorf("rows %d != kept %d + skipped %d", st.Rows, st.Kept, st.SkippedTotal())
	}
	if calls != 5 { // lines 3, 6, 9, 12 and the final call
		t.Errorf("progress called %d times", calls)
	}
	rec, ok := db.Lookup(CellID{GSM, 262, 2, 801, 1794})
	if !ok || rec.Samples != 13 || rec.RangeM != 6280 {
		t.Errorf("duplicate resolution: %+v %v", rec, ok)
	}
	if _, ok := db.Lookup(CellID{LTE, 262, 1, 40000, 1234567}); !ok {
		t.Error("last line without newline lost")
	}
}

func TestLoadCSVUnknownRadio(t *testing.T) {
	in := openCelliDSample + "WIMAX,262,2,801,1795,0,13.27,52.52,5716,9,1,1,1,0\n"
	_, st, err := LoadCSV(context.Background(), strings.NewReader(in), LoadOptions{})
	var le *LineError
	if !errors.As(err, &le) || le.Line != 6 || !errors.Is(err, ErrUnknownRadio) {
		t.Fatalf("err = %v, want LineError at line 6 wrapping ErrUnknownRadio", err)
	}
	if !strings.Contains(err.Error(), "line 6") || !strings.Contains(err.Error(), "WIMAX") {
		t.Errorf("message %q does not name the line and word", err)
	}
	if st.Rows != 5 {
		t.Errorf("stats rows %d", st.Rows)
	}
}

// endless yields an unbounded line with no newline.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	for i := range p {
		p[i] = '7'
	}
	if int64(len(p)) > e.n {
		p = p[:e.n]
	}
	e.n -= int64(len(p))
	return len(p), nil
}

func TestLoadCSVHugeLine(t *testing.T) {
	r := io.MultiReader(strings.NewReader(openCelliDSample), &endless{n: 64 << 20}, strings.NewReader("\nGSM,262,2,801,9,0,13.3,52.5,1,1,1,1,1,0\n"))
	db, st, err := LoadCSV(context.Background(), r, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Skipped[SkipLineTooLong] != 1 || db.Len() != 5 {
		t.Errorf("stats %+v len %d", st, db.Len())
	}
}

func TestLoadCSVCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var buf bytes.Buffer
	for i := range 20000 {
		buf.WriteString("LTE,262,1,100,")
		buf.WriteString(strings.Repeat("1", 1+i%5))
		buf.WriteString(",0,13.3,52.5,1,1,1,1,1,0\n")
	}
	n := 0
	_, _, err := LoadCSV(ctx, &buf, LoadOptions{ProgressEvery: 5000, Progress: func(LoadStats) {
		if n++; n == 1 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// A 10 GB line is abandoned promptly when ctx is done.
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, _, err := LoadCSV(ctx2, &endless{n: 10 << 30}, LoadOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("huge line err = %v", err)
	}
}

func TestLoadOptionsBad(t *testing.T) {
	if _, _, err := LoadCSV(context.Background(), strings.NewReader(""), LoadOptions{MaxLineBytes: 1 << 30}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("huge MaxLineBytes: %v", err)
	}
	for _, c := range []DBConfig{{PathLossExponent: -1}, {MaxAge: -1}, {AreaMinAccuracyM: math.NaN()},
		{MinAccuracyM: [5]float64{1: 900}, MaxAccuracyM: [5]float64{1: 800}}, {DefaultRangeM: [5]float64{3: math.Inf(1)}}} {
		if _, _, err := LoadCSV(context.Background(), strings.NewReader(""), LoadOptions{Config: c}); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("config %+v: %v", c, err)
		}
	}
	var empty CellDB
	if _, err := empty.Locate(context.Background(), []CellObservation{{CellID: CellID{GSM, 262, 2, 801, 1}}}); !errors.Is(err, ErrCellNotFound) {
		t.Errorf("empty db locate: %v", err)
	}
}

// An input that yields no cell is an error, not an empty table with a nil
// error (issue 17, point 7); the stats still say what was read.
func TestLoadCSVNothingKept(t *testing.T) {
	header := "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n"
	for _, c := range []struct {
		name, in string
		want     LoadStats
	}{
		{"empty", "", LoadStats{}},
		{"blank lines", "\n\r\n", LoadStats{Lines: 2}},
		{"header only", header, LoadStats{Lines: 1, Header: true}},
		{"all bad", header + "GSM,262,2,801,3\nGSM,262,2,801,2,0,13.3,952.5,1,1,1,1,1,0\n",
			LoadStats{Lines: 3, Rows: 2, Header: true, Skipped: [NumSkipReasons]int{SkipFieldCount: 1, SkipBadCoordinates: 1}}},
	} {
		db, st, err := LoadCSV(context.Background(), strings.NewReader(c.in), LoadOptions{})
		if !errors.Is(err, ErrNoCells) || db != nil {
			t.Errorf("%s: db %v, err %v; want ErrNoCells", c.name, db, err)
		}
		if d := cmp.Diff(c.want, st); d != "" {
			t.Errorf("%s: stats (-want +got)\n%s", c.name, d)
		}
	}
	if _, _, err := LoadCSV(context.Background(), nil, LoadOptions{}); !errors.Is(err, ErrNilReader) {
		t.Errorf("nil reader: %v", err)
	}
}

// The created/updated columns: Unix seconds (the OpenCelliD format) and the
// ISO 8601 dates other tools write are both read, not skipped (issue 17,
// point 7); anything else is a counted SkipBadField.
func TestParseCellRowTimes(t *testing.T) {
	row := func(created, updated string) []byte {
		return []byte("GSM,262,2,801,1794,0,13.285512,52.522202,6280,13,1," + created + "," + updated + ",0")
	}
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"1282569574", time.Unix(1282569574, 0).UTC()},
		{"", time.Time{}},
		{"0", time.Time{}},
		{"2010-08-23", utc(2010, 8, 23, 0, 0, 0, 0)},
		{"2010-08-23T13:19:34Z", utc(2010, 8, 23, 13, 19, 34, 0)},
		{"2010-08-23 13:19:34", utc(2010, 8, 23, 13, 19, 34, 0)},
		{"2010-08-23T13:19", utc(2010, 8, 23, 13, 19, 0, 0)},
		{"2010-08-23T13:19:34.25Z", utc(2010, 8, 23, 13, 19, 34, 250000000)},
		{"2010-08-23T15:19:34+02:00", utc(2010, 8, 23, 13, 19, 34, 0)},
		{"2010-08-23T08:49:34-0430", utc(2010, 8, 23, 13, 19, 34, 0)},
		{"2024-02-29", utc(2024, 2, 29, 0, 0, 0, 0)},
	} {
		rec, err := ParseCellRow(row(c.in, c.in))
		if err != nil || !rec.Created.Equal(c.want) || !rec.Updated.Equal(c.want) || rec.Created.Location() != time.UTC {
			t.Errorf("%q: created %v updated %v err %v, want %v", c.in, rec.Created, rec.Updated, err, c.want)
		}
	}
	for _, bad := range []string{"2010-8-23", "2010-13-01", "2010-04-31", "2023-02-29", "2010-08-23T25:00", "2010-08-23T13:19:34+2",
		"2010-08-23X13:19", "23.08.2010", "yesterday", "-5", "2010-08-23T13:19:34.Z", "2010-08-23T13:19:34 UTC"} {
		_, err := ParseCellRow(row("1282569574", bad))
		var re *RowError
		if !errors.As(err, &re) || re.Reason != SkipBadField || re.Field != "updated" {
			t.Errorf("updated %q: %v, want a SkipBadField row error", bad, err)
		}
	}
	// Through the loader an ISO-dated export keeps its rows.
	in := "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n" +
		string(row("2010-08-23T13:19:34Z", "2011-03-15")) + "\n"
	db, st, err := LoadCSV(context.Background(), strings.NewReader(in), LoadOptions{})
	if err != nil || db.Len() != 1 || st.SkippedTotal() != 0 {
		t.Errorf("ISO dates: %v %+v", err, st)
	}
}

// A gzip export is decompressed by LoadCSV itself; from a seekable source
// the uncompressed size comes from the gzip trailer.
func TestLoadCSVGzipDirect(t *testing.T) {
	rows := openCelliDSample + strings.Repeat("GSM,262,2,801,1794,0,13.285512,52.522202,6280,13,1,1282569574,1300796207,0\n", 2000)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write([]byte(rows)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	size, gz, err := inputSize(bytes.NewReader(z.Bytes()))
	if err != nil || size != int64(z.Len()) || gz != int64(len(rows)) {
		t.Errorf("inputSize of a gzip file: %d, %d, %v; want %d, %d", size, gz, err, z.Len(), len(rows))
	}
	for _, r := range []io.Reader{bytes.NewReader(z.Bytes()), struct{ io.Reader }{bytes.NewReader(z.Bytes())}} {
		db, st, err := LoadCSV(context.Background(), r, LoadOptions{})
		if err != nil || db.Len() != 4 || st.Rows != 2000+4 || !st.Header {
			t.Errorf("%T: %v %+v", r, err, st)
		}
	}
	bad := bytes.Clone(z.Bytes())
	bad[len(bad)-6] ^= 0xff // CRC-32
	if _, _, err := LoadCSV(context.Background(), bytes.NewReader(bad), LoadOptions{}); !errors.Is(err, gzip.ErrChecksum) {
		t.Errorf("corrupt gzip: %v, want gzip.ErrChecksum", err)
	}
	var le *LineError
	if _, _, err := LoadCSV(context.Background(), strings.NewReader("\x1f\x8bnot gzip"), LoadOptions{}); !errors.As(err, &le) {
		t.Errorf("bad gzip header: %v, want a *LineError", err)
	}
}

func TestLoadCSVGzip(t *testing.T) {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write([]byte(openCelliDSample)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&z)
	if err != nil {
		t.Fatal(err)
	}
	db, st, err := LoadCSV(context.Background(), zr, LoadOptions{})
	if err != nil || db.Len() != 4 || !st.Header {
		t.Fatalf("gzip load: %v %+v", err, st)
	}
}

// The loader sizes its table from the input's length when the reader
// tells it, and leaves the reader where it found it.
func TestEstimateRows(t *testing.T) {
	rows := strings.Repeat("GSM,262,2,801,1794,0,13.285512,52.522202,6280,13,1,1282569574,1300796207,0\n", 3000)
	est := func(r io.Reader) int {
		t.Helper()
		size, _, err := inputSize(r)
		if err != nil {
			t.Fatal(err)
		}
		return estimateRows(size, bufio.NewReaderSize(r, 64<<10))
	}
	if n := est(strings.NewReader(rows)); n < 3000 || n > 3100 {
		t.Errorf("strings.Reader: %d rows estimated, want ~3000", n)
	}
	if n := est(struct{ io.Reader }{strings.NewReader(rows)}); n != 0 {
		t.Errorf("plain reader: %d, want 0 (unknown)", n)
	}
	if n := est(strings.NewReader(rows[:500])); n != strings.Count(rows[:500], "\n")+1 {
		t.Errorf("short input: %d", n)
	}
	// A file, read from the middle: Stat less the offset.
	f, err := os.CreateTemp(t.TempDir(), "cells*.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(rows + rows); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(int64(len(rows)), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if n := est(f); n < 3000 || n > 3100 {
		t.Errorf("file from its middle: %d rows estimated, want ~3000", n)
	}
	// A bare io.ReadSeeker: measured by seeking to the end and back.
	rs := struct{ io.ReadSeeker }{strings.NewReader(rows)}
	if _, err := rs.Seek(int64(len(rows)/3), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if n := est(rs); n < 1900 || n > 2100 {
		t.Errorf("seeker: %d rows estimated, want ~2000", n)
	}
	// Through LoadCSV (whose own buffer then reads on from the position the
	// measurement restored), every row from the middle is loaded.
	if _, err := f.Seek(int64(len(rows)), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	db, st, err := LoadCSV(context.Background(), struct {
		io.ReadSeeker
	}{f}, LoadOptions{})
	if err != nil || db.Len() != 1 || st.Rows != 3000 || st.Skipped[SkipDuplicate] != 2999 {
		t.Errorf("load from the middle of a file: %v %+v", err, st)
	}
}
