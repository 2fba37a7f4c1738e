package emvtest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/payedge/payedge/nfc/emv"
	"github.com/payedge/payedge/nfc/tlv"
	"github.com/payedge/payedge/se/apdu"
)

// ErrNotInitialized reports a zero Card or Replay used without a table or
// log.
var ErrNotInitialized = errors.New("emvtest: not initialized")

// App is one application of a simulated card.
type App struct {
	AID      []byte
	Label    string
	Priority int // Application Priority Indicator (0: none)
	// PDOL is the Processing Options Data Object List the card asks for
	// (nil: none).
	PDOL []byte
	// GPOFormat is 1 (tag 80) or 2 (tag 77); 0 means 2.
	GPOFormat int
	AIP       [2]byte
	// AFL lists the records to read (a multiple of 4 bytes).
	AFL []byte
	// GPOExtra are encoded data objects added to a format-2 response
	// (track 2, cryptogram …).
	GPOExtra []byte
	// Records maps (SFI, record number) to the record's content: the data
	// objects inside template 70, which the card adds.
	Records map[[2]int][]byte
}

// Exchange is one command and response, as raw APDUs.
type Exchange struct {
	Command  []byte
	Response []byte
}

// Card is a simulated contactless EMV card. Configure its exported fields
// before first use; it is then safe for concurrent use.
type Card struct {
	// Apps are the card's applications, in PPSE order.
	Apps []App
	// NoPPSE makes SELECT PPSE fail with 6A82.
	NoPPSE bool
	// Chain61 answers every response with data with 61xx first; the data
	// comes with GET RESPONSE, at most Ne bytes at a time.
	Chain61 bool
	// WrongLe answers a command whose Ne differs from its data length with
	// 6Cxx (the exact length) first, as T=0 cards do.
	WrongLe bool
	// Override, if set, is asked first for every command, GET RESPONSE
	// included; returning true uses its response (fault injection: 6A82
	// on SELECT AID, a GPO response in neither format, an endless 61xx
	// chain …).
	Override func(cmd apdu.Command) (apdu.Response, bool)

	mu       sync.Mutex
	selected int // index+1 of the selected app, 0 none
	pending  []byte
	log      []Exchange
	gpoData  []byte
}

// Transceive implements emv.Transceiver.
func (c *Card) Transceive(ctx context.Context, raw []byte) ([]byte, error) {
	if c == nil {
		return nil, ErrNotInitialized
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	resp := c.process(raw)
	out, err := resp.MarshalBinary()
	if err != nil {
		out = []byte{0x6F, 0x00}
	}
	c.log = append(c.log, Exchange{Command: append([]byte(nil), raw...), Response: append([]byte(nil), out...)})
	return out, nil
}

// Log returns a copy of every exchange so far.
func (c *Card) Log() []Exchange {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Exchange(nil), c.log...)
}

// GPOData returns the data field of the last GET PROCESSING OPTIONS.
func (c *Card) GPOData() []byte {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.gpoData...)
}

// Reset forgets the selection, the log and pending data (a new tap).
func (c *Card) Reset() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.selected, c.pending, c.log, c.gpoData = 0, nil, nil, nil
}

func sw(s uint16) apdu.Response { return apdu.Response{SW: s} }

func (c *Card) process(raw []byte) apdu.Response {
	cmd, err := apdu.ParseCommand(raw)
	if err != nil {
		return sw(apdu.SWWrongLength)
	}
	if c.Override != nil { // first, GET RESPONSE included (endless 61xx chains)
		if r, ok := c.Override(cmd); ok {
			if cmd.INS != 0xC0 {
				c.pending = nil
			}
			return r
		}
	}
	if cmd.INS == 0xC0 && cmd.CLA&0x80 == 0 { // GET RESPONSE
		if len(c.pending) == 0 {
			return sw(apdu.SWConditionsNotSatisfied)
		}
		n := min(cmd.Ne, len(c.pending))
		data := c.pending[:n]
		c.pending = c.pending[n:]
		if len(c.pending) > 0 {
			return apdu.Response{Data: data, SW: 0x6100 | uint16(min(len(c.pending), 256)&0xFF)}
		}
		return apdu.Response{Data: data, SW: apdu.SWSuccess}
	}
	c.pending = nil
	var resp apdu.Response
	switch {
	case cmd.CLA == 0x00 && cmd.INS == 0xA4 && cmd.P1 == 0x04:
		resp = c.selectApp(cmd.Data)
	case cmd.CLA == 0x80 && cmd.INS == 0xA8:
		resp = c.gpo(cmd.Data)
	case cmd.CLA == 0x00 && cmd.INS == 0xB2:
		resp = c.readRecord(cmd.P1, cmd.P2)
	default:
		return sw(apdu.SWINSNotSupported)
	}
	if !resp.Success() || len(resp.Data) == 0 {
		return resp
	}
	if c.WrongLe && cmd.Ne != len(resp.Data) && len(resp.Data) <= 256 {
		return sw(0x6C00 | uint16(len(resp.Data)&0xFF))
	}
	if c.Chain61 {
		c.pending = resp.Data
		return sw(0x6100 | uint16(min(len(resp.Data), 256)&0xFF))
	}
	if len(resp.Data) > cmd.Ne {
		resp.Data = resp.Data[:cmd.Ne]
	}
	return resp
}

