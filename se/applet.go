package se

import (
	"context"
	"fmt"

	"github.com/payedge/payedge/se/apdu"
)

// AID length limits of ISO/IEC 7816-5 (RID of 5 bytes and a PIX of up to
// 11).
const (
	MinAIDLen = 5
	MaxAIDLen = 16
)

// Instruction codes the element itself handles (ISO/IEC 7816-4 §11).
const (
	insSelect        = 0xA4
	insManageChannel = 0x70
)

// Applet is an application installed in a secure element, in the shape of
// a Java Card applet: the element calls Select when SELECT picks it on a
// channel, Process for every other command on that channel, and Deselect
// when another SELECT, MANAGE CHANNEL close or Close ends the selection.
//
// The element calls an applet's methods one at a time (never
// concurrently), so an applet needs no locking of its own as long as it is
// installed in one element. One applet may be selected on several channels
// at once; it must keep any per-selection state by channel (ChannelOf) so
// that one channel cannot see another's state. Process must not retain or
// modify cmd.Data; the element copies the returned Data, so an applet may
// reuse its response buffer.
type Applet interface {
	// Select is called when the applet is selected on s.Channel. A
	// response with 9000 (or a warning) accepts the selection; its Data is
	// the FCI (the element builds a minimal FCI template when Data is
	// empty). Any other status word refuses it and is returned to the host.
	Select(ctx context.Context, s Selection) apdu.Response
	// Process handles one command on a channel where the applet is
	// selected; the channel is coded in cmd.CLA (ChannelOf).
	Process(ctx context.Context, cmd apdu.Command) apdu.Response
	// Deselect ends the selection on channel.
	Deselect(ctx context.Context, channel int)
}

// Selection describes one selection of an applet.
type Selection struct {
	// Channel is the logical channel, 0–19.
	Channel int
	// AID is the applet's full installed AID (not the partial AID of the
	// SELECT). It must not be modified.
	AID []byte
	// Command is the SELECT command, or a zero Command for an implicit
	// selection (default applet on a new channel).
	Command apdu.Command
	// Storage is the applet's persistent storage: the same for every
	// selection, kept across selections and channels.
	Storage Storage
	// Element reaches the other applets of the same element (never
	// another virtual SE's) for inter-applet APDUs: open a channel with
	// MANAGE CHANNEL, SELECT the peer, exchange, close. It may be used
	// only while the element is calling this applet (inside Select,
	// Process or Deselect, on that call's goroutine). Used when the
	// element is running no call, or beyond MaxNesting nested calls, it
	// returns ErrNesting; used from another goroutine while the element
	// runs a call it is a data race the element cannot detect, so never
	// hand it to another goroutine. Calling the element's own Transmit
	// from inside an applet would deadlock.
	Element Transmitter
}

// Storage is an applet's persistent memory, a fixed-size byte array in the
// shape of io.ReaderAt and io.WriterAt. In a Memory element it is a Go
// slice; in a virtual SE it is a range of the VSE's own address space,
// reached through the hypervisor's Validate. Accesses outside [0, Size()),
// and any access after the applet was uninstalled (its memory may belong
// to another applet by then), are errors wrapping ErrStorage. Not safe for concurrent use on its own:
// the element serialises the applet calls that use it.
type Storage interface {
	ReadAt(p []byte, off int64) (int, error)
	WriteAt(p []byte, off int64) (int, error)
	Size() int64
}

// ChannelOf returns the logical channel coded in cmd.CLA, or -1 if the
// class byte codes none (FF, 20–3F). An element only passes commands with a
// valid channel to its applets.
func ChannelOf(cmd apdu.Command) int {
	ch, err := apdu.Channel(cmd.CLA)
	if err != nil {
		return -1
	}
	return ch
}

// ProcessFunc adapts a function to an Applet without selection state:
// Select accepts every selection and Deselect does nothing.
type ProcessFunc func(ctx context.Context, cmd apdu.Command) apdu.Response

// Select accepts the selection with 9000.
func (f ProcessFunc) Select(context.Context, Selection) apdu.Response {
	return apdu.Response{SW: apdu.SWSuccess}
}

// Process calls f; a nil f answers 6D00.
func (f ProcessFunc) Process(ctx context.Context, cmd apdu.Command) apdu.Response {
	if f == nil {
		return apdu.Response{SW: apdu.SWINSNotSupported}
	}
	return f(ctx, cmd)
}

// Deselect does nothing.
func (f ProcessFunc) Deselect(context.Context, int) {}

// sliceStorage is the Storage of a Memory element.
type sliceStorage struct{ b []byte }

func (s *sliceStorage) Size() int64 { return int64(len(s.b)) }

func (s *sliceStorage) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(s.b)) || int64(len(p)) > int64(len(s.b))-off {
		return 0, fmt.Errorf("%w: read [%d, +%d) of %d bytes", ErrStorage, off, len(p), len(s.b))
	}
	return copy(p, s.b[off:]), nil
}

func (s *sliceStorage) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(s.b)) || int64(len(p)) > int64(len(s.b))-off {
		return 0, fmt.Errorf("%w: write [%d, +%d) of %d bytes", ErrStorage, off, len(p), len(s.b))
	}
	return copy(s.b[off:], p), nil
}

// FCI returns a minimal File Control Information template for aid
// (ISO/IEC 7816-4 §7.4.1: tag 6F containing the DF name, tag 84).
func FCI(aid []byte) []byte {
	b := make([]byte, 0, 4+len(aid))
	b = append(b, 0x6F, byte(2+len(aid)), 0x84, byte(len(aid)))
	return append(b, aid...)
}
