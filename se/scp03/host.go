package scp03

import (
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/payedge/payedge/se/apdu"
)

// InitializeUpdateInfo is the parsed response to INITIALIZE UPDATE
// (Amendment D §7.1.1.6, Table 7-3).
type InitializeUpdateInfo struct {
	KeyDiversificationData [10]byte // card-specific data for the host's key derivation
	KeyVersion             byte     // key version number of the key set the card used
	SCPIdentifier          byte     // always 03
	Param                  byte     // the "i" parameter: ParamS16, ParamPseudoRandom, ParamRMAC, ParamRENC
	CardChallenge          []byte   // 8 bytes (S8) or 16 (S16)
	CardCryptogram         []byte   // 8 bytes (S8) or 16 (S16)
	SequenceCounter        uint32   // present (and non-zero) only with ParamPseudoRandom
}

// S16 reports whether the card runs in S16 mode.
func (i InitializeUpdateInfo) S16() bool { return i.Param&ParamS16 != 0 }

// ParseInitializeUpdateResponse decodes the data field of the response to
// INITIALIZE UPDATE: key diversification data (10), key information (3),
// card challenge (8 or 16), card cryptogram (8 or 16) and, with a
// pseudo-random challenge, the sequence counter (3). Lengths must match the
// mode and option the "i" parameter announces exactly. CardChallenge and
// CardCryptogram alias b. Errors wrap ErrInitializeUpdate.
func ParseInitializeUpdateResponse(b []byte) (InitializeUpdateInfo, error) {
	var info InitializeUpdateInfo
	if len(b) < 13 {
		return info, fmt.Errorf("%w: response of %d bytes", ErrInitializeUpdate, len(b))
	}
	copy(info.KeyDiversificationData[:], b[:10])
	info.KeyVersion, info.SCPIdentifier, info.Param = b[10], b[11], b[12]
	if info.SCPIdentifier != scpIdentifier {
		return info, fmt.Errorf("%w: SCP identifier %02X, want 03", ErrInitializeUpdate, info.SCPIdentifier)
	}
	n := 8
	if info.S16() {
		n = 16
	}
	want := 13 + 2*n
	if info.Param&ParamPseudoRandom != 0 {
		want += 3
	}
	if len(b) != want {
		return info, fmt.Errorf("%w: response of %d bytes, i=%02X requires %d", ErrInitializeUpdate, len(b), info.Param, want)
	}
	info.CardChallenge = b[13 : 13+n : 13+n]
	info.CardCryptogram = b[13+n : 13+2*n : 13+2*n]
	if info.Param&ParamPseudoRandom != 0 {
		s := b[13+2*n:]
		info.SequenceCounter = uint32(s[0])<<16 | uint32(s[1])<<8 | uint32(s[2])
	}
	return info, nil
}

// InitializeUpdate builds the INITIALIZE UPDATE command (CLA 80 on the
// given channel, INS 50, P1 = key version, P2 = 00, Le = 00) for an 8- or
// 16-byte host challenge. Key version 0 lets the card choose. Another
// challenge length is an error wrapping ErrChallenge, a channel outside
// 0–19 one wrapping apdu.ErrChannel.
func InitializeUpdate(keyVersion byte, hostChallenge []byte, channel int) (apdu.Command, error) {
	if len(hostChallenge) != 8 && len(hostChallenge) != 16 {
		return apdu.Command{}, fmt.Errorf("%w: host challenge of %d bytes", ErrChallenge, len(hostChallenge))
	}
	cla, err := apdu.WithChannel(0x80, channel)
	if err != nil {
		return apdu.Command{}, err
	}
	return apdu.Command{CLA: cla, INS: INSInitializeUpdate, P1: keyVersion, P2: 0x00,
		Data: append([]byte(nil), hostChallenge...), Ne: 256}, nil
}

// HostSession is the off-card end of an SCP03 secure channel: it
// authenticates the card, authenticates itself with EXTERNAL AUTHENTICATE,
// then wraps commands and unwraps responses at the agreed security level.
//
// Commands and responses must alternate in order (Wrap, send, Unwrap): the
// R-MAC of a response is chained to the C-MAC of the command before it.
// A HostSession is safe for concurrent use; Transmit serialises whole
// exchanges, callers of Wrap and Unwrap must serialise theirs.
type HostSession struct {
	xmu     sync.Mutex // serialises whole exchanges in Transmit; taken before mu
	mu      sync.Mutex
	core    core
	state   state
	info    InitializeUpdateInfo
	ea      apdu.Command
	channel int
}

