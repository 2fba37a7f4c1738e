package emv

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/payedge/payedge/nfc/tlv"
	"github.com/payedge/payedge/se/apdu"
)

// Transceiver carries one command APDU to the card and returns the card's
// response APDU (data and SW1 SW2). It is an NFC controller, a PC/SC reader,
// a relay or a simulated card. Transceive must honour ctx (return its error
// once it is done); the command slice is valid only during the call and the
// returned slice may be reused by the transceiver after the next call.
// A Reader calls Transceive from one goroutine at a time.
type Transceiver interface {
	Transceive(ctx context.Context, cmd []byte) ([]byte, error)
}

// TransceiverFunc adapts a function to a Transceiver.
type TransceiverFunc func(ctx context.Context, cmd []byte) ([]byte, error)

// Transceive calls f. A nil f is an error wrapping ErrTransceive.
func (f TransceiverFunc) Transceive(ctx context.Context, cmd []byte) ([]byte, error) {
	if f == nil {
		return nil, fmt.Errorf("%w: nil TransceiverFunc", ErrTransceive)
	}
	return f(ctx, cmd)
}

// PPSE is the DF name of the Proximity Payment System Environment.
const PPSE = "2PAY.SYS.DDF01"

// Limits of the reader.
const (
	// DefaultMaxRecords bounds the records one read fetches when
	// Config.MaxRecords is zero.
	DefaultMaxRecords = 64
	// MaxPDOLData is the most PDOL data GET PROCESSING OPTIONS can carry
	// in a short APDU (255 bytes minus the 83 tag and a two-byte length).
	MaxPDOLData = 252
)

// Terminal is the terminal data a card may ask for in its PDOL. Amounts are
// in minor units of Currency; codes are ISO 4217 and ISO 3166-1 numeric.
type Terminal struct {
	Amount          uint64  // 9F02, n12
	OtherAmount     uint64  // 9F03, n12 (cashback)
	Currency        uint16  // 5F2A, n4: 978 for EUR
	Country         uint16  // 9F1A, n4: 276 for Germany
	TransactionType byte    // 9C: 00 purchase
	TVR             [5]byte // 95
	TTQ             [4]byte // 9F66, Terminal Transaction Qualifiers
	TerminalType    byte    // 9F35: 22 attended merchant, offline with online capability
	// Extra supplies values for any other tag; a value is fitted to the
	// requested length by its format as TagFormat reports it (EMV 4.4
	// Book 3 §5.4: numeric right-aligned, compressed numeric F-padded,
	// anything else zero-padded or cut on the right).
	Extra map[tlv.Tag][]byte
}

// Config configures a Reader. The zero value is usable: it reads with zero
// terminal data, the wall clock and crypto/rand.
type Config struct {
	// Terminal is the PDOL source.
	Terminal Terminal
	// Now supplies the transaction date and time (9A, 9F21); nil means
	// time.Now.
	Now func() time.Time
	// Rand supplies the Unpredictable Number (9F37); nil means
	// crypto/rand.Reader.
	Rand io.Reader
	// Select chooses one of the PPSE's applications, returning its
	// index; nil means the highest priority (lowest Priority value, 0
	// last; ties in card order). An error aborts the read.
	Select func(apps []Application) (int, error)
	// AIDs are tried in order, by full SELECT, when the card has no PPSE
	// (6A82).
	AIDs [][]byte
	// MaxRecords bounds the records read; 0 means DefaultMaxRecords.
	MaxRecords int
	// MaxResponse bounds one response's data in bytes (after 61xx
	// chaining); 0 means 4096.
	MaxResponse int
}

// Validate reports whether the configuration is usable.
func (c Config) Validate() error {
	if c.MaxRecords < 0 || c.MaxResponse < 0 {
		return fmt.Errorf("%w: negative limit", ErrConfig)
	}
	for _, aid := range c.AIDs {
		if len(aid) < 5 || len(aid) > 16 {
			return fmt.Errorf("%w: AID of %d bytes (want 5–16)", ErrConfig, len(aid))
		}
	}
	for t := range c.Terminal.Extra {
		if !t.Valid() {
			return fmt.Errorf("%w: Terminal.Extra tag %s", ErrConfig, t)
		}
	}
	return nil
}

