package emv

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Expiry is an application expiration date. Day is 0 when the card gave only
// year and month (track 2).
type Expiry struct {
	Year  int
	Month time.Month
	Day   int
}

// IsZero reports whether no expiry was read.
func (e Expiry) IsZero() bool { return e.Year == 0 && e.Month == 0 && e.Day == 0 }

// Record is one record read with READ RECORD: its short file identifier,
// record number and the raw response data (the template 70). Its formatting
// shows only the location and size: the data holds the PAN.
type Record struct {
	SFI    int
	Number int
	Data   []byte
}

// String describes the record without its data.
func (r Record) String() string {
	return "record SFI " + strconv.Itoa(r.SFI) + " #" + strconv.Itoa(r.Number) + " (" + strconv.Itoa(len(r.Data)) + " bytes)"
}

// Format implements fmt.Formatter: every verb prints String.
func (r Record) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(r.String())) }

// GoString implements fmt.GoStringer without the data.
func (r Record) GoString() string { return "emv.Record{" + r.String() + "}" }

// Application is one entry of the PPSE directory (tag 61): a candidate for
// selection.
type Application struct {
	AID           []byte
	Label         string
	PreferredName string
	// Priority is the Application Priority Indicator's low nibble, 1
	// highest, 15 lowest; 0 means none given.
	Priority int
	// KernelID is the Kernel Identifier (9F2A), if any.
	KernelID []byte
}

// Card is what Reader.Read learned from a card. The PAN, expiry, track-2
// data, cardholder name, GPO response and records are unexported and
// reachable only through their accessors; every way of printing or
// marshalling a Card masks them, including fmt printing a Card by
// reflection inside an unexported struct field.
type Card struct {
	// AID is the selected application's identifier (DF name, tag 84).
	AID []byte
	// Label is the application label (tag 50).
	Label string
	// PreferredName is the Application Preferred Name (9F12).
	PreferredName string
	// Priority is the selected application's priority (0: none).
	Priority int
	// AIP is the Application Interchange Profile (tag 82).
	AIP [2]byte
	// AFL is the Application File Locator (tag 94), raw.
	AFL []byte
	// PANSequence is the PAN Sequence Number (5F34), -1 when absent.
	PANSequence int
	// FCI is the SELECT AID response data.
	FCI []byte
	// s returns the card data. It is a func, not a pointer or fields:
	// when fmt prints a Card by reflection (a Card in an unexported struct
	// field, where Format cannot be called) it shows a func only as an
	// address, with every verb, whereas it shows a nested pointer's target
	// for verbs such as %s and %q.
	s func() *cardSecrets
}

// newSecrets returns an empty holder for Card.s.
func newSecrets() func() *cardSecrets {
	p := &cardSecrets{}
	return func() *cardSecrets { return p }
}

// cardSecrets are the card data that only accessors reveal.
type cardSecrets struct {
	pan    string
	expiry Expiry
	track2 []byte
	name   string
	gpo    []byte
	recs   []Record
}

// secrets returns the card data, a zero value when none was read.
func (c *Card) secrets() cardSecrets {
	if c == nil || c.s == nil {
		return cardSecrets{}
	}
	return *c.s()
}

// RevealPAN returns the PAN digits. Call it only where the digits must leave
// the secure side (an authorisation message); never log the result.
func (c *Card) RevealPAN() string {
	return c.secrets().pan
}

// MaskedPAN returns the PAN with every digit but the last four replaced by
// '*', or "" when no PAN was read.
func (c *Card) MaskedPAN() string {
	return MaskPAN(c.secrets().pan)
}

// MaskPAN masks all but the last four characters of pan.
func MaskPAN(pan string) string {
	if len(pan) <= 4 {
		return strings.Repeat("*", len(pan))
	}
	return strings.Repeat("*", len(pan)-4) + pan[len(pan)-4:]
}

// Expiry returns the application expiration date (5F24, or from track 2).
func (c *Card) Expiry() Expiry {
	return c.secrets().expiry
}

// RevealTrack2 returns a copy of the Track 2 Equivalent Data (57, or 9F6B),
// nil when the card gave none.
func (c *Card) RevealTrack2() []byte {
	t2 := c.secrets().track2
	if t2 == nil {
		return nil
	}
	return append([]byte(nil), t2...)
}

// GPO returns the GET PROCESSING OPTIONS response data. A format-2
// response may carry track 2 in clear: treat it as card data.
func (c *Card) GPO() []byte { return c.secrets().gpo }

// Records returns the records read along the AFL, in order. Their Data holds
// the PAN and expiry in clear: treat it as card data (Record's own
// formatting shows only its location and size). They are reached through
// this accessor, not a field, so that no reflection-based printing of a
// Card shows them.
func (c *Card) Records() []Record { return c.secrets().recs }

// CardholderName returns the cardholder name (5F20), trimmed; often empty on
// contactless cards.
func (c *Card) CardholderName() string {
	return c.secrets().name
}

// String describes the card with its PAN masked:
// "Visa Debit ************0574 A0000000031010".
func (c Card) String() string {
	var b strings.Builder
	name := c.Label
	if name == "" {
		name = "card"
	}
	b.WriteString(name)
	if p := c.MaskedPAN(); p != "" {
		b.WriteByte(' ')
		b.WriteString(p)
	}
	if len(c.AID) > 0 {
		fmt.Fprintf(&b, " %X", c.AID)
	}
	return b.String()
}

// Format implements fmt.Formatter: every verb (%v, %+v, %s, %x, %q, %d …)
// prints String, so no verb can reveal the PAN. The formatting methods have
// value receivers so that a Card value, a *Card and a Card inside an
// exported struct field are all masked.
func (c Card) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = f.Write([]byte(strconv.Quote(c.String())))
		return
	}
	_, _ = f.Write([]byte(c.String()))
}

// GoString implements fmt.GoStringer (%#v) without the secret fields.
func (c Card) GoString() string { return "&emv.Card{" + strconv.Quote(c.String()) + "}" }

// maskedCard is the JSON and text shape of a Card.
type maskedCard struct {
	AID       string `json:"aid"`
	Label     string `json:"label,omitempty"`
	PAN       string `json:"pan,omitempty"`
	AIP       string `json:"aip"`
	AFL       string `json:"afl,omitempty"`
	Records   int    `json:"records"`
	HasTrack2 bool   `json:"track2_present"`
}

// MarshalJSON encodes the card with its PAN masked and without expiry,
// track-2 data, name or records.
func (c Card) MarshalJSON() ([]byte, error) {
	return json.Marshal(maskedCard{
		AID: fmt.Sprintf("%X", c.AID), Label: c.Label, PAN: c.MaskedPAN(),
		AIP: fmt.Sprintf("%X", c.AIP[:]), AFL: fmt.Sprintf("%X", c.AFL),
		Records: len(c.Records()), HasTrack2: c.secrets().track2 != nil,
	})
}

// MarshalText encodes String.
func (c Card) MarshalText() ([]byte, error) { return []byte(c.String()), nil }
