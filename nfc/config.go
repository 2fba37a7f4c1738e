package nfc

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/payedge/payedge/se/scp03"
)

// Errors of the device, wrapped with detail; test with errors.Is.
var (
	// ErrNotInitialized reports a zero Device, TEEApp, RichOS or applet.
	ErrNotInitialized = errors.New("nfc: not initialized (use NewDevice)")
	// ErrConfig reports an invalid Config or Options.
	ErrConfig = errors.New("nfc: invalid configuration")
	// ErrSecureChannel reports a failed or torn-down SCP03 session between
	// the applets: a MAC or padding failure, a refused handshake.
	ErrSecureChannel = errors.New("nfc: secure channel between the applets failed")
	// ErrController reports that the NFC controller failed or timed out.
	ErrController = errors.New("nfc: NFC controller failed")
	// ErrTimeout reports a controller exchange that took longer than
	// Config.ControllerTimeout; it is wrapped together with ErrController.
	ErrTimeout = errors.New("nfc: controller timeout")
	// ErrRelay reports any other refusal by the applets (a status word is
	// wrapped too).
	ErrRelay = errors.New("nfc: relay refused")
	// ErrCard reports, to the rich OS, a card read that failed for a
	// reason other than the secure channel or the controller (RichOS.Pay
	// hands the rich OS only the class of a failure, never the TEE's
	// error text).
	ErrCard = errors.New("nfc: card read failed")
	// ErrClosed reports use of a closed Device.
	ErrClosed = errors.New("nfc: device closed")
)

// DefaultControllerTimeout bounds one controller exchange when
// Config.ControllerTimeout is zero (ISO/IEC 14443-4 frame waiting times
// are at most about 5 s; contactless kernels give a card far less).
const DefaultControllerTimeout = 500 * time.Millisecond

// Config is the device's configuration: channel numbers, applet AIDs and
// the SCP03 static keys shared by the two applets.
type Config struct {
	// TEEAID and FieldAID are the AIDs of applet 1 and applet 2 (5–16
	// bytes, different).
	TEEAID, FieldAID []byte
	// TEEChannel is the logical channel of the TEE application to applet
	// 1, FieldChannel that of the NFC controller to applet 2; 1–19 and
	// different.
	TEEChannel, FieldChannel int
	// Keys are the SCP03 static keys of the inter-applet secure channel.
	Keys scp03.StaticKeys
	// ControllerTimeout bounds one exchange with the card; 0 means
	// DefaultControllerTimeout.
	ControllerTimeout time.Duration
}

// Default AIDs of the two applets (a proprietary RID F0 followed by "PAYEDGE").
var (
	defaultTEEAID   = []byte{0xF0, 'P', 'A', 'Y', 'E', 'D', 'G', 'E', 0x01}
	defaultFieldAID = []byte{0xF0, 'P', 'A', 'Y', 'E', 'D', 'G', 'E', 0x02}
)

// DefaultConfig returns the recommended configuration for keys: applets
// F0 "PAYEDGE" 01 and F0 "PAYEDGE" 02, channels 1 and 2, the default
// timeout. The zero Config is not usable because it has no keys.
func DefaultConfig(keys scp03.StaticKeys) Config {
	return Config{
		TEEAID:            bytes.Clone(defaultTEEAID),
		FieldAID:          bytes.Clone(defaultFieldAID),
		TEEChannel:        1,
		FieldChannel:      2,
		Keys:              keys,
		ControllerTimeout: DefaultControllerTimeout,
	}
}

// withDefaults fills zero AIDs, channels and timeout.
func (c Config) withDefaults() Config {
	if c.TEEAID == nil {
		c.TEEAID = bytes.Clone(defaultTEEAID)
	}
	if c.FieldAID == nil {
		c.FieldAID = bytes.Clone(defaultFieldAID)
	}
	if c.TEEChannel == 0 {
		c.TEEChannel = 1
	}
	if c.FieldChannel == 0 {
		c.FieldChannel = 2
	}
	if c.ControllerTimeout == 0 {
		c.ControllerTimeout = DefaultControllerTimeout
	}
	return c
}

// Validate reports whether the configuration is usable once zero AIDs,
// channels and timeout are replaced by their defaults. Errors wrap
// ErrConfig (and scp03.ErrKeyLength for bad keys).
func (c Config) Validate() error {
	c = c.withDefaults()
	for _, a := range [][]byte{c.TEEAID, c.FieldAID} {
		if len(a) < 5 || len(a) > 16 {
			return fmt.Errorf("%w: AID of %d bytes (want 5–16)", ErrConfig, len(a))
		}
	}
	if bytes.Equal(c.TEEAID, c.FieldAID) {
		return fmt.Errorf("%w: the applets need different AIDs", ErrConfig)
	}
	for _, ch := range []int{c.TEEChannel, c.FieldChannel} {
		if ch < 1 || ch > 19 {
			return fmt.Errorf("%w: channel %d outside 1–19", ErrConfig, ch)
		}
	}
	if c.TEEChannel == c.FieldChannel {
		return fmt.Errorf("%w: TEE and field share channel %d", ErrConfig, c.TEEChannel)
	}
	if c.ControllerTimeout < 0 {
		return fmt.Errorf("%w: negative controller timeout", ErrConfig)
	}
	if err := c.Keys.Validate(); err != nil {
		return fmt.Errorf("%w: keys: %w", ErrConfig, err)
	}
	return nil
}
