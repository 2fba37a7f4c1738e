// Package emv reads EMV contactless payment cards over any Transceiver: it
// runs the card-reading part of a contactless kernel and returns the card's
// application, AIP, AFL, PAN, expiry, track-2 equivalent data, cardholder
// name and raw records.
//
// # Standards
//
//   - EMV Contactless Book B (Entry Point): SELECT of the Proximity Payment
//     System Environment "2PAY.SYS.DDF01", the candidate list from its FCI
//     (tag 61 entries in BF0C) and selection by Application Priority
//     Indicator (tag 87).
//   - EMV 4.4 Book 1 §11–12 (SELECT, FCI) and Book 3 §6.5.8 (GET PROCESSING
//     OPTIONS, response formats 1 (tag 80) and 2 (tag 77)), §6.5.11 (READ
//     RECORD), §10.2 (walking the Application File Locator), §5.4 (Data
//     Object Lists) and Annex A (data elements: 5A PAN, 5F24 expiry, 57
//     track 2 equivalent data, 5F20 cardholder name).
//   - ISO/IEC 7816-4 through package se/apdu: 61xx (GET RESPONSE) and 6Cxx
//     (wrong Le) are followed for every command.
//
// The reader stops after reading the records: it does not generate an
// application cryptogram or authenticate the card. Offline data
// authentication and the kernel's risk decisions are the host's business.
//
// # Card data is masked
//
// Card never prints its PAN, expiry or track-2 data: String, every fmt verb
// (Format), GoString, MarshalText and MarshalJSON show the PAN masked to its
// last four digits and nothing else secret. The digits come only from the
// explicit accessors RevealPAN, RevealTrack2 and Expiry.
//
// # Quick start
//
//	r, err := emv.NewReader(nfcLink, emv.Config{
//		Terminal: emv.Terminal{Amount: 1250, Currency: 978, Country: 276, TTQ: [4]byte{0x27}},
//		Now:      clock.Now,
//		Rand:     rand.Reader, // unpredictable number (9F37)
//	})
//	card, err := r.Read(ctx)
//	if errors.Is(err, emv.ErrNoApplication) { … }
//	fmt.Println(card)             // VISA DEBIT ************0010 A0000000031010
//	pan := card.RevealPAN()       // only where the digits are really needed
//
// Package emvtest has a simulated contactless card built from a table of
// AIDs and records, and a Transceiver that replays a recorded APDU log.
package emv
