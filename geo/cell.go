package geo

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors returned for cell identities, observations and locating.
var (
	// ErrInvalidCellID reports a CellID field outside its 3GPP range.
	ErrInvalidCellID = errors.New("geo: invalid cell id")
	// ErrUnknownRadio reports a radio word that is not GSM, UMTS, LTE, NR
	// (or CDMA, which the CSV loader recognises and skips).
	ErrUnknownRadio = errors.New("geo: unknown radio")
	// ErrInvalidObservation reports an out-of-range optional field of a
	// CellObservation (signal, age or timing advance).
	ErrInvalidObservation = errors.New("geo: invalid cell observation")
	// ErrNoObservations is returned by Locate for an empty observation list.
	ErrNoObservations = errors.New("geo: no cell observations")
	// ErrTooManyObservations is returned by Locate for more than
	// MaxObservations observations.
	ErrTooManyObservations = errors.New("geo: too many cell observations")
	// ErrDuplicateObservation is returned by Locate when the same cell is
	// listed twice.
	ErrDuplicateObservation = errors.New("geo: duplicate cell observation")
	// ErrCellNotFound is returned by a CellLocator when none of the
	// observed cells (nor their location areas) is known.
	ErrCellNotFound = errors.New("geo: cell not found")
	// ErrInvalidConfig reports an inconsistent DBConfig, LoadOptions or
	// MonitorConfig, a nil collaborator, or (together with
	// ErrNotInitialized) a Monitor built without NewMonitor.
	ErrInvalidConfig = errors.New("geo: invalid configuration")
	// ErrNotInitialized is returned by the methods of a zero Monitor
	// (Assessor), which must be made with NewMonitor or NewAssessor. The
	// error also matches ErrInvalidConfig.
	ErrNotInitialized = errors.New("geo: not initialized (use NewMonitor or NewAssessor)")
	// ErrNilReader is returned by LoadCSV for a nil io.Reader.
	ErrNilReader = errors.New("geo: nil reader")
	// ErrNoCells is returned by LoadCSV when the input holds no usable
	// row (it is empty, only a header, or every row was skipped); the
	// LoadStats say why.
	ErrNoCells = errors.New("geo: no usable cell rows")
	// ErrInvalidRecord reports a CellRecord NewCellDB cannot store.
	ErrInvalidRecord = errors.New("geo: invalid cell record")
	// ErrTooManyCells reports a table beyond CellDB's 2³¹-cell limit.
	ErrTooManyCells = errors.New("geo: too many cells")
	// ErrInvalidPosition reports a CellLocator that broke its contract by
	// returning an invalid LatLng or a non-positive or non-finite accuracy.
	ErrInvalidPosition = errors.New("geo: locator returned an invalid position")
)

// MaxObservations bounds the observations one Locate call accepts; a
// terminal reports the serving cell and a handful of neighbours.
const MaxObservations = 32

// Radio is a radio access technology.
type Radio uint8

// Radio access technologies. The zero value is invalid.
const (
	GSM  Radio = iota + 1 // 2G, GERAN
	UMTS                  // 3G, UTRAN
	LTE                   // 4G, E-UTRAN
	NR                    // 5G New Radio
)

var radioNames = [...]string{"", "GSM", "UMTS", "LTE", "NR"}

// String returns the OpenCelliD spelling of r ("GSM", "UMTS", "LTE", "NR").
func (r Radio) String() string {
	if r >= GSM && r <= NR {
		return radioNames[r]
	}
	return fmt.Sprintf("Radio(%d)", uint8(r))
}

// Valid reports whether r is one of the four defined technologies.
func (r Radio) Valid() bool { return r >= GSM && r <= NR }

// ParseRadio parses an OpenCelliD/MLS radio word (case-insensitive).
// It returns an error wrapping ErrUnknownRadio for anything else.
func ParseRadio(s string) (Radio, error) {
	if r, ok := parseRadio([]byte(s)); ok {
		return r, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownRadio, s)
}

