// Package biometric is pay-by-face or pay-by-palm for a payment switch: a
// terminal's biometric sample is identified among all enrolled people (1:N),
// identification releases a payment token (never a PAN), and the payment is
// authorised with ISO 8583 semantics — timeouts, reversals and idempotent
// retries included.
//
// # Overview
//
//   - Template and Index: L2-normalised float32 embeddings in an exact flat
//     index stored contiguously, scored with gonum's vectorised float32 dot
//     kernel, sharded across cores for large galleries, with SearchBatch (a
//     blocked matrix product) and an optional int8 mode (4× less memory).
//   - Calibrate and Evaluate: thresholds and error rates the way NIST FRTE
//     1:N reports them (FNIR at FPIR, NIST IR 8271), for a given gallery
//     size, because false positives grow with the gallery.
//   - IdentityServer and its reference Server: threshold, ambiguity margin
//     (ErrAmbiguous), a LivenessChecker hook, and enrolment records sealed at
//     rest with XChaCha20-Poly1305 (RFC 8439, golang.org/x/crypto) under a
//     host key with the record ID as associated data, behind an
//     EnrolmentStore interface (MemoryStore; biometrictest checks any store).
//   - Authorizer: 0100/0110 authorisation and 0400/0410 reversal semantics
//     (ISO 8583:1987 response codes, STAN, RRN, transmission time) without a
//     codec; Issuer is an in-memory issuer simulator with faults. The nested
//     module biometric/iso8583 puts an Authorizer on the wire.
//   - Processor.Pay: identify → authorise → Result, with per-step timeouts,
//     a reversal on every authorisation timeout (capped exponential backoff,
//     bounded, unacknowledged reversals kept for the host), late approvals
//     recorded and never captured (one after the reversal's
//     acknowledgement is reversed again), idempotency by transaction ID,
//     and a PAN-free trail.
//   - Assessor: the identification outcome as a risk.Signal (Source
//     "biometric", reasons biometric.*) calibrated at the neutral 0.5
//     reference, so a host can fuse it with the other evidence.
//
// # Quick start
//
//	sealer, _ := biometric.NewSealer(key, nil)          // 32-byte host key
//	ids, _ := biometric.NewServer(biometric.ServerConfig{}, biometric.NewMemoryStore(), sealer)
//	_ = ids.Enrol(ctx, biometric.Record{ID: "alice", Token: tok, CardRef: "VISA •••• 4242", Template: emb})
//	issuer, _ := biometric.NewIssuer(biometric.IssuerConfig{})
//	p, _ := biometric.NewProcessor(biometric.ProcessorConfig{}, ids, issuer)
//	res, err := p.Pay(ctx, biometric.Sample{Modality: biometric.ModalityFace, Embedding: capture},
//		biometric.Transaction{ID: "tx-1", Amount: risk.Amount{Minor: 450, Currency: "EUR"}, TerminalID: "T0001"})
//	// err == nil: res.Status is StatusApproved or StatusDeclined.
//
// See Example for a runnable version.
package biometric