// Reader reads contactless cards through a Transceiver. It holds no state
// between reads; concurrent Reads must not share one card.
type Reader struct {
	t   Transceiver
	cfg Config
}

// NewReader returns a Reader over t. Errors: ErrConfig from cfg.Validate or
// for a nil t.
func NewReader(t Transceiver, cfg Config) (*Reader, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: nil Transceiver", ErrConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Reader{t: t, cfg: cfg}, nil
}

// Read runs one card read: SELECT PPSE, application selection, SELECT AID,
// GET PROCESSING OPTIONS with the PDOL data, and READ RECORD along the AFL.
// Errors: ErrNotInitialized, *CardError (ErrSelect, ErrGPO, ErrRecord with
// the status word), ErrNoApplication, ErrGPO for a response in neither
// format, ErrAFL, ErrRecord, ErrMalformed, and ErrTransceive wrapping the
// transport's error (ctx.Err() included).
func (r *Reader) Read(ctx context.Context) (*Card, error) {
	if r == nil || r.t == nil {
		return nil, ErrNotInitialized
	}
	maxResp := r.cfg.MaxResponse
	if maxResp == 0 {
		maxResp = 4096
	}
	tx := apdu.Transmitter{Tx: r.t.Transceive, MaxResponse: maxResp}
	send := func(op string, cmd apdu.Command) (apdu.Response, error) {
		resp, err := tx.Transmit(ctx, cmd)
		if err != nil {
			return resp, fmt.Errorf("%w: %s: %w", ErrTransceive, op, err)
		}
		return resp, nil
	}

	// Entry Point: PPSE and the candidate list.
	var app Application
	resp, err := send("SELECT PPSE", selectCmd([]byte(PPSE)))
	if err != nil {
		return nil, err
	}
	var fci []byte
	switch {
	case resp.Success():
		apps, err := ParsePPSE(resp.Data)
		if err != nil {
			return nil, err
		}
		i, err := r.choose(apps)
		if err != nil {
			return nil, err
		}
		app = apps[i]
		resp, err = send("SELECT AID", selectCmd(app.AID))
		if err != nil {
			return nil, err
		}
		if !resp.Success() {
			return nil, &CardError{Op: "SELECT AID", SW: resp.SW, Kind: ErrSelect}
		}
		fci = resp.Data
	case resp.SW == apdu.SWFileNotFound && len(r.cfg.AIDs) > 0:
		for _, aid := range r.cfg.AIDs {
			resp, err = send("SELECT AID", selectCmd(aid))
			if err != nil {
				return nil, err
			}
			if resp.Success() {
				app = Application{AID: aid}
				fci = resp.Data
				break
			}
		}
		if fci == nil {
			return nil, fmt.Errorf("%w: no configured AID selected", ErrNoApplication)
		}
	default:
		return nil, &CardError{Op: "SELECT PPSE", SW: resp.SW, Kind: ErrSelect}
	}

	card := &Card{PANSequence: -1, Priority: app.Priority, FCI: fci, s: newSecrets()}
	sel, err := ParseFCI(fci)
	if err != nil {
		return nil, err
	}
	card.AID = sel.AID
	if card.AID == nil {
		card.AID = append([]byte(nil), app.AID...)
	}
	card.Label, card.PreferredName = sel.Label, sel.PreferredName
	if card.Label == "" {
		card.Label = app.Label
	}

	// GET PROCESSING OPTIONS.
	pdolData, err := r.PDOLData(sel.PDOL)
	if err != nil {
		return nil, err
	}
	gpoData := make([]byte, 0, len(pdolData)+3)
	gpoData, _ = tlv.AppendTLV(gpoData, 0x83, pdolData)
	resp, err = send("GET PROCESSING OPTIONS", apdu.Command{CLA: 0x80, INS: 0xA8, Data: gpoData, Ne: 256})
	if err != nil {
		return nil, err
	}
	if !resp.Success() {
		return nil, &CardError{Op: "GET PROCESSING OPTIONS", SW: resp.SW, Kind: ErrGPO}
	}
	gpo, err := ParseGPO(resp.Data)
	if err != nil {
		return nil, err
	}
	card.s().gpo, card.AIP, card.AFL = resp.Data, gpo.AIP, gpo.AFL
	if gpo.Format == 2 {
		if err := card.collect(gpo.Template); err != nil {
			return nil, err
		}
	}

	// READ RECORD along the AFL.
	entries, err := ParseAFL(gpo.AFL)
	if err != nil {
		return nil, err
	}
	maxRec := r.cfg.MaxRecords
	if maxRec == 0 {
		maxRec = DefaultMaxRecords
	}
	for _, e := range entries {
		for n := e.First; n <= e.Last; n++ {
			if len(card.s().recs) >= maxRec {
				return nil, fmt.Errorf("%w: more than %d records", ErrRecord, maxRec)
			}
			resp, err = send("READ RECORD", apdu.Command{INS: 0xB2, P1: byte(n), P2: byte(e.SFI<<3 | 4), Ne: 256})
			if err != nil {
				return nil, err
			}
			if !resp.Success() {
				return nil, &CardError{Op: fmt.Sprintf("READ RECORD SFI %d #%d", e.SFI, n), SW: resp.SW, Kind: ErrRecord}
			}
			content, err := ParseRecord(resp.Data)
			if err != nil {
				return nil, fmt.Errorf("SFI %d #%d: %w", e.SFI, n, err)
			}
			card.s().recs = append(card.s().recs, Record{SFI: e.SFI, Number: n, Data: resp.Data})
			if err := card.collect(content); err != nil {
				return nil, err
			}
		}
	}
	if card.s().pan == "" && card.s().track2 == nil {
		return nil, fmt.Errorf("%w: no PAN (5A) or track 2 (57) on the card", ErrMalformed)
	}
	return card, nil
}

