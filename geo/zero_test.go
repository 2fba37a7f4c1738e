package geo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/payedge/payedge/internal/zerotest"
)

// TestZeroValues calls every method of every exported type with methods on
// its zero value: each works or returns a clear, matchable error, and none
// panics. zerotest.Covered fails when a new exported type with methods is
// missing from the table.
func TestZeroValues(t *testing.T) {
	ctx := context.Background()
	obs := []CellObservation{{CellID: CellID{LTE, 262, 1, 1, 1}}}
	report := Report{TerminalID: "T", MerchantID: "M", At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Cells: obs}
	cases := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"CellDB", func(t *testing.T) {
			var db CellDB
			if db.Len() != 0 || db.Areas() != 0 || db.MemoryBytes() != 0 {
				t.Errorf("zero CellDB: len %d areas %d bytes %d", db.Len(), db.Areas(), db.MemoryBytes())
			}
			if _, ok := db.Lookup(obs[0].CellID); ok {
				t.Error("zero CellDB found a cell")
			}
			if _, err := db.Locate(ctx, obs); !errors.Is(err, ErrCellNotFound) {
				t.Errorf("zero CellDB Locate: %v", err)
			}
			if _, err := db.Locate(ctx, nil); !errors.Is(err, ErrNoObservations) {
				t.Errorf("zero CellDB Locate(nil): %v", err)
			}
		}},
		{"CellID", func(t *testing.T) {
			var id CellID
			if id.String() == "" || !errors.Is(id.Validate(), ErrUnknownRadio) {
				t.Errorf("zero CellID: %q %v", id.String(), id.Validate())
			}
		}},
		{"CellObservation", func(t *testing.T) {
			var o CellObservation
			if err := o.Validate(); err == nil {
				t.Error("zero CellObservation (no radio) validated")
			}
		}},
		{"DBConfig", func(t *testing.T) {
			if err := (DBConfig{}).Validate(); err != nil {
				t.Errorf("zero DBConfig: %v", err)
			}
		}},
		{"LatLng", func(t *testing.T) {
			var p LatLng
			if p.Validate() != nil || p.String() != "0.000000,0.000000" {
				t.Errorf("zero LatLng: %q %v", p.String(), p.Validate())
			}
		}},
		{"LineError", func(t *testing.T) {
			var e LineError
			if e.Error() == "" || e.Unwrap() != nil {
				t.Errorf("zero LineError: %q %v", e.Error(), e.Unwrap())
			}
		}},
		{"LoadOptions", func(t *testing.T) {
			if err := (LoadOptions{}).Validate(); err != nil {
				t.Errorf("zero LoadOptions: %v", err)
			}
			if err := DefaultLoadOptions().Validate(); err != nil {
				t.Errorf("DefaultLoadOptions: %v", err)
			}
		}},
		{"LoadStats", func(t *testing.T) {
			if n := (LoadStats{}).SkippedTotal(); n != 0 {
				t.Errorf("zero LoadStats: %d skipped", n)
			}
		}},
		{"LocateMethod", func(t *testing.T) {
			if s := LocateMethod(0).String(); s == "" {
				t.Error("zero LocateMethod: empty name")
			}
		}},
		{"MemorySiteStore", func(t *testing.T) {
			var s MemorySiteStore
			if _, err := s.Site(ctx, "M"); !errors.Is(err, ErrSiteNotFound) {
				t.Errorf("zero store Site: %v", err)
			}
			if err := s.Delete(ctx, "M"); err != nil {
				t.Errorf("zero store Delete: %v", err)
			}
			if err := s.Put(ctx, "M", Site{Location: berlin, RadiusM: 100}); err != nil {
				t.Errorf("zero store Put: %v", err)
			}
			if got, err := s.Site(ctx, "M"); err != nil || got.RadiusM != 100 {
				t.Errorf("zero store after Put: %+v %v", got, err)
			}
		}},
		{"Monitor", func(t *testing.T) {
			var m Monitor
			if n := m.Terminals(); n != 0 {
				t.Errorf("zero Monitor Terminals: %d", n)
			}
			v, err := m.Check(ctx, report)
			if !errors.Is(err, ErrNotInitialized) || !errors.Is(err, ErrInvalidConfig) || v.Status != StatusUnknown {
				t.Errorf("zero Monitor Check: %+v %v", v, err)
			}
			if _, err := m.Score(ctx, report); !errors.Is(err, ErrNotInitialized) {
				t.Errorf("zero Monitor Score: %v", err)
			}
			var nilMon *Assessor
			if _, err := nilMon.Check(ctx, report); !errors.Is(err, ErrNotInitialized) {
				t.Errorf("nil Assessor Check: %v", err)
			}
		}},
		{"MonitorConfig", func(t *testing.T) {
			if err := (MonitorConfig{}).Validate(); err != nil {
				t.Errorf("zero MonitorConfig: %v", err)
			}
			if err := DefaultConfig().Validate(); err != nil {
				t.Errorf("DefaultConfig: %v", err)
			}
		}},
		{"Radio", func(t *testing.T) {
			var r Radio
			if r.Valid() || r.MaxCell() != 0 || r.String() == "" {
				t.Errorf("zero Radio: valid %v max %d name %q", r.Valid(), r.MaxCell(), r.String())
			}
		}},
		{"RowError", func(t *testing.T) {
			var e RowError
			if e.Error() == "" {
				t.Error("zero RowError: empty message")
			}
		}},
		{"Site", func(t *testing.T) {
			if err := (Site{}).Validate(); err != nil {
				t.Errorf("zero Site: %v", err)
			}
		}},
		{"SkipReason", func(t *testing.T) {
			if s := SkipReason(0).String(); s != "field-count" {
				t.Errorf("zero SkipReason: %q", s)
			}
		}},
		{"Status", func(t *testing.T) {
			if s := Status(0).String(); s != "unknown" {
				t.Errorf("zero Status: %q", s)
			}
		}},
		{"Verdict", func(t *testing.T) {
			s := (Verdict{}).Signal()
			if s.Source != Source || s.Confidence != 0.5 || len(s.Reasons) != 1 || s.Reasons[0].Code != ReasonUnknown {
				t.Errorf("zero Verdict signal: %+v", s)
			}
		}},
	}
	names := make([]string, len(cases))
	for i, c := range cases {
		names[i] = c.name
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("zero %s panicked: %v", c.name, r)
				}
			}()
			c.run(t)
		})
	}
	zerotest.Covered(t, names...)
}
