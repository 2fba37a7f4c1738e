package scp03

import (
	"fmt"
	"strings"
)

// SecurityLevel is the P1 of EXTERNAL AUTHENTICATE (Amendment D §7.1.2.3,
// Table 7-6): which protections apply to the commands and responses of the
// session.
type SecurityLevel byte

// Security level bits.
const (
	LevelCMAC SecurityLevel = 0x01 // C-MAC on every command
	LevelCDEC SecurityLevel = 0x02 // command data encrypted (C-DECRYPTION)
	LevelRMAC SecurityLevel = 0x10 // R-MAC on every response
	LevelRENC SecurityLevel = 0x20 // response data encrypted (R-ENCRYPTION)

	// LevelNone authenticates the host but protects no further command.
	LevelNone SecurityLevel = 0x00
	// LevelAll is C-MAC, C-DECRYPTION, R-MAC and R-ENCRYPTION (0x33).
	LevelAll = LevelCMAC | LevelCDEC | LevelRMAC | LevelRENC
)

// Validate reports whether l is one of the levels Amendment D defines: 00,
// 01, 03, 11, 13, 33. Other values are an error wrapping ErrSecurityLevel.
func (l SecurityLevel) Validate() error {
	switch l {
	case 0x00, 0x01, 0x03, 0x11, 0x13, 0x33:
		return nil
	}
	return fmt.Errorf("%w: %02X", ErrSecurityLevel, byte(l))
}

// Has reports whether every bit of f is set in l.
func (l SecurityLevel) Has(f SecurityLevel) bool { return l&f == f }

// String lists the protections, for example "C-MAC|C-DEC|R-MAC|R-ENC".
func (l SecurityLevel) String() string {
	if l == 0 {
		return "none"
	}
	var parts []string
	for _, f := range []struct {
		bit  SecurityLevel
		name string
	}{{LevelCMAC, "C-MAC"}, {LevelCDEC, "C-DEC"}, {LevelRMAC, "R-MAC"}, {LevelRENC, "R-ENC"}} {
		if l&f.bit != 0 {
			parts = append(parts, f.name)
		}
	}
	if rest := l &^ LevelAll; rest != 0 {
		parts = append(parts, fmt.Sprintf("%02X", byte(rest)))
	}
	return strings.Join(parts, "|")
}

// Bits of the SCP03 "i" parameter returned in the key information of
// INITIALIZE UPDATE (Amendment D §5.1, Table 5-1).
const (
	ParamS16          byte = 0x01 // S16 mode: 16-byte challenges, cryptograms and MACs
	ParamPseudoRandom byte = 0x10 // pseudo-random card challenge; sequence counter returned
	ParamRMAC         byte = 0x20 // R-MAC supported
	ParamRENC         byte = 0x40 // R-ENCRYPTION supported
)

// Options configures a host session. The zero value is usable: logical
// channel 0, standard counter rules.
type Options struct {
	// Channel is the logical channel (0–19) of the secure channel; it sets
	// the class byte of EXTERNAL AUTHENTICATE.
	Channel int
	// CountOnlyDataCommands is an opt-in quirk for cards built on the
	// original Amendment D text, which increment the encryption counter
	// only for commands that carry data. The published rule (and the
	// default) increments it for every command after EXTERNAL AUTHENTICATE.
	CountOnlyDataCommands bool
	// S16 makes Open send a 16-byte host challenge, as cards in S16 mode
	// expect. NewHostSession takes the mode from the card's response.
	S16 bool
}
