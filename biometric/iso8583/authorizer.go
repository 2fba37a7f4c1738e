package iso8583

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	moov "github.com/moov-io/iso8583"
	connection "github.com/moov-io/iso8583-connection"
	moovErrors "github.com/moov-io/iso8583/errors"

	"github.com/payedge/payedge/biometric"
)

// TokenVault resolves a payment token to the card number sent in field 2.
// It must be safe for concurrent use; errors fail the request before it is
// sent.
type TokenVault interface {
	Detokenize(ctx context.Context, token string) (pan string, err error)
}

// TokenVaultFunc adapts a function to TokenVault.
type TokenVaultFunc func(ctx context.Context, token string) (string, error)

// Detokenize calls f(ctx, token).
func (f TokenVaultFunc) Detokenize(ctx context.Context, token string) (string, error) {
	return f(ctx, token)
}

// DefaultPOSEntryMode is field 22 for a biometric payment: PAN entry mode
// "90" and "2", no PIN entry capability. ISO 8583:1987 defines no biometric
// entry mode (codes 90–99 are reserved for private use); set your network's.
const DefaultPOSEntryMode = "902"

// Defaults of Config.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultSendTimeout    = 30 * time.Second
)

// Config configures an Authorizer. Addr is required; every other zero field
// takes its default.
type Config struct {
	// Addr is the issuer's or switch's host:port.
	Addr string
	// Spec is the network's ISO 8583 dialect; nil means DefaultSpec()
	// (moov's Spec87, ISO 8583:1987 ASCII). A custom spec must define the
	// fields listed in the package doc with compatible types.
	Spec *moov.MessageSpec
	// Vault turns tokens into field 2; nil sends the token itself (a
	// network token in PAN format).
	Vault TokenVault
	// AcquirerID is field 32 (at most 11 digits); "" means "0".
	AcquirerID string
	// POSEntryMode is field 22; "" means DefaultPOSEntryMode.
	POSEntryMode string
	// ConnectTimeout bounds each dial; 0 means DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// SendTimeout bounds a request whose context has no deadline; 0 means
	// DefaultSendTimeout.
	SendTimeout time.Duration
	// MaxMessageLen bounds an incoming frame; 0 means DefaultMaxMessageLen.
	MaxMessageLen int
	// Now stamps field 7; nil means time.Now.
	Now func() time.Time
	// OnLateResponse receives every 0110 that arrives after its request
	// gave up (wire it to biometric.Processor.LateResponse). It returns
	// whether the response matched a payment; unmatched ones are reported
	// to OnError as ErrUnmatched. Called on its own goroutine.
	OnLateResponse func(biometric.AuthResult) bool
	// OnError receives errors that belong to no call: malformed or
	// unexpected messages from the peer, unmatched responses, dropped
	// connections. It must not block. Never carries a PAN.
	OnError func(error)
	// Options are passed to every iso8583-connection Connection after the
	// adapter's own (for TLS, idle echo and so on).
	Options []connection.Option
}

// Validate reports whether c is usable; errors wrap ErrConfig.
func (c Config) Validate() error {
	switch {
	case c.Addr == "":
		return fmt.Errorf("%w: Addr required", ErrConfig)
	case len(c.AcquirerID) > 11 || c.AcquirerID != "" && !isDigits(c.AcquirerID):
		return fmt.Errorf("%w: AcquirerID %q (at most 11 digits)", ErrConfig, c.AcquirerID)
	case c.POSEntryMode != "" && (len(c.POSEntryMode) != 3 || !isDigits(c.POSEntryMode)):
		return fmt.Errorf("%w: POSEntryMode %q (3 digits)", ErrConfig, c.POSEntryMode)
	case c.ConnectTimeout < 0 || c.SendTimeout < 0 || c.MaxMessageLen < 0 || c.MaxMessageLen > 0xffff:
		return fmt.Errorf("%w: negative timeout or MaxMessageLen out of range", ErrConfig)
	}
	return nil
}

