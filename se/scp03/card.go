package scp03

import (
	"crypto/subtle"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/payedge/payedge/se/apdu"
)

// MaxSequenceCounter is the largest value of the 24-bit sequence counter
// that feeds pseudo-random card challenges.
const MaxSequenceCounter = 1<<24 - 1

// CardOptions configures the card side of SCP03.
type CardOptions struct {
	// S16 selects S16 mode (16-byte challenges, cryptograms and MACs);
	// the default is S8.
	S16 bool
	// PseudoRandomChallenge derives the card challenge from the static ENC
	// key, the sequence counter and AID (Amendment D §6.2.2.1) instead of
	// reading it from Rand, and returns the counter in INITIALIZE UPDATE.
	PseudoRandomChallenge bool
	// AID is the application identifier of the security domain, the
	// context of the pseudo-random challenge (5 to 16 bytes).
	AID []byte
	// SequenceCounter is the last sequence counter value used; the next
	// INITIALIZE UPDATE uses SequenceCounter+1. Persist CardSession's
	// SequenceCounter between sessions.
	SequenceCounter uint32
	// Rand supplies random card challenges (required unless
	// PseudoRandomChallenge).
	Rand io.Reader
	// KeyDiversificationData is returned as the first 10 bytes of the
	// INITIALIZE UPDATE response.
	KeyDiversificationData [10]byte
	// Supported is the highest protection the card accepts. Zero means
	// LevelAll; LevelCMAC|LevelCDEC advertises neither R-MAC nor
	// R-ENCRYPTION.
	Supported SecurityLevel
	// CountOnlyDataCommands mirrors Options.CountOnlyDataCommands.
	CountOnlyDataCommands bool
}

// CardSession is the card end of an SCP03 secure channel, for in-process
// secure elements and applets: it answers INITIALIZE UPDATE, verifies
// EXTERNAL AUTHENTICATE, then unwraps commands and wraps responses.
//
// Any C-MAC, padding or secure-messaging failure terminates the channel; a
// new INITIALIZE UPDATE starts a fresh one. A CardSession is safe for
// concurrent use, but commands and responses must still alternate.
type CardSession struct {
	mu    sync.Mutex
	keys  KeyProvider
	opts  CardOptions
	seq   uint32
	param byte

	core    core
	state   state
	channel int    // logical channel of INITIALIZE UPDATE; the session is bound to it
	context []byte // host challenge ‖ card challenge
}

// NewCardSession returns a card-side session holding keys, waiting for
// INITIALIZE UPDATE. Errors: ErrKeyLength for nil keys or a key length other
// than 16, 24 or 32 bytes, ErrSecurityLevel for an undefined
// opts.Supported, ErrOptions for a pseudo-random challenge without a 5–16
// byte AID or a random one without opts.Rand, and ErrSequenceCounter when
// opts.SequenceCounter exceeds MaxSequenceCounter.
func NewCardSession(keys KeyProvider, opts CardOptions) (*CardSession, error) {
	if keys == nil {
		return nil, fmt.Errorf("%w: nil KeyProvider", ErrKeyLength)
	}
	switch keys.KeyLen() {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("%w: %d-byte keys", ErrKeyLength, keys.KeyLen())
	}
	if opts.Supported == 0 {
		opts.Supported = LevelAll
	}
	if err := opts.Supported.Validate(); err != nil {
		return nil, err
	}
	if opts.PseudoRandomChallenge {
		if len(opts.AID) < 5 || len(opts.AID) > 16 {
			return nil, fmt.Errorf("%w: pseudo-random challenge needs a 5–16 byte AID, got %d bytes", ErrOptions, len(opts.AID))
		}
	} else if opts.Rand == nil {
		return nil, fmt.Errorf("%w: CardOptions.Rand is required for random card challenges", ErrOptions)
	}
	if opts.SequenceCounter > MaxSequenceCounter {
		return nil, fmt.Errorf("%w: %d", ErrSequenceCounter, opts.SequenceCounter)
	}
	opts.AID = append([]byte(nil), opts.AID...)
	s := &CardSession{keys: keys, opts: opts, seq: opts.SequenceCounter}
	if opts.S16 {
		s.param |= ParamS16
	}
	if opts.PseudoRandomChallenge {
		s.param |= ParamPseudoRandom
	}
	if opts.Supported.Has(LevelRMAC) {
		s.param |= ParamRMAC
	}
	if opts.Supported.Has(LevelRENC) {
		s.param |= ParamRENC
	}
	return s, nil
}