func (r *Reader) choose(apps []Application) (int, error) {
	if r.cfg.Select != nil {
		i, err := r.cfg.Select(apps)
		if err != nil {
			return 0, fmt.Errorf("%w: selector: %w", ErrNoApplication, err)
		}
		if i < 0 || i >= len(apps) {
			return 0, fmt.Errorf("%w: selector chose %d of %d", ErrNoApplication, i, len(apps))
		}
		return i, nil
	}
	return ChooseByPriority(apps)
}

// ChooseByPriority returns the index of the application with the highest
// priority (Priority 1 highest, 0 — none — after 15), the first in card
// order among equals. No application is an error wrapping ErrNoApplication.
func ChooseByPriority(apps []Application) (int, error) {
	if len(apps) == 0 {
		return 0, ErrNoApplication
	}
	best, bestP := 0, 99
	for i, a := range apps {
		p := a.Priority
		if p == 0 {
			p = 16
		}
		if p < bestP {
			best, bestP = i, p
		}
	}
	return best, nil
}

func selectCmd(name []byte) apdu.Command {
	return apdu.Command{INS: 0xA4, P1: 0x04, Data: name, Ne: 256}
}

// PDOLData returns the data for a PDOL from the configured terminal data,
// clock and unpredictable-number source. Errors wrap tlv.ErrDOL or the
// source's error, or ErrMalformed when the data exceeds MaxPDOLData.
func (r *Reader) PDOLData(pdol []byte) ([]byte, error) {
	if r == nil {
		return nil, ErrNotInitialized
	}
	now := time.Now
	if r.cfg.Now != nil {
		now = r.cfg.Now
	}
	rnd := r.cfg.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	n, err := tlv.DOLDataLen(pdol)
	if err != nil {
		return nil, fmt.Errorf("%w: PDOL: %w", ErrMalformed, err)
	}
	if n > MaxPDOLData {
		return nil, fmt.Errorf("%w: PDOL asks for %d bytes", ErrMalformed, n)
	}
	t := r.cfg.Terminal
	var rerr error
	ts := now()
	data, err := tlv.FillDOLFormats(make([]byte, 0, n), pdol, func(tag tlv.Tag, n int) ([]byte, tlv.Format) {
		switch tag {
		case 0x9F02:
			return bcd(t.Amount, n), tlv.FormatN
		case 0x9F03:
			return bcd(t.OtherAmount, n), tlv.FormatN
		case 0x5F2A:
			return bcd(uint64(t.Currency), n), tlv.FormatN
		case 0x9F1A:
			return bcd(uint64(t.Country), n), tlv.FormatN
		case 0x9C:
			return []byte{t.TransactionType}, tlv.FormatN
		case 0x95:
			return t.TVR[:], tlv.FormatB
		case 0x9F66:
			return t.TTQ[:], tlv.FormatB
		case 0x9F35:
			return []byte{t.TerminalType}, tlv.FormatN
		case 0x9A:
			return bcd(uint64((ts.Year()%100)*10000+int(ts.Month())*100+ts.Day()), n), tlv.FormatN
		case 0x9F21:
			return bcd(uint64(ts.Hour()*10000+ts.Minute()*100+ts.Second()), n), tlv.FormatN
		case 0x9F37:
			un := make([]byte, n)
			if _, err := io.ReadFull(rnd, un); err != nil {
				rerr = err
			}
			return un, tlv.FormatB
		}
		return t.Extra[tag], TagFormat(tag)
	})
	if err != nil {
		return nil, fmt.Errorf("%w: PDOL: %w", ErrMalformed, err)
	}
	if rerr != nil {
		return nil, fmt.Errorf("emv: unpredictable number: %w", rerr)
	}
	return data, nil
}