// Authorizer is a biometric.Authorizer that speaks ISO 8583 over one
// long-lived TCP connection (moov-io/iso8583-connection), matching
// responses to requests by STAN (field 11). Many requests may be in flight
// at once. If the connection drops, requests in flight fail with
// biometric.ErrIssuerUnavailable (so the processor reverses them) and the
// next request dials again.
//
// An Authorizer is safe for concurrent use. The zero Authorizer returns
// ErrNotInitialized.
type Authorizer struct {
	cfg  Config
	spec *moov.MessageSpec

	mu     sync.Mutex
	conn   *connection.Connection
	dials  int
	closed bool
	// inflight holds the STANs of requests iso8583-connection is still
	// matching a response to (until its Send returns, which may be after
	// the caller gave up).
	inflight map[string]bool
}

var _ biometric.Authorizer = (*Authorizer)(nil)

// New returns an Authorizer for cfg; it dials on first use (or Connect).
// Errors wrap ErrConfig.
func New(cfg Config) (*Authorizer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Spec == nil {
		cfg.Spec = DefaultSpec()
	}
	if cfg.AcquirerID == "" {
		cfg.AcquirerID = "0"
	}
	if cfg.POSEntryMode == "" {
		cfg.POSEntryMode = DefaultPOSEntryMode
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.SendTimeout == 0 {
		cfg.SendTimeout = DefaultSendTimeout
	}
	if cfg.MaxMessageLen == 0 {
		cfg.MaxMessageLen = DefaultMaxMessageLen
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Authorizer{cfg: cfg, spec: cfg.Spec}, nil
}

func (a *Authorizer) report(err error) {
	if f := a.cfg.OnError; f != nil && err != nil {
		f(err)
	}
}

// Connect dials now if there is no live connection.
func (a *Authorizer) Connect(ctx context.Context) error {
	_, err := a.connection(ctx)
	return err
}

// Dials returns how many connections the Authorizer has opened.
func (a *Authorizer) Dials() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.dials
}

// connection returns the live connection, dialling a new one if the last
// one closed.
func (a *Authorizer) connection(ctx context.Context) (*connection.Connection, error) {
	if a.spec == nil {
		return nil, ErrNotInitialized
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, ErrClosed
	}
	if a.conn != nil {
		select {
		case <-a.conn.Done():
			a.conn = nil
		default:
			return a.conn, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	timeout := a.cfg.ConnectTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(d))
	}
	opts := append([]connection.Option{
		connection.ConnectTimeout(max(timeout, time.Millisecond)),
		connection.SendTimeout(a.cfg.SendTimeout),
		connection.ReadTimeout(24 * time.Hour),
		connection.InboundMessageHandler(a.inbound),
		connection.ErrorHandler(a.report),
	}, a.cfg.Options...)
	c, err := connection.New(a.cfg.Addr, a.spec, LengthReader(a.cfg.MaxMessageLen), WriteLength, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", biometric.ErrIssuerUnavailable, err)
	}
	if err := c.ConnectCtx(ctx); err != nil {
		return nil, fmt.Errorf("%w: %w", biometric.ErrIssuerUnavailable, err)
	}
	a.conn = c
	a.dials++
	return c, nil
}

// inbound handles messages that match no waiting request: late responses,
// the issuer's echo requests, and anything unexpected.
func (a *Authorizer) inbound(c *connection.Connection, m *moov.Message) {
	mti, _ := m.GetMTI()
	switch mti {
	case MTIAuthResponse:
		res, err := DecodeAuthResponse(m, a.cfg.Now())
		if err != nil {
			a.report(fmt.Errorf("late 0110: %w", err))
			return
		}
		if f := a.cfg.OnLateResponse; f == nil || !f(res) {
			a.report(fmt.Errorf("%w: 0110 STAN %06d", ErrUnmatched, res.STAN))
		}
	case MTINetworkRequest:
		r := moov.NewMessage(a.spec)
		r.MTI(MTINetworkResponse)
		err := set(r, map[int]string{FieldTransmission: get(m, FieldTransmission), FieldSTAN: get(m, FieldSTAN),
			FieldResponseCode: biometric.RespApproved, FieldNetworkMgmtCode: get(m, FieldNetworkMgmtCode)})
		if err == nil {
			err = c.Reply(r)
		}
		a.report(err)
	case MTIReversalResponse, MTINetworkResponse:
		a.report(fmt.Errorf("%w: %s STAN %s", ErrUnmatched, mti, get(m, FieldSTAN)))
	default:
		a.report(&MTIError{MTI: mti})
	}
}

// send sends m and waits for its response within ctx (and SendTimeout).
// A response that arrives after ctx gave up is handed to inbound.
func (a *Authorizer) send(ctx context.Context, m *moov.Message) (*moov.Message, error) {
	c, err := a.connection(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", biometric.ErrAuthTimeout, ctx.Err())
		}
		return nil, err
	}
	timeout := a.cfg.SendTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(d))
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("%w: %w", biometric.ErrAuthTimeout, context.DeadlineExceeded)
	}
	// iso8583-connection matches a response to its request by field 11
	// alone: two requests with one STAN in flight would swap answers
	// (another terminal's decline handed to a payment the issuer
	// approved). Refuse the second before it is sent.
	stan := get(m, FieldSTAN)
	a.mu.Lock()
	if a.inflight[stan] {
		a.mu.Unlock()
		return nil, fmt.Errorf("%w: %w: %s", biometric.ErrTransaction, ErrSTANInUse, stan)
	}
	if a.inflight == nil {
		a.inflight = map[string]bool{}
	}
	a.inflight[stan] = true
	a.mu.Unlock()
	type out struct {
		m   *moov.Message
		err error
	}
	// Each response goes to exactly one place: this caller, or — once the
	// caller has given up — the late-response path.
	var (
		mu        sync.Mutex
		abandoned bool
		delivered bool
	)
	ch := make(chan out, 1)
	go func() {
		r, err := c.Send(m, connection.SendTimeout(timeout))
		a.mu.Lock()
		delete(a.inflight, stan) // no longer matched by iso8583-connection
		a.mu.Unlock()
		mu.Lock()
		if abandoned {
			mu.Unlock()
			if err == nil {
				a.inbound(c, r) // the caller left before the response came: it is late
			}
			return
		}
		delivered = true
		mu.Unlock()
		ch <- out{r, err}
	}()
	var o out
	select {
	case o = <-ch:
	case <-ctx.Done():
		mu.Lock()
		if !delivered {
			abandoned = true
			mu.Unlock()
			return nil, fmt.Errorf("%w: %w", biometric.ErrAuthTimeout, ctx.Err())
		}
		mu.Unlock()
		o = <-ch // it arrived just as ctx ended: use it
	}
	switch {
	case o.err == nil:
		return o.m, nil
	case errors.Is(o.err, connection.ErrSendTimeout):
		return nil, fmt.Errorf("%w: %w", biometric.ErrAuthTimeout, o.err)
	case errors.As(o.err, new(*moovErrors.PackError)):
		// Never written to the wire: nothing to reverse.
		return nil, fmt.Errorf("%w: %w: %w", biometric.ErrTransaction, ErrField, redact(o.err))
	default:
		return nil, fmt.Errorf("%w: %w", biometric.ErrIssuerUnavailable, o.err)
	}
}