func (c *Card) selectApp(name []byte) apdu.Response {
	if string(name) == emv.PPSE {
		if c.NoPPSE || len(c.Apps) == 0 {
			return sw(apdu.SWFileNotFound)
		}
		var b tlv.Builder
		b.Constructed(0x6F, func(b *tlv.Builder) {
			b.Add(0x84, []byte(emv.PPSE))
			b.Constructed(0xA5, func(b *tlv.Builder) {
				b.Constructed(0xBF0C, func(b *tlv.Builder) {
					for _, a := range c.Apps {
						b.Constructed(0x61, func(b *tlv.Builder) {
							b.Add(0x4F, a.AID)
							if a.Label != "" {
								b.Add(0x50, []byte(a.Label))
							}
							if a.Priority != 0 {
								b.Add(0x87, []byte{byte(a.Priority)})
							}
						})
					}
				})
			})
		})
		fci, err := b.Bytes()
		if err != nil {
			return sw(apdu.SWUnknown)
		}
		c.selected = 0
		return apdu.Response{Data: fci, SW: apdu.SWSuccess}
	}
	for i, a := range c.Apps {
		if string(a.AID) != string(name) {
			continue
		}
		var b tlv.Builder
		b.Constructed(0x6F, func(b *tlv.Builder) {
			b.Add(0x84, a.AID)
			b.Constructed(0xA5, func(b *tlv.Builder) {
				if a.Label != "" {
					b.Add(0x50, []byte(a.Label))
				}
				if a.Priority != 0 {
					b.Add(0x87, []byte{byte(a.Priority)})
				}
				if a.PDOL != nil {
					b.Add(0x9F38, a.PDOL)
				}
			})
		})
		fci, err := b.Bytes()
		if err != nil {
			return sw(apdu.SWUnknown)
		}
		c.selected = i + 1
		return apdu.Response{Data: fci, SW: apdu.SWSuccess}
	}
	return sw(apdu.SWFileNotFound)
}

func (c *Card) gpo(data []byte) apdu.Response {
	if c.selected == 0 {
		return sw(apdu.SWConditionsNotSatisfied)
	}
	a := c.Apps[c.selected-1]
	want, err := tlv.DOLDataLen(a.PDOL)
	if err != nil {
		return sw(apdu.SWUnknown)
	}
	o, rest, err := tlv.DecodeOne(data, tlv.Strict)
	if err != nil || o.Tag != 0x83 || len(rest) != 0 || len(o.Value) != want {
		return sw(apdu.SWWrongLength)
	}
	c.gpoData = append(c.gpoData[:0], data...)
	var b tlv.Builder
	if a.GPOFormat == 1 {
		b.Add(0x80, append(a.AIP[:], a.AFL...))
	} else {
		b.Constructed(0x77, func(b *tlv.Builder) {
			b.Add(0x82, a.AIP[:])
			if len(a.AFL) > 0 {
				b.Add(0x94, a.AFL)
			}
			b.AddRaw(a.GPOExtra)
		})
	}
	out, err := b.Bytes()
	if err != nil {
		return sw(apdu.SWUnknown)
	}
	return apdu.Response{Data: out, SW: apdu.SWSuccess}
}

func (c *Card) readRecord(p1, p2 byte) apdu.Response {
	if c.selected == 0 {
		return sw(apdu.SWConditionsNotSatisfied)
	}
	if p2&7 != 4 {
		return sw(apdu.SWIncorrectP1P2)
	}
	content, ok := c.Apps[c.selected-1].Records[[2]int{int(p2 >> 3), int(p1)}]
	if !ok {
		return sw(apdu.SWRecordNotFound)
	}
	rec, err := tlv.Encode(0x70, content)
	if err != nil {
		return sw(apdu.SWUnknown)
	}
	return apdu.Response{Data: rec, SW: apdu.SWSuccess}
}

// ReplayError reports a command that differs from the recorded log, or one
// beyond its end.
type ReplayError struct {
	Index    int    // position in the log
	Got      []byte // the command sent
	Expected []byte // the logged command; nil past the end
}

// Error describes the mismatch. Commands are printed: logs are anonymised.
func (e *ReplayError) Error() string {
	if e == nil {
		return "emvtest: replay error"
	}
	if e.Expected == nil {
		return fmt.Sprintf("emvtest: command %d beyond the end of the log: %X", e.Index, e.Got)
	}
	return fmt.Sprintf("emvtest: command %d is %X, the log has %X", e.Index, e.Got, e.Expected)
}

// Replay is an emv.Transceiver that answers from a recorded log: the i-th
// command must equal the log's i-th command byte for byte, and gets the
// i-th response.
type Replay struct {
	mu  sync.Mutex
	log []Exchange
	pos int
}

// NewReplay returns a Replay of log (copied).
func NewReplay(log []Exchange) *Replay {
	return &Replay{log: append([]Exchange(nil), log...)}
}

// Transceive implements emv.Transceiver. Errors: *ReplayError, ctx.Err(),
// ErrNotInitialized for a nil Replay.
func (r *Replay) Transceive(ctx context.Context, cmd []byte) ([]byte, error) {
	if r == nil {
		return nil, ErrNotInitialized
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pos >= len(r.log) {
		return nil, &ReplayError{Index: r.pos, Got: append([]byte(nil), cmd...)}
	}
	e := r.log[r.pos]
	if string(e.Command) != string(cmd) {
		return nil, &ReplayError{Index: r.pos, Got: append([]byte(nil), cmd...), Expected: e.Command}
	}
	r.pos++
	return append([]byte(nil), e.Response...), nil
}

// Remaining returns the number of logged exchanges not yet replayed.
func (r *Replay) Remaining() int {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.log) - r.pos
}
