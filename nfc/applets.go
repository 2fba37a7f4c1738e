package nfc

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/scp03"
)

// Instructions of the relay protocol (CLA 80, proprietary).
const (
	// InsBegin asks applet 1 to open the secure channel to applet 2.
	InsBegin byte = 0xE0
	// InsRelay carries one card command APDU as data; the response data
	// is the card's response APDU.
	InsRelay byte = 0xE2
	// InsEnd closes the secure channel.
	InsEnd byte = 0xE4
)

// Status words of the relay beyond ISO/IEC 7816-4.
const (
	// SWController reports a failed controller exchange: a transport
	// error or a response too short or too long to be an APDU.
	SWController uint16 = 0x6401
	// SWControllerTimeout reports a controller exchange that outlived
	// Config.ControllerTimeout.
	SWControllerTimeout uint16 = 0x6402
)

// FieldApplet is applet 2: the card side of the inter-applet SCP03 channel
// and the only holder of the Controller. It relays a card APDU only when it
// arrives MACed and encrypted in an authenticated session and while the
// controller's channel (Config.FieldChannel) has it selected. Every MAC or
// padding failure closes the session; every protected command it refuses
// (a bad MAC, a replay, a closed session) is answered 6982, on which
// applet 1 drops its end too. Its zero value answers 6985.
type FieldApplet struct {
	cfg   Config
	ctrl  Controller
	rand  io.Reader
	trace func(Event)

	mu       sync.Mutex
	bound    bool
	sessions map[int]*scp03.CardSession
}

// NewFieldApplet returns applet 2 for cfg and ctrl; rand supplies the SCP03
// card challenges, trace (optional) receives the redacted field hop.
func NewFieldApplet(cfg Config, ctrl Controller, rand io.Reader, trace func(Event)) *FieldApplet {
	return &FieldApplet{cfg: cfg.withDefaults(), ctrl: ctrl, rand: rand, trace: trace, sessions: map[int]*scp03.CardSession{}}
}

func swr(s uint16) apdu.Response { return apdu.Response{SW: s} }

