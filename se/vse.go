package se

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/payedge/payedge/se/apdu"
)

// VirtualConfig is the virtualisation configuration of one virtual SE, as
// an operator writes it; VirtualManager.Request turns it into a
// VSERequest. Zero fields take the defaults given.
type VirtualConfig struct {
	// ID names the VSE (required).
	ID string
	// AIDs are the applets the VSE may install.
	AIDs [][]byte
	// MemoryBytes is the VSE's memory quota, rounded up to PageSize;
	// 0 means 16 KiB. It bounds the bytes the hypervisor's policy
	// reserves for the VSE, rounding included (see
	// VSERequest.MemoryBytes): under the static policy each applet's
	// storage takes a whole partition of the quota.
	MemoryBytes uint64
	// MaxChannels counts the basic channel; 0 means 4.
	MaxChannels int
	// PageSize is the VSE's allocation granularity; 0 means 256.
	PageSize uint64
	// StorageBytes is each applet's persistent storage, rounded up to
	// PageSize; 0 means one page.
	StorageBytes uint64
}

// VirtualManager is the secure element manager (SEM): it turns
// virtualisation configurations into VSERequests, asks a Hypervisor for the
// address spaces and keeps the virtual SEs, each a SecureElement, by ID.
// APDUs reach an applet by VSE, then AID (SELECT), then channel. It is safe
// for concurrent use; the zero value returns ErrNotInitialized.
type VirtualManager struct {
	mu   sync.Mutex
	hv   Hypervisor
	vses map[string]*VSE
}

// NewVirtualManager returns a manager over hv (ErrNotInitialized for nil).
func NewVirtualManager(hv Hypervisor) (*VirtualManager, error) {
	if hv == nil {
		return nil, fmt.Errorf("%w: nil Hypervisor", ErrNotInitialized)
	}
	return &VirtualManager{hv: hv, vses: map[string]*VSE{}}, nil
}

// Request turns cfg into the VSERequest the hypervisor receives: defaults
// filled in, sizes rounded up to the page size, and the applets' storage
// checked against the quota (ErrQuota). Other errors are those of
// VSERequest.Validate.
func (m *VirtualManager) Request(cfg VirtualConfig) (VSERequest, error) {
	return cfg.request()
}

// Validate reports whether the configuration makes a valid VSERequest;
// the errors are those of VirtualManager.Request. The zero value lacks an
// ID (ErrConfig).
func (cfg VirtualConfig) Validate() error {
	_, err := cfg.request()
	return err
}

func (cfg VirtualConfig) request() (VSERequest, error) {
	r := VSERequest{ID: cfg.ID, MemoryBytes: cfg.MemoryBytes, MaxChannels: cfg.MaxChannels, PageSize: cfg.PageSize, StorageBytes: cfg.StorageBytes}
	if r.PageSize == 0 {
		r.PageSize = 256
	}
	if r.MemoryBytes == 0 {
		r.MemoryBytes = 16 << 10
	}
	if r.MaxChannels == 0 {
		r.MaxChannels = 4
	}
	if r.StorageBytes == 0 {
		r.StorageBytes = r.PageSize
	}
	if r.PageSize&(r.PageSize-1) != 0 {
		return r, fmt.Errorf("%w: page size %d is not a power of two", ErrAlignment, r.PageSize)
	}
	up := func(x uint64) (uint64, error) {
		y := (x + r.PageSize - 1) / r.PageSize * r.PageSize
		if y < x {
			return 0, fmt.Errorf("%w: %d rounds past 2^64", ErrOverflow, x)
		}
		return y, nil
	}
	var err error
	if r.MemoryBytes, err = up(r.MemoryBytes); err != nil {
		return r, err
	}
	if r.StorageBytes, err = up(r.StorageBytes); err != nil {
		return r, err
	}
	seen := map[string]bool{}
	for _, a := range cfg.AIDs {
		if seen[string(a)] {
			return r, fmt.Errorf("%w: % X listed twice", ErrDuplicateAID, a)
		}
		seen[string(a)] = true
		r.AIDs = append(r.AIDs, slices.Clone(a))
	}
	if err := r.Validate(); err != nil {
		return r, err
	}
	if r.StorageBytes > r.MemoryBytes {
		return r, fmt.Errorf("%w: applet storage of %d bytes exceeds the %d-byte quota", ErrQuota, r.StorageBytes, r.MemoryBytes)
	}
	if n := uint64(len(r.AIDs)); n > 0 && r.StorageBytes > r.MemoryBytes/n {
		return r, fmt.Errorf("%w: %d applets × %d bytes exceed %d", ErrQuota, n, r.StorageBytes, r.MemoryBytes)
	}
	return r, nil
}

