package apdu

import "fmt"

// MaxChannel is the highest logical channel number ISO/IEC 7816-4 can code
// in the class byte.
const MaxChannel = 19

// Class-byte bits of ISO/IEC 7816-4:2020 §5.4.1.
const (
	claProprietary = 0x80 // b8: proprietary class (GlobalPlatform commands)
	claFurther     = 0x40 // b7: further interindustry coding (channels 4–19)
	claChaining    = 0x10 // b5: command chaining, both codings
	claFirstSM     = 0x0C // b4b3: secure messaging, first interindustry coding
	claFurtherSM   = 0x20 // b6: secure messaging, further interindustry coding
	claRFU         = 0x20 // b8b7b6 = 001: reserved interindustry classes 20–3F
)

// Channel returns the logical channel number (0–19) coded in cla: b2b1 in
// the first interindustry coding, 4 + b4..b1 in the further interindustry
// coding (b7 set). It returns an error wrapping ErrClass for CLA = FF and
// for the reserved interindustry classes 20–3F (b8b7b6 = 001), whose
// channel coding ISO/IEC 7816-4 does not define. Proprietary classes
// (b8 = 1) are read with the interindustry layout, as GlobalPlatform does.
func Channel(cla byte) (int, error) {
	if cla == 0xFF {
		return 0, fmt.Errorf("%w: FF", ErrClass)
	}
	if cla&0xE0 == claRFU {
		return 0, fmt.Errorf("%w: %02X is reserved (b8b7b6 = 001)", ErrClass, cla)
	}
	if cla&claFurther != 0 {
		return 4 + int(cla&0x0F), nil
	}
	return int(cla & 0x03), nil
}

// SecureMessaging reports whether cla indicates secure messaging: b4b3 ≠ 00
// in the first interindustry coding, b6 set in the further one.
func SecureMessaging(cla byte) bool {
	if cla&claFurther != 0 {
		return cla&claFurtherSM != 0
	}
	return cla&claFirstSM != 0
}

// SetSecureMessaging returns cla with the secure-messaging indication set:
// b3 (proprietary secure messaging, as GlobalPlatform uses it) in the first
// interindustry coding, b6 in the further one. The channel is unchanged.
func SetSecureMessaging(cla byte) byte {
	if cla&claFurther != 0 {
		return cla | claFurtherSM
	}
	return cla | 0x04
}

// ClearSecureMessaging returns cla without its secure-messaging indication.
func ClearSecureMessaging(cla byte) byte {
	if cla&claFurther != 0 {
		return cla &^ claFurtherSM
	}
	return cla &^ claFirstSM
}

// WithChannel returns cla recoded for logical channel ch (0–19).
//
// Channels 0–3 use the first interindustry coding (channel in b2b1), channels
// 4–19 the further interindustry coding 0x40 | (ch−4). The proprietary bit
// b8, command chaining (b5) and the secure-messaging indication are
// preserved. The single secure-messaging bit b6 of the further coding stands
// for b4b3 = 01 (proprietary, GlobalPlatform) in a proprietary class and for
// b4b3 = 10 (ISO secure messaging, header not authenticated) in an
// interindustry class; other b4b3 values cannot move to channels 4–19 and
// are reported with ErrClass.
//
// A channel outside 0–19 is an error wrapping ErrChannel; it is never
// clamped. A class byte with b7 = 0 and b6 = 1 (20–3F, A0–BF) has no
// channel coding to carry over (b6 would be lost) and is an error wrapping
// ErrClass, as is FF.
func WithChannel(cla byte, ch int) (byte, error) {
	if ch < 0 || ch > MaxChannel {
		return cla, fmt.Errorf("%w: %d outside 0..%d", ErrChannel, ch, MaxChannel)
	}
	if cla == 0xFF {
		return cla, fmt.Errorf("%w: FF", ErrClass)
	}
	if cla&(claFurther|0x20) == 0x20 {
		return cla, fmt.Errorf("%w: CLA %02X (b7 = 0, b6 = 1) has no logical-channel coding", ErrClass, cla)
	}
	prop := cla & claProprietary
	chain := cla & claChaining
	// Secure-messaging indication in first-interindustry terms (b4b3).
	var sm byte
	if cla&claFurther != 0 {
		if cla&claFurtherSM != 0 {
			sm = furtherSMAsFirst(prop)
		}
	} else {
		sm = cla & claFirstSM
	}
	if ch <= 3 {
		return prop | chain | sm | byte(ch), nil
	}
	out := prop | claFurther | chain | byte(ch-4)
	switch sm {
	case 0:
	case furtherSMAsFirst(prop):
		out |= claFurtherSM
	default:
		return cla, fmt.Errorf("%w: CLA %02X: secure messaging b4b3=%02b cannot be coded on channel %d", ErrClass, cla, sm>>2, ch)
	}
	return out, nil
}

func furtherSMAsFirst(prop byte) byte {
	if prop != 0 {
		return 0x04
	}
	return 0x08
}

// OnChannel returns a copy of c with its class byte recoded for logical
// channel ch; see WithChannel for the coding and its errors (ErrChannel,
// ErrClass).
func (c Command) OnChannel(ch int) (Command, error) {
	cla, err := WithChannel(c.CLA, ch)
	if err != nil {
		return c, err
	}
	c.CLA = cla
	return c, nil
}
