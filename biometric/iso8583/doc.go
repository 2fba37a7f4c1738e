// Package iso8583 puts biometric.Authorizer on the wire: ISO 8583:1987
// authorisations (0100/0110), reversals (0400/0410) and echo tests
// (0800/0810) over one long-lived TCP connection with a 2-byte binary
// length header, using github.com/moov-io/iso8583 (the codec) and
// github.com/moov-io/iso8583-connection (framing, concurrent requests
// matched to responses by STAN). It lives in its own module so that hosts
// importing only the payedge core never pull these dependencies.
//
// # Field mapping
//
// A biometric.AuthRequest becomes a 0100 with field 2 (the token, or the
// PAN from the host's TokenVault), 3 (processing code 000000, purchase),
// 4 (amount in minor units), 7 (transmission date and time, UTC
// MMDDhhmmss), 11 (STAN), 22 (POS entry mode, DefaultPOSEntryMode for
// biometric), 32 (acquirer ID), 37 (RRN), 41 (terminal ID), 42 (merchant
// ID) and 49 (ISO 4217 numeric currency). The 0110's fields 39 (response
// code), 38 (approval code), 11, 37 and 7 become the biometric.AuthResult.
// A biometric.Reversal becomes a 0400 with the original's fields, its own
// STAN and time, reason code 68 in field 39 and the original data elements
// in field 90; a 0410 with 00 or 21 acknowledges it.
//
// The default dialect is DefaultSpec, moov's Spec87 with field 3 as a
// string; bring your network's with Config.Spec.
//
// # Failure handling
//
// A request with no response before its context ends fails with
// biometric.ErrAuthTimeout; a dropped connection, a malformed or
// incomplete response, or a 0110 echoing another terminal's ID in field 41
// fails with biometric.ErrIssuerUnavailable — either way
// biometric.Processor reverses. Responses are matched by STAN alone
// (iso8583-connection's rule), so a request whose STAN is already in
// flight is refused before it is sent (ErrSTANInUse, wrapping
// biometric.ErrTransaction): terminals that share an Authorizer need
// disjoint STAN ranges. Errors never quote a token or card number: a
// vault's or the codec's text is scrubbed. A response that arrives after its
// request gave up goes to Config.OnLateResponse (wire it to
// Processor.LateResponse). Malformed messages, unknown MTIs and responses
// that match nothing are reported to Config.OnError and the connection is
// kept; a length header over MaxMessageLen closes it (the stream cannot be
// resynchronised), and the next request dials again.
//
// # Quick start
//
//	auth, _ := iso8583.New(iso8583.Config{Addr: "issuer.example:8583", Vault: vault,
//		OnLateResponse: func(r biometric.AuthResult) bool { return proc.LateResponse(r) }})
//	defer auth.Close()
//	proc, _ = biometric.NewProcessor(biometric.ProcessorConfig{}, ids, auth)
//	res, err := proc.Pay(ctx, sample, tx)
//
// Package iso8583test serves an in-memory biometric.Issuer over the same
// wire format for tests.
package iso8583