// Create builds the request for cfg, asks the hypervisor for the VSE and
// returns it, empty (Install its applets). Errors: those of Request and of
// Hypervisor.CreateVSE, ErrDuplicateVSE.
func (m *VirtualManager) Create(ctx context.Context, cfg VirtualConfig) (*VSE, error) {
	if m == nil || m.hv == nil {
		return nil, ErrNotInitialized
	}
	req, err := m.Request(cfg)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.vses[req.ID]; dup {
		return nil, fmt.Errorf("%w: %q", ErrDuplicateVSE, req.ID)
	}
	id, err := m.hv.CreateVSE(ctx, req)
	if err != nil {
		return nil, err
	}
	v := &VSE{hv: m.hv, id: id, req: req}
	mem, err := NewMemory(MemoryConfig{MaxChannels: req.MaxChannels, StorageBytes: int(req.StorageBytes), MaxStorageBytes: int(min(req.MemoryBytes, 1<<30))})
	if err != nil {
		_ = m.hv.DestroyVSE(context.WithoutCancel(ctx), id)
		return nil, err
	}
	mem.newStorage = v.newStorage
	v.mem = mem
	m.vses[req.ID] = v
	return v, nil
}

// Get returns the live VSE named id, or ErrNoVSE.
func (m *VirtualManager) Get(id string) (*VSE, error) {
	if m == nil || m.hv == nil {
		return nil, ErrNotInitialized
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.vses[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNoVSE, id)
	}
	return v, nil
}

