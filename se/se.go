package se

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/payedge/payedge/se/apdu"
)

// Transmitter sends one command APDU and returns the card's response. The
// channel is the one coded in the class byte (ISO/IEC 7816-4 §5.4.1).
type Transmitter interface {
	// Transmit sends cmd and returns the response. A status word other than
	// 9000 is not an error: inspect Response.SW. Errors report a failure to
	// exchange the APDU at all (the element is closed, ctx is done, the
	// transport failed). The returned Data is owned by the caller.
	Transmit(ctx context.Context, cmd apdu.Command) (apdu.Response, error)
}

// SecureElement is a secure element as a host sees it: an embedded SE, a
// UICC, an HSM-backed or an emulated one. It follows the reader → session →
// channel model of the GlobalPlatform TEE Secure Element API and Android
// OMAPI: the SecureElement is an open session, Transmit reaches the channel
// coded in each command's class byte (channel 0, the basic channel, is
// always open) and OpenLogicalChannel opens a logical channel with an
// applet selected on it.
//
// Implementations must be safe for concurrent use; the element may
// serialise APDUs (a card answers one at a time), but one channel's
// selection state must never be visible on another.
//
// Optional capabilities are found by type assertion: ATRProvider.
type SecureElement interface {
	Transmitter
	// OpenLogicalChannel opens a new logical channel (MANAGE CHANNEL open)
	// and selects the applet aid on it (SELECT by DF name, first
	// occurrence; aid may be a partial AID). A nil aid selects the
	// element's default applet. The channel carries the SELECT response.
	//
	// Errors: ErrAIDLength for an AID of 1–4 or more than 16 bytes (nothing
	// is sent), ErrNoFreeChannel when every logical channel is in use,
	// ErrAppletNotFound when no applet matches (the channel is closed
	// again), ErrSelectFailed for another refusal, ErrClosed after Close,
	// and ctx.Err(). Status-word errors also wrap the *apdu.StatusError.
	OpenLogicalChannel(ctx context.Context, aid []byte) (Channel, error)
	// Close ends the session: every logical channel is closed and every
	// applet deselected. Later calls return ErrClosed; Close itself is
	// idempotent and returns nil.
	Close() error
}

// Channel is an open logical channel with an applet selected on it.
// It is safe for concurrent use; commands on one channel are answered in
// the order the element receives them.
type Channel interface {
	// Transmit sends cmd on this channel: its class byte is recoded for
	// the channel number (apdu.Command.OnChannel). After Close it returns
	// ErrChannelClosed.
	Transmit(ctx context.Context, cmd apdu.Command) (apdu.Response, error)
	// SelectResponse returns the response to the SELECT that opened the
	// channel (a copy).
	SelectResponse() apdu.Response
	// Number returns the logical channel number, 1–19.
	Number() int
	// Close closes the channel (MANAGE CHANNEL close). It is idempotent.
	Close() error
}

// ATRProvider is the optional capability of an element that has an Answer
// To Reset (ISO/IEC 7816-3 §8).
type ATRProvider interface {
	// ATR returns a copy of the Answer To Reset.
	ATR() []byte
}

// TransmitFunc adapts t (a SecureElement or a Channel) to an
// apdu.TransmitFunc over encoded APDUs, for code written against byte
// transports such as scp03.Open. A command that does not parse is answered
// with 6700 (wrong length). The returned slice is fresh for every call.
func TransmitFunc(t Transmitter) apdu.TransmitFunc {
	return func(ctx context.Context, raw []byte) ([]byte, error) {
		if t == nil {
			return nil, ErrNotInitialized
		}
		cmd, err := apdu.ParseCommand(raw)
		if err != nil {
			return apdu.Response{SW: apdu.SWWrongLength}.MarshalBinary()
		}
		resp, err := t.Transmit(ctx, cmd)
		if err != nil {
			return nil, err
		}
		return resp.MarshalBinary()
	}
}

// OpenLogicalChannel opens a logical channel on any Transmitter that
// understands MANAGE CHANNEL and SELECT (ISO/IEC 7816-4 §11.1.2, §11.2.2):
// it sends MANAGE CHANNEL open on the basic channel, then SELECT aid on the
// new channel, and closes the channel again if the selection fails. Element
// implementations can use it for their OpenLogicalChannel method. Errors
// are those of SecureElement.OpenLogicalChannel.
//
// A channel number is reused once the channel is closed; a Channel from
// this function cannot tell its channel from a later one of the same
// number (a card cannot either). Memory and VSE channels can: they return
// ErrChannelClosed once their own channel was closed by any means.
func OpenLogicalChannel(ctx context.Context, t Transmitter, aid []byte) (Channel, error) {
	return openLogicalChannel(ctx, t, aid, nil)
}

