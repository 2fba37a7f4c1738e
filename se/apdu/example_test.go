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
