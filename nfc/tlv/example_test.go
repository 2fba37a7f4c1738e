package tlv_test

import (
	"encoding/hex"
	"fmt"

	"github.com/payedge/payedge/nfc/tlv"
)

func Example() {
	// A SELECT PPSE response (FCI template) as a card returns it.
	fci, _ := hex.DecodeString("6f23840e325041592e5359532e4444463031a511bf0c0e610c4f07a00000000310108701010000")
	it := tlv.NewIter(fci, tlv.Lenient) // the trailing 00 00 is padding
	for obj, ok := it.Next(); ok; obj, ok = it.Next() {
		fmt.Println(obj.Tag, len(obj.Value), obj.Constructed())
	}
	if err := it.Err(); err != nil {
		fmt.Println(err)
	}
	aid, err := tlv.Find(fci, 0x6F, 0xA5, 0xBF0C, 0x61, 0x4F)
	fmt.Printf("AID %X %v\n", aid, err)

	var b tlv.Builder
	b.Constructed(0x77, func(b *tlv.Builder) {
		b.Add(0x82, []byte{0x19, 0x80})
		b.Add(0x94, []byte{0x08, 0x01, 0x01, 0x00})
	})
	gpo, _ := b.Bytes()
	fmt.Printf("%X\n", gpo)

	data, _ := tlv.FillDOL(nil, []byte{0x9F, 0x37, 0x04, 0x5F, 0x2A, 0x02}, func(t tlv.Tag, n int) []byte {
		if t == 0x5F2A {
			return []byte{0x09, 0x78} // EUR
		}
		return nil // unknown: zeros
	})
	fmt.Printf("%X\n", data)
	// Output:
	// 6F 35 true
	// AID A0000000031010 <nil>
	// 770A82021980940408010100
	// 000000000978
}