func parseRadio(b []byte) (Radio, bool) {
	switch {
	case eqFold(b, "GSM"):
		return GSM, true
	case eqFold(b, "UMTS"):
		return UMTS, true
	case eqFold(b, "LTE"):
		return LTE, true
	case eqFold(b, "NR"):
		return NR, true
	}
	return 0, false
}

// eqFold compares ASCII b with upper-case s case-insensitively.
func eqFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// MaxCell returns the largest cell identity r allows: 16-bit CI for GSM,
// 28-bit UTRAN/E-UTRAN cell identity (RNC/eNB id + cell) for UMTS and LTE,
// and the 36-bit NR cell identity for NR (3GPP TS 23.003 §4.3, §19.6A).
func (r Radio) MaxCell() uint64 {
	switch r {
	case GSM:
		return 1<<16 - 1
	case UMTS, LTE:
		return 1<<28 - 1
	case NR:
		return 1<<36 - 1
	}
	return 0
}

// CellID identifies one cell worldwide (3GPP TS 23.003): radio technology,
// mobile country code, mobile network code, location/tracking area code and
// cell identity.
type CellID struct {
	Radio Radio  // GSM, UMTS, LTE or NR
	MCC   uint16 // 1–999
	MNC   uint16 // 0–999
	Area  uint32 // LAC (GSM, UMTS) or TAC (LTE, NR): 1–65533
	Cell  uint64 // CI, UTRAN/E-UTRAN cell id or NCI; ≤ Radio.MaxCell()
}

// Validate returns an error wrapping ErrInvalidCellID (or ErrUnknownRadio)
// naming the first field out of range.
func (c CellID) Validate() error {
	if !c.Radio.Valid() {
		return fmt.Errorf("%w: %v", ErrUnknownRadio, c.Radio)
	}
	switch {
	case c.MCC < 1 || c.MCC > 999:
		return fmt.Errorf("%w: MCC %d outside 1–999", ErrInvalidCellID, c.MCC)
	case c.MNC > 999:
		return fmt.Errorf("%w: MNC %d outside 0–999", ErrInvalidCellID, c.MNC)
	case c.Area < 1 || c.Area > 65533:
		return fmt.Errorf("%w: area %d outside 1–65533", ErrInvalidCellID, c.Area)
	case c.Cell > c.Radio.MaxCell():
		return fmt.Errorf("%w: %v cell %d above %d", ErrInvalidCellID, c.Radio, c.Cell, c.Radio.MaxCell())
	}
	return nil
}

func (c CellID) valid() bool {
	return c.Radio.Valid() && c.MCC >= 1 && c.MCC <= 999 && c.MNC <= 999 &&
		c.Area >= 1 && c.Area <= 65533 && c.Cell <= c.Radio.MaxCell()
}

// String formats c as "LTE:262-1-4711-123456".
func (c CellID) String() string {
	return fmt.Sprintf("%v:%d-%d-%d-%d", c.Radio, c.MCC, c.MNC, c.Area, c.Cell)
}

// TimingAdvance is an optional timing-advance reading of the serving cell.
// The zero value means "not reported".
type TimingAdvance struct {
	Steps int  // TA index as reported by the modem
	Valid bool // Steps is meaningful
}

// TA returns a valid TimingAdvance of the given steps.
func TA(steps int) TimingAdvance { return TimingAdvance{Steps: steps, Valid: true} }

// taStepM is the one-way distance of one TA step: GSM 553.5 m (one bit
// period, 48/13 µs, 3GPP TS 45.010), LTE 78.12 m (16·Ts, TS 36.213), NR
// 78.12 m at 15 kHz subcarrier spacing (TS 38.213); UMTS has no TA.
func taStepM(r Radio) (step float64, maxSteps int) {
	switch r {
	case GSM:
		return 553.5, 63
	case LTE:
		return 78.12, 1282
	case NR:
		return 78.12, 3846
	}
	return 0, -1
}