// NewHostSession starts the host side after INITIALIZE UPDATE: it parses
// the card's response data, derives the session keys from keys, verifies
// the card cryptogram (ErrCardCryptogram if it does not match) and builds
// EXTERNAL AUTHENTICATE for level (see ExternalAuthenticate).
//
// hostChallenge is the challenge sent in INITIALIZE UPDATE: 8 bytes in S8
// mode, 16 in S16 mode (the mode is the card's, from the "i" parameter).
// The key version in the response must equal keys.KeyVersion() unless that
// is 0.
//
// Other errors: ErrKeyLength (nil or unusable keys, or the KeyProvider's
// Derive error), ErrSecurityLevel (an undefined level, or R-MAC/R-ENC the
// card does not offer), ErrInitializeUpdate (a malformed response; with
// ErrKeyVersion for a key version mismatch), ErrChallenge, and
// apdu.ErrChannel for an opts.Channel outside 0–19.
func NewHostSession(keys KeyProvider, hostChallenge, initializeUpdateResponse []byte, level SecurityLevel, opts Options) (*HostSession, error) {
	if keys == nil {
		return nil, fmt.Errorf("%w: nil KeyProvider", ErrKeyLength)
	}
	if err := level.Validate(); err != nil {
		return nil, err
	}
	info, err := ParseInitializeUpdateResponse(initializeUpdateResponse)
	if err != nil {
		return nil, err
	}
	// Keep our own copies: the caller may reuse its receive buffer.
	info.CardChallenge = append([]byte(nil), info.CardChallenge...)
	info.CardCryptogram = append([]byte(nil), info.CardCryptogram...)
	if kv := keys.KeyVersion(); kv != 0 && kv != info.KeyVersion {
		return nil, fmt.Errorf("%w: %w: card answered with key version %02X, want %02X", ErrInitializeUpdate, ErrKeyVersion, info.KeyVersion, kv)
	}
	if level.Has(LevelRMAC) && info.Param&ParamRMAC == 0 {
		return nil, fmt.Errorf("%w: card (i=%02X) does not support R-MAC", ErrSecurityLevel, info.Param)
	}
	if level.Has(LevelRENC) && info.Param&ParamRENC == 0 {
		return nil, fmt.Errorf("%w: card (i=%02X) does not support R-ENCRYPTION", ErrSecurityLevel, info.Param)
	}
	h := &HostSession{info: info, channel: opts.Channel}
	c := &h.core
	c.level, c.quirk, c.macLen = level, opts.CountOnlyDataCommands, 8
	if info.S16() {
		c.macLen = 16
	}
	if len(hostChallenge) != c.macLen {
		return nil, fmt.Errorf("%w: host challenge of %d bytes in S%d mode", ErrChallenge, len(hostChallenge), c.macLen)
	}
	cla, err := apdu.WithChannel(0x84, opts.Channel)
	if err != nil {
		return nil, err
	}
	context := make([]byte, 0, 2*c.macLen)
	context = append(append(context, hostChallenge...), info.CardChallenge...)
	if err := c.deriveSessionKeys(keys, context); err != nil {
		c.zero()
		return nil, err
	}
	want := c.cryptogram(DeriveCardCryptogram, context)
	if subtle.ConstantTimeCompare(want, info.CardCryptogram) != 1 {
		c.zero()
		return nil, ErrCardCryptogram
	}
	hostCryptogram := c.cryptogram(DeriveHostCryptogram, context)

	// EXTERNAL AUTHENTICATE (Amendment D §7.1.2): host cryptogram ‖ C-MAC,
	// MAC over a zero chaining value; never encrypted.
	ea := apdu.Command{CLA: cla, INS: INSExternalAuthenticate, P1: byte(level), P2: 0x00,
		Data: make([]byte, 2*c.macLen)}
	copy(ea.Data, hostCryptogram)
	c.commandMAC(ea, hostCryptogram)
	c.chain = c.mac
	copy(ea.Data[c.macLen:], c.mac[:c.macLen])
	h.ea = ea
	h.state = stateAuthSent
	return h, nil
}

// Info returns the parsed INITIALIZE UPDATE response.
func (h *HostSession) Info() InitializeUpdateInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := h.info
	i.CardChallenge = append([]byte(nil), i.CardChallenge...)
	i.CardCryptogram = append([]byte(nil), i.CardCryptogram...)
	return i
}

// Level returns the security level of the session.
func (h *HostSession) Level() SecurityLevel { return h.core.level }