// SequenceCounter returns the last sequence counter value used.
func (s *CardSession) SequenceCounter() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// Level returns the security level of the open channel.
func (s *CardSession) Level() SecurityLevel {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.core.level
}

// Open reports whether the secure channel is established.
func (s *CardSession) Open() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == stateOpen
}

// InitializeUpdate answers INITIALIZE UPDATE (CLA 80–83/C0–CF, INS 50,
// P1 = key version or 00, P2 = 00, host challenge of 8 bytes in S8 mode or
// 16 in S16 mode). It ends any previous channel, derives the session keys
// and returns the response (key diversification data, key information,
// card challenge, card cryptogram, sequence counter) with SW 9000. On error
// the returned Response carries the status word to send (6A88 for an
// unknown key version, 6700 for a bad length, 6A86 for bad P2, 6985 for an
// exhausted counter).
func (s *CardSession) InitializeUpdate(cmd apdu.Command) (apdu.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		// A zero CardSession holds no keys: refuse as a card without the
		// key version would.
		return apdu.Response{SW: 0x6A88}, ErrNotInitialized
	}
	s.reset()
	macLen := 8
	if s.opts.S16 {
		macLen = 16
	}
	if cmd.INS != INSInitializeUpdate || cmd.CLA&0x80 == 0 || apdu.SecureMessaging(cmd.CLA) || cmd.CLA == 0xFF {
		return apdu.Response{SW: apdu.SWINSNotSupported}, fmt.Errorf("%w: not INITIALIZE UPDATE: CLA %02X INS %02X", ErrInitializeUpdate, cmd.CLA, cmd.INS)
	}
	if err := checkClassCoding(cmd.CLA); err != nil {
		return apdu.Response{SW: apdu.SWCLANotSupported}, fmt.Errorf("%w: %w", ErrInitializeUpdate, err)
	}
	ch, err := apdu.Channel(cmd.CLA)
	if err != nil {
		return apdu.Response{SW: apdu.SWCLANotSupported}, fmt.Errorf("%w: %w", ErrInitializeUpdate, err)
	}
	if kv := s.keys.KeyVersion(); cmd.P1 != 0 && kv != 0 && cmd.P1 != kv {
		return apdu.Response{SW: apdu.SWReferencedDataNotFound}, fmt.Errorf("%w: %w: %02X", ErrInitializeUpdate, ErrKeyVersion, cmd.P1)
	}
	if cmd.P2 != 0 {
		return apdu.Response{SW: apdu.SWIncorrectP1P2}, fmt.Errorf("%w: P2 %02X", ErrInitializeUpdate, cmd.P2)
	}
	if len(cmd.Data) != macLen {
		return apdu.Response{SW: apdu.SWWrongLength}, fmt.Errorf("%w: host challenge of %d bytes in S%d mode", ErrChallenge, len(cmd.Data), macLen)
	}
	cardChallenge := make([]byte, macLen)
	if s.opts.PseudoRandomChallenge {
		if s.seq >= MaxSequenceCounter {
			return apdu.Response{SW: apdu.SWConditionsNotSatisfied}, ErrSequenceCounter
		}
		s.seq++
		ctx := make([]byte, 0, 3+len(s.opts.AID))
		ctx = append(ctx, byte(s.seq>>16), byte(s.seq>>8), byte(s.seq))
		ctx = append(ctx, s.opts.AID...)
		if err := s.keys.Derive(KeyENC, DeriveCardChallenge, ctx, cardChallenge); err != nil {
			return apdu.Response{SW: apdu.SWUnknown}, err
		}
	} else if _, err := io.ReadFull(s.opts.Rand, cardChallenge); err != nil {
		return apdu.Response{SW: apdu.SWUnknown}, fmt.Errorf("scp03: card challenge: %w", err)
	}
	c := &s.core
	c.macLen, c.quirk = macLen, s.opts.CountOnlyDataCommands
	s.channel = ch
	s.context = append(append(make([]byte, 0, 2*macLen), cmd.Data...), cardChallenge...)
	if err := c.deriveSessionKeys(s.keys, s.context); err != nil {
		s.reset()
		return apdu.Response{SW: apdu.SWUnknown}, err
	}
	out := make([]byte, 0, 13+2*macLen+3)
	out = append(out, s.opts.KeyDiversificationData[:]...)
	out = append(out, s.keys.KeyVersion(), scpIdentifier, s.param)
	out = append(out, cardChallenge...)
	out = append(out, c.cryptogram(DeriveCardCryptogram, s.context)...)
	if s.opts.PseudoRandomChallenge {
		out = append(out, byte(s.seq>>16), byte(s.seq>>8), byte(s.seq))
	}
	s.state = stateInit
	return apdu.Response{Data: out, SW: apdu.SWSuccess}, nil
}

