// Package apdu encodes and decodes ISO/IEC 7816-4 command and response APDUs.
//
// It implements the four command cases of ISO/IEC 7816-4:2020 §5.1 in short
// and extended form (Nc up to 65535, Ne up to 65536), the status words of
// §5.6, the logical-channel coding of the class byte (§5.4.1, channels 0–19)
// and the GET RESPONSE (61xx) and wrong-Le (6Cxx) exchanges of §5.3.4 over
// any byte transport.
//
// # Parsing does not copy
//
// ParseCommand and ParseResponse allocate nothing: the Data field of the
// result is a sub-slice of the input, in the style of
// golang.org/x/crypto/cryptobyte. The caller must not modify the input while
// the parsed value is in use, and must copy Data if it outlives the input
// buffer (for example when a transport reuses its receive buffer).
//
// # Quick start
//
//	cmd := apdu.Command{CLA: 0x00, INS: 0xA4, P1: 0x04, P2: 0x00,
//		Data: aid, Ne: 256}
//	raw, err := cmd.MarshalBinary()        // 00 A4 04 00 07 … 00
//	resp, err := apdu.Transmit(ctx, card.Transceive, cmd) // follows 61xx/6Cxx
//	if !resp.Success() {
//		return resp.Err()                  // *apdu.StatusError, e.g. "6A82: file or application not found"
//	}
package apdu