// Select binds the controller on FieldChannel and starts a card session on
// any other channel.
func (f *FieldApplet) Select(_ context.Context, s se.Selection) apdu.Response {
	if f == nil || f.sessions == nil {
		return swr(apdu.SWConditionsNotSatisfied)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if s.Channel == f.cfg.TEEChannel || s.Channel == 0 {
		return swr(apdu.SWConditionsNotSatisfied) // never reachable from the TEE's channel
	}
	if s.Channel == f.cfg.FieldChannel {
		f.bound = true
		return swr(apdu.SWSuccess)
	}
	cs, err := scp03.NewCardSession(f.cfg.Keys, scp03.CardOptions{Rand: f.rand, Supported: scp03.LevelAll})
	if err != nil {
		return swr(scp03.StatusFor(err))
	}
	if old := f.sessions[s.Channel]; old != nil {
		_ = old.Close()
	}
	f.sessions[s.Channel] = cs
	return swr(apdu.SWSuccess)
}

// Deselect ends the session of the channel (zeroing its keys) or unbinds
// the controller.
func (f *FieldApplet) Deselect(_ context.Context, ch int) {
	if f == nil || f.sessions == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if ch == f.cfg.FieldChannel {
		f.bound = false
		return
	}
	if cs := f.sessions[ch]; cs != nil {
		_ = cs.Close()
		delete(f.sessions, ch)
	}
}

// Process answers the SCP03 handshake and relays protected card APDUs.
func (f *FieldApplet) Process(ctx context.Context, cmd apdu.Command) apdu.Response {
	if f == nil || f.sessions == nil {
		return swr(apdu.SWConditionsNotSatisfied)
	}
	ch := se.ChannelOf(cmd)
	f.mu.Lock()
	cs := f.sessions[ch]
	bound := f.bound
	f.mu.Unlock()
	if cs == nil {
		return swr(apdu.SWConditionsNotSatisfied)
	}
	// Unwrap decrypts in place; the element's buffer is not ours to change.
	cmd.Data = append([]byte(nil), cmd.Data...)
	switch cmd.INS {
	case scp03.INSInitializeUpdate:
		r, _ := cs.InitializeUpdate(cmd)
		return r
	case scp03.INSExternalAuthenticate:
		r, _ := cs.ExternalAuthenticate(cmd)
		return r
	}
	plain, err := cs.Unwrap(cmd)
	if err != nil {
		// Tear down: a MAC failure ends the channel. Every refusal of a
		// protected command — a bad MAC, a replay, or any command on a
		// session an earlier failure closed — answers 6982, the one status
		// on which applet 1 drops its end of the channel too (a closed
		// session's 6985 left applet 1 holding its keys).
		_ = cs.Close()
		return swr(apdu.SWSecurityStatusNotSatisfied)
	}
	resp := f.relay(ctx, plain, bound)
	w, err := cs.Wrap(resp)
	if err != nil {
		_ = cs.Close()
		return swr(scp03.StatusFor(err))
	}
	return w
}

func (f *FieldApplet) relay(ctx context.Context, plain apdu.Command, bound bool) apdu.Response {
	if plain.INS != InsRelay || plain.CLA&0x80 == 0 {
		return swr(apdu.SWINSNotSupported)
	}
	if !bound || f.ctrl == nil {
		return swr(apdu.SWConditionsNotSatisfied)
	}
	if _, err := apdu.ParseCommand(plain.Data); err != nil {
		return swr(apdu.SWWrongData)
	}
	if f.trace != nil {
		f.trace(redactCommand(HopField, plain.Data))
	}
	tctx, cancel := context.WithTimeout(ctx, f.cfg.ControllerTimeout)
	defer cancel()
	out, err := f.ctrl.Transceive(tctx, plain.Data)
	if err != nil && errors.Is(tctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		return swr(SWControllerTimeout)
	}
	if err != nil || len(out) < 2 || len(out) > apdu.MaxNe+2 {
		return swr(SWController)
	}
	if f.trace != nil {
		f.trace(redactResponse(HopField, out))
	}
	return apdu.Response{Data: append([]byte(nil), out...), SW: apdu.SWSuccess}
}

// TEEApplet is applet 1: it answers only on the TEE's channel and relays
// each card APDU to applet 2 through an SCP03 session it opens (host role)
// over its own logical channel inside the element. Its zero value answers
// 6985.
type TEEApplet struct {
	cfg   Config
	rand  io.Reader
	trace func(Event)
	// tamper, for tests, alters relay-hop bytes in flight.
	tamper func(command bool, b []byte)

	el   se.Transmitter
	ch   int // inter-applet channel, 0 when none
	host *scp03.HostSession
}

// NewTEEApplet returns applet 1 for cfg; rand supplies the SCP03 host
// challenges, trace (optional) receives the relay hop's ciphertext.
func NewTEEApplet(cfg Config, rand io.Reader, trace func(Event)) *TEEApplet {
	return &TEEApplet{cfg: cfg.withDefaults(), rand: rand, trace: trace}
}

// Select accepts a selection on TEEChannel only.
func (a *TEEApplet) Select(_ context.Context, s se.Selection) apdu.Response {
	if a == nil || a.rand == nil {
		return swr(apdu.SWConditionsNotSatisfied)
	}
	if s.Channel != a.cfg.TEEChannel {
		return swr(apdu.SWConditionsNotSatisfied)
	}
	a.el = s.Element
	return swr(apdu.SWSuccess)
}

// Deselect tears the secure channel down.
func (a *TEEApplet) Deselect(ctx context.Context, _ int) {
	if a == nil {
		return
	}
	a.teardown(ctx)
}

// Process handles InsBegin, InsRelay and InsEnd from the TEE.
func (a *TEEApplet) Process(ctx context.Context, cmd apdu.Command) apdu.Response {
	if a == nil || a.el == nil {
		return swr(apdu.SWConditionsNotSatisfied)
	}
	if se.ChannelOf(cmd) != a.cfg.TEEChannel || cmd.CLA&0x80 == 0 {
		return swr(apdu.SWConditionsNotSatisfied)
	}
	switch cmd.INS {
	case InsBegin:
		a.teardown(ctx)
		if err := a.open(ctx); err != nil {
			a.teardown(ctx)
			return swr(apdu.SWSecurityStatusNotSatisfied)
		}
		return swr(apdu.SWSuccess)
	case InsEnd:
		a.teardown(ctx)
		return swr(apdu.SWSuccess)
	case InsRelay:
		if a.host == nil {
			return swr(apdu.SWConditionsNotSatisfied)
		}
		cla, _ := apdu.WithChannel(0x80, a.ch)
		ne := 256
		if cmd.Ne > 256 {
			ne = apdu.MaxNe
		}
		r, err := a.host.Transmit(ctx, a.transmit, apdu.Command{CLA: cla, INS: InsRelay, Data: cmd.Data, Ne: ne})
		if err != nil {
			a.teardown(ctx)
			return swr(apdu.SWSecurityStatusNotSatisfied)
		}
		if r.SW == apdu.SWSecurityStatusNotSatisfied {
			a.teardown(ctx) // applet 2 saw a bad C-MAC and closed its side
		}
		return r
	}
	return swr(apdu.SWINSNotSupported)
}

// transmit is the inter-applet byte transport, traced and (in tests)
// tampered with.
func (a *TEEApplet) transmit(ctx context.Context, raw []byte) ([]byte, error) {
	if a.tamper != nil {
		raw = append([]byte(nil), raw...)
		a.tamper(true, raw)
	}
	if a.trace != nil {
		a.trace(Event{Hop: HopRelay, Command: true, Data: append([]byte(nil), raw...), Len: len(raw)})
	}
	out, err := se.TransmitFunc(a.el)(ctx, raw)
	if err != nil {
		return nil, err
	}
	if a.tamper != nil {
		a.tamper(false, out)
	}
	if a.trace != nil {
		a.trace(Event{Hop: HopRelay, Data: append([]byte(nil), out...), Len: len(out)})
	}
	return out, nil
}

func (a *TEEApplet) open(ctx context.Context) error {
	r, err := a.el.Transmit(ctx, apdu.Command{INS: 0x70, Ne: 1}) // MANAGE CHANNEL open
	if err != nil || !r.Success() || len(r.Data) != 1 {
		return ErrRelay
	}
	a.ch = int(r.Data[0])
	cla, err := apdu.WithChannel(0x00, a.ch)
	if err != nil {
		return err
	}
	if r, err := a.el.Transmit(ctx, apdu.Command{CLA: cla, INS: 0xA4, P1: 0x04, Data: a.cfg.FieldAID, Ne: 256}); err != nil || !r.Success() {
		return ErrRelay
	}
	host, err := scp03.Open(ctx, a.transmit, a.cfg.Keys, scp03.LevelAll, scp03.Options{Channel: a.ch}, a.rand)
	if err != nil {
		return err
	}
	a.host = host
	return nil
}

func (a *TEEApplet) teardown(ctx context.Context) {
	if a.host != nil {
		_ = a.host.Close()
		a.host = nil
	}
	if a.ch != 0 && a.el != nil {
		_, _ = a.el.Transmit(ctx, apdu.Command{INS: 0x70, P1: 0x80, P2: byte(a.ch)}) // MANAGE CHANNEL close
	}
	a.ch = 0
}