// ExternalAuthenticate returns the EXTERNAL AUTHENTICATE command to send.
// Its response must be passed to Authenticated before Wrap is used.
func (h *HostSession) ExternalAuthenticate() apdu.Command {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.ea
	c.Data = append([]byte(nil), c.Data...)
	return c
}

// Authenticated records the card's answer to EXTERNAL AUTHENTICATE. On 9000
// the secure channel opens; any other status terminates the session and is
// returned as an error wrapping ErrExternalAuthenticate and the
// *apdu.StatusError.
func (h *HostSession) Authenticated(resp apdu.Response) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state != stateAuthSent {
		return h.stateErr()
	}
	if resp.SW != apdu.SWSuccess {
		h.kill()
		return fmt.Errorf("%w: %w", ErrExternalAuthenticate, resp.Err())
	}
	h.state = stateOpen
	return nil
}

// Wrap protects a command for the session's level: with C-DECRYPTION the
// data field is padded and encrypted (nothing is encrypted when there is no
// data), then the C-MAC over the modified header, Lc and data is appended
// and the class byte gets the secure-messaging indication. The C-MAC
// becomes the new MAC chaining value and the encryption counter advances.
//
// The wrapped command uses the extended form when the data grows beyond
// 255 bytes. If cmd expects response data, the wrapped Ne is the maximum of
// its form (256, or 65536 if cmd.Ne > 256), because the card appends
// padding and an R-MAC. cmd.CLA must not already indicate secure messaging
// and must code the session's logical channel (Options.Channel).
// The C-MAC covers the Lc field of the wrapped command's canonical
// encoding (apdu.Command.MarshalBinary): send it encoded that way.
//
// At a level with C-MAC the returned Data is newly allocated (one
// allocation); at level 00 cmd is returned unchanged. cmd is never
// modified. AppendWrap does the same without allocating.
//
// Errors: ErrState before Authenticated succeeded, ErrSessionClosed after
// Close or a fatal failure, apdu.ErrLength for a command that cannot be
// encoded, ErrNotSecured if cmd.CLA already indicates secure messaging,
// apdu.ErrChannel for a command on another channel than the session's, and
// ErrTooLong when padding and C-MAC would overflow the extended form. A
// failed Wrap does not advance the session.
func (h *HostSession) Wrap(cmd apdu.Command) (apdu.Command, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.checkWrap(cmd); err != nil {
		return apdu.Command{}, err
	}
	c := &h.core
	if !c.level.Has(LevelCMAC) {
		return cmd, nil
	}
	_, w, err := c.wrapAppend(nil, cmd)
	return w, err
}

// AppendWrap is Wrap followed by encoding: it appends the wrapped command
// APDU, ready to send, to dst and returns the extended slice. It allocates
// only if dst lacks capacity (len(cmd.Data) + 16 + 32 bytes always
// suffice). cmd.Data must not overlap the free capacity of dst. On error
// dst is returned unchanged and the session state is not advanced.
func (h *HostSession) AppendWrap(dst []byte, cmd apdu.Command) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.checkWrap(cmd); err != nil {
		return dst, err
	}
	c := &h.core
	if !c.level.Has(LevelCMAC) {
		return cmd.AppendBinary(dst)
	}
	out, _, err := c.wrapAppend(dst, cmd)
	return out, err
}

// checkWrap validates the session state and cmd for Wrap and AppendWrap.
func (h *HostSession) checkWrap(cmd apdu.Command) error {
	if h.state != stateOpen {
		return h.stateErr()
	}
	if err := cmd.Validate(); err != nil {
		return err
	}
	if err := checkCLA(cmd.CLA); err != nil {
		return err
	}
	if ch, _ := apdu.Channel(cmd.CLA); ch != h.channel {
		return fmt.Errorf("%w: command on channel %d, session on channel %d", apdu.ErrChannel, ch, h.channel)
	}
	return nil
}

