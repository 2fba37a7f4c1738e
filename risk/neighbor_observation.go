package risk

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// NeighborKind is the radio on which a neighbour was seen.
type NeighborKind uint8

const (
	// KindUnknown is invalid in an observation; it exists so that a zero
	// Neighbor is detectably incomplete.
	KindUnknown NeighborKind = iota
	// KindWiFi is an IEEE 802.11 access point; ID is its BSSID.
	KindWiFi
	// KindBluetooth is a Bluetooth BR/EDR device; ID is its BD_ADDR.
	KindBluetooth
	// KindBLE is a Bluetooth Low Energy advertiser; ID is its device
	// address and Neighbor.Random its address type.
	KindBLE
)

// String names k.
func (k NeighborKind) String() string {
	switch k {
	case KindUnknown:
		return "unknown"
	case KindWiFi:
		return "wifi"
	case KindBluetooth:
		return "bluetooth"
	case KindBLE:
		return "ble"
	}
	return fmt.Sprintf("NeighborKind(%d)", uint8(k))
}

// ParseNeighborKind parses "wifi", "bluetooth" or "ble" (case-insensitive).
// Errors wrap ErrNeighborKind.
func ParseNeighborKind(s string) (NeighborKind, error) {
	switch strings.ToLower(s) {
	case "wifi":
		return KindWiFi, nil
	case "bluetooth":
		return KindBluetooth, nil
	case "ble":
		return KindBLE, nil
	}
	return KindUnknown, fmt.Errorf("%w: %q", ErrNeighborKind, truncate(s, 32))
}