// CellObservation is one cell heard by a terminal. Only CellID is required;
// the optional fields are "not reported" at their zero values.
type CellObservation struct {
	CellID CellID // the cell heard; required
	// SignalDBm is the received signal strength (RSSI/RSCP/RSRP) in dBm,
	// −150 to −20; 0 means not reported.
	SignalDBm int
	// Age is how long ago the cell was seen; 0 means now or not reported.
	Age time.Duration
	// TimingAdvance of the serving cell, if reported (GSM, LTE, NR).
	TimingAdvance TimingAdvance
}

// Validate checks the CellID and every reported optional field. Errors
// wrap ErrInvalidCellID or ErrUnknownRadio (the CellID) or
// ErrInvalidObservation (signal, age or timing advance out of range).
func (o CellObservation) Validate() error {
	if err := o.CellID.Validate(); err != nil {
		return err
	}
	if o.SignalDBm != 0 && (o.SignalDBm < -150 || o.SignalDBm > -20) {
		return fmt.Errorf("%w: signal %d dBm outside [-150, -20]", ErrInvalidObservation, o.SignalDBm)
	}
	if o.Age < 0 {
		return fmt.Errorf("%w: negative age %v", ErrInvalidObservation, o.Age)
	}
	if o.TimingAdvance.Valid {
		_, maxTA := taStepM(o.CellID.Radio)
		if o.TimingAdvance.Steps < 0 || o.TimingAdvance.Steps > maxTA {
			return fmt.Errorf("%w: timing advance %d invalid for %v", ErrInvalidObservation, o.TimingAdvance.Steps, o.CellID.Radio)
		}
	}
	return nil
}

// LocateMethod says how a Position was obtained.
type LocateMethod uint8

// Locate methods.
const (
	MethodCells LocateMethod = iota + 1 // weighted centroid of known cells
	MethodArea                          // only the LAC/TAC was known
)

// String returns "cells" or "area".
func (m LocateMethod) String() string {
	switch m {
	case MethodCells:
		return "cells"
	case MethodArea:
		return "area"
	}
	return fmt.Sprintf("LocateMethod(%d)", uint8(m))
}

// Position is a located fix. AccuracyM is the radius in metres of the circle
// around LatLng that contains the true position with about 95 % probability.
type Position struct {
	LatLng
	AccuracyM float64      // 95 % radius in metres, finite and > 0
	Method    LocateMethod // how the fix was computed
	// Cells is the number of observed cells the fix rests on; Outliers the
	// number of known cells rejected as inconsistent with them.
	Cells, Outliers int
}

// CellLocator turns the cells a terminal hears into a position.
//
// Locate returns ErrNoObservations for an empty list, an error wrapping
// ErrInvalidCellID, ErrUnknownRadio, ErrInvalidObservation,
// ErrDuplicateObservation or ErrTooManyObservations for bad input,
// ErrCellNotFound when none of the cells is known, and ctx.Err() when ctx is
// done. A returned Position has a valid LatLng and a finite AccuracyM > 0.
// Implementations must be safe for concurrent use; geotest.Run checks this
// contract.
type CellLocator interface {
	Locate(ctx context.Context, obs []CellObservation) (Position, error)
}

// checkObservations validates a Locate argument without allocating on the
// success path.
func checkObservations(obs []CellObservation) error {
	if len(obs) == 0 {
		return ErrNoObservations
	}
	if len(obs) > MaxObservations {
		return fmt.Errorf("%w: %d > %d", ErrTooManyObservations, len(obs), MaxObservations)
	}
	for i := range obs {
		if !obs[i].CellID.valid() || (obs[i].SignalDBm != 0 && (obs[i].SignalDBm < -150 || obs[i].SignalDBm > -20)) ||
			obs[i].Age < 0 || obs[i].TimingAdvance.Valid {
			if err := obs[i].Validate(); err != nil {
				return fmt.Errorf("observation %d: %w", i, err)
			}
		}
		for j := 0; j < i; j++ {
			if obs[j].CellID == obs[i].CellID {
				return fmt.Errorf("%w: %v at %d and %d", ErrDuplicateObservation, obs[i].CellID, j, i)
			}
		}
	}
	return nil
}