// openLogicalChannel is OpenLogicalChannel; with m set, the channel is
// bound to the generation of its number in m, so that a handle outliving
// its channel never reaches a later channel of the same number.
func openLogicalChannel(ctx context.Context, t Transmitter, aid []byte, m *Memory) (Channel, error) {
	if t == nil {
		return nil, ErrNotInitialized
	}
	if aid != nil && (len(aid) < MinAIDLen || len(aid) > MaxAIDLen) {
		return nil, fmt.Errorf("%w: %d bytes", ErrAIDLength, len(aid))
	}
	open := apdu.Command{CLA: 0x00, INS: insManageChannel, P1: 0x00, P2: 0x00, Ne: 1}
	var (
		resp apdu.Response
		gen  uint64
		err  error
	)
	if m != nil {
		resp, gen, err = m.openChannel(ctx, open)
	} else {
		resp, err = t.Transmit(ctx, open)
	}
	if err != nil {
		return nil, err
	}
	if !resp.Success() {
		return nil, statusErr("MANAGE CHANNEL open", resp.SW, false)
	}
	if len(resp.Data) != 1 || resp.Data[0] == 0 || resp.Data[0] > apdu.MaxChannel {
		return nil, fmt.Errorf("%w: MANAGE CHANNEL returned % X", ErrProtocol, resp.Data)
	}
	n := int(resp.Data[0])
	c := &logicalChannel{t: t, n: n, m: m, gen: gen}
	cla, _ := apdu.WithChannel(0x00, n)
	sel, err := c.send(ctx, apdu.Command{CLA: cla, INS: insSelect, P1: 0x04, P2: 0x00, Data: aid, Ne: 256})
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	if !sel.Success() && !apdu.IsWarning(sel.SW) {
		_ = c.Close()
		return nil, statusErr("SELECT", sel.SW, true)
	}
	c.sel = sel
	return c, nil
}

// logicalChannel is the Channel of OpenLogicalChannel.
type logicalChannel struct {
	t   Transmitter
	n   int
	sel apdu.Response
	// m and gen bind the channel to one opening of number n in a Memory.
	m   *Memory
	gen uint64

	mu     sync.Mutex
	closed bool
}

func (c *logicalChannel) Transmit(ctx context.Context, cmd apdu.Command) (apdu.Response, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return apdu.Response{}, fmt.Errorf("%w: channel %d", ErrChannelClosed, c.n)
	}
	cmd, err := cmd.OnChannel(c.n)
	if err != nil {
		return apdu.Response{}, err
	}
	return c.send(ctx, cmd)
}

// send transmits cmd as is, through the generation check when bound.
func (c *logicalChannel) send(ctx context.Context, cmd apdu.Command) (apdu.Response, error) {
	if c.m != nil {
		return c.m.transmitOn(ctx, cmd, c.n, c.gen)
	}
	return c.t.Transmit(ctx, cmd)
}

func (c *logicalChannel) SelectResponse() apdu.Response {
	return apdu.Response{Data: append([]byte(nil), c.sel.Data...), SW: c.sel.SW}
}

func (c *logicalChannel) Number() int { return c.n }

func (c *logicalChannel) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	resp, err := c.send(context.Background(), apdu.Command{CLA: 0x00, INS: insManageChannel, P1: 0x80, P2: byte(c.n)})
	if err != nil {
		if errors.Is(err, ErrClosed) || errors.Is(err, ErrChannelClosed) {
			return nil // the element, or someone else, closed it already
		}
		return err
	}
	if !resp.Success() {
		return statusErr("MANAGE CHANNEL close", resp.SW, false)
	}
	return nil
}

// statusErr maps a refusal to this package's sentinel errors, wrapped
// together with the *apdu.StatusError; 6700 means a bad AID only for
// SELECT, 6A81 no free channel only for MANAGE CHANNEL.
func statusErr(op string, sw uint16, isSelect bool) error {
	st := &apdu.StatusError{SW: sw}
	var sentinel error
	switch sw {
	case apdu.SWFileNotFound:
		sentinel = ErrAppletNotFound
	case apdu.SWFunctionNotSupported:
		// 6A81 means "no free channel" only as the answer to MANAGE
		// CHANNEL open; from SELECT it is the applet's refusal.
		sentinel = ErrNoFreeChannel
		if isSelect {
			sentinel = ErrSelectFailed
		}
	case apdu.SWLogicalChannelNotSupported:
		sentinel = ErrChannelClosed
	case apdu.SWWrongLength:
		sentinel = ErrSelectFailed
		if isSelect {
			sentinel = ErrAIDLength
		}
	default:
		sentinel = ErrSelectFailed
	}
	return fmt.Errorf("se: %s: %w (%w)", op, sentinel, st)
}
