package emvtest

import "encoding/hex"

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic("emvtest: bad built-in hex: " + err.Error())
	}
	return b
}

// Visa returns a simulated Visa contactless card (qVSDC style): AID
// A0000000031010, a PDOL asking for TTQ, amounts, country, TVR, currency,
// date, type and unpredictable number, a format-2 GPO response carrying
// track 2, and three records in SFI 2. The PAN 4761739001010010 is a Visa
// test card number (Visa's published test card set); expiry 2030-12-31.
func Visa() *Card {
	track2 := "4761739001010010d30122011143804400000f"
	return &Card{Apps: []App{{
		AID:       mustHex("a0000000031010"),
		Label:     "VISA DEBIT",
		Priority:  1,
		PDOL:      mustHex("9f66049f02069f03069f1a0295055f2a029a039c019f3704"),
		GPOFormat: 2,
		AIP:       [2]byte{0x20, 0x20},
		AFL:       mustHex("10010300"),
		GPOExtra:  mustHex("5713" + track2 + "9f100706011203a000009f2608c2a4e1f1a1b2c3d49f2701809f36020001"),
		Records: map[[2]int][]byte{
			{2, 1}: mustHex("8f01099f320103"),
			{2, 2}: mustHex("9f4701035f280208409f0702ff00"),
			{2, 3}: mustHex("5a0847617390010100105f24033012315f3401015f201a56495341204143515549524552205445535420434152442030315f300202019f6e0420700000"),
		},
	}}}
}

// Mastercard returns a simulated Mastercard contactless card: AID
// A0000000041010, no PDOL, a format-1 GPO response, and records in SFI 1, 2
// and 4 (track data, PAN and expiry, certificates). The PAN
// 5413330089010434 is from Mastercard's published test card range; expiry
// 2029-06-30.
func Mastercard() *Card {
	return &Card{Apps: []App{{
		AID:       mustHex("a0000000041010"),
		Label:     "MASTERCARD",
		Priority:  1,
		GPOFormat: 1,
		AIP:       [2]byte{0x19, 0x80},
		AFL:       mustHex("080101001001010120010200"),
		Records: map[[2]int][]byte{
			{1, 1}: mustHex("9f6c0200019f6b135413330089010434d29062010000000000000f9f670102"),
			{2, 1}: mustHex("5f25032401015f24032906305a0854133300890104345f3401009f0702ffc08c159f02069f03069f1a0295055f2a029a039c019f37045f280208265713" + "5413330089010434d2906201000012345678" + "0f"),
			{4, 1}: mustHex("8f01059f320103"),
			{4, 2}: mustHex("9f470103"),
		},
	}}}
}
