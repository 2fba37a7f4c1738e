package emv_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/payedge/payedge/nfc/emv"
	"github.com/payedge/payedge/nfc/emv/emvtest"
)

// TestErrorsCarryNoCardData reads cards whose expiry (5F24 or the track-2
// YYMM) is malformed: the read fails with ErrMalformed, and the error text —
// which a host may log or hand to the rich OS — must not carry the date's
// digits (they are mostly the real expiry).
func TestErrorsCarryNoCardData(t *testing.T) {
	tests := []struct {
		name    string
		sfi     int
		record  string
		secrets []string
	}{
		{"5F24 month 13", 2, "5a0854133300890104345f2403291330", []string{"291330", "2913", "month 13"}},
		{"5F24 day 0", 2, "5a0854133300890104345f2403290600", []string{"290600", "2906"}},
		{"track 2 month 14", 1, "57135413330089010434d2914201000012345678" + "0f", []string{"2914", "month 14", "5413330089010434"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := emvtest.Mastercard()
			c.Apps[0].Records[[2]int{tt.sfi, 1}] = h(tt.record)
			r, _ := emv.NewReader(c, emv.Config{})
			_, err := r.Read(context.Background())
			if !errors.Is(err, emv.ErrMalformed) {
				t.Fatalf("Read: %v, want ErrMalformed", err)
			}
			for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err)} {
				for _, x := range tt.secrets {
					if strings.Contains(s, x) {
						t.Errorf("error %q carries %q", s, x)
					}
				}
			}
		})
	}
}

// TestCardInUnexportedField prints a Card held in an unexported struct
// field: fmt cannot call its Format method there and prints the fields by
// reflection, so the PAN, expiry, track 2 and name must not be plain fields
// of Card.
func TestCardInUnexportedField(t *testing.T) {
	r, _ := emv.NewReader(emvtest.Visa(), emv.Config{})
	c, err := r.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	type holder struct {
		card  emv.Card
		cards []emv.Card
		byID  map[string]emv.Card
	}
	v := holder{*c, []emv.Card{*c}, map[string]emv.Card{"a": *c}}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		out := fmt.Sprintf(verb, v)
		for _, x := range []string{"4761739001010010", "VISA ACQUIRER", "Year:2030", "2030", "Month:12"} {
			if strings.Contains(out, x) {
				t.Errorf("%s of a Card in an unexported field shows %q: %s", verb, x, out)
			}
		}
	}
}
