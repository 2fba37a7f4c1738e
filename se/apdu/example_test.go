package apdu_test

import (
	"context"
	"fmt"

	"github.com/payedge/payedge/se/apdu"
)

func Example() {
	// SELECT the GlobalPlatform ISD by AID, expecting up to 256 bytes.
	cmd := apdu.Command{CLA: 0x00, INS: 0xA4, P1: 0x04, P2: 0x00,
		Data: []byte{0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00}, Ne: 256}
	raw, _ := cmd.MarshalBinary()
	fmt.Printf("% X\n", raw)

	parsed, _ := apdu.ParseCommand(raw)
	fmt.Println("case", parsed.Case(), "Nc", len(parsed.Data), "Ne", parsed.Ne)

	// The same command on logical channel 5.
	onCh5, _ := cmd.OnChannel(5)
	fmt.Printf("CLA on channel 5: %02X\n", onCh5.CLA)

	// A card that answers in two parts (61xx then 9000).
	card := func(_ context.Context, b []byte) ([]byte, error) {
		if b[1] == 0xC0 {
			return []byte{0x03, 0x04, 0x90, 0x00}, nil
		}
		return []byte{0x01, 0x02, 0x61, 0x02}, nil
	}
	resp, err := apdu.Transmit(context.Background(), card, cmd)
	fmt.Printf("% X %04X %v\n", resp.Data, resp.SW, err)

	fmt.Println(apdu.Response{SW: 0x6A82}.Err())
	// Output:
	// 00 A4 04 00 08 A0 00 00 01 51 00 00 00 00
	// case 4 Nc 8 Ne 256
	// CLA on channel 5: 41
	// 01 02 03 04 9000 <nil>
	// apdu: status 6A82: file or application not found
}

// ExampleWithChannel codes one GlobalPlatform class byte for several
// logical channels: b2b1 on channels 0–3, 0x40 | (n−4) on channels 4–19,
// with the secure-messaging indication carried over.
func ExampleWithChannel() {
	for _, ch := range []int{0, 3, 4, 19, 20} {
		cla, err := apdu.WithChannel(0x84, ch)
		if err != nil {
			fmt.Println(ch, err)
			continue
		}
		back, _ := apdu.Channel(cla)
		fmt.Printf("%d %02X channel %d secure messaging %v\n", ch, cla, back, apdu.SecureMessaging(cla))
	}
	// Output:
	// 0 84 channel 0 secure messaging true
	// 3 87 channel 3 secure messaging true
	// 4 E0 channel 4 secure messaging true
	// 19 EF channel 19 secure messaging true
	// 20 apdu: invalid logical channel: 20 outside 0..19
}

// ExampleParseCommand shows the length rules: 00 as Le means 256, an
// extended Le follows an extended Lc, and Lc = 00 is refused.
func ExampleParseCommand() {
	for _, raw := range [][]byte{
		{0x00, 0xB0, 0x00, 0x00, 0x00},                               // case 2S, Le = 00
		{0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00},                   // case 2E, Le = 0000
		{0x00, 0xD6, 0x00, 0x00, 0x00, 0x00, 0x01, 0xAA, 0x01, 0x00}, // case 4E
		{0x00, 0xD6, 0x00, 0x00, 0x00, 0xAA},                         // Lc = 00
	} {
		c, err := apdu.ParseCommand(raw)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("case %d Nc %d Ne %d\n", c.Case(), len(c.Data), c.Ne)
	}
	// Output:
	// case 2 Nc 0 Ne 256
	// case 2 Nc 0 Ne 65536
	// case 4 Nc 1 Ne 256
	// apdu: invalid length: short Lc = 00
}