// ExternalAuthenticate verifies EXTERNAL AUTHENTICATE (CLA 84 on the
// channel, INS 82, P1 = security level, P2 = 00, data = host cryptogram ‖
// C-MAC). On success the channel opens at level P1, the MAC chaining value
// is the command's C-MAC and the encryption counter restarts; the response
// is 9000 without R-MAC. On failure the channel is terminated and the
// Response carries the status word to send: 6300 for a wrong host
// cryptogram, 6982 for a wrong MAC, 6A86 for an unsupported level, 6700
// for a wrong length, 6985 without a preceding INITIALIZE UPDATE.
func (s *CardSession) ExternalAuthenticate(cmd apdu.Command) (apdu.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateInit {
		s.reset()
		return apdu.Response{SW: apdu.SWConditionsNotSatisfied}, fmt.Errorf("%w: EXTERNAL AUTHENTICATE without INITIALIZE UPDATE", ErrState)
	}
	c := &s.core
	fail := func(sw uint16, err error) (apdu.Response, error) {
		s.reset()
		return apdu.Response{SW: sw}, err
	}
	if cmd.INS != INSExternalAuthenticate || cmd.CLA&0x80 == 0 {
		return fail(apdu.SWINSNotSupported, fmt.Errorf("%w: not EXTERNAL AUTHENTICATE: CLA %02X INS %02X", ErrExternalAuthenticate, cmd.CLA, cmd.INS))
	}
	if err := s.checkWireCLA(cmd.CLA); err != nil {
		return fail(apdu.SWSecurityStatusNotSatisfied, err)
	}
	level := SecurityLevel(cmd.P1)
	if err := level.Validate(); err != nil || level&^s.opts.Supported != 0 || cmd.P2 != 0 {
		return fail(apdu.SWIncorrectP1P2, fmt.Errorf("%w: P1 %02X P2 %02X (supported %v)", ErrSecurityLevel, cmd.P1, cmd.P2, s.opts.Supported))
	}
	if len(cmd.Data) != 2*c.macLen {
		return fail(apdu.SWWrongLength, fmt.Errorf("%w: data of %d bytes", ErrExternalAuthenticate, len(cmd.Data)))
	}
	cryptogram := cmd.Data[:c.macLen]
	c.commandMAC(cmd, cryptogram)
	if !c.checkMAC(cmd.Data[c.macLen:]) {
		return fail(apdu.SWSecurityStatusNotSatisfied, fmt.Errorf("%w: EXTERNAL AUTHENTICATE C-MAC", ErrMAC))
	}
	want := c.cryptogram(DeriveHostCryptogram, s.context)
	if subtle.ConstantTimeCompare(want, cryptogram) != 1 {
		return fail(0x6300, ErrHostCryptogram)
	}
	c.chain = c.mac
	c.counter = 0
	c.level = level
	s.state = stateOpen
	return apdu.Response{SW: apdu.SWSuccess}, nil
}

// Unwrap verifies and decrypts a command received in the open channel.
// The C-MAC is checked in constant time against the MAC chaining value, so
// replayed, reordered or altered commands fail with ErrMAC; with
// C-DECRYPTION the data is decrypted in place (the returned Data aliases
// cmd.Data) and unpadded. The returned command has the secure-messaging
// indication removed from its class byte; its Ne is the wire Ne.
//
// The C-MAC covers the Lc field as this package encodes it: the short form
// whenever it fits. A host may legally send the extended form where the
// short one fits; use UnwrapRaw, which MACs the Lc field as received, when
// the raw APDU is at hand. Any failure terminates the channel; answer with
// StatusFor(err) (6982).
func (s *CardSession) Unwrap(cmd apdu.Command) (apdu.Command, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen {
		return apdu.Command{}, s.stateErr()
	}
	c := &s.core
	if !c.level.Has(LevelCMAC) {
		return cmd, nil
	}
	if err := s.checkWireCLA(cmd.CLA); err != nil {
		s.reset()
		return apdu.Command{}, err
	}
	var lc [3]byte
	out, err := c.unwrapCommand(cmd, cmd.AppendLc(lc[:0]))
	if err != nil {
		s.reset()
	}
	return out, err
}

