package emv_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/payedge/payedge/nfc/emv"
	"github.com/payedge/payedge/nfc/emv/emvtest"
)

func Example() {
	card := emvtest.Visa() // any emv.Transceiver: an NFC controller, a PC/SC reader
	r, err := emv.NewReader(card, emv.Config{
		Terminal: emv.Terminal{Amount: 1250, Currency: 978, Country: 276, TTQ: [4]byte{0x36, 0x00, 0x40, 0x00}},
		Now:      func() time.Time { return time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC) },
		Rand:     bytes.NewReader([]byte{1, 2, 3, 4}), // unpredictable number
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := r.Read(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c)            // masked
	fmt.Printf("%+v\n", c)    // masked too, whatever the verb
	fmt.Printf("%X\n", c.AIP) // AIP
	e := c.Expiry()
	fmt.Println(e.Year, e.Month, len(c.Records()))
	// Output:
	// VISA DEBIT ************0010 A0000000031010
	// VISA DEBIT ************0010 A0000000031010
	// 2020
	// 2030 December 3
}
