package nfc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/payedge/payedge/nfc/emv"
	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
)

// Options are the device's collaborators.
type Options struct {
	// Rand supplies the SCP03 challenges of both applets (required).
	Rand io.Reader
	// EMV configures the TEE application's card reader (terminal data,
	// clock, unpredictable-number source, selector).
	EMV emv.Config
	// Trace, if set, receives every hop's Event (redacted on the
	// plaintext hops) in order. The same events reach RichOS.
	Trace func(Event)
}

// Device is the assembled device: one secure element with applets 1 and 2,
// the controller link bound to applet 2, the TEE application's channel to
// applet 1, and the rich OS's view. Safe for concurrent use; card reads are
// serialised.
type Device struct {
	mu     sync.Mutex
	cfg    Config
	el     *se.Memory
	tee    *TEEApp
	rich   *RichOS
	ctrl   Controller
	teeApp *TEEApplet
	// fieldApplet is applet 2, kept for inspection in tests.
	fieldApplet *FieldApplet
	closed      bool
}

// NewDevice builds the device: it installs applet 1 and applet 2 in a new
// se.Memory, binds applet 2 to the controller on cfg.FieldChannel and opens
// the TEE's channel cfg.TEEChannel to applet 1. Errors wrap ErrConfig.
func NewDevice(cfg Config, ctrl Controller, opts Options) (*Device, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ctrl == nil || opts.Rand == nil {
		return nil, fmt.Errorf("%w: a controller and Options.Rand are required", ErrConfig)
	}
	if err := opts.EMV.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	cfg = cfg.withDefaults()
	d := &Device{cfg: cfg, ctrl: ctrl}
	d.rich = &RichOS{dev: d}
	trace := func(e Event) {
		d.rich.record(e.Data)
		if opts.Trace != nil {
			opts.Trace(e)
		}
	}
	el, err := se.NewMemory(se.MemoryConfig{})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	d.el = el
	d.teeApp = NewTEEApplet(cfg, opts.Rand, trace)
	if err := el.Install(cfg.TEEAID, d.teeApp, se.InstallOptions{}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	d.fieldApplet = NewFieldApplet(cfg, ctrl, opts.Rand, trace)
	if err := el.Install(cfg.FieldAID, d.fieldApplet, se.InstallOptions{}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	ctx := context.Background()
	if err := openOn(ctx, el, cfg.FieldChannel, cfg.FieldAID); err != nil {
		return nil, err
	}
	if err := openOn(ctx, el, cfg.TEEChannel, cfg.TEEAID); err != nil {
		return nil, err
	}
	d.tee = &TEEApp{dev: d, trace: trace}
	r, err := emv.NewReader(emv.TransceiverFunc(d.tee.relay), opts.EMV)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	d.tee.reader = r
	return d, nil
}

// openOn opens logical channel ch (MANAGE CHANNEL open with P2 = ch) and
// selects aid on it.
func openOn(ctx context.Context, el *se.Memory, ch int, aid []byte) error {
	r, err := el.Transmit(ctx, apdu.Command{INS: 0x70, P2: byte(ch)})
	if err != nil || !r.Success() {
		return fmt.Errorf("%w: cannot open channel %d: %v %v", ErrConfig, ch, r, err)
	}
	cla, _ := apdu.WithChannel(0, ch)
	r, err = el.Transmit(ctx, apdu.Command{CLA: cla, INS: 0xA4, P1: 0x04, Data: aid, Ne: 256})
	if err != nil || !r.Success() {
		return fmt.Errorf("%w: cannot select %X on channel %d: %v %v", ErrConfig, aid, ch, r, err)
	}
	return nil
}

// TEE returns the TEE application's view.
func (d *Device) TEE() *TEEApp {
	if d == nil {
		return nil
	}
	return d.tee
}

// RichOS returns the rich OS's view.
func (d *Device) RichOS() *RichOS {
	if d == nil {
		return nil
	}
	return d.rich
}

// Element returns the device's secure element (for inspection).
func (d *Device) Element() *se.Memory {
	if d == nil {
		return nil
	}
	return d.el
}

// Close closes the secure element (every channel, every session). It is
// idempotent.
func (d *Device) Close() error {
	if d == nil || d.el == nil {
		return ErrNotInitialized
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	return d.el.Close()
}

// TEEApp is the payment application inside the TEE: it holds the channel to
// applet 1 and runs the EMV reader over the relay.
type TEEApp struct {
	dev    *Device
	reader *emv.Reader
	trace  func(Event)
}

// ReadCard reads the card in the field through the SE relay: it asks applet
// 1 to open the SCP03 session, runs emv.Reader.Read with every card APDU
// relayed, and closes the session. Errors: ErrNotInitialized, ErrClosed,
// those of emv.Reader.Read, with ErrSecureChannel (a MAC failure tore the
// channel down), ErrController (timeout: also ErrTimeout) or ErrRelay
// wrapped inside emv.ErrTransceive.
func (t *TEEApp) ReadCard(ctx context.Context) (*emv.Card, error) {
	if t == nil || t.dev == nil || t.reader == nil {
		return nil, ErrNotInitialized
	}
	d := t.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, ErrClosed
	}
	r, err := t.send(ctx, InsBegin, nil)
	if err != nil {
		return nil, err
	}
	if !r.Success() {
		return nil, fmt.Errorf("%w: session refused: %w", ErrSecureChannel, r.Err())
	}
	defer func() { _, _ = t.send(context.WithoutCancel(ctx), InsEnd, nil) }()
	return t.reader.Read(ctx)
}

func (t *TEEApp) send(ctx context.Context, ins byte, data []byte) (apdu.Response, error) {
	cla, err := apdu.WithChannel(0x80, t.dev.cfg.TEEChannel)
	if err != nil {
		return apdu.Response{}, err
	}
	ne := 0
	if ins == InsRelay {
		ne = apdu.MaxNe
	}
	return t.dev.el.Transmit(ctx, apdu.Command{CLA: cla, INS: ins, Data: data, Ne: ne})
}

// relay is the emv.Transceiver of the TEE's reader: one card APDU through
// applet 1, the SCP03 hop and applet 2.
func (t *TEEApp) relay(ctx context.Context, cmd []byte) ([]byte, error) {
	t.trace(redactCommand(HopTEE, cmd))
	r, err := t.send(ctx, InsRelay, cmd)
	if err != nil {
		return nil, err
	}
	switch r.SW {
	case apdu.SWSuccess:
	case SWControllerTimeout:
		return nil, fmt.Errorf("%w: %w", ErrController, ErrTimeout)
	case SWController:
		return nil, ErrController
	case apdu.SWSecurityStatusNotSatisfied:
		return nil, fmt.Errorf("%w: %w", ErrSecureChannel, r.Err())
	default:
		return nil, fmt.Errorf("%w: %w", ErrRelay, r.Err())
	}
	t.trace(redactResponse(HopTEE, r.Data))
	return r.Data, nil
}

// RichOS is what the rich OS handles: the controller's discovery
// notification, the request to the TEE and the TEE's masked answer, and the
// diagnostic trace. Handled returns every byte it saw.
type RichOS struct {
	dev  *Device
	mu   sync.Mutex
	seen [][]byte
}

func (r *RichOS) record(b []byte) {
	r.mu.Lock()
	r.seen = append(r.seen, append([]byte(nil), b...))
	r.mu.Unlock()
}

// Summary is the TEE's answer to the rich OS: the card masked.
type Summary struct {
	Card json.RawMessage `json:"card"`
}

// Pay is the rich OS side of a payment: it takes the controller's discovery
// notification (if the controller reports one), invokes the TEE application
// (a TEE Client API call carrying a request message) and receives the
// masked summary, recording every byte. The card data itself stays in the
// TEE. On failure the rich OS gets, and Pay returns, only the class of the
// failure, never the TEE's error text: an error wrapping ErrSecureChannel,
// ErrController (with ErrTimeout for a timeout), emv.ErrNoApplication
// (with ErrCard) or ErrCard, and ctx's error when it ended the read;
// ErrNotInitialized and ErrClosed are returned as they are.
func (r *RichOS) Pay(ctx context.Context) ([]byte, error) {
	if r == nil || r.dev == nil {
		return nil, ErrNotInitialized
	}
	if d, ok := r.dev.ctrl.(interface{ Discover() (Discovery, error) }); ok {
		if disc, err := d.Discover(); err == nil {
			r.record(disc.UID)
			r.record(append(disc.ATQA[:], disc.SAK))
		}
	}
	req := []byte(`{"op":"read_card"}`)
	r.record(req)
	card, err := r.dev.tee.ReadCard(ctx)
	if err != nil {
		class, rerr := errorClass(err)
		msg := []byte(`{"error":` + strconv.Quote(class) + `}`)
		r.record(msg)
		r.record([]byte(rerr.Error()))
		return msg, rerr
	}
	cj, err := card.MarshalJSON()
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(Summary{Card: cj})
	if err != nil {
		return nil, err
	}
	r.record(out)
	return out, nil
}

// errorClass reduces an error to its class and the error the rich OS
// receives: sentinels only, so no text of the TEE's error (which names card
// commands and status words) crosses.
func errorClass(err error) (string, error) {
	var ctxErr error
	switch {
	case errors.Is(err, context.Canceled):
		ctxErr = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		ctxErr = context.DeadlineExceeded
	}
	wrap := func(class string, errs ...error) (string, error) {
		if ctxErr != nil {
			errs = append(errs, ctxErr)
		}
		return class, errors.Join(errs...)
	}
	switch {
	case errors.Is(err, ErrNotInitialized), errors.Is(err, ErrClosed):
		return "device", err
	case errors.Is(err, ErrSecureChannel):
		return wrap("secure_channel", ErrSecureChannel)
	case errors.Is(err, ErrController) && errors.Is(err, ErrTimeout):
		return wrap("controller", ErrController, ErrTimeout)
	case errors.Is(err, ErrController):
		return wrap("controller", ErrController)
	case errors.Is(err, emv.ErrNoApplication):
		return wrap("no_application", ErrCard, emv.ErrNoApplication)
	}
	return wrap("card", ErrCard)
}

// Handled returns a copy of every byte slice the rich OS has handled.
func (r *RichOS) Handled() [][]byte {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([][]byte, len(r.seen))
	for i, b := range r.seen {
		out[i] = append([]byte(nil), b...)
	}
	return out
}
