package emv_test

import (
	"errors"
	"testing"

	"github.com/payedge/payedge/nfc/emv"
)

// TestChooseByPriorityEdges: equal priorities keep card order, an entry
// without 87 (Priority 0) ranks after every numbered one, 15 is the lowest
// number, and an empty list is ErrNoApplication (EMV Book B §3.3.2.5).
func TestChooseByPriorityEdges(t *testing.T) {
	tests := []struct {
		prios []int
		want  int
	}{
		{[]int{2, 2}, 0},
		{[]int{0, 3}, 1},
		{[]int{0, 0}, 0},
		{[]int{15, 0}, 0},
		{[]int{0, 15, 1, 1}, 2},
		{[]int{5}, 0},
	}
	for _, tt := range tests {
		apps := make([]emv.Application, len(tt.prios))
		for i, p := range tt.prios {
			apps[i].Priority = p
		}
		if got, err := emv.ChooseByPriority(apps); err != nil || got != tt.want {
			t.Errorf("priorities %v: chose %d (%v), want %d", tt.prios, got, err, tt.want)
		}
	}
	if _, err := emv.ChooseByPriority(nil); !errors.Is(err, emv.ErrNoApplication) {
		t.Errorf("empty: %v", err)
	}
}
