package sdn_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/payedge/payedge/sdn"
)

// Encodings from RFC 4364 section 4.2 (RD: 2-byte type, then administrator
// and assigned number fields) and RFC 4360 section 4 / RFC 5668 (route
// target: type 0x00/0x01/0x02, sub-type 0x02). Texts are canonical; see
// altText for the other accepted spellings.
var idVectors = []struct {
	text, rd, rt string
}{
	{"65000:100", "0000fde800000064", "0002fde800000064"},
	{"1:4294967295", "00000001ffffffff", "00020001ffffffff"},
	{"192.0.2.1:7", "0001c00002010007", "0102c00002010007"},
	{"64086.59904:7", "0002fa56ea000007", "0202fa56ea000007"}, // AS 4200000000
	{"0.65000:7", "00020000fde80007", "02020000fde80007"},     // type 2, AS 65000
	{"1.10:65535", "00020001000affff", "02020001000affff"},    // AS 65546
}

// altText maps accepted input spellings to the canonical text: asplain
// four-octet AS (FRR), Junos's "L" suffix, asdot with "L".
var altText = map[string]string{
	"4200000000:7":     "64086.59904:7",
	"4200000000L:7":    "64086.59904:7",
	"65000L:7":         "0.65000:7",
	"0.65000L:7":       "0.65000:7",
	"65546:65535":      "1.10:65535",
	"target:65000L:7":  "0.65000:7",
	"target:1.10:1":    "1.10:1",
	"65535:4294967295": "65535:4294967295",
}

// The text forms round-trip, and the other spellings parse to the same
// value as the canonical one (RD and RT alike).
func TestIDTextForms(t *testing.T) {
	for in, want := range altText {
		rt, err := sdn.ParseRouteTarget(in)
		if err != nil || rt.String() != want {
			t.Errorf("ParseRouteTarget(%q) = %q, %v; want %q", in, rt, err, want)
		}
		canon, err := sdn.ParseRouteTarget(want)
		if err != nil || canon != rt {
			t.Errorf("%q and %q: %v and %v (%v)", in, want, rt, canon, err)
		}
		rd, err := sdn.ParseRouteDistinguisher(strings.TrimPrefix(in, "target:"))
		if err != nil || rd.String() != want {
			t.Errorf("ParseRouteDistinguisher(%q) = %q, %v; want %q", in, rd, err, want)
		}
	}
	// The layout shows in the canonical text: no dot type 0, one dot
	// type 2, three dots type 1 — whatever the AS's value.
	for _, rt := range []sdn.RouteTarget{
		{Type: sdn.TypeAS2, Admin: 1, Assigned: 1}, {Type: sdn.TypeAS2, Admin: 65535, Assigned: 1},
		{Type: sdn.TypeAS4, Admin: 1, Assigned: 1}, {Type: sdn.TypeAS4, Admin: 65535, Assigned: 1},
		{Type: sdn.TypeAS4, Admin: 65536, Assigned: 1}, {Type: sdn.TypeAS4, Admin: 4294967295, Assigned: 65535},
		{Type: sdn.TypeIPv4, Admin: 0xc0000201, Assigned: 1},
	} {
		dots := map[uint8]int{sdn.TypeAS2: 0, sdn.TypeAS4: 1, sdn.TypeIPv4: 3}[rt.Type]
		s := rt.String()
		admin := s[:strings.LastIndexByte(s, ':')]
		if strings.Count(admin, ".") != dots {
			t.Errorf("%+v written %q", rt, s)
		}
		if back, err := sdn.ParseRouteTarget(s); err != nil || back != rt {
			t.Errorf("%+v → %q → %+v, %v", rt, s, back, err)
		}
	}
}

func TestIDVectors(t *testing.T) {
	for _, v := range idVectors {
		rd, err := sdn.ParseRouteDistinguisher(v.text)
		if err != nil {
			t.Fatalf("ParseRouteDistinguisher(%q): %v", v.text, err)
		}
		b, _ := rd.MarshalBinary()
		if got := hex.EncodeToString(b); got != v.rd {
			t.Errorf("RD %s binary %s, want %s", v.text, got, v.rd)
		}
		if rd.String() != v.text {
			t.Errorf("RD %s String %s", v.text, rd.String())
		}
		var back sdn.RouteDistinguisher
		if err := back.UnmarshalBinary(b); err != nil || back != rd {
			t.Errorf("RD %s binary round trip: %v %v", v.text, back, err)
		}
		rt, err := sdn.ParseRouteTarget("target:" + v.text)
		if err != nil {
			t.Fatalf("ParseRouteTarget(%q): %v", v.text, err)
		}
		b, _ = rt.MarshalBinary()
		if got := hex.EncodeToString(b); got != v.rt {
			t.Errorf("RT %s binary %s, want %s", v.text, got, v.rt)
		}
		var rback sdn.RouteTarget
		if err := rback.UnmarshalBinary(b); err != nil || rback != rt || rt.String() != v.text {
			t.Errorf("RT %s round trip: %v %v", v.text, rback, err)
		}
		tb, _ := rt.MarshalText()
		var tback sdn.RouteTarget
		if err := tback.UnmarshalText(tb); err != nil || tback != rt {
			t.Errorf("RT %s text round trip: %v %v", v.text, tback, err)
		}
	}
}

