package biometric

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// Values that carry a payment token (AuthRequest, and through it Reversal;
// Identity; Record) print it masked — last four characters, see MaskToken —
// with every fmt verb and in encoding/json, because hosts log them. The
// token stays in the field for the code that needs it: a host that
// persists a pending Reversal stores Original.Token itself (sealed), not
// the JSON.

// The *View types have the fields of their namesakes and no methods, so
// fmt and encoding/json print them field by field.
type (
	authRequestView AuthRequest
	identityView    Identity
	recordView      Record
)

func maskedToken(tok string) string {
	if tok == "" {
		return ""
	}
	return MaskToken(tok)
}

// formatView prints view (a masked copy) for verb with f's flags; %#v
// names the public type rather than the view.
func formatView(f fmt.State, verb rune, view any, viewName, name string) {
	s := fmt.Sprintf(fmt.FormatString(f, verb), view)
	if verb == 'v' && f.Flag('#') {
		s = strings.Replace(s, "biometric."+viewName, "biometric."+name, 1)
	}
	_, _ = fmt.Fprint(f, s)
}

func (r AuthRequest) view() authRequestView {
	v := authRequestView(r)
	v.Token = maskedToken(r.Token)
	return v
}

// Format prints r with its token masked, for every verb.
func (r AuthRequest) Format(f fmt.State, verb rune) {
	formatView(f, verb, r.view(), "authRequestView", "AuthRequest")
}

// MarshalJSON encodes r with its token masked.
func (r AuthRequest) MarshalJSON() ([]byte, error) { return json.Marshal(r.view()) }

func (id Identity) view() identityView {
	v := identityView(id)
	v.Token = maskedToken(id.Token)
	return v
}

// Format prints id with its token masked, for every verb.
func (id Identity) Format(f fmt.State, verb rune) {
	formatView(f, verb, id.view(), "identityView", "Identity")
}

// MarshalJSON encodes id with its token masked.
func (id Identity) MarshalJSON() ([]byte, error) { return json.Marshal(id.view()) }

func (r Record) view() recordView {
	v := recordView(r)
	v.Token = maskedToken(r.Token)
	return v
}

// Format prints r with its token masked, for every verb.
func (r Record) Format(f fmt.State, verb rune) {
	formatView(f, verb, r.view(), "recordView", "Record")
}

// MarshalJSON encodes r with its token masked.
func (r Record) MarshalJSON() ([]byte, error) { return json.Marshal(r.view()) }

// MarshalJSON encodes r field by field, with Score null when there is none
// (NaN), which encoding/json cannot otherwise represent: a Result is meant
// to be logged whatever the outcome.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result // the fields, without this method
	v := struct {
		plain
		Score *float64 // shadows plain.Score
	}{plain: plain(r)}
	if !math.IsNaN(r.Score) && !math.IsInf(r.Score, 0) {
		s := r.Score
		v.Score = &s
	}
	return json.Marshal(v)
}
