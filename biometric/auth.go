package biometric

import (
	"context"
	"fmt"
	"time"

	"github.com/payedge/payedge/risk"
)

// ISO 8583 response codes (field 39) the package uses. Any other code is a
// decline.
const (
	RespApproved           = "00" // approved
	RespInvalidTransaction = "12" // invalid transaction
	RespInvalidAmount      = "13" // invalid amount
	RespInvalidCard        = "14" // invalid card number (unknown token)
	RespInsufficientFunds  = "51" // not sufficient funds
	RespRestrictedCard     = "62" // restricted card
	RespLateResponse       = "68" // response received too late (reversal reason)
	RespIssuerUnavailable  = "91" // issuer or switch inoperative
	RespDuplicate          = "94" // duplicate transmission
	RespSystemError        = "96" // system malfunction
)

// MaxSTAN is the largest systems trace audit number (field 11, six digits).
const MaxSTAN = 999_999

// AuthRequest is an authorisation request, the content of an ISO 8583 0100.
type AuthRequest struct {
	// TransactionID is the host's idempotency key; it does not travel in
	// ISO 8583 field form but lets an Authorizer correlate.
	TransactionID string
	// Token identifies the card (field 2 after the host's token vault
	// resolves it; the Authorizer never receives a PAN from this package).
	Token  string
	Amount risk.Amount // field 4 and 49
	// STAN is the systems trace audit number, field 11, in [1, MaxSTAN];
	// unique per terminal per day, it matches the 0110 to the 0100.
	STAN uint32
	// RRN is the retrieval reference number, field 37, 12 characters.
	RRN string
	// TransmittedAt is the transmission date and time, field 7 (UTC).
	TransmittedAt time.Time
	TerminalID    string // field 41, at most 8 characters in ISO 8583:1987
	MerchantID    string // field 42, at most 15 characters
}

// Validate checks the fields an issuer relies on; errors wrap ErrTransaction.
func (r AuthRequest) Validate() error {
	switch {
	case r.Token == "" || len(r.Token) > MaxTokenLen:
		return fmt.Errorf("%w: token length %d", ErrTransaction, len(r.Token))
	case r.STAN < 1 || r.STAN > MaxSTAN:
		return fmt.Errorf("%w: STAN %d not in [1, %d]", ErrTransaction, r.STAN, MaxSTAN)
	case r.TerminalID == "" || len(r.TerminalID) > 8:
		return fmt.Errorf("%w: terminal ID length %d not in [1, 8]", ErrTransaction, len(r.TerminalID))
	case len(r.MerchantID) > 15:
		return fmt.Errorf("%w: merchant ID longer than 15", ErrTransaction)
	case len(r.RRN) > 12:
		return fmt.Errorf("%w: RRN longer than 12", ErrTransaction)
	}
	return checkAmount(r.Amount)
}

func checkAmount(a risk.Amount) error {
	if a.Minor <= 0 || a.Minor > 999_999_999_999 {
		return fmt.Errorf("%w: amount %d minor units not in [1, 999999999999]", ErrTransaction, a.Minor)
	}
	if len(a.Currency) != 3 {
		return fmt.Errorf("%w: currency %q is not an ISO 4217 code", ErrTransaction, a.Currency)
	}
	return nil
}

// AuthResult is an authorisation response, the content of an ISO 8583 0110.
type AuthResult struct {
	ResponseCode string // field 39
	ApprovalCode string // field 38, six characters when approved
	STAN         uint32 // field 11, echoed
	RRN          string // field 37, echoed or assigned
	// TransmittedAt is field 7 of the response.
	TransmittedAt time.Time
}

// Approved reports whether the issuer approved (response code "00").
func (r AuthResult) Approved() bool { return r.ResponseCode == RespApproved }

// Reversal reverses an authorisation whose outcome the acquirer does not
// know or cannot use: the content of an ISO 8583 0400 (answered by 0410).
type Reversal struct {
	// Original is the request being reversed; the issuer matches it by
	// terminal ID and STAN (field 90, original data elements).
	Original AuthRequest
	// STAN is the reversal's own trace number.
	STAN uint32
	// TransmittedAt is the reversal's transmission time.
	TransmittedAt time.Time
	// Reason is the reversal reason code (field 39), RespLateResponse for
	// a timed-out authorisation.
	Reason string
}

// Authorizer sends authorisations and reversals to an issuer (directly or
// through a switch). Implementations are safe for concurrent use.
type Authorizer interface {
	// Authorize sends req and waits for the response (0100 → 0110). A nil
	// error means a response arrived; whether it approves is in the
	// result (a result whose ResponseCode is not two characters is no
	// answer, and the processor reverses it). An error means no usable response: ctx expired (wraps
	// ErrAuthTimeout and ctx.Err()), the link failed (ErrIssuerUnavailable),
	// or req was invalid (ErrTransaction). After an error the acquirer does
	// not know whether the issuer approved, so it must Reverse.
	Authorize(ctx context.Context, req AuthRequest) (AuthResult, error)
	// Reverse sends rev and waits for the acknowledgement (0400 → 0410).
	// It returns nil once the issuer acknowledged; reversing a request the
	// issuer never saw, or reversing twice, is acknowledged too. An error
	// means not acknowledged: send it again later.
	Reverse(ctx context.Context, rev Reversal) error
}
