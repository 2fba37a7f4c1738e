package apdu

import (
	"context"
	"fmt"
)

// TransmitFunc sends one encoded command APDU and returns the encoded
// response APDU (data and SW1 SW2). It is the shape of a PC/SC transmit, an
// NFC transceive or an in-process card. The command slice is valid only
// during the call (Transmitter reuses it for the next exchange) and must not
// be modified or retained; the returned slice may be reused by the
// transport after the next call.
type TransmitFunc func(ctx context.Context, command []byte) ([]byte, error)

// DefaultMaxChain bounds the number of extra exchanges (GET RESPONSE and
// Le corrections) that Transmit performs for one command.
const DefaultMaxChain = 64

// INS codes used by the transmit helpers.
const insGetResponse = 0xC0

// Transmitter follows the ISO/IEC 7816-4 §5.3.4 response procedures over a
// TransmitFunc: on 61xx it sends GET RESPONSE (CLA of the command's channel,
// INS C0, P1 P2 = 00 00, Le = SW2) and concatenates the data, on 6Cxx it
// resends the command with Ne = SW2. The zero value is not usable: Tx is
// required. A Transmitter holds no state between calls; it is as safe for
// concurrent use as its Tx (a card answers one command at a time, so
// callers sharing a card must serialise their exchanges).
type Transmitter struct {
	// Tx carries the bytes.
	Tx TransmitFunc
	// MaxChain bounds the extra exchanges per command; 0 means
	// DefaultMaxChain. Exceeding it returns an error wrapping
	// ErrChainTooLong.
	MaxChain int
	// MaxResponse bounds the concatenated response data in bytes; 0 means
	// MaxNe.
	MaxResponse int
}

// Transmit sends cmd with a default Transmitter; see Transmitter.Transmit.
func Transmit(ctx context.Context, tx TransmitFunc, cmd Command) (Response, error) {
	return Transmitter{Tx: tx}.Transmit(ctx, cmd)
}

// Transmit sends cmd and follows 61xx and 6Cxx until the card answers with
// another status word. The returned Data is a fresh copy owned by the
// caller. Errors from the transport are returned unchanged (wrapped with
// context); a malformed response, or response data beyond MaxResponse, is
// an error wrapping ErrTruncated or ErrLength. Other errors: ErrNoTransport
// (nil Tx), ErrClass for a class byte without a channel coding (FF, 20–3F),
// ErrLength for a command that cannot be encoded, ErrChainTooLong, and
// ctx.Err() when ctx is done before an exchange. A non-9000 final status
// word is not an error: inspect Response.SW or call Response.Err.
func (t Transmitter) Transmit(ctx context.Context, cmd Command) (Response, error) {
	if t.Tx == nil {
		return Response{}, ErrNoTransport
	}
	maxChain := t.MaxChain
	if maxChain <= 0 {
		maxChain = DefaultMaxChain
	}
	maxResp := t.MaxResponse
	if maxResp <= 0 {
		maxResp = MaxNe
	}
	ch, err := Channel(cmd.CLA)
	if err != nil {
		return Response{}, err
	}
	getResponseCLA, err := WithChannel(0x00, ch)
	if err != nil {
		return Response{}, err
	}

	buf := make([]byte, 0, 5+len(cmd.Data)+4)
	var data []byte
	next := cmd
	for extra := 0; ; extra++ {
		if err := ctx.Err(); err != nil {
			return Response{}, err
		}
		buf, err = next.AppendBinary(buf[:0])
		if err != nil {
			return Response{}, err
		}
		raw, err := t.Tx(ctx, buf)
		if err != nil {
			return Response{}, fmt.Errorf("apdu: transmit %02X %02X: %w", next.CLA, next.INS, err)
		}
		resp, err := ParseResponse(raw)
		if err != nil {
			return Response{}, err
		}
		sw1, sw2 := resp.SW1(), resp.SW2()
		if sw1 != 0x61 && sw1 != 0x6C {
			if len(data)+len(resp.Data) > maxResp {
				return Response{}, fmt.Errorf("%w: %d response bytes exceed %d", ErrLength, len(data)+len(resp.Data), maxResp)
			}
			out := make([]byte, 0, len(data)+len(resp.Data))
			out = append(append(out, data...), resp.Data...)
			if len(out) == 0 {
				out = nil
			}
			return Response{Data: out, SW: resp.SW}, nil
		}
		if extra >= maxChain {
			return Response{}, fmt.Errorf("%w: more than %d exchanges after %02X %02X", ErrChainTooLong, maxChain, cmd.CLA, cmd.INS)
		}
		if sw1 == 0x6C {
			// Wrong Le: resend the same command with the exact length.
			// Data received so far (from earlier 61xx steps) is kept.
			next.Ne = shortNe(sw2)
			continue
		}
		if len(data)+len(resp.Data) > maxResp {
			return Response{}, fmt.Errorf("%w: %d response bytes exceed %d", ErrLength, len(data)+len(resp.Data), maxResp)
		}
		data = append(data, resp.Data...)
		next = Command{CLA: getResponseCLA, INS: insGetResponse, Ne: shortNe(sw2)}
	}
}
