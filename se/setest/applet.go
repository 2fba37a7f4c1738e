package setest

import (
	"context"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
)

// Instructions of StateApplet (proprietary class 80).
const (
	InsPut   = 0x01 // data becomes this channel's value (at most MaxValue bytes)
	InsGet   = 0x02 // returns this channel's value
	InsStore = 0x03 // data is written to persistent storage (length-prefixed)
	InsLoad  = 0x04 // returns the persistent value
	// MaxValue bounds a value in bytes.
	MaxValue = 64
)

// StateApplet keeps one transient value per logical channel (cleared on
// select and deselect, like a Java Card CLEAR_ON_DESELECT array) and one
// persistent value in the applet's Storage. It makes channel isolation
// observable. Create it with NewStateApplet; its zero value answers 6985.
type StateApplet struct {
	ok      bool
	values  [apdu.MaxChannel + 1][]byte
	storage [apdu.MaxChannel + 1]se.Storage
	buf     [MaxValue + 1]byte
}

var _ se.Applet = (*StateApplet)(nil)

// NewStateApplet returns a StateApplet.
func NewStateApplet() *StateApplet { return &StateApplet{ok: true} }

// Select clears the channel's value.
func (a *StateApplet) Select(_ context.Context, s se.Selection) apdu.Response {
	if a == nil || !a.ok || s.Channel < 0 || s.Channel > apdu.MaxChannel {
		return apdu.Response{SW: apdu.SWConditionsNotSatisfied}
	}
	a.values[s.Channel] = a.values[s.Channel][:0]
	a.storage[s.Channel] = s.Storage
	return apdu.Response{SW: apdu.SWSuccess}
}

// Deselect clears the channel's value.
func (a *StateApplet) Deselect(_ context.Context, ch int) {
	if a == nil || ch < 0 || ch > apdu.MaxChannel {
		return
	}
	clear(a.values[ch])
	a.values[ch] = a.values[ch][:0]
	a.storage[ch] = nil
}

// Process answers PUT, GET, STORE and LOAD; other instructions get 6D00.
func (a *StateApplet) Process(_ context.Context, cmd apdu.Command) apdu.Response {
	if a == nil || !a.ok {
		return apdu.Response{SW: apdu.SWConditionsNotSatisfied}
	}
	ch := se.ChannelOf(cmd)
	if ch < 0 {
		return apdu.Response{SW: apdu.SWCLANotSupported}
	}
	switch cmd.INS {
	case InsPut:
		if len(cmd.Data) > MaxValue {
			return apdu.Response{SW: apdu.SWWrongLength}
		}
		a.values[ch] = append(a.values[ch][:0], cmd.Data...)
		return apdu.Response{SW: apdu.SWSuccess}
	case InsGet:
		return apdu.Response{Data: a.values[ch], SW: apdu.SWSuccess}
	case InsStore, InsLoad:
		st := a.storage[ch]
		if st == nil || st.Size() < MaxValue+1 {
			return apdu.Response{SW: apdu.SWNotEnoughMemory}
		}
		if cmd.INS == InsStore {
			if len(cmd.Data) > MaxValue {
				return apdu.Response{SW: apdu.SWWrongLength}
			}
			a.buf[0] = byte(len(cmd.Data))
			n := copy(a.buf[1:], cmd.Data)
			if _, err := st.WriteAt(a.buf[:1+n], 0); err != nil {
				return apdu.Response{SW: apdu.SWMemoryFailure}
			}
			return apdu.Response{SW: apdu.SWSuccess}
		}
		if _, err := st.ReadAt(a.buf[:], 0); err != nil {
			return apdu.Response{SW: apdu.SWMemoryFailure}
		}
		n := min(int(a.buf[0]), MaxValue)
		return apdu.Response{Data: a.buf[1 : 1+n], SW: apdu.SWSuccess}
	}
	return apdu.Response{SW: apdu.SWINSNotSupported}
}
