package sdn

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The three administrator-field layouts shared by route distinguishers
// (RFC 4364 section 4.2) and route-target extended communities (RFC 4360
// section 4; RFC 5668 for the four-octet AS form).
const (
	// TypeAS2 is a 2-byte AS number administrator with a 4-byte assigned number.
	TypeAS2 uint8 = 0
	// TypeIPv4 is an IPv4 address administrator with a 2-byte assigned number.
	TypeIPv4 uint8 = 1
	// TypeAS4 is a 4-byte AS number administrator with a 2-byte assigned number.
	TypeAS4 uint8 = 2
)

// idValue is the common (type, administrator, assigned number) triple.
type idValue struct {
	typ      uint8
	admin    uint32 // AS number, or IPv4 address as a big-endian uint32
	assigned uint32
}

func (v idValue) validate(kind string) error {
	switch v.typ {
	case TypeAS2:
		if v.admin == 0 || v.admin > 0xffff {
			return fmt.Errorf("%w: %s type 0 administrator AS %d not in [1, 65535]", ErrInvalid, kind, v.admin)
		}
	case TypeIPv4:
		if v.admin == 0 {
			return fmt.Errorf("%w: %s type 1 administrator 0.0.0.0", ErrInvalid, kind)
		}
		if v.assigned > 0xffff {
			return fmt.Errorf("%w: %s type 1 assigned number %d > 65535", ErrInvalid, kind, v.assigned)
		}
	case TypeAS4:
		if v.admin == 0 {
			return fmt.Errorf("%w: %s type 2 administrator AS 0", ErrInvalid, kind)
		}
		if v.assigned > 0xffff {
			return fmt.Errorf("%w: %s type 2 assigned number %d > 65535", ErrInvalid, kind, v.assigned)
		}
	default:
		return fmt.Errorf("%w: %s type %d", ErrInvalid, kind, v.typ)
	}
	return nil
}

// put6 writes the 6-byte value field.
func (v idValue) put6(b []byte) {
	switch v.typ {
	case TypeAS2:
		binary.BigEndian.PutUint16(b, uint16(v.admin))
		binary.BigEndian.PutUint32(b[2:], v.assigned)
	default:
		binary.BigEndian.PutUint32(b, v.admin)
		binary.BigEndian.PutUint16(b[4:], uint16(v.assigned))
	}
}

func get6(typ uint8, b []byte) idValue {
	if typ == TypeAS2 {
		return idValue{typ, uint32(binary.BigEndian.Uint16(b)), binary.BigEndian.Uint32(b[2:])}
	}
	return idValue{typ, binary.BigEndian.Uint32(b), uint32(binary.BigEndian.Uint16(b[4:]))}
}

// appendText writes the canonical text form: the IPv4 administrator as a
// dotted quad, a two-octet AS in asplain, and a four-octet-layout AS in
// asdot+ ("X.Y", RFC 5396 section 2) whatever its value — so the layout
// can be read off the text (no dot: type 0; one dot: type 2; three dots:
// type 1) and the form is the one GoBGP prints and parses.
func (v idValue) appendText(b []byte) []byte {
	switch v.typ {
	case TypeIPv4:
		b = netip.AddrFrom4([4]byte{byte(v.admin >> 24), byte(v.admin >> 16), byte(v.admin >> 8), byte(v.admin)}).AppendTo(b)
	case TypeAS4:
		b = strconv.AppendUint(b, uint64(v.admin>>16), 10)
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(v.admin&0xffff), 10)
	default:
		b = strconv.AppendUint(b, uint64(v.admin), 10)
	}
	b = append(b, ':')
	return strconv.AppendUint(b, uint64(v.assigned), 10)
}

// maxIDText bounds the text form accepted by the parsers.
const maxIDText = 64

// parseDecimal parses an unsigned decimal of at most bits bits: digits
// only (no sign, no underscores, no empty string).
func parseDecimal(s string, bits int) (uint64, bool) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, bits)
	return n, err == nil
}