// MarshalText implements encoding.TextMarshaler; KindUnknown and
// out-of-range kinds are an error.
func (k NeighborKind) MarshalText() ([]byte, error) {
	if k < KindWiFi || k > KindBLE {
		return nil, fmt.Errorf("%w: %d", ErrNeighborKind, uint8(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseNeighborKind.
func (k *NeighborKind) UnmarshalText(b []byte) error {
	v, err := ParseNeighborKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// RSSI bounds accepted in observations, in dBm. Zero means "not measured".
const (
	MinRSSI = -127.0
	MaxRSSI = 0.0
)

// MaxScan bounds the number of neighbours in one observation.
const MaxScan = 1024

// MaxTerminalID bounds the length of a terminal ID in bytes.
const MaxTerminalID = 256

// Observation times must lie in [2000-01-01, 2100-01-01) UTC: a scan dated
// outside that range is a broken clock or a forgery (a year-9999 scan would
// otherwise stop a profile from ever learning again). NeighborAssessor
// checks freshness against its clock on top (NeighborConfig.MaxAge).
const (
	minObservationUnix = 946_684_800   // 2000-01-01T00:00:00Z
	maxObservationUnix = 4_102_444_800 // 2100-01-01T00:00:00Z
)

// Neighbor is one nearby device in a terminal's radio scan.
type Neighbor struct {
	// ID is the MAC address in any form ParseAddr accepts.
	ID string `json:"id"`
	// Kind is the radio: WiFi (ID is a BSSID), Bluetooth classic or BLE.
	Kind NeighborKind `json:"kind"`
	// RSSI is the received signal strength in dBm, in [MinRSSI, MaxRSSI);
	// 0 means the scanner did not report it.
	RSSI float64 `json:"rssi,omitempty"`
	// Random is the Bluetooth LE address type (TxAdd = 1: random device
	// address). It is ignored for other kinds.
	Random bool `json:"random,omitempty"`
}

// NeighborObservation is one radio scan reported by a terminal. The JSON
// form is {"terminal_id": …, "at": RFC 3339, "seen": [{"id", "kind",
// "rssi", "random"}]} with kind "wifi", "bluetooth" or "ble".
//
// At drives the exponential decay of learned profiles, so it should come
// from a clock the host trusts (the server's receipt time, or a terminal
// clock it has checked), not from the scan payload alone.
type NeighborObservation struct {
	// TerminalID is required: 1 to MaxTerminalID bytes of valid UTF-8
	// without control or format characters (no C0/C1 controls, no
	// bidirectional overrides), so it can be logged and used as a key.
	TerminalID string `json:"terminal_id"`
	// At is when the scan was taken; required, in [2000-01-01, 2100-01-01).
	At time.Time `json:"at"`
	// Seen holds at most MaxScan neighbours, each (kind, address) at most
	// once: a terminal merges repeated reports of one device (for example
	// several BLE advertising events) into one entry.
	Seen []Neighbor `json:"seen"`
	// Signature optionally authenticates the scan for a
	// NeighborConfig.Authenticator: a MAC or signature over SigningBytes(),
	// at most MaxSignature bytes (base64 in JSON).
	Signature []byte `json:"sig,omitempty"`
}

// MaxSignature bounds NeighborObservation.Signature in bytes.
const MaxSignature = 512

// SigningBytes returns the canonical bytes a terminal signs (or MACs) and
// a ScanAuthenticator verifies: a version tag, the terminal ID, the time
// (Unix seconds and nanoseconds) and every neighbour in the order given
// (ID as sent, kind, RSSI as IEEE 754 bits, random flag), each variable
// field length-prefixed, all big-endian. Signature itself is not included.
// It allocates the result.
func (o NeighborObservation) SigningBytes() []byte {
	b := make([]byte, 0, 64+len(o.TerminalID)+len(o.Seen)*(32))
	b = append(b, "payedge/risk.NeighborObservation/v1"...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(o.TerminalID)))
	b = append(b, o.TerminalID...)
	b = binary.BigEndian.AppendUint64(b, uint64(o.At.Unix()))
	b = binary.BigEndian.AppendUint32(b, uint32(o.At.Nanosecond()))
	b = binary.BigEndian.AppendUint32(b, uint32(len(o.Seen)))
	for _, n := range o.Seen {
		b = binary.BigEndian.AppendUint32(b, uint32(len(n.ID)))
		b = append(b, n.ID...)
		b = append(b, byte(n.Kind))
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(n.RSSI))
		if n.Random {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	return b
}

// Validate checks every field. Errors wrap ErrObservation or, for a bad
// neighbour, are a *NeighborError naming it (wrapping ErrIdentifier,
// ErrNeighborKind, ErrRSSI or ErrDuplicateNeighbor). An empty Seen is
// valid.
func (o NeighborObservation) Validate() error {
	if err := o.validateHeader(); err != nil {
		return err
	}
	first := make(map[uint64]int, len(o.Seen))
	for i := range o.Seen {
		n, err := o.Seen[i].parse(i)
		if err != nil {
			return err
		}
		if j, dup := first[n.key]; dup {
			return duplicateError(&o.Seen[i], i, j)
		}
		first[n.key] = i
	}
	return nil
}

func duplicateError(n *Neighbor, i, first int) error {
	return &NeighborError{Index: i, ID: truncate(n.ID, 64), Err: fmt.Errorf("%w: same %v address as neighbour %d", ErrDuplicateNeighbor, n.Kind, first)}
}

// validTerminalID reports whether id is 1 to MaxTerminalID bytes of valid
// UTF-8 without control (Cc) or format (Cf) characters.
func validTerminalID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty terminal ID", ErrObservation)
	}
	if len(id) > MaxTerminalID {
		return fmt.Errorf("%w: terminal ID longer than %d bytes", ErrObservation, MaxTerminalID)
	}
	if !utf8.ValidString(id) {
		return fmt.Errorf("%w: terminal ID is not valid UTF-8", ErrObservation)
	}
	for i, r := range id {
		if r < utf8.RuneSelf {
			if r < 0x20 || r == 0x7f {
				return fmt.Errorf("%w: terminal ID has control character %U at byte %d", ErrObservation, r, i)
			}
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("%w: terminal ID has control or format character %U at byte %d", ErrObservation, r, i)
		}
	}
	return nil
}

func (o NeighborObservation) validateHeader() error {
	if err := validTerminalID(o.TerminalID); err != nil {
		return err
	}
	if o.At.IsZero() {
		return fmt.Errorf("%w: terminal %q: zero time", ErrObservation, o.TerminalID)
	}
	if u := o.At.Unix(); u < minObservationUnix || u >= maxObservationUnix {
		return fmt.Errorf("%w: terminal %q: time %v outside [2000-01-01, 2100-01-01)", ErrObservation, o.TerminalID, o.At.UTC().Format(time.RFC3339))
	}
	if len(o.Signature) > MaxSignature {
		return fmt.Errorf("%w: terminal %q: signature of %d bytes exceeds %d", ErrObservation, o.TerminalID, len(o.Signature), MaxSignature)
	}
	if len(o.Seen) > MaxScan {
		return fmt.Errorf("%w: terminal %q: %d neighbours exceeds MaxScan %d", ErrObservation, o.TerminalID, len(o.Seen), MaxScan)
	}
	return nil
}

// seen is a parsed, classified neighbour.
type seen struct {
	key   uint64 // kind<<48 | addr, the sort key of profiles
	rssi  float64
	index int32 // position in the observation (Learn's duplicate report)
	class AddrClass
}

func makeKey(k NeighborKind, a Addr) uint64 { return uint64(k)<<48 | uint64(a) }

// parse validates n and returns its key and class.
func (n *Neighbor) parse(i int) (seen, error) {
	fail := func(err error) (seen, error) {
		return seen{}, &NeighborError{Index: i, ID: truncate(n.ID, 64), Err: err}
	}
	if n.Kind < KindWiFi || n.Kind > KindBLE {
		return fail(fmt.Errorf("%w: %d", ErrNeighborKind, uint8(n.Kind)))
	}
	a, ok := parseAddr(n.ID)
	if !ok {
		return fail(fmt.Errorf("%w: not a MAC address", ErrIdentifier))
	}
	if a == 0 || a == addrMask {
		return fail(fmt.Errorf("%w: null or broadcast address", ErrIdentifier))
	}
	random := n.Kind == KindBLE && n.Random
	if !random && a.Group() {
		return fail(fmt.Errorf("%w: group (multicast) address", ErrIdentifier))
	}
	if math.IsNaN(n.RSSI) || n.RSSI < MinRSSI || n.RSSI > MaxRSSI {
		return fail(fmt.Errorf("%w: %v dBm", ErrRSSI, n.RSSI))
	}
	return seen{key: makeKey(n.Kind, a), rssi: n.RSSI, class: Classify(n.Kind, a, random)}, nil
}
