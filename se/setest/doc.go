// Package setest is the conformance suite for se.SecureElement
// implementations, in the shape of testing/fstest.TestFS: one call,
// TestSecureElement, checks channel management, selection, bad-input
// status words and errors, channel isolation, concurrency and Close.
//
// It also ships StateApplet, a small applet with per-channel and
// persistent state that makes channel isolation observable; install it in
// the element under test and name its AID in Config.StateAID.
//
//	func TestMyElement(t *testing.T) {
//		setest.TestSecureElement(t, func(t *testing.T) se.SecureElement {
//			e := newMyElement(t)          // with a StateApplet installed
//			return e
//		}, setest.Config{AID: aid, StateAID: aid})
//	}
package setest
