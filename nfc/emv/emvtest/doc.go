// Package emvtest provides test doubles for package emv: Card, a simulated
// contactless card built from a table of applications and records that
// answers SELECT (PPSE and AID), GET PROCESSING OPTIONS in format 1 or 2,
// READ RECORD and GET RESPONSE, with optional 61xx and 6Cxx behaviour; and
// Replay, a Transceiver that plays back a recorded APDU log (ParseLog reads
// the "> command" / "< response" text form) and fails on the first command
// that differs from the log.
//
// Visa and Mastercard return ready-made cards with the test PANs of the card
// schemes' public test ranges, for examples.
//
//	card := emvtest.Visa()
//	r, _ := emv.NewReader(card, emv.Config{})
//	c, err := r.Read(ctx)
//
// Both types are safe for concurrent use.
package emvtest
