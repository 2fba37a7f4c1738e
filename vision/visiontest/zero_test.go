package visiontest

import (
	"errors"
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
)

// TestZeroValues calls every method of every exported type with methods on
// its zero value: each works or returns a clear, matchable error.
func TestZeroValues(t *testing.T) {
	var f Family
	if f.Photometric() {
		t.Error("zero Family is photometric")
	}
	if err := (Options{}).Validate(); err != nil {
		t.Errorf("zero Options: %v", err)
	}
	if (Options{}).withDefaults() != DefaultOptions() {
		t.Error("zero Options does not take DefaultOptions")
	}
	for _, o := range []Options{{Width: 640}, {Height: 480}, {Width: -1, Height: -1}, {Width: 10, Height: 10}, {Width: 9000, Height: 100}} {
		if err := o.Validate(); !errors.Is(err, ErrOptions) {
			t.Errorf("%+v: %v", o, err)
		}
		if _, err := Generate(Reshot, 1, o, 1); !errors.Is(err, ErrOptions) {
			t.Errorf("Generate %+v: %v", o, err)
		}
	}
	if _, err := Generate(f, 1, Options{}, 1); err == nil {
		t.Error("zero Family generated a set")
	}
	zerotest.Covered(t, "Family", "Options")
}
