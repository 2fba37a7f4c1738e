package se

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/scp03"
)

// DefaultISDAID is the AID of the GlobalPlatform issuer security domain.
var defaultISDAID = []byte{0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00}

// DefaultISDAID returns the GlobalPlatform ISD AID A000000151000000.
func DefaultISDAID() []byte { return slices.Clone(defaultISDAID) }

// Instruction codes and GET DATA tags the ISD answers.
const (
	insGetData = 0xCA
	tagCPLC    = 0x9F7F // GET DATA P1P2: Card Production Life Cycle data
	tagKeyInfo = 0x00E0 // GET DATA P1P2: key information template
	maxKeySets = 16
)

// ISDConfig configures an issuer security domain.
type ISDConfig struct {
	// Keys are the SCP03 key sets, at least one; the first answers an
	// INITIALIZE UPDATE with key version 00. Key versions must differ and
	// lie in 01–7F (the seven bits PUT KEY's P1 has to name a set to
	// replace), and each set needs a DEK for PUT KEY.
	Keys []scp03.StaticKeys
	// Rand supplies card challenges (required).
	Rand io.Reader
	// S16 runs the secure channel in S16 mode.
	S16 bool
	// Supported is the highest security level accepted; 0 means
	// scp03.LevelAll.
	Supported scp03.SecurityLevel
	// KeyDiversificationData is returned in INITIALIZE UPDATE.
	KeyDiversificationData [10]byte
	// CPLC is returned by GET DATA 9F7F.
	CPLC CPLC
}