func (a *Authorizer) pan(ctx context.Context, token string) (string, error) {
	if a.cfg.Vault == nil {
		return token, nil
	}
	pan, err := a.cfg.Vault.Detokenize(ctx, token)
	if err != nil {
		// The vault's text may name the token or the card: scrub it.
		return "", fmt.Errorf("%w: token %s: %w", biometric.ErrTransaction, biometric.MaskToken(token), redact(err, token))
	}
	return pan, nil
}

// authFields returns the request fields shared by 0100 and 0400.
func (a *Authorizer) authFields(ctx context.Context, req biometric.AuthRequest) (map[int]string, error) {
	pan, err := a.pan(ctx, req.Token)
	if err != nil {
		return nil, err
	}
	if len(pan) < 1 || len(pan) > 19 {
		return nil, fmt.Errorf("%w: field 2 length %d not in [1, 19]", biometric.ErrTransaction, len(pan))
	}
	cur, err := CurrencyNumeric(req.Amount.Currency)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", biometric.ErrTransaction, err)
	}
	return map[int]string{
		FieldPAN:            pan,
		FieldProcessingCode: "000000",
		FieldAmount:         fmt.Sprintf("%012d", req.Amount.Minor),
		FieldSTAN:           fmt.Sprintf("%06d", req.STAN),
		FieldPOSEntryMode:   a.cfg.POSEntryMode,
		FieldAcquirerID:     a.cfg.AcquirerID,
		FieldRRN:            padRight(req.RRN, 12),
		FieldTerminalID:     padRight(req.TerminalID, 8),
		FieldMerchantID:     padRight(req.MerchantID, 15),
		FieldCurrency:       cur,
	}, nil
}