// IDs returns the live VSE names, sorted.
func (m *VirtualManager) IDs() []string {
	if m == nil || m.hv == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.vses))
	for id := range m.vses {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Transmit routes cmd to the VSE named id (then by channel and selected
// AID inside it). Errors: ErrNoVSE and those of VSE.Transmit.
func (m *VirtualManager) Transmit(ctx context.Context, id string, cmd apdu.Command) (apdu.Response, error) {
	v, err := m.Get(id)
	if err != nil {
		return apdu.Response{}, err
	}
	return v.Transmit(ctx, cmd)
}

// Destroy closes the VSE named id and has the hypervisor free and zero its
// memory. A VSE with open logical channels is refused with ErrBusy. Later
// use of the VSE fails with ErrDestroyed (and ErrClosed). ctx is checked
// once, before anything changes: a cancelled Destroy leaves the VSE as it
// was, and one that has begun runs to the end. If the hypervisor refuses
// to destroy the address space, the VSE stays listed (closed) so that
// Destroy can be retried.
func (m *VirtualManager) Destroy(ctx context.Context, id string) error {
	if m == nil || m.hv == nil {
		return ErrNotInitialized
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.vses[id]
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoVSE, id)
	}
	v.mem.mu.Lock()
	defer v.mem.mu.Unlock()
	if n := v.mem.openChannelsLocked(); n > 0 && !v.mem.closed {
		return fmt.Errorf("%w: %q has %d", ErrBusy, id, n)
	}
	v.mem.closeLocked()
	if err := m.hv.DestroyVSE(context.WithoutCancel(ctx), v.id); err != nil {
		return err
	}
	v.destroyed.Store(true)
	delete(m.vses, id)
	return nil
}

// VSE is a virtual secure element: a SecureElement whose applets' storage
// lives in its own address space of the hypervisor's pool, reached only
// through Hypervisor.Validate. It holds only the applets its configuration
// allows, so no APDU sent to it can select another VSE's applet. Safe for
// concurrent use; create it with VirtualManager.Create (the zero value
// returns ErrNotInitialized).
type VSE struct {
	hv        Hypervisor
	id        VSEID
	req       VSERequest
	mem       *Memory
	destroyed atomic.Bool
}

var (
	_ SecureElement = (*VSE)(nil)
	_ ATRProvider   = (*VSE)(nil)
)

func (v *VSE) check() error {
	if v == nil || v.mem == nil {
		return ErrNotInitialized
	}
	if v.destroyed.Load() {
		return fmt.Errorf("%w: %w: %q", ErrClosed, ErrDestroyed, v.req.ID)
	}
	return nil
}

// after maps an error of the VSE's memory to the VSE's own: a Destroy
// that lands between check and the call closes the memory, and the caller
// must still see ErrDestroyed, as it would have a moment later.
func (v *VSE) after(err error) error {
	if errors.Is(err, ErrClosed) {
		if e := v.check(); e != nil {
			return e
		}
	}
	return err
}

// ID returns the hypervisor's ID of the VSE.
func (v *VSE) ID() VSEID {
	if v == nil {
		return 0
	}
	return v.id
}

// Request returns a copy of the request the VSE was created with.
func (v *VSE) Request() VSERequest {
	if v == nil {
		return VSERequest{}
	}
	r := v.req
	r.AIDs = nil
	for _, a := range v.req.AIDs {
		r.AIDs = append(r.AIDs, slices.Clone(a))
	}
	return r
}

// Install adds an applet whose AID the configuration lists
// (ErrAIDNotAllowed otherwise); its storage is allocated from the VSE's
// quota. Other errors: those of Memory.Install and the hypervisor's.
func (v *VSE) Install(aid []byte, a Applet, opts InstallOptions) error {
	if err := v.check(); err != nil {
		return err
	}
	if !slices.ContainsFunc(v.req.AIDs, func(x []byte) bool { return string(x) == string(aid) }) {
		return fmt.Errorf("%w: % X in %q", ErrAIDNotAllowed, aid, v.req.ID)
	}
	return v.after(v.mem.Install(aid, a, opts))
}

// Uninstall removes an applet and frees (zeroes) its storage.
func (v *VSE) Uninstall(aid []byte) error {
	if err := v.check(); err != nil {
		return err
	}
	return v.after(v.mem.Uninstall(aid))
}

// Transmit implements SecureElement.
func (v *VSE) Transmit(ctx context.Context, cmd apdu.Command) (apdu.Response, error) {
	if err := v.check(); err != nil {
		return apdu.Response{}, err
	}
	r, err := v.mem.Transmit(ctx, cmd)
	return r, v.after(err)
}

// OpenLogicalChannel implements SecureElement.
func (v *VSE) OpenLogicalChannel(ctx context.Context, aid []byte) (Channel, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	ch, err := openLogicalChannel(ctx, v, aid, v.mem)
	return ch, v.after(err)
}

// Close implements SecureElement: it closes the channels; the memory stays
// until VirtualManager.Destroy.
func (v *VSE) Close() error {
	if v == nil || v.mem == nil {
		return ErrNotInitialized
	}
	return v.mem.Close()
}

// ATR implements ATRProvider.
func (v *VSE) ATR() []byte {
	if v == nil || v.mem == nil {
		return nil
	}
	return v.mem.ATR()
}

// OpenChannels returns the number of open logical channels.
func (v *VSE) OpenChannels() int {
	if v == nil || v.mem == nil {
		return 0
	}
	return v.mem.OpenChannels()
}

// newStorage allocates an applet's storage in the VSE's address space.
func (v *VSE) newStorage(size int) (Storage, func() error, error) {
	if size == 0 {
		return &sliceStorage{}, nil, nil
	}
	n := (uint64(size) + v.req.PageSize - 1) / v.req.PageSize * v.req.PageSize
	addr, err := v.hv.Alloc(context.Background(), v.id, n)
	if err != nil {
		return nil, nil, err
	}
	st := &vseStorage{hv: v.hv, id: v.id, addr: addr, size: uint64(size)}
	return st, func() error { return v.hv.Free(context.Background(), v.id, addr) }, nil
}

// vseStorage is an applet's storage inside a VSE's address space.
type vseStorage struct {
	hv   Hypervisor
	id   VSEID
	addr uint64
	size uint64
}

func (s *vseStorage) Size() int64 { return int64(s.size) }

func (s *vseStorage) bounds(op string, n int, off int64) error {
	if off < 0 || uint64(off) > s.size || uint64(n) > s.size-uint64(off) {
		return fmt.Errorf("%w: %s [%d, +%d) of %d bytes", ErrStorage, op, off, n, s.size)
	}
	return nil
}

func (s *vseStorage) ReadAt(p []byte, off int64) (int, error) {
	if err := s.bounds("read", len(p), off); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := s.hv.ReadAt(s.id, p, s.addr+uint64(off)); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (s *vseStorage) WriteAt(p []byte, off int64) (int, error) {
	if err := s.bounds("write", len(p), off); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := s.hv.WriteAt(s.id, p, s.addr+uint64(off)); err != nil {
		return 0, err
	}
	return len(p), nil
}
