package setest_test

import (
	"context"
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/setest"
)

func TestZeroValues(t *testing.T) {
	ctx := context.Background()
	var a setest.StateApplet
	if r := a.Select(ctx, se.Selection{}); r.SW != apdu.SWConditionsNotSatisfied {
		t.Errorf("zero StateApplet Select: %v", r)
	}
	if r := a.Process(ctx, apdu.Command{}); r.SW != apdu.SWConditionsNotSatisfied {
		t.Errorf("zero StateApplet Process: %v", r)
	}
	a.Deselect(ctx, 0)
	a.Deselect(ctx, -1)
	zerotest.Covered(t, "StateApplet")
}
