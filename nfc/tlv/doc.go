// Package tlv decodes and encodes BER-TLV data objects as EMV and ISO/IEC
// 7816-4 use them: tags of one to four bytes, definite lengths of up to four
// length bytes, primitive and constructed objects, and Data Object Lists
// (PDOL, CDOL).
//
// # Standards
//
//   - ISO/IEC 8825-1 (BER) §8.1.2–8.1.3 for the identifier and length octets.
//   - ISO/IEC 7816-4:2020 §6.3 (BER-TLV data objects in interindustry
//     commands): bytes 00 and FF before, between and after objects are
//     padding.
//   - EMV 4.4 Book 3 Annex B (coding of BER-TLV data objects) and §5.4
//     (rules for processing a Data Object List).
//
// # Zero copy
//
// Parsing never copies: an Iter, in the style of
// golang.org/x/crypto/cryptobyte.String, walks the objects of one level of a
// byte slice, and a Scanner walks every object depth first in one linear
// pass (BER-TLV nests values inside their parents, so only a stack of end
// offsets is needed); both yield TLV values whose Value aliases the input.
// Iter.Next, Scanner.Next, DecodeOne, Find and Walk allocate nothing. The
// caller must not modify the input while parsed values are in use.
//
// # Strict and lenient
//
// Strict mode (the zero Mode) accepts only canonical encodings: no 00/FF
// padding, minimal length fields, a high-tag-number form without a leading
// 80 byte. (Like EMV, it accepts two-byte tags for tag numbers below 31,
// such as 9F02, which BER would write in one byte.) Lenient mode accepts
// the padding, the non-minimal lengths (81 05, 82 00 05) real cards emit
// and a high-tag-number form with a leading 80 byte (9F 80 01). The
// encoder writes only what Strict mode reads back. Both reject the indefinite length (80),
// lengths of more than four bytes, tags of more than four bytes and lengths
// beyond the buffer. Nesting is bounded by Decoder.MaxDepth
// (DefaultMaxDepth when zero, at most MaxDepthLimit) wherever the decoder
// descends (Scanner, Walk, Check, Find), so a depth bomb is an error, never
// a stack overflow.
//
// # Quick start
//
//	for obj, err := range tlv.Iterate(fci, tlv.Lenient) { … }
//
//	it := tlv.NewIter(fci, tlv.Lenient)             // the same, cryptobyte style
//	for obj, ok := it.Next(); ok; obj, ok = it.Next() {
//		fmt.Println(obj.Tag, len(obj.Value))
//	}
//	if err := it.Err(); err != nil { … }             // *tlv.Error wrapping ErrTruncated, …
//	aid, err := tlv.Find(fci, 0x6F, 0x84)            // DF name inside the FCI template
//
//	var b tlv.Builder
//	b.Constructed(0x77, func(b *tlv.Builder) {
//		b.Add(0x82, []byte{0x19, 0x80})
//		b.Add(0x94, afl)
//	})
//	gpo, err := b.Bytes()
//
//	pdolData, err := tlv.FillDOL(nil, pdol, func(t tlv.Tag, n int) []byte { return terminal[t] })
//	// or, with EMV Book 3 §5.4's numeric and compressed-numeric rules:
//	pdolData, err = tlv.FillDOLFormats(nil, pdol, func(t tlv.Tag, n int) ([]byte, tlv.Format) {
//		return terminal[t], formats[t] // tlv.FormatN for 9F02, tlv.FormatB for 9F66 …
//	})
package tlv