// UnwrapRaw is Unwrap for a command APDU exactly as received: it parses raw
// (apdu.ParseCommand) and verifies the C-MAC over the Lc field as encoded
// in raw, short or extended, so a host that uses the extended form where
// the short one would fit is still understood. It does not allocate; the
// returned Data aliases raw, which is decrypted in place.
//
// A malformed APDU is an error wrapping apdu.ErrTruncated or
// apdu.ErrLength; at a level with C-MAC it terminates the channel like any
// other failure. At level 00 the parsed command is returned as is.
func (s *CardSession) UnwrapRaw(raw []byte) (apdu.Command, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen {
		return apdu.Command{}, s.stateErr()
	}
	c := &s.core
	cmd, err := apdu.ParseCommand(raw)
	if !c.level.Has(LevelCMAC) {
		return cmd, err
	}
	if err != nil {
		s.reset()
		return apdu.Command{}, err
	}
	if err := s.checkWireCLA(cmd.CLA); err != nil {
		s.reset()
		return apdu.Command{}, err
	}
	var lc []byte
	if len(cmd.Data) > 0 {
		if raw[4] == 0 {
			lc = raw[4:7] // extended: 00 Lc1 Lc2
		} else {
			lc = raw[4:5]
		}
	}
	out, err := c.unwrapCommand(cmd, lc)
	if err != nil {
		s.reset()
	}
	return out, err
}

// checkWireCLA requires the GlobalPlatform secure-messaging indication (b4b3
// = 01 on channels 0–3, b6 on channels 4–19) and the channel the session
// was opened on. The C-MAC covers neither (the channel is zeroed for the
// MAC), so they are checked here.
func (s *CardSession) checkWireCLA(cla byte) error {
	if err := checkClassCoding(cla); err != nil {
		return fmt.Errorf("%w: %w", ErrNotSecured, err)
	}
	ch, err := apdu.Channel(cla)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotSecured, err)
	}
	if ch != s.channel {
		return fmt.Errorf("%w: command on channel %d, session on channel %d", ErrNotSecured, ch, s.channel)
	}
	if apdu.SetSecureMessaging(apdu.ClearSecureMessaging(cla)) != cla {
		return fmt.Errorf("%w: CLA %02X lacks the GlobalPlatform secure messaging indication", ErrNotSecured, cla)
	}
	return nil
}

// unwrapCommand verifies the C-MAC of cmd, whose Lc field was lc on the
// wire, and decrypts its data in place.
func (c *core) unwrapCommand(cmd apdu.Command, lc []byte) (apdu.Command, error) {
	if len(cmd.Data) < c.macLen {
		return apdu.Command{}, fmt.Errorf("%w: command data of %d bytes has no C-MAC", ErrMAC, len(cmd.Data))
	}
	body := cmd.Data[:len(cmd.Data)-c.macLen]
	c.commandMACLc(cmd.CLA, cmd.INS, cmd.P1, cmd.P2, lc, body)
	if !c.checkMAC(cmd.Data[len(body):]) {
		return apdu.Command{}, fmt.Errorf("%w: C-MAC", ErrMAC)
	}
	c.chain = c.mac
	c.nextCommand(len(body))
	if c.level.Has(LevelCDEC) && len(body) > 0 {
		c.icv(false)
		plain, err := c.decryptInPlace(body)
		if err != nil {
			return apdu.Command{}, err
		}
		body = plain
	}
	if len(body) == 0 {
		body = nil
	}
	return apdu.Command{CLA: apdu.ClearSecureMessaging(cmd.CLA), INS: cmd.INS, P1: cmd.P1, P2: cmd.P2, Data: body, Ne: cmd.Ne}, nil
}

