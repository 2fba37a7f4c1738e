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

func unhex(c byte) (uint64, bool) {
	switch {
	case '0' <= c && c <= '9':
		return uint64(c - '0'), true
	case 'a' <= c && c <= 'f':
		return uint64(c - 'a' + 10), true
	case 'A' <= c && c <= 'F':
		return uint64(c - 'A' + 10), true
	}
	return 0, false
}

func parseAddr(s string) (Addr, bool) {
	var v uint64
	switch len(s) {
	case 17: // aa:bb:cc:dd:ee:ff or aa-bb-…
		sep := s[2]
		if sep != ':' && sep != '-' {
			return 0, false
		}
		for i := 0; i < 17; i++ {
			if i%3 == 2 {
				if s[i] != sep {
					return 0, false
				}
				continue
			}
			d, ok := unhex(s[i])
			if !ok {
				return 0, false
			}
			v = v<<4 | d
		}
	case 14: // aabb.ccdd.eeff
		for i := 0; i < 14; i++ {
			if i%5 == 4 {
				if s[i] != '.' {
					return 0, false
				}
				continue
			}
			d, ok := unhex(s[i])
			if !ok {
				return 0, false
			}
			v = v<<4 | d
		}
	case 12:
		for i := 0; i < 12; i++ {
			d, ok := unhex(s[i])
			if !ok {
				return 0, false
			}
			v = v<<4 | d
		}
	default:
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
// any form ParseAddr accepts.
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
// MACs are, rather than from an OUI (IEEE Std 802-2014 §8.2).
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
