package nfc

import "github.com/payedge/payedge/se/apdu"

func applyCLA(cla, ins byte, data []byte) apdu.Command {
	return apdu.Command{CLA: cla, INS: ins, Data: data, Ne: 256}
}
