package iso8583

import (
	"maps"

	moov "github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/encoding"
	"github.com/moov-io/iso8583/field"
	"github.com/moov-io/iso8583/prefix"
)

// DefaultSpec returns the adapter's default dialect: moov's Spec87
// (ISO 8583:1987, ASCII, 2-byte-framed) with one change — field 3, the
// processing code, is a fixed 6-character string instead of Spec87's
// numeric field, which drops leading zeros ("000000", purchase, would pack
// as "0" and fail the fixed length). A new spec is returned on each call;
// the fields map is shared with Spec87 except field 3, and field values
// are never stored in a spec, so sharing is safe.
func DefaultSpec() *moov.MessageSpec {
	s := &moov.MessageSpec{Name: moov.Spec87.Name + " (payedge: field 3 as string)", Fields: maps.Clone(moov.Spec87.Fields)}
	s.Fields[FieldProcessingCode] = field.NewString(&field.Spec{
		Length:      6,
		Description: "Processing Code",
		Enc:         encoding.ASCII,
		Pref:        prefix.ASCII.Fixed,
	})
	return s
}
