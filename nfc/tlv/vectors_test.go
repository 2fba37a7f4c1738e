package tlv_test

import "encoding/hex"

// Real card responses, from the anonymised log of a deactivated Debit
// Mastercard and a deactivated Visa Debit card published in
// MichaelsPlayground/TalkToYourCreditCardPart7, logfile.md (commit
// 98739970cd0223f4ebca761300500b47db660e4b). Status words removed. The
// expected values in the tests are the ones that log decodes.
var (
	// SELECT PPSE response of the Mastercard: one application
	// A0000000041010 "Debit MasterCard", priority 01.
	mcPPSE = h("6f3c840e325041592e5359532e4444463031a52abf0c2761254f07a000000004101050104465626974204d6173746572436172648701019f0a0400010101")
	// READ RECORD SFI 2 record 1 of the Mastercard (template 70 with the
	// long length form 81 A6): PAN 5375050000160110, expiry 240331.
	mcRecord = h("7081a69f420209785f25032203015f24032403315a0853750500001601105f3401009f0702ffc09f080200028c279f02069f03069f1a0295055f2a029a039c019f37049f35019f45029f4c089f34039f21039f7c148d0c910a8a0295059f37049f4c088e0e000000000000000042031e031f039f0d05b4508400009f0e0500000000009f0f05b4708480005f280202809f4a018257135375050000160110d24032212794329000000f")
	// SELECT AID response of the Visa card with its PDOL (9F38 18).
	visaSelect = h("6f6f8407a0000000031010a564500a566973612044656269749f120f636f6d6469726563742044656269749f1101018701015f2d046465656e9f38189f66049f02069f03069f1a0295055f2a029a039c019f3704bf0c1a9f0a0800010501000000009f5a053109780276bf6304df200180")
)

func h(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
