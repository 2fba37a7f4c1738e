package se

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/payedge/payedge/se/apdu"
)

// MemoryConfig configures a Memory element. The zero value is usable.
type MemoryConfig struct {
	// MaxChannels is the number of channels including the basic channel,
	// 1–20 (channels 0 to MaxChannels−1). 0 means 20.
	MaxChannels int
	// StorageBytes is the persistent storage given to an applet whose
	// InstallOptions do not say; 0 means DefaultStorageBytes.
	StorageBytes int
	// MaxStorageBytes bounds one applet's storage; 0 means 1 MiB.
	MaxStorageBytes int
	// ATR is the Answer To Reset the element reports (ATRProvider); empty
	// means DefaultATR.
	ATR []byte
}

// DefaultStorageBytes is the persistent storage of an applet when nothing
// else is configured.
const DefaultStorageBytes = 1024

// defaultATR is a T=1 Answer To Reset (ISO/IEC 7816-3: TS 3B, T0 = 87
// with TD1 = 80, TD2 = 01 for T=1, seven historical bytes "payedge", TCK).
var defaultATR = []byte{0x3B, 0x87, 0x80, 0x01, 'p', 'a', 'y', 'e', 'd', 'g', 'e', 0x6D}

// DefaultATR returns the ATR of a Memory element without a configured one.
func DefaultATR() []byte { return slices.Clone(defaultATR) }

// Validate reports whether the configuration is usable; errors wrap
// ErrConfig.
func (c MemoryConfig) Validate() error {
	if c.MaxChannels < 0 || c.MaxChannels > apdu.MaxChannel+1 {
		return fmt.Errorf("%w: MaxChannels %d outside 1–20", ErrConfig, c.MaxChannels)
	}
	if c.StorageBytes < 0 || c.MaxStorageBytes < 0 {
		return fmt.Errorf("%w: negative storage size", ErrConfig)
	}
	if c.MaxStorageBytes > 0 && c.StorageBytes > c.MaxStorageBytes {
		return fmt.Errorf("%w: StorageBytes %d above MaxStorageBytes %d", ErrConfig, c.StorageBytes, c.MaxStorageBytes)
	}
	if len(c.ATR) > 33 {
		return fmt.Errorf("%w: ATR of %d bytes (at most 33)", ErrConfig, len(c.ATR))
	}
	return nil
}

func (c MemoryConfig) withDefaults() MemoryConfig {
	if c.MaxChannels == 0 {
		c.MaxChannels = apdu.MaxChannel + 1
	}
	if c.MaxStorageBytes == 0 {
		c.MaxStorageBytes = 1 << 20
	}
	if c.StorageBytes == 0 {
		c.StorageBytes = min(DefaultStorageBytes, c.MaxStorageBytes)
	}
	if len(c.ATR) == 0 {
		c.ATR = defaultATR
	}
	c.ATR = slices.Clone(c.ATR)
	return c
}

// InstallOptions are the installation parameters of one applet. The zero
// value is usable.
type InstallOptions struct {
	// StorageBytes is the applet's persistent storage; 0 means the
	// element's MemoryConfig.StorageBytes.
	StorageBytes int
	// Default makes the applet the element's default applet: selected on
	// the basic channel at once and on every channel opened from it, and
	// the target of a SELECT without data (GlobalPlatform's implicit
	// selection). An issuer security domain is usually the default.
	Default bool
}

// Memory is the in-memory reference secure element: an applet registry by
// AID, the basic channel and logical channels opened by MANAGE CHANNEL,
// per-channel selection state and per-applet persistent storage. It is a
// real element for tests, simulations and research; its storage lives in
// process memory, so it protects nothing against the host process.
//
// It answers SELECT by DF name (full or partial AID, first or next
// occurrence) and MANAGE CHANNEL itself and passes every other command to
// the applet selected on the command's channel. Status words for bad
// input are listed in the package documentation.
//
// Memory is safe for concurrent use: APDUs are processed one at a time, in
// arrival order. The zero value returns ErrNotInitialized; use NewMemory.
type Memory struct {
	mu      sync.Mutex
	ok      bool
	closed  bool
	cfg     MemoryConfig
	applets []*installed // install order: the order of partial selection
	def     *installed
	chans   [apdu.MaxChannel + 1]chanState
	// newStorage allocates an applet's storage; nil means Go memory.
	newStorage func(size int) (Storage, func() error, error)
	// inCall is set while the element runs an APDU (m.mu held); depth
	// counts nested inter-applet APDUs.
	inCall atomic.Bool
	depth  int
}

