package nfc

import (
	"context"
	"fmt"
	"sync"

	"github.com/payedge/payedge/nfc/emv"
)

// Controller is the NFC controller in reader mode: Transceive sends one
// command APDU to the card in the field (ISO/IEC 14443-4) and returns its
// response. It must return once ctx is done. Only applet 2 calls it.
type Controller interface {
	Transceive(ctx context.Context, cmd []byte) ([]byte, error)
}

// Discovery is what the controller reports when a card enters the field
// (NCI RF_INTF_ACTIVATED_NTF): the rich OS's NFC stack sees it.
type Discovery struct {
	UID  []byte // ISO/IEC 14443-3 UID (random for payment cards)
	ATQA [2]byte
	SAK  byte
}

// SimController is a simulated NFC controller with one card in its field.
// Hang makes every exchange block until its context is done, modelling a
// card that left the field or a stuck controller.
type SimController struct {
	mu   sync.Mutex
	card emv.Transceiver
	hang bool
	uid  []byte
}

// NewSimController returns a controller with card in its field.
func NewSimController(card emv.Transceiver) *SimController {
	return &SimController{card: card, uid: []byte{0x08, 0x5A, 0x3C, 0x91}}
}

// SetHang switches the hanging behaviour on or off.
func (s *SimController) SetHang(on bool) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.hang = on
	s.mu.Unlock()
}

// Discover reports the card in the field (UID with the random-ID prefix 08).
func (s *SimController) Discover() (Discovery, error) {
	if s == nil || s.card == nil {
		return Discovery{}, ErrNotInitialized
	}
	return Discovery{UID: append([]byte(nil), s.uid...), ATQA: [2]byte{0x04, 0x00}, SAK: 0x20}, nil
}

// Transceive implements Controller.
func (s *SimController) Transceive(ctx context.Context, cmd []byte) ([]byte, error) {
	if s == nil || s.card == nil {
		return nil, ErrNotInitialized
	}
	s.mu.Lock()
	hang := s.hang
	s.mu.Unlock()
	if hang {
		<-ctx.Done()
		return nil, fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
	}
	return s.card.Transceive(ctx, cmd)
}
