package scp03_test

import (
	"bytes"
	"fmt"

	"github.com/payedge/payedge/se/scp03"
)

// A host builds PUT KEY for a new key set under the DEK of its open
// session; the card decrypts and checks it, and the host verifies the
// card's answer (key version and key check values).
func ExamplePutKey() {
	dek := bytes.Repeat([]byte{0x44}, 16)
	next := scp03.StaticKeys{KVN: 0x31,
		ENC: bytes.Repeat([]byte{0x11}, 16), MAC: bytes.Repeat([]byte{0x22}, 16), DEK: bytes.Repeat([]byte{0x33}, 16)}
	cmd, _ := scp03.PutKey(dek, 0x30, next) // wrap with HostSession before sending

	req, err := scp03.ParsePutKey(dek, cmd) // card side, after Unwrap
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("replace %02X by %02X, %d keys\n", req.ReplaceKVN, req.Keys.KVN, len(req.KCV))
	fmt.Println(scp03.VerifyPutKeyResponse(next, req.PutKeyResponse()))
	// Output:
	// replace 30 by 31, 3 keys
	// <nil>
}
