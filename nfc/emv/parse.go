package emv

import (
	"errors"
	"fmt"

	"github.com/payedge/payedge/nfc/tlv"
)

// MaxApplications bounds the PPSE entries ParsePPSE accepts.
const MaxApplications = 32

var lenient = tlv.Decoder{Mode: tlv.Lenient, MaxDepth: 8}

// ParsePPSE decodes the FCI of the PPSE (6F → A5 → BF0C → 61 entries) into
// the candidate applications, in card order. Values alias fci. A PPSE
// without any entry that has an AID is an error wrapping ErrNoApplication;
// malformed TLV one wrapping ErrMalformed.
func ParsePPSE(fci []byte) ([]Application, error) {
	dd, err := lenient.Find(fci, 0x6F, 0xA5, 0xBF0C)
	if err != nil {
		if tlvNotFound(err) {
			return nil, fmt.Errorf("%w: PPSE without a directory (BF0C)", ErrNoApplication)
		}
		return nil, fmt.Errorf("%w: PPSE: %w", ErrMalformed, err)
	}
	var apps []Application
	it := lenient.Iter(dd)
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		if o.Tag != 0x61 {
			continue
		}
		var a Application
		in := lenient.Iter(o.Value)
		for e, ok := in.Next(); ok; e, ok = in.Next() {
			switch e.Tag {
			case 0x4F:
				a.AID = e.Value
			case 0x50:
				a.Label = printable(e.Value)
			case 0x9F12:
				a.PreferredName = printable(e.Value)
			case 0x87:
				if len(e.Value) == 1 {
					a.Priority = int(e.Value[0] & 0x0F)
				}
			case 0x9F2A:
				a.KernelID = e.Value
			}
		}
		if err := in.Err(); err != nil {
			return nil, fmt.Errorf("%w: PPSE entry: %w", ErrMalformed, err)
		}
		if len(a.AID) < 5 || len(a.AID) > 16 {
			continue // an entry without a usable AID is skipped (Book B §3.3.2.5)
		}
		if len(apps) == MaxApplications {
			return nil, fmt.Errorf("%w: more than %d PPSE entries", ErrMalformed, MaxApplications)
		}
		apps = append(apps, a)
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("%w: PPSE: %w", ErrMalformed, err)
	}
	if len(apps) == 0 {
		return nil, fmt.Errorf("%w: PPSE lists no application", ErrNoApplication)
	}
	return apps, nil
}

func tlvNotFound(err error) bool { return errors.Is(err, tlv.ErrNotFound) }

// onlyPadding reports whether b holds nothing but 00/FF padding.
func onlyPadding(b []byte) bool {
	for _, c := range b {
		if c != 0x00 && c != 0xFF {
			return false
		}
	}
	return true
}

func printable(b []byte) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c >= 0x20 && c < 0x7F {
			out = append(out, c)
		}
	}
	return string(out)
}

// Selected is the parsed FCI of a selected application.
type Selected struct {
	AID           []byte // DF name (84)
	Label         string // 50
	PreferredName string // 9F12
	Priority      int    // 87, low nibble
	PDOL          []byte // 9F38, nil when absent
}

// ParseFCI decodes the FCI returned by SELECT AID (6F → 84, A5 → 50, 87,
// 9F38, 9F12). Values alias fci. Errors wrap ErrMalformed.
func ParseFCI(fci []byte) (Selected, error) {
	var s Selected
	tmpl, err := lenient.Find(fci, 0x6F)
	if err != nil {
		return s, fmt.Errorf("%w: FCI: %w", ErrMalformed, err)
	}
	it := lenient.Iter(tmpl)
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		switch o.Tag {
		case 0x84:
			s.AID = o.Value
		case 0xA5:
			in := lenient.Iter(o.Value)
			for e, ok := in.Next(); ok; e, ok = in.Next() {
				switch e.Tag {
				case 0x50:
					s.Label = printable(e.Value)
				case 0x9F12:
					s.PreferredName = printable(e.Value)
				case 0x87:
					if len(e.Value) == 1 {
						s.Priority = int(e.Value[0] & 0x0F)
					}
				case 0x9F38:
					s.PDOL = e.Value
				}
			}
			if err := in.Err(); err != nil {
				return s, fmt.Errorf("%w: FCI: %w", ErrMalformed, err)
			}
		}
	}
	if err := it.Err(); err != nil {
		return s, fmt.Errorf("%w: FCI: %w", ErrMalformed, err)
	}
	return s, nil
}

