package nfc_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/payedge/payedge/nfc"
	"github.com/payedge/payedge/nfc/emv/emvtest"
	"github.com/payedge/payedge/se/scp03"
)

func Example() {
	key := func(b byte) []byte { return bytes.Repeat([]byte{b}, 16) }
	keys := scp03.StaticKeys{KVN: 0x30, ENC: key(1), MAC: key(2), DEK: key(3)}
	rnd := bytes.NewReader(bytes.Repeat([]byte{7}, 1<<12)) // use crypto/rand in production
	dev, err := nfc.NewDevice(nfc.DefaultConfig(keys), nfc.NewSimController(emvtest.Mastercard()), nfc.Options{Rand: rnd})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer dev.Close()

	card, err := dev.TEE().ReadCard(context.Background()) // inside the TEE
	fmt.Println(card, err)
	summary, err := dev.RichOS().Pay(context.Background()) // what the rich OS gets
	fmt.Println(string(summary), err)
	// Output:
	// MASTERCARD ************0434 A0000000041010 <nil>
	// {"card":{"aid":"A0000000041010","label":"MASTERCARD","pan":"************0434","aip":"1980","afl":"080101001001010120010200","records":4,"track2_present":true}} <nil>
}