// wrapAppend wraps cmd and appends its encoding to dst. It returns the
// extended slice and the wrapped command, whose Data aliases it. With a
// nil dst it allocates exactly once.
func (c *core) wrapAppend(dst []byte, cmd apdu.Command) ([]byte, apdu.Command, error) {
	encrypt := c.level.Has(LevelCDEC) && len(cmd.Data) > 0
	n := len(cmd.Data)
	if encrypt {
		n = padLen(n)
	}
	nc := n + c.macLen
	if nc > apdu.MaxNc {
		return dst, apdu.Command{}, fmt.Errorf("%w: %d data bytes become %d", ErrTooLong, len(cmd.Data), nc)
	}
	w := apdu.Command{CLA: apdu.SetSecureMessaging(cmd.CLA), INS: cmd.INS, P1: cmd.P1, P2: cmd.P2}
	switch {
	case cmd.Ne > apdu.MaxShortNe:
		w.Ne = apdu.MaxNe
	case cmd.Ne > 0:
		w.Ne = apdu.MaxShortNe
	}
	ext := nc > apdu.MaxShortNc || w.Ne > apdu.MaxShortNe
	// Header, Lc (1 or 3 bytes), data and C-MAC, Le (0–2 bytes: Nc > 0).
	need := 4 + 3 + nc + 2
	if dst == nil {
		dst = make([]byte, 0, need)
	} else {
		dst = slices.Grow(dst, need)
	}
	start := len(dst)
	dst = append(dst, w.CLA, w.INS, w.P1, w.P2)
	if ext {
		dst = append(dst, 0, byte(nc>>8), byte(nc))
	} else {
		dst = append(dst, byte(nc))
	}
	off := len(dst)
	dst = dst[:off+nc]
	body := dst[off : off+n]
	c.nextCommand(len(cmd.Data))
	if encrypt {
		c.icv(false)
		c.encryptInto(body, cmd.Data)
	} else {
		copy(body, cmd.Data)
	}
	c.commandMACLc(w.CLA, w.INS, w.P1, w.P2, dst[start+4:off], body)
	c.chain = c.mac
	copy(dst[off+n:], c.mac[:c.macLen])
	w.Data = dst[off : off+nc : off+nc]
	switch {
	case w.Ne == 0:
	case ext:
		dst = append(dst, byte(w.Ne>>8), byte(w.Ne)) // 65536 encodes as 0000
	default:
		dst = append(dst, byte(w.Ne)) // 256 encodes as 00
	}
	return dst, w, nil
}

// Unwrap checks and decrypts a response for the session's level.
//
// With R-MAC, a response with an error status word (anything but 9000,
// 62xx, 63xx) carries no R-MAC and is returned as is (its status word is
// not authenticated); it must not carry data (ErrProtocol, which
// terminates the session). Otherwise the trailing R-MAC over chaining value ‖
// data ‖ SW is verified in constant time; with R-ENCRYPTION non-empty data
// is then decrypted with the ICV of the current counter with its most
// significant byte set to 80, and unpadded.
//
// A missing or wrong R-MAC (ErrMAC) or bad encrypted data (ErrPadding)
// terminates the session. Decryption happens in place: the returned Data
// aliases resp.Data.
func (h *HostSession) Unwrap(resp apdu.Response) (apdu.Response, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state != stateOpen {
		return apdu.Response{}, h.stateErr()
	}
	c := &h.core
	if !c.level.Has(LevelRMAC) {
		return resp, nil
	}
	if isErrorSW(resp.SW) {
		if len(resp.Data) != 0 {
			// Neither the data nor the status word is authenticated: the
			// response did not come from the card as sent.
			h.kill()
			return apdu.Response{}, fmt.Errorf("%w: %d data bytes with error status %04X", ErrProtocol, len(resp.Data), resp.SW)
		}
		return resp, nil
	}
	out, err := c.unwrapResponse(resp)
	if err != nil {
		h.kill()
	}
	return out, err
}

func (c *core) unwrapResponse(resp apdu.Response) (apdu.Response, error) {
	if len(resp.Data) < c.macLen {
		return apdu.Response{}, fmt.Errorf("%w: response of %d bytes has no R-MAC", ErrMAC, len(resp.Data))
	}
	body := resp.Data[:len(resp.Data)-c.macLen]
	c.responseMAC(body, resp.SW)
	if !c.checkMAC(resp.Data[len(body):]) {
		return apdu.Response{}, fmt.Errorf("%w: R-MAC", ErrMAC)
	}
	if len(body) == 0 {
		return apdu.Response{SW: resp.SW}, nil
	}
	if c.level.Has(LevelRENC) {
		c.icv(true)
		plain, err := c.decryptInPlace(body)
		if err != nil {
			return apdu.Response{}, err
		}
		body = plain
	}
	if len(body) == 0 {
		body = nil
	}
	return apdu.Response{Data: body, SW: resp.SW}, nil
}