// AuthMessage builds the 0100 for req (field 7 from req.TransmittedAt, or
// Now when zero). Errors wrap biometric.ErrTransaction or ErrField.
func (a *Authorizer) AuthMessage(ctx context.Context, req biometric.AuthRequest) (*moov.Message, error) {
	if a.spec == nil {
		return nil, ErrNotInitialized
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	f, err := a.authFields(ctx, req)
	if err != nil {
		return nil, err
	}
	at := req.TransmittedAt
	if at.IsZero() {
		at = a.cfg.Now()
	}
	f[FieldTransmission] = transmission(at)
	m := moov.NewMessage(a.spec)
	m.MTI(MTIAuthRequest)
	if err := set(m, f); err != nil {
		return nil, fmt.Errorf("%w: %w", biometric.ErrTransaction, redact(err, req.Token, f[FieldPAN]))
	}
	return m, nil
}

// Authorize implements biometric.Authorizer: it sends a 0100 and waits for
// the 0110 with the same STAN until ctx is done. A 0110 without field 39,
// with a mismatched STAN or echoing another terminal ID in field 41 is no
// usable answer (ErrIssuerUnavailable wrapping ErrMissingField or
// ErrField), so the processor reverses. A request whose STAN is already in
// flight on the connection is refused unsent (ErrSTANInUse, wrapping
// biometric.ErrTransaction): give each terminal sharing an Authorizer its
// own STAN range (ProcessorConfig.FirstSTAN).
func (a *Authorizer) Authorize(ctx context.Context, req biometric.AuthRequest) (biometric.AuthResult, error) {
	m, err := a.AuthMessage(ctx, req)
	if err != nil {
		return biometric.AuthResult{}, err
	}
	r, err := a.send(ctx, m)
	if err != nil {
		return biometric.AuthResult{}, err
	}
	res, err := DecodeAuthResponse(r, a.cfg.Now())
	if err != nil {
		return biometric.AuthResult{}, fmt.Errorf("%w: %w", biometric.ErrIssuerUnavailable, err)
	}
	if res.STAN != req.STAN {
		return biometric.AuthResult{}, fmt.Errorf("%w: %w: 0110 STAN %06d for %06d", biometric.ErrIssuerUnavailable, ErrField, res.STAN, req.STAN)
	}
	// Field 41 is echoed in the 0110: another terminal's response with the
	// same STAN (a late one whose request gave up) is not our answer.
	if t := strings.TrimSpace(get(r, FieldTerminalID)); t != "" && t != strings.TrimSpace(req.TerminalID) {
		return biometric.AuthResult{}, fmt.Errorf("%w: %w: 0110 for terminal %q, request from %q", biometric.ErrIssuerUnavailable, ErrField, t, req.TerminalID)
	}
	return res, nil
}

// ReversalMessage builds the 0400 for rev: the original's fields, the
// reversal's own STAN and time, the reason in field 39 and the original
// data elements in field 90 (original MTI, STAN, field 7, acquirer ID).
func (a *Authorizer) ReversalMessage(ctx context.Context, rev biometric.Reversal) (*moov.Message, error) {
	if a.spec == nil {
		return nil, ErrNotInitialized
	}
	o := rev.Original
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if rev.STAN < 1 || rev.STAN > biometric.MaxSTAN {
		return nil, fmt.Errorf("%w: reversal STAN %d", biometric.ErrTransaction, rev.STAN)
	}
	f, err := a.authFields(ctx, o)
	if err != nil {
		return nil, err
	}
	at := rev.TransmittedAt
	if at.IsZero() {
		at = a.cfg.Now()
	}
	oat := o.TransmittedAt
	if oat.IsZero() {
		oat = at
	}
	reason := rev.Reason
	if reason == "" {
		reason = biometric.RespLateResponse
	}
	f[FieldSTAN] = fmt.Sprintf("%06d", rev.STAN)
	f[FieldTransmission] = transmission(at)
	f[FieldResponseCode] = padRight(reason, 2)
	f[FieldOriginalData] = fmt.Sprintf("%s%06d%s%011s%011d", MTIAuthRequest, o.STAN, transmission(oat), a.cfg.AcquirerID, 0)
	m := moov.NewMessage(a.spec)
	m.MTI(MTIReversalRequest)
	if err := set(m, f); err != nil {
		return nil, fmt.Errorf("%w: %w", biometric.ErrTransaction, redact(err, o.Token, f[FieldPAN]))
	}
	return m, nil
}

// Reverse implements biometric.Authorizer: it sends a 0400 and waits for
// the 0410. Response codes 00 and 21 ("no action taken": the issuer never
// saw the original) acknowledge; anything else is an error wrapping
// biometric.ErrIssuerUnavailable, so the processor retries.
func (a *Authorizer) Reverse(ctx context.Context, rev biometric.Reversal) error {
	m, err := a.ReversalMessage(ctx, rev)
	if err != nil {
		return err
	}
	r, err := a.send(ctx, m)
	if err != nil {
		return err
	}
	mti, _ := r.GetMTI()
	if mti != MTIReversalResponse {
		return fmt.Errorf("%w: %w", biometric.ErrIssuerUnavailable, &MTIError{MTI: mti, Want: MTIReversalResponse})
	}
	switch code := get(r, FieldResponseCode); code {
	case biometric.RespApproved, "21":
		return nil
	case "":
		return fmt.Errorf("%w: %w", biometric.ErrIssuerUnavailable, &MissingFieldError{MTI: mti, Field: FieldResponseCode})
	default:
		return fmt.Errorf("%w: 0410 response code %s", biometric.ErrIssuerUnavailable, code)
	}
}

// Echo sends a network management echo test (0800, field 70 = 301) with
// the given STAN and waits for the 0810.
func (a *Authorizer) Echo(ctx context.Context, stan uint32) error {
	if a.spec == nil {
		return ErrNotInitialized
	}
	if stan < 1 || stan > biometric.MaxSTAN {
		return fmt.Errorf("%w: STAN %d", ErrField, stan)
	}
	m := moov.NewMessage(a.spec)
	m.MTI(MTINetworkRequest)
	if err := set(m, map[int]string{FieldTransmission: transmission(a.cfg.Now()), FieldSTAN: fmt.Sprintf("%06d", stan), FieldNetworkMgmtCode: echoCode}); err != nil {
		return err
	}
	r, err := a.send(ctx, m)
	if err != nil {
		return err
	}
	if mti, _ := r.GetMTI(); mti != MTINetworkResponse {
		return &MTIError{MTI: mti, Want: MTINetworkResponse}
	}
	if code := strings.TrimSpace(get(r, FieldResponseCode)); code != biometric.RespApproved {
		return fmt.Errorf("%w: 0810 response code %q", biometric.ErrIssuerUnavailable, code)
	}
	return nil
}

// Close closes the connection (after requests in flight finish) and makes
// later calls return ErrClosed.
func (a *Authorizer) Close() error {
	if a.spec == nil {
		return ErrNotInitialized
	}
	a.mu.Lock()
	c := a.conn
	a.conn, a.closed = nil, true
	a.mu.Unlock()
	if c != nil {
		return c.Close()
	}
	return nil
}