// GPOResponse is a parsed GET PROCESSING OPTIONS response.
type GPOResponse struct {
	// Format is 1 (tag 80: AIP ‖ AFL) or 2 (tag 77: TLV template).
	Format int
	AIP    [2]byte
	// AFL aliases the input; empty when the card has no records to read.
	AFL []byte
	// Template is the value of the format-2 template (other data objects,
	// such as track 2), nil for format 1.
	Template []byte
}

// ParseGPO decodes the response to GET PROCESSING OPTIONS in format 1 or 2
// (EMV 4.4 Book 3 §6.5.8.4). A response in neither format, a format-1 value
// shorter than the AIP or with an AFL that is not a multiple of four bytes,
// or a format-2 template without AIP (82), is an error wrapping ErrGPO.
func ParseGPO(b []byte) (GPOResponse, error) {
	var g GPOResponse
	o, rest, err := tlv.DecodeOne(b, tlv.Lenient)
	if err != nil {
		return g, fmt.Errorf("%w: %w", ErrGPO, err)
	}
	if !onlyPadding(rest) {
		return g, fmt.Errorf("%w: data after the response template", ErrGPO)
	}
	switch o.Tag {
	case 0x80:
		if len(o.Value) < 2 || (len(o.Value)-2)%4 != 0 {
			return g, fmt.Errorf("%w: format 1 value of %d bytes", ErrGPO, len(o.Value))
		}
		g.Format = 1
		copy(g.AIP[:], o.Value)
		g.AFL = o.Value[2:]
		return g, nil
	case 0x77:
		g.Format = 2
		g.Template = o.Value
		haveAIP := false
		it := lenient.Iter(o.Value)
		for e, ok := it.Next(); ok; e, ok = it.Next() {
			switch e.Tag {
			case 0x82:
				if len(e.Value) != 2 {
					return g, fmt.Errorf("%w: AIP of %d bytes", ErrGPO, len(e.Value))
				}
				copy(g.AIP[:], e.Value)
				haveAIP = true
			case 0x94:
				g.AFL = e.Value
			}
		}
		if err := it.Err(); err != nil {
			return g, fmt.Errorf("%w: format 2: %w", ErrGPO, err)
		}
		if err := lenient.Check(o.Value); err != nil {
			return g, fmt.Errorf("%w: format 2: %w", ErrGPO, err)
		}
		if !haveAIP {
			return g, fmt.Errorf("%w: format 2 without AIP (82)", ErrGPO)
		}
		return g, nil
	}
	return g, fmt.Errorf("%w: response template %s is neither 80 nor 77", ErrGPO, o.Tag)
}

// AFLEntry is one four-byte entry of the Application File Locator.
type AFLEntry struct {
	SFI     int // short file identifier, 1–30
	First   int // first record, ≥ 1
	Last    int // last record, ≥ First
	Offline int // records from First used in offline data authentication
}

// ParseAFL decodes an AFL (EMV 4.4 Book 3 §10.2). Each entry must have an
// SFI of 1–30 with the low three bits zero, 1 ≤ First ≤ Last, and Offline ≤
// Last−First+1; the length must be a multiple of four. Errors wrap ErrAFL.
func ParseAFL(afl []byte) ([]AFLEntry, error) {
	if len(afl)%4 != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a multiple of 4", ErrAFL, len(afl))
	}
	out := make([]AFLEntry, 0, len(afl)/4)
	for i := 0; i < len(afl); i += 4 {
		e := AFLEntry{SFI: int(afl[i] >> 3), First: int(afl[i+1]), Last: int(afl[i+2]), Offline: int(afl[i+3])}
		if afl[i]&7 != 0 || e.SFI < 1 || e.SFI > 30 || e.First < 1 || e.Last < e.First || e.Offline > e.Last-e.First+1 {
			return nil, fmt.Errorf("%w: entry %X", ErrAFL, afl[i:i+4])
		}
		out = append(out, e)
	}
	return out, nil
}

// ParseRecord checks a READ RECORD response: one template 70 whose content
// decodes (lenient) within the depth bound. It returns the template's value,
// aliasing b. Errors wrap ErrRecord.
func ParseRecord(b []byte) ([]byte, error) {
	o, rest, err := tlv.DecodeOne(b, tlv.Lenient)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRecord, err)
	}
	if o.Tag != 0x70 {
		return nil, fmt.Errorf("%w: template %s, want 70", ErrRecord, o.Tag)
	}
	if !onlyPadding(rest) {
		return nil, fmt.Errorf("%w: data after the record template", ErrRecord)
	}
	if err := lenient.Check(o.Value); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRecord, err)
	}
	return o.Value, nil
}