// Transmit runs one protected exchange: it wraps cmd, sends it with
// apdu.Transmit over tx (following 61xx; GET RESPONSE is not wrapped) and
// unwraps the response. Concurrent Transmit calls on one session are
// serialised, so their commands and responses cannot interleave. A
// non-9000 final status word is not an error: inspect Response.SW. Errors
// are those of Wrap, of the transport and of Unwrap (ErrMAC terminates the
// session). The returned Data is owned by the caller.
func (h *HostSession) Transmit(ctx context.Context, tx apdu.TransmitFunc, cmd apdu.Command) (apdu.Response, error) {
	h.xmu.Lock()
	defer h.xmu.Unlock()
	w, err := h.Wrap(cmd)
	if err != nil {
		return apdu.Response{}, err
	}
	r, err := apdu.Transmit(ctx, tx, w)
	if err != nil {
		return apdu.Response{}, err
	}
	return h.Unwrap(r)
}

// Close ends the session and zeroes the session keys, the MAC chaining
// value and the counter. It is idempotent.
func (h *HostSession) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.kill()
	return nil
}

func (h *HostSession) kill() {
	h.core.zero()
	h.state = stateDead
}

func (h *HostSession) stateErr() error {
	switch h.state {
	case stateDead:
		return ErrSessionClosed
	case stateAuthSent:
		return fmt.Errorf("%w: EXTERNAL AUTHENTICATE not yet confirmed", ErrState)
	case stateNew:
		// Only a zero HostSession is in this state: NewHostSession starts
		// in stateAuthSent.
		return ErrNotInitialized
	}
	return fmt.Errorf("%w: EXTERNAL AUTHENTICATE already confirmed", ErrState)
}

// Open runs the whole host handshake over tx: it draws a host challenge
// (16 bytes if opts.S16, else 8) from rand, sends INITIALIZE UPDATE for
// keys.KeyVersion(), starts a HostSession, sends EXTERNAL AUTHENTICATE and
// confirms it. Exchanges go through apdu.Transmit, so 61xx and 6Cxx are
// followed.
//
// Errors: ErrOptions for a nil rand, ErrKeyLength for nil or bad keys, the
// error of rand or of the transport (and ctx.Err()), ErrInitializeUpdate
// together with the card's *apdu.StatusError when the card refuses
// INITIALIZE UPDATE (6A88: it lacks the key version), the errors of
// NewHostSession (ErrCardCryptogram: wrong keys or not the card;
// ErrInitializeUpdate, ErrChallenge, ErrSecurityLevel) and of Authenticated
// (ErrExternalAuthenticate with the card's status word). No session is
// returned on error.
func Open(ctx context.Context, tx apdu.TransmitFunc, keys KeyProvider, level SecurityLevel, opts Options, rand io.Reader) (*HostSession, error) {
	if rand == nil {
		return nil, fmt.Errorf("%w: Open needs a random source", ErrOptions)
	}
	if keys == nil {
		return nil, fmt.Errorf("%w: nil KeyProvider", ErrKeyLength)
	}
	hc := make([]byte, 8)
	if opts.S16 {
		hc = make([]byte, 16)
	}
	if _, err := io.ReadFull(rand, hc); err != nil {
		return nil, fmt.Errorf("scp03: host challenge: %w", err)
	}
	iu, err := InitializeUpdate(keys.KeyVersion(), hc, opts.Channel)
	if err != nil {
		return nil, err
	}
	r, err := apdu.Transmit(ctx, tx, iu)
	if err != nil {
		return nil, err
	}
	if r.SW != apdu.SWSuccess {
		return nil, fmt.Errorf("%w: %w", ErrInitializeUpdate, r.Err())
	}
	h, err := NewHostSession(keys, hc, r.Data, level, opts)
	if err != nil {
		return nil, err
	}
	r, err = apdu.Transmit(ctx, tx, h.ExternalAuthenticate())
	if err != nil {
		h.Close()
		return nil, err
	}
	if err := h.Authenticated(r); err != nil {
		return nil, err
	}
	return h, nil
}

// String describes the session without key material.
func (h *HostSession) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return fmt.Sprintf("scp03.HostSession{KVN: %02X, S%d, level: %v, open: %v}", h.info.KeyVersion, h.core.macLen, h.core.level, h.state == stateOpen)
}

// GoString describes the session without key material.
func (h *HostSession) GoString() string { return h.String() }

// Format implements fmt.Formatter: every verb (%v, %d, %x, …) prints
// String, never the session keys.
func (h *HostSession) Format(f fmt.State, _ rune) { io.WriteString(f, h.String()) }
