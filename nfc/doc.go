// Package nfc is a device in which a payment application inside a Trusted
// Execution Environment reads a contactless EMV card through the NFC
// controller without the rich OS ever seeing card data.
//
// # The device
//
//	TEE app ──ch 1──▶ applet 1 (TEEApplet) ═══ SCP03 ═══ applet 2 (FieldApplet) ──ch 2── NFC controller ~~ card
//	   ▲                         └──────── one secure element (se.Memory) ────────┘
//	   └── rich OS: discovery events, the TEE's masked result, the diagnostic trace (RichOS)
//
// Both applets live in one secure element (package se). Applet 1 answers
// only on the TEE's logical channel (Config.TEEChannel); applet 2 is bound
// to the controller's channel (Config.FieldChannel) and is the only code
// that reaches the Controller. For every card read, applet 1 opens its own
// channel to applet 2 through se.Selection.Element and runs the host side of
// GlobalPlatform SCP03 (Amendment D) at level 33 — C-MAC, C-DECRYPTION,
// R-MAC, R-ENCRYPTION — against applet 2's card side, with the static keys
// of Config.Keys. Every card APDU relayed between the applets is therefore
// encrypted and MACed. A MAC or padding failure on either side tears the
// secure channel down (both sessions are closed and their keys zeroed, the
// inter-applet channel is closed) and the read fails with
// ErrSecureChannel; the next read opens a fresh session.
//
// The EMV kernel (package nfc/emv) runs in the TEE application (TEEApp):
// only the TEE and the SE see card data in clear. The model assumes, as
// GlobalPlatform's TEE Secure Element API does, that the TEE reaches the SE
// over an interface assigned to the secure world (for example an SPI
// controller that TrustZone makes secure-only), and that the controller
// reaches the SE over its own single-wire link; neither passes through the
// rich OS. What the rich OS handles —
// the controller's discovery notification, the request it sends to the TEE
// and the masked summary it gets back, and the per-hop trace, in which the
// plaintext hops are reduced to APDU headers and status words while the
// relayed hop is the SCP03 ciphertext — is recorded by RichOS so that a test
// can prove no PAN, expiry or track-2 byte crosses it, in clear or hex.
//
// Quick start:
//
//	dev, err := nfc.NewDevice(nfc.DefaultConfig(keys), nfc.NewSimController(emvtest.Visa()),
//		nfc.Options{Rand: rand.Reader, EMV: emv.Config{Terminal: term}})
//	defer dev.Close()
//	card, err := dev.TEE().ReadCard(ctx)   // inside the TEE
//	summary, err := dev.RichOS().Pay(ctx)  // what the rich OS gets: masked JSON
package nfc