// Validate reports whether the configuration is usable. Errors wrap
// ErrConfig or scp03.ErrKeyLength.
func (c ISDConfig) Validate() error {
	if len(c.Keys) == 0 || len(c.Keys) > maxKeySets {
		return fmt.Errorf("%w: ISD needs 1–%d key sets, got %d", ErrConfig, maxKeySets, len(c.Keys))
	}
	seen := map[byte]bool{}
	for _, k := range c.Keys {
		if err := k.Validate(); err != nil {
			return err
		}
		if len(k.DEK) == 0 {
			return fmt.Errorf("%w: key set %02X has no DEK", ErrConfig, k.KVN)
		}
		if k.KVN == 0 || k.KVN > scp03.PutKeyKVNMask || seen[k.KVN] {
			return fmt.Errorf("%w: key version %02X outside 01–7F or repeated", ErrConfig, k.KVN)
		}
		seen[k.KVN] = true
	}
	if c.Rand == nil {
		return fmt.Errorf("%w: ISDConfig.Rand is required", ErrConfig)
	}
	if c.Supported != 0 {
		if err := c.Supported.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// ISD is an issuer security domain applet: the card side of SCP03 (one
// secure channel per logical channel), PUT KEY with DEK-encrypted keys and
// GET DATA for CPLC data (9F7F) and the key information template (00E0).
// Install it in an element with InstallOptions{Default: true} under
// DefaultISDAID.
//
// Commands: INITIALIZE UPDATE and EXTERNAL AUTHENTICATE open a channel;
// commands with the secure-messaging class bit are unwrapped and their
// responses wrapped; GET DATA works with or without a secure channel; PUT
// KEY requires a secure channel with C-MAC (6982 otherwise), reads P1 as
// GlobalPlatform Card Specification v2.3 §11.8.2.1 codes it — bit 8 "more
// PUT KEY commands follow", bits 7–1 the key version to replace (01–7F,
// or 0 to add a set); each command here carries a whole key set, so one
// with bit 8 set takes effect at once like the last — and answers
// as GlobalPlatform Card Specification v2.3 §11.8.3 lists: 6A88 for an
// unknown key version to replace, 9485 for a key check value that does
// not verify (keys encrypted under another DEK than the session's), 9484
// for a key type other than AES, 6A80 for malformed key data, a new key
// version outside 01–7F or one already held, 6A84 when no key slot is free or the storage is
// full. The key sets live in the ISD's persistent storage (see Select; a
// working copy is kept in Go memory); PUT KEY writes the new record
// before it takes effect and zeroes the replaced keys.
type ISD struct {
	// mu guards everything below against KeyVersions from the host's
	// goroutines; the element already calls Select, Process and Deselect
	// one at a time.
	mu       sync.Mutex
	ok       bool
	cfg      ISDConfig
	keys     []scp03.StaticKeys
	st       Storage // persistent storage holding the key sets, once bound
	sessions [apdu.MaxChannel + 1]*scp03.CardSession
	dek      [apdu.MaxChannel + 1][]byte // DEK of the key set each channel's session opened with
	buf      []byte
}

var _ Applet = (*ISD)(nil)

// NewISD returns an issuer security domain. The key sets are copied.
// Errors: those of cfg.Validate.
func NewISD(cfg ISDConfig) (*ISD, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &ISD{ok: true, cfg: cfg}
	for _, k := range cfg.Keys {
		d.keys = append(d.keys, scp03.StaticKeys{KVN: k.KVN, ENC: slices.Clone(k.ENC), MAC: slices.Clone(k.MAC), DEK: slices.Clone(k.DEK)})
	}
	d.cfg.Keys = nil
	return d, nil
}

// Select accepts the selection with the ISD's FCI.
//
// The first selection binds the ISD to its persistent storage and writes
// the key sets there; later selections reload them from it, so the
// storage (in a VSE: the VSE's own memory) is where the keys live. A
// selection with other storage (the ISD was uninstalled and installed
// again) binds that storage and writes the current key sets there. A
// storage too small for the key sets refuses the selection with 6A84; one
// whose key record does not decode, with 6581.
func (d *ISD) Select(_ context.Context, s Selection) apdu.Response {
	if d == nil {
		return sw(apdu.SWConditionsNotSatisfied)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.ok {
		return sw(apdu.SWConditionsNotSatisfied)
	}
	if s.Storage != nil {
		if d.st != s.Storage {
			// First selection, or the ISD was installed again (new
			// storage): bind it and write the key sets there.
			prev := d.st
			d.st = s.Storage
			if err := d.persist(d.keys); err != nil {
				d.st = prev
				return sw(apdu.SWNotEnoughMemory)
			}
		} else {
			keys, err := decodeKeys(d.st)
			if err != nil {
				return sw(apdu.SWMemoryFailure)
			}
			for i := range d.keys {
				d.keys[i].Zero()
			}
			d.keys = keys
		}
	}
	return apdu.Response{Data: FCI(s.AID), SW: apdu.SWSuccess}
}

// keyRecordMagic starts the ISD's key record in its storage:
//
//	4B ‖ n ‖ { KVN ‖ key length ‖ ENC ‖ MAC ‖ DEK }×n
const keyRecordMagic = 0x4B

// KeyStorageBytes returns the storage an ISD needs for sets key sets of
// keyLen-byte keys.
func KeyStorageBytes(sets, keyLen int) int { return 2 + sets*(2+3*keyLen) }

// persist writes keys to the bound storage (nothing when unbound).
func (d *ISD) persist(keys []scp03.StaticKeys) error {
	if d.st == nil {
		return nil
	}
	b := make([]byte, 0, KeyStorageBytes(len(keys), 32))
	b = append(b, keyRecordMagic, byte(len(keys)))
	for _, k := range keys {
		b = append(b, k.KVN, byte(len(k.ENC)))
		b = append(b, k.ENC...)
		b = append(b, k.MAC...)
		b = append(b, k.DEK...)
	}
	defer clear(b)
	_, err := d.st.WriteAt(b, 0)
	return err
}

// decodeKeys reads the key record from st.
func decodeKeys(st Storage) ([]scp03.StaticKeys, error) {
	var h [2]byte
	if _, err := st.ReadAt(h[:], 0); err != nil {
		return nil, err
	}
	if h[0] != keyRecordMagic || h[1] == 0 || h[1] > maxKeySets {
		return nil, fmt.Errorf("%w: ISD key record header % X", ErrStorage, h)
	}
	off := int64(2)
	keys := make([]scp03.StaticKeys, 0, h[1])
	for range int(h[1]) {
		if _, err := st.ReadAt(h[:], off); err != nil {
			return nil, err
		}
		n := int(h[1])
		if n != 16 && n != 24 && n != 32 {
			return nil, fmt.Errorf("%w: ISD key length %d", ErrStorage, n)
		}
		buf := make([]byte, 3*n)
		if _, err := st.ReadAt(buf, off+2); err != nil {
			return nil, err
		}
		keys = append(keys, scp03.StaticKeys{KVN: h[0], ENC: buf[:n:n], MAC: buf[n : 2*n : 2*n], DEK: buf[2*n:]})
		off += int64(2 + 3*n)
	}
	return keys, nil
}

// Deselect ends the secure channel of the channel and zeroes its keys.
func (d *ISD) Deselect(_ context.Context, ch int) {
	if d == nil || ch < 0 || ch >= len(d.sessions) {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.endSession(ch)
}

// endSession closes the channel's secure channel and wipes its DEK copy.
func (d *ISD) endSession(ch int) {
	if s := d.sessions[ch]; s != nil {
		_ = s.Close()
		d.sessions[ch] = nil
	}
	clear(d.dek[ch])
}

// Process answers one command; see ISD.
func (d *ISD) Process(ctx context.Context, cmd apdu.Command) apdu.Response {
	if d == nil {
		return sw(apdu.SWConditionsNotSatisfied)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.ok {
		return sw(apdu.SWConditionsNotSatisfied)
	}
	ch := ChannelOf(cmd)
	if ch < 0 {
		return sw(apdu.SWCLANotSupported)
	}
	switch {
	case cmd.INS == scp03.INSInitializeUpdate && !apdu.SecureMessaging(cmd.CLA):
		return d.initializeUpdate(ch, cmd)
	case cmd.INS == scp03.INSExternalAuthenticate:
		s := d.sessions[ch]
		if s == nil {
			return sw(apdu.SWConditionsNotSatisfied)
		}
		resp, _ := s.ExternalAuthenticate(cmd)
		return resp
	case apdu.SecureMessaging(cmd.CLA):
		s := d.sessions[ch]
		if s == nil || !s.Open() {
			return sw(apdu.SWSecurityStatusNotSatisfied)
		}
		// Unwrap decrypts in place: work on a copy, the host owns cmd.Data.
		d.buf = append(d.buf[:0], cmd.Data...)
		cmd.Data = d.buf
		plain, err := s.Unwrap(cmd)
		if err != nil {
			return sw(scp03.StatusFor(err))
		}
		resp := d.handle(ctx, plain, s)
		w, err := s.Wrap(resp)
		if err != nil {
			return sw(scp03.StatusFor(err))
		}
		return w
	}
	return d.handle(ctx, cmd, nil)
}

func (d *ISD) initializeUpdate(ch int, cmd apdu.Command) apdu.Response {
	var keys *scp03.StaticKeys
	for i := range d.keys {
		if cmd.P1 == 0 || d.keys[i].KVN == cmd.P1 {
			keys = &d.keys[i]
			break
		}
	}
	if keys == nil {
		return sw(apdu.SWReferencedDataNotFound)
	}
	d.endSession(ch)
	s, err := scp03.NewCardSession(*keys, scp03.CardOptions{
		S16: d.cfg.S16, Rand: d.cfg.Rand, Supported: d.cfg.Supported,
		KeyDiversificationData: d.cfg.KeyDiversificationData,
	})
	if err != nil {
		return sw(apdu.SWUnknown)
	}
	resp, err := s.InitializeUpdate(cmd)
	if err != nil {
		return resp
	}
	d.sessions[ch] = s
	d.dek[ch] = append(d.dek[ch][:0], keys.DEK...)
	return resp
}

// handle runs a command after secure messaging; s is the open session or
// nil for a plain command.
func (d *ISD) handle(_ context.Context, cmd apdu.Command, s *scp03.CardSession) apdu.Response {
	switch cmd.INS {
	case insGetData:
		switch uint16(cmd.P1)<<8 | uint16(cmd.P2) {
		case tagCPLC:
			b := d.cfg.CPLC.MarshalBinary()
			return apdu.Response{Data: b, SW: apdu.SWSuccess}
		case tagKeyInfo:
			return apdu.Response{Data: d.keyInfo(), SW: apdu.SWSuccess}
		}
		return sw(apdu.SWReferencedDataNotFound)
	case scp03.INSPutKey:
		if s == nil || !s.Level().Has(scp03.LevelCMAC) {
			return sw(apdu.SWSecurityStatusNotSatisfied)
		}
		return d.putKey(cmd, d.dek[ChannelOf(cmd)])
	}
	return sw(apdu.SWINSNotSupported)
}

// putKey replaces (P1 bits 7–1 = KVN) or adds (bits 7–1 = 0) a key set;
// P1 bit 8 (more commands follow) does not change what one command does,
// as each carries a complete set. The keys are
// encrypted under the DEK of the key set the session was opened with (kept
// for the session even if PUT KEY replaces that set).
func (d *ISD) putKey(cmd apdu.Command, dek []byte) apdu.Response {
	if len(dek) == 0 {
		return sw(apdu.SWConditionsNotSatisfied)
	}
	req, err := scp03.ParsePutKey(dek, cmd)
	switch {
	case errors.Is(err, scp03.ErrKeyCheckValue):
		return sw(scp03.SWInvalidKeyCheckValue)
	case errors.Is(err, scp03.ErrKeyType):
		return sw(scp03.SWAlgorithmNotSupported)
	case err != nil:
		return sw(apdu.SWWrongData)
	}
	newKeys := req.Keys
	if req.ReplaceKVN == 0 {
		for _, k := range d.keys {
			if k.KVN == newKeys.KVN {
				newKeys.Zero()
				return sw(apdu.SWWrongData)
			}
		}
		if len(d.keys) >= maxKeySets {
			newKeys.Zero()
			return sw(apdu.SWNotEnoughMemory)
		}
		next := append(slices.Clone(d.keys), newKeys)
		if err := d.persist(next); err != nil {
			newKeys.Zero()
			return sw(apdu.SWNotEnoughMemory)
		}
		d.keys = next
		return apdu.Response{Data: req.PutKeyResponse(), SW: apdu.SWSuccess}
	}
	i := slices.IndexFunc(d.keys, func(k scp03.StaticKeys) bool { return k.KVN == req.ReplaceKVN })
	if i < 0 {
		newKeys.Zero()
		return sw(apdu.SWReferencedDataNotFound)
	}
	for j, k := range d.keys {
		if j != i && k.KVN == newKeys.KVN {
			newKeys.Zero()
			return sw(apdu.SWWrongData)
		}
	}
	// Open sessions keep their derived session keys and their DEK copy;
	// the old static keys are wiped (sessions derive from them only
	// during INITIALIZE UPDATE, which is over).
	next := slices.Clone(d.keys)
	next[i] = newKeys
	if err := d.persist(next); err != nil {
		newKeys.Zero()
		return sw(apdu.SWNotEnoughMemory)
	}
	old := d.keys[i]
	d.keys = next
	old.Zero()
	return apdu.Response{Data: req.PutKeyResponse(), SW: apdu.SWSuccess}
}

// keyInfo builds the key information template (GP Card Specification
// §11.3.3.1): E0 { C0 04 keyID KVN type length }… for each key.
func (d *ISD) keyInfo() []byte {
	var body []byte
	for _, k := range d.keys {
		for id := byte(1); id <= 3; id++ {
			body = append(body, 0xC0, 0x04, id, k.KVN, scp03.KeyTypeAES, byte(k.KeyLen()))
		}
	}
	return append(appendBERLength([]byte{0xE0}, len(body)), body...)
}

// appendBERLength appends a BER-TLV length (ISO/IEC 8825-1 §8.1.3): one
// byte below 128, else 81 xx or 82 xxxx.
func appendBERLength(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n <= 0xFF:
		return append(b, 0x81, byte(n))
	}
	return append(b, 0x82, byte(n>>8), byte(n))
}

// KeyVersions returns the key versions the ISD holds, in order. It is
// safe to call while the element runs APDUs.
func (d *ISD) KeyVersions() []byte {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.ok {
		return nil
	}
	out := make([]byte, len(d.keys))
	for i, k := range d.keys {
		out[i] = k.KVN
	}
	return out
}