// MaxNesting bounds inter-applet APDUs sent through Selection.Element
// from inside an applet call (an applet calling one that calls another …).
const MaxNesting = 4

// innerElement is Selection.Element: it dispatches with m.mu already held
// by the call in progress.
type innerElement struct{ m *Memory }

func (e innerElement) Transmit(ctx context.Context, cmd apdu.Command) (apdu.Response, error) {
	m := e.m
	if !m.inCall.Load() {
		return apdu.Response{}, fmt.Errorf("%w: Selection.Element used outside an applet call", ErrNesting)
	}
	if err := ctx.Err(); err != nil {
		return apdu.Response{}, err
	}
	if m.depth >= MaxNesting {
		return apdu.Response{}, fmt.Errorf("%w: more than %d nested APDUs", ErrNesting, MaxNesting)
	}
	m.depth++
	resp := m.dispatch(ctx, cmd)
	m.depth--
	if len(resp.Data) > 0 {
		resp.Data = bytes.Clone(resp.Data)
	}
	return resp, nil
}

var (
	_ SecureElement = (*Memory)(nil)
	_ ATRProvider   = (*Memory)(nil)
)

type installed struct {
	aid     []byte
	applet  Applet
	storage *liveStorage
	free    func() error
	idx     int
}

// liveStorage is an applet's Storage as the applet sees it: dead once the
// applet is uninstalled, so that a handle the applet kept cannot reach the
// memory, which in a VSE goes back to the pool and to the next applet.
type liveStorage struct {
	mu   sync.RWMutex
	st   Storage
	dead bool
}

func (s *liveStorage) Size() int64 { return s.st.Size() }

func (s *liveStorage) ReadAt(p []byte, off int64) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.dead {
		return 0, fmt.Errorf("%w: the applet was uninstalled", ErrStorage)
	}
	return s.st.ReadAt(p, off)
}

func (s *liveStorage) WriteAt(p []byte, off int64) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.dead {
		return 0, fmt.Errorf("%w: the applet was uninstalled", ErrStorage)
	}
	return s.st.WriteAt(p, off)
}

// kill ends the storage: no access after kill returns.
func (s *liveStorage) kill() {
	s.mu.Lock()
	s.dead = true
	s.mu.Unlock()
}

type chanState struct {
	open bool
	gen  uint64 // counts the openings of this channel number
	sel  *installed
}

// Validate reports whether the options are usable: a negative storage
// size is an error wrapping ErrConfig. (Whether the size fits the
// element's MaxStorageBytes is checked by Install.)
func (o InstallOptions) Validate() error {
	if o.StorageBytes < 0 {
		return fmt.Errorf("%w: StorageBytes %d", ErrConfig, o.StorageBytes)
	}
	return nil
}

// NewMemory returns an empty element with the basic channel open. Errors:
// those of cfg.Validate (ErrConfig).
func NewMemory(cfg MemoryConfig) (*Memory, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Memory{ok: true, cfg: cfg.withDefaults()}
	m.chans[0].open = true
	return m, nil
}