// Wrap protects a response to the last unwrapped command. With R-MAC, an
// error status word (anything but 9000, 62xx, 63xx) is returned alone:
// Amendment D §6.2.5 forbids data and R-MAC with it, so any data is
// dropped. Otherwise non-empty data is padded and encrypted with
// R-ENCRYPTION (ICV from the counter with its most significant byte 80) and
// the R-MAC over chaining value ‖ data ‖ SW is appended. With R-MAC the
// returned Data is newly allocated; below it resp is returned unchanged.
// AppendWrap does the same without allocating. Errors: ErrState or
// ErrSessionClosed when no channel is open, ErrTooLong when padding and
// R-MAC would overflow a response APDU.
func (s *CardSession) Wrap(resp apdu.Response) (apdu.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen {
		return apdu.Response{}, s.stateErr()
	}
	c := &s.core
	if !c.level.Has(LevelRMAC) {
		return resp, nil
	}
	if isErrorSW(resp.SW) {
		return apdu.Response{SW: resp.SW}, nil
	}
	out, err := c.wrapResponseAppend(nil, resp)
	if err != nil {
		return apdu.Response{}, err
	}
	return apdu.Response{Data: out[: len(out)-2 : len(out)-2], SW: resp.SW}, nil
}

// AppendWrap is Wrap followed by encoding: it appends the wrapped response
// APDU (data, R-MAC, SW1 SW2), ready to send, to dst. It allocates only if
// dst lacks capacity (len(resp.Data) + 16 + 18 bytes always suffice).
// resp.Data must not overlap the free capacity of dst.
func (s *CardSession) AppendWrap(dst []byte, resp apdu.Response) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateOpen {
		return dst, s.stateErr()
	}
	c := &s.core
	switch {
	case !c.level.Has(LevelRMAC):
		return resp.AppendBinary(dst)
	case isErrorSW(resp.SW):
		return append(dst, byte(resp.SW>>8), byte(resp.SW)), nil
	}
	return c.wrapResponseAppend(dst, resp)
}

// wrapResponseAppend appends the R-MAC-protected (and, with R-ENC,
// encrypted) encoding of resp to dst. With a nil dst it allocates once.
func (c *core) wrapResponseAppend(dst []byte, resp apdu.Response) ([]byte, error) {
	encrypt := c.level.Has(LevelRENC) && len(resp.Data) > 0
	n := len(resp.Data)
	if encrypt {
		n = padLen(n)
	}
	if n+c.macLen > apdu.MaxNe {
		return dst, fmt.Errorf("%w: %d response bytes become %d", ErrTooLong, len(resp.Data), n+c.macLen)
	}
	need := n + c.macLen + 2
	if dst == nil {
		dst = make([]byte, 0, need)
	} else {
		dst = slices.Grow(dst, need)
	}
	off := len(dst)
	dst = dst[:off+n+c.macLen]
	body := dst[off : off+n]
	if encrypt {
		c.icv(true)
		c.encryptInto(body, resp.Data)
	} else {
		copy(body, resp.Data)
	}
	c.responseMAC(body, resp.SW)
	copy(dst[off+n:], c.mac[:c.macLen])
	return append(dst, byte(resp.SW>>8), byte(resp.SW)), nil
}

// Close ends the channel and zeroes the session keys. It is idempotent; a
// later INITIALIZE UPDATE starts a new channel.
func (s *CardSession) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reset()
	return nil
}

func (s *CardSession) reset() {
	s.core.zero()
	s.core.level = 0
	clear(s.context)
	s.context = nil
	s.state = stateNew
}

func (s *CardSession) stateErr() error {
	if s.state == stateNew {
		return ErrSessionClosed
	}
	return fmt.Errorf("%w: channel not open", ErrState)
}

// String describes the session without key material.
func (s *CardSession) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		return "scp03.CardSession{not initialized}"
	}
	return fmt.Sprintf("scp03.CardSession{KVN: %02X, i: %02X, level: %v, open: %v}", s.keys.KeyVersion(), s.param, s.core.level, s.state == stateOpen)
}

// GoString describes the session without key material.
func (s *CardSession) GoString() string { return s.String() }

// Format implements fmt.Formatter: every verb (%v, %d, %x, …) prints
// String, never the session keys.
func (s *CardSession) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }
