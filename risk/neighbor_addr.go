package risk

import (
	"fmt"
)

// Addr is a 48-bit IEEE 802 MAC address (a WiFi BSSID or a Bluetooth device
// address) held in the low 48 bits, first octet most significant. Its text
// form is lower-case colon-separated hex, "0a:1b:2c:3d:4e:5f".
type Addr uint64

const addrMask = 1<<48 - 1

// ParseAddr parses a MAC address written as six hex octets separated by
// ':' or '-' ("AA:BB:CC:DD:EE:FF", "aa-bb-cc-dd-ee-ff"), as three groups of
// four separated by '.' ("aabb.ccdd.eeff"), or as twelve bare hex digits.
// Case is ignored; surrounding space is not allowed. It rejects the all-zero
// and broadcast addresses. Errors wrap ErrIdentifier. ParseAddr does not
// allocate on success.
func ParseAddr(s string) (Addr, error) {
	a, ok := parseAddr(s)
	if !ok {
		return 0, fmt.Errorf("%w: %q is not a MAC address", ErrIdentifier, truncate(s, 64))
	}
	if a == 0 || a == addrMask {
		return 0, fmt.Errorf("%w: %q is the null or broadcast address", ErrIdentifier, truncate(s, 64))
	}
	return a, nil
}

// hexTable maps a byte to its hex value, or 0xff when it is not a hex digit.
const hexTable = "" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\xff\xff\xff\xff\xff\xff" +
	"\xff\x0a\x0b\x0c\x0d\x0e\x0f\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\x0a\x0b\x0c\x0d\x0e\x0f\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"

// hexRun decodes n hex digits of s starting at i into v; bad collects
// invalid digits (any bit above the low nibble).
func hexRun(s string, i, n int, v uint64, bad byte) (uint64, byte) {
	for k := i; k < i+n; k++ {
		d := hexTable[s[k]]
		bad |= d
		v = v<<4 | uint64(d&0x0f)
	}
	return v, bad
}

func parseAddr(s string) (Addr, bool) {
	var v uint64
	var bad byte
	switch len(s) {
	case 17: // aa:bb:cc:dd:ee:ff or aa-bb-…
		s := s[:17] // lets the compiler drop the bounds checks below
		sep := s[2]
		if sep != ':' && sep != '-' {
			return 0, false
		}
		if s[5] != sep || s[8] != sep || s[11] != sep || s[14] != sep {
			return 0, false
		}
		// Unrolled: this is the form scanners report, parsed once per
		// neighbour on the authorisation path.
		d0, d1, d2, d3 := hexTable[s[0]], hexTable[s[1]], hexTable[s[3]], hexTable[s[4]]
		d4, d5, d6, d7 := hexTable[s[6]], hexTable[s[7]], hexTable[s[9]], hexTable[s[10]]
		d8, d9, da, db := hexTable[s[12]], hexTable[s[13]], hexTable[s[15]], hexTable[s[16]]
		bad = d0 | d1 | d2 | d3 | d4 | d5 | d6 | d7 | d8 | d9 | da | db
		v = uint64(d0)<<44 | uint64(d1)<<40 | uint64(d2)<<36 | uint64(d3)<<32 |
			uint64(d4)<<28 | uint64(d5)<<24 | uint64(d6)<<20 | uint64(d7)<<16 |
			uint64(d8)<<12 | uint64(d9)<<8 | uint64(da)<<4 | uint64(db)
	case 14: // aabb.ccdd.eeff
		if s[4] != '.' || s[9] != '.' {
			return 0, false
		}
		for i := 0; i < 14; i += 5 {
			v, bad = hexRun(s, i, 4, v, bad)
		}
	case 12:
		v, bad = hexRun(s, 0, 12, v, bad)
	default:
		return 0, false
	}
	if bad&0xf0 != 0 {
		return 0, false
	}
	return Addr(v), true
}

// String returns the canonical form "0a:1b:2c:3d:4e:5f".
func (a Addr) String() string {
	var b [17]byte
	return string(a.appendTo(b[:0]))
}

func (a Addr) appendTo(b []byte) []byte {
	const hexdigits = "0123456789abcdef"
	for i := 5; i >= 0; i-- {
		o := byte(a >> (8 * uint(i)))
		b = append(b, hexdigits[o>>4], hexdigits[o&0xf])
		if i > 0 {
			b = append(b, ':')
		}
	}
	return b
}

// MarshalText implements encoding.TextMarshaler with the canonical form.
func (a Addr) MarshalText() ([]byte, error) { return a.appendTo(make([]byte, 0, 17)), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseAddr.
func (a *Addr) UnmarshalText(b []byte) error {
	v, err := ParseAddr(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// NormalizeAddr returns the canonical text form of a MAC address written in
// any form ParseAddr accepts. Errors are ParseAddr's (wrapping
// ErrIdentifier).
func NormalizeAddr(s string) (string, error) {
	a, err := ParseAddr(s)
	if err != nil {
		return "", err
	}
	return a.String(), nil
}

func (a Addr) firstOctet() byte { return byte(a >> 40) }

// LocallyAdministered reports whether the IEEE 802 U/L bit (bit 1 of the
// first octet) is set: the address was assigned locally, as randomised WiFi
// MACs are, rather than from an OUI (IEEE Std 802-2014, clause 8).
func (a Addr) LocallyAdministered() bool { return a.firstOctet()&0x02 != 0 }

// Group reports whether the IEEE 802 I/G bit (bit 0 of the first octet) is
// set: a multicast address, never a station or BSSID.
func (a Addr) Group() bool { return a.firstOctet()&0x01 != 0 }

// AddrClass says how stable an address is expected to be.
type AddrClass uint8

const (
	// ClassUniversal is a globally unique, OUI-assigned address: stable.
	ClassUniversal AddrClass = iota
	// ClassLocal is a locally administered IEEE 802 address: randomised
	// client MACs, and some secondary BSSIDs of multi-SSID access points.
	ClassLocal
	// ClassStaticRandom is a Bluetooth LE static random address (top bits
	// 0b11): fixed until the device power-cycles.
	ClassStaticRandom
	// ClassPrivate is a Bluetooth LE resolvable (top bits 0b01) or
	// non-resolvable (0b00) private address: it rotates, typically every
	// 15 minutes, and carries no identity.
	ClassPrivate
)

// String names c.
func (c AddrClass) String() string {
	switch c {
	case ClassUniversal:
		return "universal"
	case ClassLocal:
		return "local"
	case ClassStaticRandom:
		return "static-random"
	case ClassPrivate:
		return "private"
	}
	return fmt.Sprintf("AddrClass(%d)", uint8(c))
}

// Classify returns the stability class of address a seen as kind, where
// random is the Bluetooth LE TxAdd/RxAdd flag (the advertiser used a random
// device address). Bluetooth Core Specification v5.4, Vol 6, Part B §1.3.2
// defines the random sub-types by the two most significant bits; for public
// addresses and WiFi the IEEE 802 U/L bit decides.
func Classify(kind NeighborKind, a Addr, random bool) AddrClass {
	if kind == KindBLE && random {
		switch a.firstOctet() >> 6 {
		case 0b11:
			return ClassStaticRandom
		default: // 0b01 resolvable, 0b00 non-resolvable, 0b10 reserved
			return ClassPrivate
		}
	}
	if a.LocallyAdministered() {
		return ClassLocal
	}
	return ClassUniversal
}