// Install adds applet a under aid (5–16 bytes) with its own persistent
// storage. Errors: ErrNotInitialized, ErrClosed, ErrAIDLength,
// ErrDuplicateAID, ErrConfig for a storage size outside 0–MaxStorageBytes
// or a second default applet,
// and, in a virtual SE, ErrAIDNotAllowed or the hypervisor's *MemoryError.
// An applet installed with Default is selected on the basic channel at
// once.
func (m *Memory) Install(aid []byte, a Applet, opts InstallOptions) error {
	if m == nil || !m.ok {
		return ErrNotInitialized
	}
	if a == nil {
		return fmt.Errorf("%w: nil applet", ErrConfig)
	}
	if err := opts.Validate(); err != nil {
		return err
	}
	if len(aid) < MinAIDLen || len(aid) > MaxAIDLen {
		return fmt.Errorf("%w: %d bytes", ErrAIDLength, len(aid))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	size := opts.StorageBytes
	if size == 0 {
		size = m.cfg.StorageBytes
	}
	if size < 0 || size > m.cfg.MaxStorageBytes {
		return fmt.Errorf("%w: storage of %d bytes (at most %d)", ErrConfig, size, m.cfg.MaxStorageBytes)
	}
	for _, in := range m.applets {
		if bytes.Equal(in.aid, aid) {
			return fmt.Errorf("%w: % X", ErrDuplicateAID, aid)
		}
	}
	if opts.Default && m.def != nil {
		return fmt.Errorf("%w: % X is already the default applet", ErrConfig, m.def.aid)
	}
	in := &installed{aid: slices.Clone(aid), applet: a}
	if m.newStorage != nil {
		st, free, err := m.newStorage(size)
		if err != nil {
			return err
		}
		in.storage, in.free = &liveStorage{st: st}, free
	} else {
		in.storage = &liveStorage{st: &sliceStorage{b: make([]byte, size)}}
	}
	in.idx = len(m.applets)
	m.applets = append(m.applets, in)
	if opts.Default {
		m.def = in
		if m.chans[0].sel == nil {
			m.inCall.Store(true)
			m.selectOn(context.Background(), 0, in, apdu.Command{})
			m.inCall.Store(false)
		}
	}
	return nil
}

// Uninstall removes the applet aid and frees its storage. Errors:
// ErrNotInitialized, ErrClosed, ErrAppletNotFound, ErrAppletSelected when
// it is selected on a channel.
func (m *Memory) Uninstall(aid []byte) error {
	if m == nil || !m.ok {
		return ErrNotInitialized
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	i := slices.IndexFunc(m.applets, func(in *installed) bool { return bytes.Equal(in.aid, aid) })
	if i < 0 {
		return fmt.Errorf("%w: % X", ErrAppletNotFound, aid)
	}
	in := m.applets[i]
	for ch := range m.chans {
		if m.chans[ch].sel == in {
			return fmt.Errorf("%w: % X on channel %d", ErrAppletSelected, aid, ch)
		}
	}
	// The applet's handle dies before its memory is freed (and can be
	// handed to another applet).
	in.storage.kill()
	if in.free != nil {
		if err := in.free(); err != nil {
			return err
		}
	}
	m.applets = slices.Delete(m.applets, i, i+1)
	for j := i; j < len(m.applets); j++ {
		m.applets[j].idx = j
	}
	if m.def == in {
		m.def = nil
	}
	return nil
}

// AIDs returns the installed AIDs in install order.
func (m *Memory) AIDs() [][]byte {
	if m == nil || !m.ok {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([][]byte, len(m.applets))
	for i, in := range m.applets {
		out[i] = slices.Clone(in.aid)
	}
	return out
}

// ATR returns the element's Answer To Reset.
func (m *Memory) ATR() []byte {
	if m == nil || !m.ok {
		return nil
	}
	return slices.Clone(m.cfg.ATR)
}

// OpenChannels returns the number of open logical channels (the basic
// channel not counted).
func (m *Memory) OpenChannels() int {
	if m == nil || !m.ok {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.openChannelsLocked()
}

func (m *Memory) openChannelsLocked() int {
	n := 0
	for ch := 1; ch < len(m.chans); ch++ {
		if m.chans[ch].open {
			n++
		}
	}
	return n
}

// Transmit processes one command APDU; see SecureElement. Errors:
// ErrNotInitialized, ErrClosed and ctx.Err(); every APDU-level problem is
// a status word. Response data is a fresh copy; the element passes Ne to
// the applet and does not truncate what the applet returns (a transport in
// front of it applies the 61xx/6Cxx procedures).
func (m *Memory) Transmit(ctx context.Context, cmd apdu.Command) (apdu.Response, error) {
	if m == nil || !m.ok {
		return apdu.Response{}, ErrNotInitialized
	}
	if err := ctx.Err(); err != nil {
		return apdu.Response{}, err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return apdu.Response{}, ErrClosed
	}
	m.inCall.Store(true)
	resp := m.dispatch(ctx, cmd)
	m.inCall.Store(false)
	if len(resp.Data) > 0 {
		resp.Data = bytes.Clone(resp.Data)
	}
	m.mu.Unlock()
	return resp, nil
}

// OpenLogicalChannel opens a channel and selects aid on it; see
// SecureElement. The Channel belongs to this opening of its number: once
// the channel is closed by any means (Channel.Close, a MANAGE CHANNEL
// close APDU, Close of the element), its Transmit returns ErrChannelClosed
// and its Close returns nil, even after the number is reused.
func (m *Memory) OpenLogicalChannel(ctx context.Context, aid []byte) (Channel, error) {
	if m == nil || !m.ok {
		return nil, ErrNotInitialized
	}
	return openLogicalChannel(ctx, m, aid, m)
}

// openChannel runs MANAGE CHANNEL open and returns the new channel's
// generation in the same critical section.
func (m *Memory) openChannel(ctx context.Context, cmd apdu.Command) (apdu.Response, uint64, error) {
	if err := ctx.Err(); err != nil {
		return apdu.Response{}, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return apdu.Response{}, 0, ErrClosed
	}
	m.inCall.Store(true)
	resp := m.dispatch(ctx, cmd)
	m.inCall.Store(false)
	var gen uint64
	if resp.Success() && len(resp.Data) == 1 && int(resp.Data[0]) < len(m.chans) {
		gen = m.chans[resp.Data[0]].gen
	}
	resp.Data = bytes.Clone(resp.Data)
	return resp, gen, nil
}

// transmitOn is Transmit for a Channel bound to opening gen of channel n:
// ErrChannelClosed once that opening is over.
func (m *Memory) transmitOn(ctx context.Context, cmd apdu.Command, n int, gen uint64) (apdu.Response, error) {
	if err := ctx.Err(); err != nil {
		return apdu.Response{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return apdu.Response{}, ErrClosed
	}
	if st := m.chans[n]; !st.open || st.gen != gen {
		return apdu.Response{}, fmt.Errorf("%w: channel %d was closed", ErrChannelClosed, n)
	}
	m.inCall.Store(true)
	resp := m.dispatch(ctx, cmd)
	m.inCall.Store(false)
	if len(resp.Data) > 0 {
		resp.Data = bytes.Clone(resp.Data)
	}
	return resp, nil
}

// Close deselects every applet and closes every channel. Later calls of
// Transmit return ErrClosed. Close is idempotent.
func (m *Memory) Close() error {
	if m == nil || !m.ok {
		return ErrNotInitialized
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closeLocked()
	return nil
}

func (m *Memory) closeLocked() {
	if m.closed {
		return
	}
	m.inCall.Store(true)
	for ch := range m.chans {
		m.deselect(context.Background(), ch)
		m.chans[ch].open = false
	}
	m.inCall.Store(false)
	m.closed = true
}

func sw(s uint16) apdu.Response { return apdu.Response{SW: s} }

// claChaining is the command-chaining bit b5 of the class byte and
// swChainingNotSupported its refusal (ISO/IEC 7816-4 §5.3.3, §5.6).
const (
	claChaining            = 0x10
	swChainingNotSupported = 0x6884
)

// dispatch runs one command with m.mu held.
func (m *Memory) dispatch(ctx context.Context, cmd apdu.Command) apdu.Response {
	ch, err := apdu.Channel(cmd.CLA)
	if err != nil {
		return sw(apdu.SWCLANotSupported)
	}
	if ch >= m.cfg.MaxChannels || !m.chans[ch].open {
		return sw(apdu.SWLogicalChannelNotSupported)
	}
	if cmd.CLA&0x80 == 0 && !apdu.SecureMessaging(cmd.CLA) {
		ownCmd := cmd.INS == insManageChannel || (cmd.INS == insSelect && cmd.P1 == 0x04)
		switch {
		case ownCmd && cmd.CLA&claChaining != 0:
			// ISO/IEC 7816-4 §5.3.3: the element does not chain its own
			// commands; never act on a first fragment.
			return sw(swChainingNotSupported)
		case cmd.INS == insManageChannel:
			return m.manageChannel(ctx, ch, cmd)
		case cmd.INS == insSelect && cmd.P1 == 0x04:
			return m.selectByName(ctx, ch, cmd)
		}
	}
	sel := m.chans[ch].sel
	if sel == nil {
		return sw(apdu.SWConditionsNotSatisfied)
	}
	return sel.applet.Process(ctx, cmd)
}

// manageChannel implements MANAGE CHANNEL (ISO/IEC 7816-4 §11.1.2).
func (m *Memory) manageChannel(ctx context.Context, ch int, cmd apdu.Command) apdu.Response {
	if len(cmd.Data) > 0 {
		return sw(apdu.SWWrongLength)
	}
	switch cmd.P1 {
	case 0x00: // open
		n := int(cmd.P2)
		if n == 0 {
			if cmd.Ne == 0 {
				return sw(apdu.SWWrongLength)
			}
			for c := 1; c < m.cfg.MaxChannels; c++ {
				if !m.chans[c].open {
					n = c
					break
				}
			}
			if n == 0 {
				return sw(apdu.SWFunctionNotSupported)
			}
		} else {
			if n > apdu.MaxChannel {
				return sw(apdu.SWIncorrectP1P2)
			}
			if n >= m.cfg.MaxChannels {
				return sw(apdu.SWLogicalChannelNotSupported)
			}
			if m.chans[n].open {
				return sw(apdu.SWConditionsNotSatisfied)
			}
		}
		m.chans[n].open = true
		m.chans[n].gen++
		// ISO/IEC 7816-4 §5.4.1: a channel opened from the basic channel
		// starts with the default applet; one opened from another channel
		// starts with that channel's applet.
		from := m.def
		if ch != 0 {
			from = m.chans[ch].sel
		}
		if from != nil {
			m.selectOn(ctx, n, from, apdu.Command{})
		}
		if cmd.P2 == 0 {
			return apdu.Response{Data: []byte{byte(n)}, SW: apdu.SWSuccess}
		}
		return sw(apdu.SWSuccess)
	case 0x80: // close
		n := int(cmd.P2)
		if n == 0 {
			n = ch
		}
		if n == 0 || n > apdu.MaxChannel {
			return sw(apdu.SWIncorrectP1P2)
		}
		if n >= m.cfg.MaxChannels || !m.chans[n].open {
			return sw(apdu.SWLogicalChannelNotSupported)
		}
		m.deselect(ctx, n)
		m.chans[n].open = false
		return sw(apdu.SWSuccess)
	}
	return sw(apdu.SWIncorrectP1P2)
}

// selectByName implements SELECT by DF name (ISO/IEC 7816-4 §11.2.2,
// P1 = 04): P2 b2b1 = 00 first or only occurrence, 10 next occurrence;
// b4b3 = 00 return FCI, 01 FCP, 10 FMD, 11 no response data.
func (m *Memory) selectByName(ctx context.Context, ch int, cmd apdu.Command) apdu.Response {
	if cmd.P2&0xF0 != 0 {
		return sw(apdu.SWIncorrectP1P2)
	}
	occ := cmd.P2 & 0x03
	if occ != 0x00 && occ != 0x02 {
		return sw(apdu.SWIncorrectP1P2)
	}
	var target *installed
	switch n := len(cmd.Data); {
	case n == 0:
		target = m.def
	case n < MinAIDLen || n > MaxAIDLen:
		return sw(apdu.SWWrongLength)
	default:
		start := 0
		if cur := m.chans[ch].sel; occ == 0x02 && cur != nil && bytes.HasPrefix(cur.aid, cmd.Data) {
			start = cur.idx + 1
		}
		for _, in := range m.applets[start:] {
			if bytes.HasPrefix(in.aid, cmd.Data) {
				target = in
				break
			}
		}
	}
	if target == nil {
		return sw(apdu.SWFileNotFound)
	}
	resp := m.selectOn(ctx, ch, target, cmd)
	if cmd.P2&0x0C == 0x0C {
		resp.Data = nil
	}
	return resp
}

// selectOn deselects the channel's applet and selects in.
func (m *Memory) selectOn(ctx context.Context, ch int, in *installed, cmd apdu.Command) apdu.Response {
	m.deselect(ctx, ch)
	resp := in.applet.Select(ctx, Selection{Channel: ch, AID: in.aid, Command: cmd, Storage: in.storage, Element: innerElement{m}})
	if !resp.Success() && !apdu.IsWarning(resp.SW) {
		return apdu.Response{SW: resp.SW}
	}
	m.chans[ch].sel = in
	if len(resp.Data) == 0 {
		resp.Data = FCI(in.aid)
	}
	return resp
}

func (m *Memory) deselect(ctx context.Context, ch int) {
	if in := m.chans[ch].sel; in != nil {
		m.chans[ch].sel = nil
		in.applet.Deselect(ctx, ch)
	}
}
