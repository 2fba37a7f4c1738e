package nfc

import (
	"encoding/hex"
	"fmt"
)

// Hop names a link of the device.
type Hop int

// The hops of a relayed card APDU.
const (
	// HopTEE is the TEE application ↔ applet 1 link (channel TEEChannel).
	HopTEE Hop = iota + 1
	// HopRelay is applet 1 ↔ applet 2 inside the SE, under SCP03.
	HopRelay
	// HopField is applet 2 ↔ the NFC controller and the card.
	HopField
)

// String names the hop.
func (h Hop) String() string {
	switch h {
	case HopTEE:
		return "TEE↔applet1"
	case HopRelay:
		return "applet1═applet2"
	case HopField:
		return "applet2↔card"
	}
	return fmt.Sprintf("Hop(%d)", int(h))
}

// Event is one APDU on one hop, for a diagnostic trace. On the plaintext
// hops (HopTEE, HopField) Data holds only the command header (CLA INS P1
// P2) or the status word, and Len the length of what was withheld; on
// HopRelay Data is the complete wrapped APDU as it crossed between the
// applets, ciphertext and MAC included.
type Event struct {
	Hop      Hop
	Command  bool // true for a command, false for a response
	Data     []byte
	Len      int  // full length of the APDU
	Redacted bool // Data is a header or status word only
}

// String renders the event in one line.
func (e Event) String() string {
	dir := "<"
	if e.Command {
		dir = ">"
	}
	if e.Redacted {
		return fmt.Sprintf("%-16s %s %s … (%d bytes, plaintext withheld)", e.Hop, dir, hex.EncodeToString(e.Data), e.Len)
	}
	return fmt.Sprintf("%-16s %s %s", e.Hop, dir, hex.EncodeToString(e.Data))
}

func redactCommand(h Hop, raw []byte) Event {
	n := min(4, len(raw))
	return Event{Hop: h, Command: true, Data: append([]byte(nil), raw[:n]...), Len: len(raw), Redacted: true}
}

func redactResponse(h Hop, raw []byte) Event {
	var sw []byte
	if len(raw) >= 2 {
		sw = append(sw, raw[len(raw)-2:]...)
	}
	return Event{Hop: h, Data: sw, Len: len(raw), Redacted: true}
}