// parseIDValue parses the text forms of an RD or RT value:
//
//	a.b.c.d:N      IPv4 administrator (type 1)
//	X.Y:N          asdot+ AS, RFC 5396 (type 2, AS = X·65536 + Y), as GoBGP
//	ASN:N          asplain AS: type 0 up to 65535, type 2 above (as FRR)
//	ASNL:N, X.YL:N the four-octet layout marked with Junos's "L" suffix
//
// The administrator's form picks the layout; N must fit it.
func parseIDValue(kind, s string) (idValue, error) {
	if len(s) > maxIDText {
		return idValue{}, fmt.Errorf("%w: %s text of %d bytes", ErrInvalid, kind, len(s))
	}
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || i == len(s)-1 {
		return idValue{}, fmt.Errorf("%w: %s %q is not ADMIN:NUMBER", ErrInvalid, kind, s)
	}
	admin, num := s[:i], s[i+1:]
	n, ok := parseDecimal(num, 32)
	if !ok {
		return idValue{}, fmt.Errorf("%w: %s %q: assigned number", ErrInvalid, kind, s)
	}
	var v idValue
	switch strings.Count(admin, ".") {
	case 3:
		a, err := netip.ParseAddr(admin)
		if err != nil || !a.Is4() {
			return idValue{}, fmt.Errorf("%w: %s %q: administrator is not an IPv4 address", ErrInvalid, kind, s)
		}
		b := a.As4()
		v = idValue{TypeIPv4, binary.BigEndian.Uint32(b[:]), uint32(n)}
	case 1:
		admin = strings.TrimSuffix(admin, "L")
		hi, lo, _ := strings.Cut(admin, ".")
		x, okx := parseDecimal(hi, 16)
		y, oky := parseDecimal(lo, 16)
		if !okx || !oky {
			return idValue{}, fmt.Errorf("%w: %s %q: administrator AS in asdot is not X.Y with X and Y below 65536", ErrInvalid, kind, s)
		}
		v = idValue{TypeAS4, uint32(x<<16 | y), uint32(n)}
	case 0:
		long := strings.HasSuffix(admin, "L")
		admin = strings.TrimSuffix(admin, "L")
		asn, ok := parseDecimal(admin, 32)
		if !ok {
			return idValue{}, fmt.Errorf("%w: %s %q: administrator AS", ErrInvalid, kind, s)
		}
		v = idValue{TypeAS2, uint32(asn), uint32(n)}
		if long || asn > 0xffff {
			v.typ = TypeAS4
		}
	default:
		return idValue{}, fmt.Errorf("%w: %s %q: administrator is neither an AS number nor an IPv4 address", ErrInvalid, kind, s)
	}
	if err := v.validate(kind); err != nil {
		return idValue{}, err
	}
	return v, nil
}

// RouteDistinguisher is an RFC 4364 route distinguisher: 8 bytes, a 2-byte
// type (0, 1 or 2) and a 6-byte value. The zero value is not a valid RD
// (Validate reports it).
//
// # Text forms
//
// Neither RFC 4364, RFC 4360 nor RFC 5668 defines a text form; the
// canonical one String writes is
//
//	65000:7          type 0: two-octet AS in asplain, four-octet number
//	192.0.2.1:7      type 1: IPv4 address, two-octet number
//	64086.59904:7    type 2: four-octet AS in asdot+ (RFC 5396), two-octet number
//	0.65000:7        type 2 with an AS below 65536
//
// so the layout shows in the text, and GoBGP prints and parses exactly
// this form. Parsing also accepts the four-octet AS in asplain
// ("4200000000:7", as FRR writes it; an AS above 65535 selects type 2)
// and with Junos's "L" suffix ("65000L:7", "4200000000L:7"), which is the
// only asplain spelling of type 2 with an AS below 65536. Interop notes:
// GoBGP v4.8.0's own parser reads "4200000000:7" as 65535:7 (type 0), so
// give GoBGP the canonical form; FRR chooses the layout by the AS's value,
// so it cannot configure type 2 with an AS below 65536 at all.
type RouteDistinguisher struct {
	Type     uint8  // TypeAS2, TypeIPv4 or TypeAS4
	Admin    uint32 // AS number, or the IPv4 address as a big-endian uint32
	Assigned uint32 // assigned number (4 bytes for type 0, 2 bytes otherwise)
}

func (r RouteDistinguisher) v() idValue { return idValue{r.Type, r.Admin, r.Assigned} }

// Validate reports whether r is encodable; errors wrap ErrInvalid.
func (r RouteDistinguisher) Validate() error { return r.v().validate("route distinguisher") }

// IsZero reports whether r is the zero value.
func (r RouteDistinguisher) IsZero() bool { return r == RouteDistinguisher{} }

// String returns the text form ("" for an invalid RD).
func (r RouteDistinguisher) String() string {
	if r.Validate() != nil {
		return ""
	}
	return string(r.v().appendText(nil))
}

// ParseRouteDistinguisher parses the text form; errors wrap ErrInvalid.
func ParseRouteDistinguisher(s string) (RouteDistinguisher, error) {
	v, err := parseIDValue("route distinguisher", s)
	return RouteDistinguisher{v.typ, v.admin, v.assigned}, err
}