// TagFormat returns the EMV data format of the terminal and card data
// objects a PDOL or CDOL may ask for whose format is numeric (n) or
// compressed numeric (cn), per the data element dictionary of EMV 4.4
// Book 3 Annex A1, and tlv.FormatB (binary, an, ans) for every other tag.
// Reader.PDOLData fits Terminal.Extra values by it.
func TagFormat(t tlv.Tag) tlv.Format {
	switch t {
	case 0x5F2A, 0x5F36, 0x9A, 0x9C, 0x9F01, 0x9F02, 0x9F03, 0x9F11, 0x9F15,
		0x9F1A, 0x9F21, 0x9F35, 0x9F39, 0x9F3C, 0x9F3D, 0x9F41, 0x9F42, 0x9F44, 0x5F25, 0x5F24, 0x5F34:
		return tlv.FormatN
	case 0x5A, 0x9F20:
		return tlv.FormatCN
	}
	return tlv.FormatB
}

// bcd encodes v as n bytes of packed BCD, right-aligned (format n).
func bcd(v uint64, n int) []byte {
	b := make([]byte, n)
	for i := n - 1; i >= 0 && v > 0; i-- {
		lo := v % 10
		v /= 10
		hi := v % 10
		v /= 10
		b[i] = byte(hi<<4 | lo)
	}
	return b
}

// collect takes the card data elements from a sequence of data objects
// (a record's content or a format-2 GPO template), first occurrence wins.
func (c *Card) collect(b []byte) error {
	if c.s == nil {
		c.s = newSecrets()
	}
	s := c.s()
	d := tlv.Decoder{Mode: tlv.Lenient, MaxDepth: 4}
	err := d.Walk(b, func(_ int, o tlv.TLV) error {
		switch o.Tag {
		case 0x5A:
			if s.pan == "" {
				pan, err := decodePAN(o.Value)
				if err != nil {
					return err
				}
				s.pan = pan
			}
		case 0x5F24:
			if s.expiry.Day == 0 { // 5F24 (YYMMDD) beats a track-2 YYMM
				e, err := decodeDate(o.Value)
				if err != nil {
					return err
				}
				s.expiry = e
			}
		case 0x57, 0x9F6B:
			if s.track2 == nil {
				if _, _, err := parseTrack2(o.Value); err != nil {
					return err
				}
				s.track2 = append([]byte(nil), o.Value...)
			}
		case 0x5F20:
			if s.name == "" {
				s.name = trimName(o.Value)
			}
		case 0x5F34:
			if c.PANSequence < 0 && len(o.Value) == 1 {
				c.PANSequence = int(o.Value[0]>>4)*10 + int(o.Value[0]&0x0F)
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrMalformed) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if s.track2 != nil && (s.pan == "" || s.expiry.IsZero()) {
		pan, exp, _ := parseTrack2(s.track2)
		if s.pan == "" {
			s.pan = pan
		}
		if s.expiry.IsZero() {
			s.expiry = exp
		}
	}
	return nil
}

func trimName(b []byte) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c >= 0x20 && c < 0x7F {
			out = append(out, c)
		}
	}
	s := string(out)
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '/') {
		s = s[:len(s)-1]
	}
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	if s == "/" {
		return ""
	}
	return s
}

