// Package se models secure elements: the SecureElement interface hosts
// program against, Memory (an in-memory reference element with applets and
// logical channels), an issuer security domain (ISD) that runs the card
// side of GlobalPlatform SCP03, and virtual secure elements carved out of
// one physical element by a hypervisor.
//
// # Standards and models
//
//   - ISO/IEC 7816-4:2020: SELECT by DF name (§11.2.2, first and next
//     occurrence of a partial AID), MANAGE CHANNEL (§11.1.2), logical
//     channels 0–19 in the class byte (§5.4.1), status words (§5.6).
//   - ISO/IEC 7816-5: AIDs of 5 to 16 bytes.
//   - GlobalPlatform Card Specification v2.3: GET DATA for CPLC (tag 9F7F)
//     and the key information template (00E0), PUT KEY (§11.8) with keys
//     encrypted under the DEK (se/scp03.PutKey) and P1 coded as §11.8.2.1
//     says (bit 8 "more commands follow", bits 7–1 the key version
//     replaced, 01–7F); Amendment D for SCP03.
//   - GlobalPlatform TEE Secure Element API and Android OMAPI for the host
//     view: reader → session (SecureElement) → channel (Channel), with the
//     SELECT response on the channel.
//   - Xen grant tables for sharing memory between virtual SEs; Knuth's
//     binary buddy system (TAOCP vol. 1 §2.5) for one allocation policy.
//
// # Status words
//
// Memory (and every VSE) answers bad input with a status word, never an
// error; the Go API turns the ones a host meets into errors (ErrX, wrapped
// together with the *apdu.StatusError):
//
//	6E00  class byte without a channel coding (FF, 20–3F)
//	6884  SELECT or MANAGE CHANNEL with the chaining bit (CLA b5)
//	6881  channel beyond MaxChannels or not open        ErrChannelClosed
//	6A81  MANAGE CHANNEL open: no free channel           ErrNoFreeChannel
//	6A86  MANAGE CHANNEL: bad P1, P2 > 19, close of channel 0; SELECT: bad P2
//	6985  MANAGE CHANNEL open of a channel already open; a command on a
//	      channel with no applet selected
//	6700  SELECT with an AID of 1–4 or over 16 bytes      ErrAIDLength
//	      MANAGE CHANNEL with data, or open without Le
//	6A82  SELECT: no applet matches                       ErrAppletNotFound
//
// # Applets
//
// An Applet is selected, processes commands and is deselected, one call at
// a time. Its Selection carries its persistent Storage and Element, a
// Transmitter for APDUs to the other applets of the same element (open a
// channel, SELECT the peer, exchange), usable only inside the applet's own
// calls. Two applets can thus run an SCP03 session between them: one
// holds an scp03.HostSession and sends through Element, the other (an ISD
// or any applet with an scp03.CardSession) answers.
//
// # Virtual secure elements
//
// A VirtualManager (the secure element manager) turns a VirtualConfig into
// a VSERequest and asks a Hypervisor for an address space. The reference
// Hypervisor, VMM, owns one physical pool and allocates it with a
// pluggable Policy (NewStaticPolicy, NewFirstFitPolicy, NewBuddyPolicy).
// Every allocation is checked (zero or misaligned size, wrap-around,
// overlap, quota, VSE count), every access goes through Validate, memory
// is zeroed on free, and grants (Granter) are the only way to share. Each
// VSE is a SecureElement whose applets' storage lives in its own ranges.
//
// A VSE's quota (VSERequest.MemoryBytes) is charged by the bytes the
// policy really reserves, not the bytes asked for: a whole partition per
// range under the static policy, a power-of-two block of pages under
// buddy, the size itself under first-fit. No VSE can thus hold more of the
// pool than its quota and starve the others, whatever the policy; a quota
// smaller than one static partition admits no range at all. VMM.Usage
// reports both figures; Validate still admits only the bytes asked for,
// never a policy's rounding.
// Typed errors of the VMM are *MemoryError values wrapping ErrSize,
// ErrAlignment, ErrOverflow, ErrQuota, ErrDoubleFree, ErrAccess,
// ErrDestroyed, ErrGrantRevoked and the rest.
//
// # Quick start
//
//	card, _ := se.NewMemory(se.MemoryConfig{})
//	isd, _ := se.NewISD(se.ISDConfig{Keys: []scp03.StaticKeys{keys}, Rand: rand.Reader})
//	_ = card.Install(se.DefaultISDAID(), isd, se.InstallOptions{Default: true})
//	_ = card.Install(walletAID, myApplet, se.InstallOptions{StorageBytes: 512})
//
//	ch, err := card.OpenLogicalChannel(ctx, walletAID) // MANAGE CHANNEL + SELECT
//	resp, err := ch.Transmit(ctx, apdu.Command{CLA: 0x80, INS: 0x10, Ne: 256})
//
//	// SCP03 to the ISD over the basic channel:
//	host, err := scp03.Open(ctx, se.TransmitFunc(card), keys, scp03.LevelAll, scp03.Options{}, rand.Reader)
//
// The conformance suite se/setest.TestSecureElement checks any
// SecureElement implementation; examples/secureelement runs three wallets
// on three virtual SEs.
package se