// MarshalText implements encoding.TextMarshaler. The zero value (unset)
// marshals as empty text; any other invalid value is an error.
func (r RouteDistinguisher) MarshalText() ([]byte, error) {
	if r.IsZero() {
		return []byte{}, nil
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r.v().appendText(nil), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; empty text is the
// zero value (unset).
func (r *RouteDistinguisher) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*r = RouteDistinguisher{}
		return nil
	}
	v, err := ParseRouteDistinguisher(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalBinary returns the 8-byte wire form of RFC 4364 section 4.2.
func (r RouteDistinguisher) MarshalBinary() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	b := make([]byte, 8)
	b[1] = r.Type
	r.v().put6(b[2:])
	return b, nil
}

// UnmarshalBinary decodes the 8-byte wire form; errors wrap ErrInvalid.
func (r *RouteDistinguisher) UnmarshalBinary(b []byte) error {
	if len(b) != 8 {
		return fmt.Errorf("%w: route distinguisher of %d bytes, want 8", ErrInvalid, len(b))
	}
	if b[0] != 0 || b[1] > TypeAS4 {
		return fmt.Errorf("%w: route distinguisher type %d", ErrInvalid, binary.BigEndian.Uint16(b))
	}
	v := get6(b[1], b[2:])
	if err := v.validate("route distinguisher"); err != nil {
		return err
	}
	*r = RouteDistinguisher{v.typ, v.admin, v.assigned}
	return nil
}

// RouteTarget is a route-target extended community (RFC 4360 section 4,
// sub-type 0x02; RFC 5668 for four-octet AS): 8 bytes, a type byte (0x00,
// 0x01 or 0x02, transitive), the sub-type and a 6-byte value laid out like
// a RouteDistinguisher's. Its text forms are those of an RD (canonical
// "65000:7", "192.0.2.1:7", "64086.59904:7"; see RouteDistinguisher),
// optionally prefixed "target:" when parsed. The zero value is not valid.
type RouteTarget struct {
	Type     uint8  // TypeAS2, TypeIPv4 or TypeAS4
	Admin    uint32 // AS number, or the IPv4 address as a big-endian uint32
	Assigned uint32 // assigned number (4 bytes for type 0, 2 bytes otherwise)
}

func (t RouteTarget) v() idValue { return idValue{t.Type, t.Admin, t.Assigned} }

// routeTargetSubtype is the extended-community sub-type of a route target.
const routeTargetSubtype = 0x02

// Validate reports whether t is encodable; errors wrap ErrInvalid.
func (t RouteTarget) Validate() error { return t.v().validate("route target") }

// IsZero reports whether t is the zero value.
func (t RouteTarget) IsZero() bool { return t == RouteTarget{} }

// String returns the text form without the "target:" prefix ("" for an
// invalid RT).
func (t RouteTarget) String() string {
	if t.Validate() != nil {
		return ""
	}
	return string(t.v().appendText(nil))
}

// ParseRouteTarget parses "[target:]ADMIN:NUMBER"; errors wrap ErrInvalid.
func ParseRouteTarget(s string) (RouteTarget, error) {
	v, err := parseIDValue("route target", strings.TrimPrefix(s, "target:"))
	return RouteTarget{v.typ, v.admin, v.assigned}, err
}

// MarshalText implements encoding.TextMarshaler. The zero value (unset)
// marshals as empty text; any other invalid value is an error.
func (t RouteTarget) MarshalText() ([]byte, error) {
	if t.IsZero() {
		return []byte{}, nil
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t.v().appendText(nil), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; empty text is the
// zero value (unset).
func (t *RouteTarget) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*t = RouteTarget{}
		return nil
	}
	v, err := ParseRouteTarget(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// MarshalBinary returns the 8-byte extended community.
func (t RouteTarget) MarshalBinary() ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	b := make([]byte, 8)
	b[0], b[1] = t.Type, routeTargetSubtype
	t.v().put6(b[2:])
	return b, nil
}

// UnmarshalBinary decodes an 8-byte route-target extended community;
// other communities and malformed values are errors wrapping ErrInvalid.
func (t *RouteTarget) UnmarshalBinary(b []byte) error {
	if len(b) != 8 {
		return fmt.Errorf("%w: route target of %d bytes, want 8", ErrInvalid, len(b))
	}
	if b[0] > TypeAS4 || b[1] != routeTargetSubtype {
		return fmt.Errorf("%w: extended community type 0x%02x sub-type 0x%02x is not a route target", ErrInvalid, b[0], b[1])
	}
	v := get6(b[0], b[2:])
	if err := v.validate("route target"); err != nil {
		return err
	}
	*t = RouteTarget{v.typ, v.admin, v.assigned}
	return nil
}