func TestIDInvalid(t *testing.T) {
	for _, s := range []string{"", ":", "65000", "65000:", ":1", "0:1", "70000:70000", "1.2.3.4:70000", "0.0.0.0:1",
		"::1:5", "+1:2", "1:+2", "-1:2", "a:b", "65000:1:2x", "4294967296:1", "1:4294967296",
		"0.0:1", "65536.1:1", "1.65536:1", "1.:1", ".1:1", "1.2.3:1", "1.2.3.4.5:1", "1.+2:1", "1.10:65536",
		"65000LL:1", "L:1", "1.2.3.4L:1", "4294967296L:1", "1 :2", "1: 2", "1_000:2",
		"12345678901234567890123456789012345678901234567890123456789012345:1"} {
		if _, err := sdn.ParseRouteDistinguisher(s); !errors.Is(err, sdn.ErrInvalid) {
			t.Errorf("ParseRouteDistinguisher(%q) = %v, want ErrInvalid", s, err)
		}
	}
	for _, h := range []string{"", "00", "0003000000010001", "0100000000010001", "0000000000000001"} {
		b, _ := hex.DecodeString(h)
		var rd sdn.RouteDistinguisher
		if err := rd.UnmarshalBinary(b); !errors.Is(err, sdn.ErrInvalid) {
			t.Errorf("RD UnmarshalBinary(%s) = %v", h, err)
		}
	}
	for _, h := range []string{"0003fde800000064", "0302fde800000064", "0001fde800000064"} {
		b, _ := hex.DecodeString(h)
		var rt sdn.RouteTarget
		if err := rt.UnmarshalBinary(b); !errors.Is(err, sdn.ErrInvalid) {
			t.Errorf("RT UnmarshalBinary(%s) = %v", h, err)
		}
	}
	if (sdn.RouteTarget{}).String() != "" || (sdn.RouteDistinguisher{}).Validate() == nil {
		t.Error("zero RD/RT accepted")
	}
	if _, err := (sdn.RouteTarget{}).MarshalBinary(); !errors.Is(err, sdn.ErrInvalid) {
		t.Error("zero RT marshalled")
	}
}

func FuzzParseRouteTarget(f *testing.F) {
	for _, v := range idVectors {
		f.Add(v.text)
		f.Add("target:" + v.text)
	}
	for in := range altText {
		f.Add(in)
	}
	f.Add("1.2.3.4:70000")
	f.Add("65536L:1")
	f.Add("0.0:1")
	f.Add("65535.65535:65535")
	f.Add("1.2.3:4")
	f.Fuzz(func(t *testing.T, s string) {
		rt, err := sdn.ParseRouteTarget(s)
		if err != nil {
			if !errors.Is(err, sdn.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		back, err := sdn.ParseRouteTarget(rt.String())
		if err != nil || back != rt || back.String() != rt.String() {
			t.Fatalf("text round trip of %q: %v → %q → %v %v", s, rt, rt.String(), back, err)
		}
		if j := strings.LastIndexByte(rt.String(), ':'); strings.Count(rt.String()[:j], ".") != map[uint8]int{sdn.TypeAS2: 0, sdn.TypeAS4: 1, sdn.TypeIPv4: 3}[rt.Type] {
			t.Fatalf("%q: type %d written %q", s, rt.Type, rt.String())
		}
		b, err := rt.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var bb sdn.RouteTarget
		if err := bb.UnmarshalBinary(b); err != nil || bb != rt {
			t.Fatalf("binary round trip of %v: %v %v", rt, bb, err)
		}
		rd, err := sdn.ParseRouteDistinguisher(rt.String())
		if err != nil || rd.String() != rt.String() {
			t.Fatalf("RD of %q: %v %v", rt.String(), rd, err)
		}
		// The other spellings of a four-octet AS name the same value.
		if rt.Type == sdn.TypeAS4 {
			alts := []string{fmt.Sprintf("%dL:%d", rt.Admin, rt.Assigned), fmt.Sprintf("%s:%d", strings.Split(rt.String(), ":")[0]+"L", rt.Assigned)}
			if rt.Admin > 0xffff {
				alts = append(alts, fmt.Sprintf("%d:%d", rt.Admin, rt.Assigned))
			}
			for _, a := range alts {
				if v, err := sdn.ParseRouteTarget(a); err != nil || v != rt {
					t.Fatalf("%q (from %q) parses to %v, %v; want %v", a, s, v, err, rt)
				}
			}
		}
	})
}

func FuzzUnmarshalRouteDistinguisher(f *testing.F) {
	for _, v := range idVectors {
		b, _ := hex.DecodeString(v.rd)
		f.Add(b)
		b, _ = hex.DecodeString(v.rt)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var rd sdn.RouteDistinguisher
		if err := rd.UnmarshalBinary(b); err == nil {
			out, err := rd.MarshalBinary()
			if err != nil || string(out) != string(b) {
				t.Fatalf("RD %x → %v → %x %v", b, rd, out, err)
			}
			back, err := sdn.ParseRouteDistinguisher(rd.String())
			if err != nil || back != rd {
				t.Fatalf("RD text round trip %v: %v %v", rd, back, err)
			}
		} else if !errors.Is(err, sdn.ErrInvalid) {
			t.Fatal(err)
		}
		var rt sdn.RouteTarget
		if err := rt.UnmarshalBinary(b); err == nil {
			out, err := rt.MarshalBinary()
			if err != nil || string(out) != string(b) {
				t.Fatalf("RT %x → %v → %x %v", b, rt, out, err)
			}
		} else if !errors.Is(err, sdn.ErrInvalid) {
			t.Fatal(err)
		}
	})
}
