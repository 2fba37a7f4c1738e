package apdu

import (
	"encoding/hex"
	"fmt"
)

// Length limits of ISO/IEC 7816-4 §5.1.
const (
	// MaxShortNc is the largest command data length of the short form.
	MaxShortNc = 255
	// MaxShortNe is the largest expected response length of the short form
	// (encoded as Le = 00).
	MaxShortNe = 256
	// MaxNc is the largest command data length (extended form).
	MaxNc = 65535
	// MaxNe is the largest expected response length (extended form, encoded
	// as Le = 0000).
	MaxNe = 65536
	// MaxCommandLen is the longest encoded command APDU: header, three-byte
	// Lc, 65535 data bytes and a two-byte Le.
	MaxCommandLen = 4 + 3 + MaxNc + 2
)

// Command is a command APDU.
//
// Data is the command data field (Nc = len(Data) bytes, at most MaxNc) and Ne
// the maximum number of response data bytes expected, 0 (no response data)
// to MaxNe. A Command whose Data and Ne fit the short form is always encoded
// in the short form.
type Command struct {
	CLA, INS, P1, P2 byte
	Data             []byte
	Ne               int
}

// Case returns the ISO/IEC 7816-4 command case: 1 (no data, no response
// data), 2 (response data only), 3 (command data only) or 4 (both).
func (c Command) Case() int {
	switch {
	case len(c.Data) == 0 && c.Ne == 0:
		return 1
	case len(c.Data) == 0:
		return 2
	case c.Ne == 0:
		return 3
	default:
		return 4
	}
}

// Extended reports whether the command needs the extended length form, that
// is whether Nc > 255 or Ne > 256.
func (c Command) Extended() bool {
	return len(c.Data) > MaxShortNc || c.Ne > MaxShortNe
}

// Validate reports whether the lengths are encodable. It returns an error
// wrapping ErrLength otherwise.
func (c Command) Validate() error {
	if len(c.Data) > MaxNc {
		return fmt.Errorf("%w: Nc %d exceeds %d", ErrLength, len(c.Data), MaxNc)
	}
	if c.Ne < 0 || c.Ne > MaxNe {
		return fmt.Errorf("%w: Ne %d outside 0..%d", ErrLength, c.Ne, MaxNe)
	}
	return nil
}

// EncodedLen returns the number of bytes MarshalBinary produces for a valid
// command.
func (c Command) EncodedLen() int {
	n := 4 + len(c.Data)
	ext := c.Extended()
	if len(c.Data) > 0 {
		if ext {
			n += 3
		} else {
			n++
		}
	}
	if c.Ne > 0 {
		switch {
		case !ext:
			n++
		case len(c.Data) > 0:
			n += 2
		default:
			n += 3 // 00 Le1 Le2
		}
	}
	return n
}

// AppendLc appends the Lc field exactly as MarshalBinary encodes it: nothing
// for Nc = 0, one byte in the short form, 00 followed by two bytes in the
// extended form. Secure-messaging MACs that cover the Lc field use it.
func (c Command) AppendLc(b []byte) []byte {
	nc := len(c.Data)
	switch {
	case nc == 0:
		return b
	case c.Extended():
		return append(b, 0, byte(nc>>8), byte(nc))
	default:
		return append(b, byte(nc))
	}
}

// AppendBinary appends the encoded command to b, in the short form whenever
// Nc ≤ 255 and Ne ≤ 256 and in the extended form otherwise. It allocates
// only if b lacks capacity. A command that Validate rejects (Nc above MaxNc,
// Ne negative or above MaxNe) is an error wrapping ErrLength, and b is
// returned unchanged.
func (c Command) AppendBinary(b []byte) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return b, err
	}
	b = append(b, c.CLA, c.INS, c.P1, c.P2)
	b = c.AppendLc(b)
	b = append(b, c.Data...)
	if c.Ne > 0 {
		switch {
		case !c.Extended():
			b = append(b, byte(c.Ne)) // 256 encodes as 00
		case len(c.Data) > 0:
			b = append(b, byte(c.Ne>>8), byte(c.Ne)) // 65536 encodes as 0000
		default:
			b = append(b, 0, byte(c.Ne>>8), byte(c.Ne))
		}
	}
	return b, nil
}

// MarshalBinary encodes the command; see AppendBinary for the forms and
// the error.
func (c Command) MarshalBinary() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c.AppendBinary(make([]byte, 0, c.EncodedLen()))
}

// String formats the command as hex for diagnostics. The data field is
// printed: do not format commands that carry secrets.
func (c Command) String() string {
	b, err := c.MarshalBinary()
	if err != nil {
		return fmt.Sprintf("apdu.Command{invalid: %v}", err)
	}
	return hex.EncodeToString(b)
}

// ParseCommand decodes a command APDU in any of the four cases, short or
// extended. It rejects Lc = 00 in the short form, Lc = 0000 in the extended
// form, a short Le after an extended Lc and every length that does not
// match the input size, with errors wrapping ErrTruncated or ErrLength.
//
// The extended form is accepted where the short one would fit (ISO/IEC
// 7816-4 allows it); Command does not record the form, so MarshalBinary of
// the result may be shorter than b. Protocols that MAC the encoded length
// fields must use the received bytes (see scp03.CardSession.UnwrapRaw).
// The class byte is not checked: FF, invalid in ISO/IEC 7816-4, is what
// PC/SC readers use for their own pseudo-APDUs.
//
// ParseCommand does not allocate: the returned Data aliases b (nil when
// Nc = 0).
func ParseCommand(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, fmt.Errorf("%w: %d bytes, need at least 4", ErrTruncated, len(b))
	}
	c := Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
		return c, nil
	case len(body) == 1: // case 2S
		c.Ne = shortNe(body[0])
		return c, nil
	case body[0] != 0: // case 3S or 4S
		nc := int(body[0])
		switch len(body) {
		case 1 + nc:
			c.Data = body[1:]
		case 2 + nc:
			c.Data = body[1 : 1+nc]
			c.Ne = shortNe(body[1+nc])
		default:
			if len(body) < 1+nc {
				return Command{}, fmt.Errorf("%w: Lc %d but %d data bytes", ErrTruncated, nc, len(body)-1)
			}
			return Command{}, fmt.Errorf("%w: Lc %d inconsistent with %d body bytes", ErrLength, nc, len(body))
		}
		return c, nil
	case len(body) == 2:
		return Command{}, fmt.Errorf("%w: short Lc = 00", ErrLength)
	case len(body) == 3: // case 2E
		c.Ne = extNe(body[1], body[2])
		return c, nil
	default: // case 3E or 4E
		nc := int(body[1])<<8 | int(body[2])
		if nc == 0 {
			return Command{}, fmt.Errorf("%w: extended Lc = 0000", ErrLength)
		}
		switch len(body) {
		case 3 + nc:
			c.Data = body[3:]
		case 5 + nc:
			c.Data = body[3 : 3+nc]
			c.Ne = extNe(body[3+nc], body[4+nc])
		default:
			if len(body) < 3+nc {
				return Command{}, fmt.Errorf("%w: extended Lc %d but %d data bytes", ErrTruncated, nc, len(body)-3)
			}
			return Command{}, fmt.Errorf("%w: extended Lc %d inconsistent with %d body bytes (Le after extended Lc must be 2 bytes)", ErrLength, nc, len(body))
		}
		return c, nil
	}
}

func shortNe(le byte) int {
	if le == 0 {
		return MaxShortNe
	}
	return int(le)
}

func extNe(hi, lo byte) int {
	n := int(hi)<<8 | int(lo)
	if n == 0 {
		return MaxNe
	}
	return n
}
