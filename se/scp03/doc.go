// Package scp03 implements the GlobalPlatform Secure Channel Protocol 03
// (SCP03), host side and card side, with the AES-CMAC and the key
// derivation function it is built on.
//
// # Standards
//
//   - GlobalPlatform Card Specification v2.3, Amendment D: Secure Channel
//     Protocol '03', v1.2 (and v1.1.1 for the counter quirk): handshake
//     (§6.2, §7.1), key derivation (§4.1.5), C-MAC and R-MAC (§6.2.4,
//     §6.2.5), command and response encryption (§6.2.6, §6.2.7).
//   - NIST SP 800-38B and RFC 4493: the CMAC mode for AES (type CMAC).
//   - NIST SP 800-108: KDF in counter mode, with AES-CMAC as PRF and the
//     fixed-input layout of Amendment D (DeriveKey).
//   - ISO/IEC 7816-4 for the APDUs (package se/apdu) and ISO/IEC 9797-1
//     padding method 2 for encrypted data.
//
// # The protocol in brief
//
// The host sends INITIALIZE UPDATE with a host challenge; the card answers
// with its card challenge and a card cryptogram. Both sides derive S-ENC,
// S-MAC and S-RMAC from the static keys and both challenges; the host checks
// the card cryptogram and proves itself with EXTERNAL AUTHENTICATE (host
// cryptogram and C-MAC). Then, at the chosen SecurityLevel, every command
// carries a C-MAC chained to the previous one (the chaining value is the
// full 16-byte CMAC), optionally with its data encrypted (C-DECRYPTION, ICV
// derived from a counter that advances for every command); every response
// carries an R-MAC over the chaining value, data and status word, optionally
// with its data encrypted (R-ENCRYPTION, ICV from the counter with its most
// significant byte set to 80). Error status words come back bare. S8 mode
// uses 8-byte challenges, cryptograms and MACs; S16 mode 16-byte ones.
//
// # Guarantees
//
// MACs and cryptograms are compared in constant time. Any MAC, padding or
// authentication failure terminates the session (ErrSessionClosed
// afterwards); replayed and reordered commands therefore fail. Close zeroes
// the session keys, MAC chaining value and counter (the AES key schedules
// inside crypto/aes cannot be wiped and are dropped instead). Static keys
// stay behind KeyProvider, so they can live in an HSM or TEE. StaticKeys,
// CMAC and the sessions implement fmt.Formatter: no formatting verb prints
// key material. Sessions are safe for concurrent use; commands and
// responses must still alternate.
//
// Unwrap on either side decrypts in place: the returned data aliases the
// input. Wrap returns freshly allocated data (one allocation per call);
// AppendWrap appends the encoded APDU to a caller's buffer and allocates
// nothing. On the card, UnwrapRaw takes the command as received and MACs
// its Lc field as encoded, so hosts that send the extended form where the
// short one fits interoperate; Unwrap, given a parsed apdu.Command, assumes
// the canonical (short-when-it-fits) encoding.
//
// Interoperability is checked byte for byte against published SCP03
// transcripts, host side and card side: those of osmocom pySim (a real
// card; AES-128/192/256 at levels 11, 03 and 33, S8, pseudo-random card
// challenge) and those of Samsung OpenSCP-Java (AES-128/192/256 at level
// 33 in S8 and S16 mode).
//
// # Quick start (host)
//
//	keys := scp03.StaticKeys{KVN: 0x30, ENC: enc, MAC: mac, DEK: dek}
//	host, err := scp03.Open(ctx, reader.Transmit, keys, scp03.LevelAll, scp03.Options{}, rand.Reader)
//	if err != nil { … }                     // ErrCardCryptogram: wrong keys or not the card
//	defer host.Close()
//	w, err := host.Wrap(apdu.Command{CLA: 0x80, INS: 0xCA, P1: 0x00, P2: 0x66, Ne: 256})
//	r, err := apdu.Transmit(ctx, reader.Transmit, w)
//	plain, err := host.Unwrap(r)            // ErrMAC: tampered; the session is now dead
//	// or, serialised against other goroutines, in one call:
//	plain, err = host.Transmit(ctx, reader.Transmit, cmd)
//
// On the card side, NewCardSession answers InitializeUpdate and
// ExternalAuthenticate, then UnwrapRaw (or Unwrap) each command and
// AppendWrap (or Wrap) each response; StatusFor maps an error to the status
// word to return. examples/securechannel runs both ends in one process.
package scp03
