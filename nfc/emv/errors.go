package emv

import (
	"errors"
	"fmt"

	"github.com/payedge/payedge/se/apdu"
)

// Errors of the reader, wrapped with detail; test with errors.Is.
var (
	// ErrNotInitialized reports a zero Reader: use NewReader.
	ErrNotInitialized = errors.New("emv: reader not initialized (use NewReader)")
	// ErrConfig reports an unusable Config.
	ErrConfig = errors.New("emv: invalid configuration")
	// ErrNoApplication reports a PPSE without applications, a selector
	// that chose none, or no candidate AID that the card accepts.
	ErrNoApplication = errors.New("emv: no supported application")
	// ErrSelect reports a SELECT the card refused.
	ErrSelect = errors.New("emv: SELECT refused")
	// ErrGPO reports GET PROCESSING OPTIONS refused by the card, or a
	// response in neither format 1 (tag 80) nor format 2 (tag 77).
	ErrGPO = errors.New("emv: GET PROCESSING OPTIONS failed")
	// ErrAFL reports a malformed Application File Locator.
	ErrAFL = errors.New("emv: malformed AFL")
	// ErrRecord reports a READ RECORD the card refused (such as 6A83 for
	// a record the AFL names but the card lacks), a record that is not a
	// template 70, or more records than Config.MaxRecords.
	ErrRecord = errors.New("emv: READ RECORD failed")
	// ErrMalformed reports card data that does not decode: bad TLV, an
	// FCI without its template, a PAN that is not 8–19 digits.
	ErrMalformed = errors.New("emv: malformed card data")
	// ErrTransceive reports a transport failure (the card left the
	// field, the controller timed out); the transport's error is wrapped
	// too.
	ErrTransceive = errors.New("emv: transceive failed")
)

// CardError is a command the card answered with a status word other than
// 9000. It matches its kind (ErrSelect, ErrGPO, ErrRecord) and the
// *apdu.StatusError with errors.Is and errors.As.
type CardError struct {
	Op   string // "SELECT PPSE", "SELECT AID", "GET PROCESSING OPTIONS", "READ RECORD"
	SW   uint16 // the status word
	Kind error  // ErrSelect, ErrGPO or ErrRecord
}

// Error describes the failure with the meaning of the status word.
func (e *CardError) Error() string {
	if e == nil {
		return "emv: card error"
	}
	return fmt.Sprintf("emv: %s: card answered %04X (%s)", e.Op, e.SW, apdu.StatusText(e.SW))
}

// Unwrap returns the kind and the status word as an *apdu.StatusError.
func (e *CardError) Unwrap() []error {
	if e == nil {
		return nil
	}
	return []error{e.Kind, &apdu.StatusError{SW: e.SW}}
}