// decodePAN decodes a cn PAN: BCD digits padded with trailing F nibbles.
func decodePAN(b []byte) (string, error) {
	digits := make([]byte, 0, 2*len(b))
	done := false
	for _, c := range b {
		for _, nib := range [2]byte{c >> 4, c & 0x0F} {
			switch {
			case nib == 0x0F:
				done = true
			case done || nib > 9:
				return "", fmt.Errorf("%w: PAN is not BCD", ErrMalformed)
			default:
				digits = append(digits, '0'+nib)
			}
		}
	}
	if len(digits) < 8 || len(digits) > 19 {
		return "", fmt.Errorf("%w: PAN of %d digits", ErrMalformed, len(digits))
	}
	return string(digits), nil
}

func bcdByte(c byte) (int, bool) {
	if c>>4 > 9 || c&0x0F > 9 {
		return 0, false
	}
	return int(c>>4)*10 + int(c&0x0F), true
}

func year(yy int) int {
	if yy >= 50 { // EMV 4.4 Book 4 §6.7.3: 50–99 are 1950–1999
		return 1900 + yy
	}
	return 2000 + yy
}

// decodeDate decodes YYMMDD (n6).
func decodeDate(b []byte) (Expiry, error) {
	if len(b) != 3 {
		return Expiry{}, fmt.Errorf("%w: date of %d bytes", ErrMalformed, len(b))
	}
	yy, ok1 := bcdByte(b[0])
	mm, ok2 := bcdByte(b[1])
	dd, ok3 := bcdByte(b[2])
	if !ok1 || !ok2 || !ok3 || mm < 1 || mm > 12 || dd < 1 || dd > 31 {
		return Expiry{}, fmt.Errorf("%w: date is not a valid YYMMDD", ErrMalformed) // never the digits: they are the card's
	}
	return Expiry{Year: year(yy), Month: time.Month(mm), Day: dd}, nil
}

// parseTrack2 splits Track 2 Equivalent Data: PAN, separator D, YYMM,
// service code, discretionary data, F padding.
func parseTrack2(b []byte) (string, Expiry, error) {
	const hexd = "0123456789ABCDEF"
	s := make([]byte, 0, 2*len(b))
	for _, c := range b {
		s = append(s, hexd[c>>4], hexd[c&0x0F])
	}
	sep := -1
	for i, c := range s {
		if c == 'D' {
			sep = i
			break
		}
		if c > '9' {
			return "", Expiry{}, fmt.Errorf("%w: track 2 PAN is not BCD", ErrMalformed)
		}
	}
	if sep < 8 || sep > 19 || len(s) < sep+5 {
		return "", Expiry{}, fmt.Errorf("%w: track 2 without separator or expiry", ErrMalformed)
	}
	e := s[sep+1 : sep+5]
	for _, c := range e {
		if c > '9' {
			return "", Expiry{}, fmt.Errorf("%w: track 2 expiry is not BCD", ErrMalformed)
		}
	}
	yy := int(e[0]-'0')*10 + int(e[1]-'0')
	mm := int(e[2]-'0')*10 + int(e[3]-'0')
	if mm < 1 || mm > 12 {
		return "", Expiry{}, fmt.Errorf("%w: track 2 expiry month out of range", ErrMalformed) // never the digits
	}
	return string(s[:sep]), Expiry{Year: year(yy), Month: time.Month(mm)}, nil
}
