package se

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sync"
)

// VSEID identifies a virtual SE inside a Hypervisor. IDs are never reused,
// so a stale ID is recognised as destroyed (ErrDestroyed).
type VSEID uint64

// VSERequest is what the secure element manager asks the hypervisor for:
// an isolated address space for one virtual SE.
type VSERequest struct {
	// ID names the VSE; unique among live VSEs.
	ID string
	// AIDs are the applets the VSE may install (5–16 bytes each).
	AIDs [][]byte
	// MemoryBytes is the VSE's quota: the most bytes of the pool the
	// allocation policy may reserve for its ranges together, counted as
	// the policy really reserves them — a whole partition for each range
	// under NewStaticPolicy, a power-of-two block of pages under
	// NewBuddyPolicy, the size itself under NewFirstFitPolicy. So no VSE
	// holds more of the pool than its quota, whatever the policy; under
	// the static policy a quota below one partition admits no range. A
	// positive multiple of PageSize.
	MemoryBytes uint64
	// MaxChannels is the number of channels of the VSE including the basic
	// one, 1–20.
	MaxChannels int
	// PageSize is the granularity of the VSE's range sizes: a power of
	// two and a multiple of the pool's page size. (Addresses are aligned
	// to the pool's page size.)
	PageSize uint64
	// StorageBytes is the persistent storage of each applet, a multiple
	// of PageSize.
	StorageBytes uint64
}

// Validate reports whether the request is well formed. Errors wrap
// ErrConfig, ErrAIDLength, ErrSize or ErrAlignment.
func (r VSERequest) Validate() error {
	if r.ID == "" {
		return fmt.Errorf("%w: empty VSE ID", ErrConfig)
	}
	for _, a := range r.AIDs {
		if len(a) < MinAIDLen || len(a) > MaxAIDLen {
			return fmt.Errorf("%w: % X", ErrAIDLength, a)
		}
	}
	if r.MaxChannels < 1 || r.MaxChannels > 20 {
		return fmt.Errorf("%w: MaxChannels %d outside 1–20", ErrConfig, r.MaxChannels)
	}
	if r.PageSize == 0 || r.PageSize&(r.PageSize-1) != 0 {
		return fmt.Errorf("%w: page size %d is not a power of two", ErrAlignment, r.PageSize)
	}
	if r.MemoryBytes == 0 {
		return fmt.Errorf("%w: zero MemoryBytes", ErrSize)
	}
	if r.MemoryBytes%r.PageSize != 0 || r.StorageBytes%r.PageSize != 0 {
		return fmt.Errorf("%w: MemoryBytes %d or StorageBytes %d not a multiple of page size %d", ErrAlignment, r.MemoryBytes, r.StorageBytes, r.PageSize)
	}
	return nil
}

// Hypervisor is the virtual machine monitor of a physical secure element:
// it gives each VSE isolated ranges of one physical memory pool and checks
// every access. Implementations must be safe for concurrent use.
type Hypervisor interface {
	// CreateVSE registers a VSE for req (no memory yet). Errors:
	// req.Validate's, ErrTooManyVSEs, ErrDuplicateVSE, ErrSize when the
	// quota exceeds the pool, ErrAlignment when req.PageSize is not a
	// multiple of the pool's page size.
	CreateVSE(ctx context.Context, req VSERequest) (VSEID, error)
	// DestroyVSE frees (and zeroes) every range of the VSE and revokes its
	// grants. Errors: ErrNoVSE, ErrDestroyed.
	DestroyVSE(ctx context.Context, id VSEID) error
	// Alloc gives the VSE a new range of size bytes and returns its
	// address. The VSE's quota is charged what the allocation really
	// takes of the pool (size plus any rounding by the allocator), and
	// ErrQuota refuses a range whose reservation would take the VSE's
	// total past VSERequest.MemoryBytes. Errors (in a *MemoryError):
	// ErrSize (zero, or larger than the pool), ErrAlignment (not a
	// multiple of the VSE's page size), ErrQuota, ErrNoMemory, ErrOverflow/ErrOverlap (a broken Policy),
	// ErrNoVSE, ErrDestroyed.
	Alloc(ctx context.Context, id VSEID, size uint64) (uint64, error)
	// Free releases the range starting at addr, zeroes it and revokes the
	// grants on it. Errors: ErrDoubleFree, ErrNoVSE, ErrDestroyed.
	Free(ctx context.Context, id VSEID, addr uint64) error
	// Validate reports whether [addr, addr+n) lies inside the VSE's own
	// ranges (the memory it asked for, not a policy's rounding). Errors: ErrSize (n = 0), ErrOverflow (wrap-around),
	// ErrAccess, ErrNoVSE, ErrDestroyed.
	Validate(id VSEID, addr, n uint64) error
	// ReadAt copies len(p) bytes at addr of the VSE's memory into p after
	// Validate.
	ReadAt(id VSEID, p []byte, addr uint64) error
	// WriteAt copies p to addr of the VSE's memory after Validate.
	WriteAt(id VSEID, p []byte, addr uint64) error
}

// GrantRef names a grant-table entry (Xen grant tables: the owner grants a
// peer access to one of its ranges, by reference). References are never
// reused.
type GrantRef uint64

// Granter is the optional capability of a Hypervisor to share memory
// between VSEs by explicit grants, the only way a VSE may reach another's
// memory.
type Granter interface {
	// Grant lets peer access [addr, addr+n) of owner's memory, read-only
	// or read-write. The bytes must lie in one of owner's ranges (ErrAccess
	// otherwise, also for bytes that span two adjacent ranges); freeing
	// that range revokes the grant.
	Grant(ctx context.Context, owner, peer VSEID, addr, n uint64, readOnly bool) (GrantRef, error)
	// Revoke ends a grant; later use by the peer fails with
	// ErrGrantRevoked. Only the owner may revoke (ErrGrant otherwise).
	Revoke(ctx context.Context, owner VSEID, ref GrantRef) error
	// ReadGrant copies len(p) bytes at offset off of the granted range
	// into p; only the peer may use it.
	ReadGrant(peer VSEID, ref GrantRef, off uint64, p []byte) error
	// WriteGrant copies p to offset off of the granted range; ErrReadOnly
	// for a read-only grant.
	WriteGrant(peer VSEID, ref GrantRef, off uint64, p []byte) error
}

// VMMConfig configures the reference hypervisor. The zero value is usable.
type VMMConfig struct {
	// PoolBytes is the physical memory pool; 0 means 1 MiB. At most 1 GiB.
	PoolBytes uint64
	// PageSize is the smallest unit of allocation, a power of two dividing
	// PoolBytes into at most 4 Mi pages; 0 means 256.
	PageSize uint64
	// MaxVSEs bounds the live VSEs, at most 4096; 0 means 16.
	MaxVSEs int
	// Policy allocates the pool; nil means NewBuddyPolicy(). A Policy
	// value belongs to one VMM.
	Policy Policy
}

// DefaultVMMConfig returns the zero configuration's values made explicit.
func DefaultVMMConfig() VMMConfig {
	return VMMConfig{PoolBytes: 1 << 20, PageSize: 256, MaxVSEs: 16}
}

// Validate reports whether the configuration is usable; errors wrap
// ErrConfig or ErrAlignment.
func (c VMMConfig) Validate() error {
	d := c.withDefaults()
	if d.PoolBytes > 1<<30 {
		return fmt.Errorf("%w: pool of %d bytes (at most 1 GiB)", ErrConfig, d.PoolBytes)
	}
	if d.PageSize&(d.PageSize-1) != 0 || d.PoolBytes%d.PageSize != 0 {
		return fmt.Errorf("%w: page size %d must be a power of two dividing the pool (%d)", ErrAlignment, d.PageSize, d.PoolBytes)
	}
	if d.PageSize != 0 && d.PoolBytes/d.PageSize > maxPages {
		return fmt.Errorf("%w: %d pages of %d bytes (at most %d pages: the page tables take about 11 bytes a page)", ErrConfig, d.PoolBytes/d.PageSize, d.PageSize, maxPages)
	}
	if d.MaxVSEs < 0 || d.MaxVSEs > maxVSEs {
		return fmt.Errorf("%w: MaxVSEs %d outside 1–%d", ErrConfig, c.MaxVSEs, maxVSEs)
	}
	return nil
}

func (c VMMConfig) withDefaults() VMMConfig {
	def := DefaultVMMConfig()
	if c.PoolBytes == 0 {
		c.PoolBytes = def.PoolBytes
	}
	if c.PageSize == 0 {
		c.PageSize = def.PageSize
	}
	if c.MaxVSEs == 0 {
		c.MaxVSEs = def.MaxVSEs
	}
	if c.Policy == nil {
		c.Policy = NewBuddyPolicy()
	}
	return c
}

// VMM is the reference Hypervisor: one physical memory pool (a Go byte
// slice), a pluggable allocation Policy, per-VSE quotas and ranges, a
// grant table, zeroing on free and fragmentation statistics. It is safe
// for concurrent use. The zero value returns ErrNotInitialized; use NewVMM.
type VMM struct {
	mu       sync.Mutex
	ok       bool
	cfg      VMMConfig
	pool     []byte
	nextID   VSEID
	vses     map[VSEID]*vseMem
	names    map[string]VSEID
	owner    []uint16 // per pool page: slot of the owning VSE, 0 free, pageReserved
	slots    []bool   // slot numbers in use (index 0 unused)
	grants   map[GrantRef]*grant
	nextRef  GrantRef
	used     uint64
	reserved uint64
	high     uint64
}

var (
	_ Hypervisor = (*VMM)(nil)
	_ Granter    = (*VMM)(nil)
)

type vseMem struct {
	req    VSERequest
	slot   uint16               // owner mark of the VSE's pages
	ranges map[uint64]liveRange // by address
	// bytes is what the live ranges asked for, reserved what the policy
	// took for them; the quota bounds reserved.
	bytes, reserved uint64
}

// pageReserved marks pages a policy reserved beyond a request (buddy
// rounding, the rest of a static partition): allocated, reachable by no one.
const pageReserved = 0xFFFF

// maxVSEs bounds VMMConfig.MaxVSEs (page owners are 16-bit slots).
const maxVSEs = 4096

// maxPages bounds PoolBytes / PageSize: 4 Mi pages (a 1 GiB pool in
// 256-byte pages) keep the owner table at 8 MiB and the buddy lists at
// 36 MiB.
const maxPages = 1 << 22

type liveRange struct {
	addr, size, reserved uint64
	owner                VSEID
}

type grant struct {
	owner, peer VSEID
	addr, n     uint64
	readOnly    bool
}

// NewVMM returns a hypervisor over a zeroed pool. Errors: cfg.Validate's
// and the Policy's Init error.
func NewVMM(cfg VMMConfig) (*VMM, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := cfg.Policy.Init(cfg.PoolBytes, cfg.PageSize); err != nil {
		return nil, err
	}
	return &VMM{
		ok: true, cfg: cfg, pool: make([]byte, cfg.PoolBytes), nextID: 1, nextRef: 1,
		owner: make([]uint16, cfg.PoolBytes/cfg.PageSize), slots: make([]bool, cfg.MaxVSEs+1),
		vses: map[VSEID]*vseMem{}, names: map[string]VSEID{}, grants: map[GrantRef]*grant{},
	}, nil
}

// Config returns the configuration in force (defaults filled in). Its
// Policy is this VMM's own, in use: to build another VMM from it, set
// Policy to a new value first (NewVMM re-initialises the Policy it is
// given, which would wreck this VMM's allocator state).
func (v *VMM) Config() VMMConfig {
	if v == nil || !v.ok {
		return VMMConfig{}
	}
	return v.cfg
}

// lookup returns the VSE or ErrNoVSE/ErrDestroyed; v.mu held.
func (v *VMM) lookup(id VSEID) (*vseMem, error) {
	if m, ok := v.vses[id]; ok {
		return m, nil
	}
	if id > 0 && id < v.nextID {
		return nil, ErrDestroyed
	}
	return nil, ErrNoVSE
}

// CreateVSE implements Hypervisor.
func (v *VMM) CreateVSE(ctx context.Context, req VSERequest) (VSEID, error) {
	if v == nil || !v.ok {
		return 0, ErrNotInitialized
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := req.Validate(); err != nil {
		return 0, err
	}
	if req.PageSize%v.cfg.PageSize != 0 {
		return 0, fmt.Errorf("%w: VSE page size %d is not a multiple of the pool's %d", ErrAlignment, req.PageSize, v.cfg.PageSize)
	}
	if req.MemoryBytes > v.cfg.PoolBytes {
		return 0, fmt.Errorf("%w: quota of %d bytes exceeds the %d-byte pool", ErrSize, req.MemoryBytes, v.cfg.PoolBytes)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.vses) >= v.cfg.MaxVSEs {
		return 0, fmt.Errorf("%w: %d live", ErrTooManyVSEs, len(v.vses))
	}
	if _, dup := v.names[req.ID]; dup {
		return 0, fmt.Errorf("%w: %q", ErrDuplicateVSE, req.ID)
	}
	req.AIDs = slices.Clone(req.AIDs)
	for i, a := range req.AIDs {
		req.AIDs[i] = slices.Clone(a)
	}
	slot := slices.Index(v.slots[1:], false) + 1
	v.slots[slot] = true
	id := v.nextID
	v.nextID++
	v.vses[id] = &vseMem{req: req, slot: uint16(slot), ranges: map[uint64]liveRange{}}
	v.names[req.ID] = id
	return id, nil
}

// DestroyVSE implements Hypervisor.
func (v *VMM) DestroyVSE(ctx context.Context, id VSEID) error {
	if v == nil || !v.ok {
		return ErrNotInitialized
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	m, err := v.lookup(id)
	if err != nil {
		return memErr("destroy", id, 0, 0, err)
	}
	for addr := range m.ranges {
		if err := v.freeLocked(id, m, addr); err != nil {
			return err
		}
	}
	v.slots[m.slot] = false
	for ref, g := range v.grants {
		if g.owner == id || g.peer == id {
			delete(v.grants, ref)
		}
	}
	delete(v.vses, id)
	delete(v.names, m.req.ID)
	return nil
}

// Alloc implements Hypervisor.
func (v *VMM) Alloc(ctx context.Context, id VSEID, size uint64) (uint64, error) {
	if v == nil || !v.ok {
		return 0, ErrNotInitialized
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	m, err := v.lookup(id)
	if err != nil {
		return 0, memErr("alloc", id, 0, size, err)
	}
	switch {
	case size == 0:
		return 0, memErr("alloc", id, 0, size, ErrSize)
	case size > v.cfg.PoolBytes:
		return 0, memErr("alloc", id, 0, size, fmt.Errorf("%w: larger than the %d-byte pool", ErrSize, v.cfg.PoolBytes))
	case size%m.req.PageSize != 0:
		return 0, memErr("alloc", id, 0, size, ErrAlignment)
	case m.reserved+size > m.req.MemoryBytes:
		// The policy reserves at least size: refuse before asking it.
		return 0, memErr("alloc", id, 0, size, fmt.Errorf("%w: %d bytes reserved + %d > %d", ErrQuota, m.reserved, size, m.req.MemoryBytes))
	}
	addr, reserved, err := v.cfg.Policy.Alloc(size)
	if err != nil {
		return 0, memErr("alloc", id, 0, size, err)
	}
	r := liveRange{addr: addr, size: size, reserved: reserved, owner: id}
	if err := v.checkNew(r); err != nil {
		// The policy handed out something unusable: refuse. It is not
		// given back — a broken policy's idea of free memory cannot be
		// trusted, and the pages stay with whoever owns them.
		return 0, memErr("alloc", id, addr, size, err)
	}
	// The quota is charged by what the policy really took (a whole
	// static partition, a power-of-two buddy block), so no VSE holds
	// more of the pool than its quota. Over it, the checked range goes
	// back to the policy untouched.
	if m.reserved+reserved > m.req.MemoryBytes {
		qerr := fmt.Errorf("%w: %d bytes reserved + %d (the %s policy reserves %d for %d) > %d",
			ErrQuota, m.reserved, reserved, v.cfg.Policy.Name(), reserved, size, m.req.MemoryBytes)
		if ferr := v.cfg.Policy.Free(addr, size); ferr != nil {
			qerr = errors.Join(qerr, ferr)
		}
		return 0, memErr("alloc", id, 0, size, qerr)
	}
	v.mark(addr, size, m.slot)
	v.mark(addr+size, reserved-size, pageReserved)
	m.ranges[addr] = r
	m.bytes += size
	m.reserved += reserved
	v.used += size
	v.reserved += reserved
	v.high = max(v.high, v.reserved)
	return addr, nil
}

// mark sets the owner of the pages of [addr, addr+n).
func (v *VMM) mark(addr, n uint64, slot uint16) {
	ps := v.cfg.PageSize
	for p := addr / ps; p < (addr+n+ps-1)/ps; p++ {
		v.owner[p] = slot
	}
}

// owned reports whether every page of [addr, end) belongs to slot.
func (v *VMM) owned(addr, end uint64, slot uint16) bool {
	ps := v.cfg.PageSize
	for p := addr / ps; p < (end+ps-1)/ps; p++ {
		if v.owner[p] != slot {
			return false
		}
	}
	return true
}

// checkNew verifies a range returned by the policy: page alignment, no
// wrap-around, inside the pool, no overlap with a live range.
func (v *VMM) checkNew(r liveRange) error {
	if r.addr%v.cfg.PageSize != 0 {
		return fmt.Errorf("%w: policy returned address %#x", ErrAlignment, r.addr)
	}
	if r.reserved < r.size {
		return fmt.Errorf("%w: policy reserved %d bytes for %d", ErrOverflow, r.reserved, r.size)
	}
	end, carry := bits.Add64(r.addr, r.reserved, 0)
	if carry != 0 || end > v.cfg.PoolBytes {
		return fmt.Errorf("%w: [%#x, +%#x) beyond the %d-byte pool", ErrOverflow, r.addr, r.reserved, v.cfg.PoolBytes)
	}
	if !v.owned(r.addr, end, 0) {
		return fmt.Errorf("%w: [%#x, %#x) holds allocated pages", ErrOverlap, r.addr, end)
	}
	return nil
}

// Free implements Hypervisor.
func (v *VMM) Free(ctx context.Context, id VSEID, addr uint64) error {
	if v == nil || !v.ok {
		return ErrNotInitialized
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	m, err := v.lookup(id)
	if err != nil {
		return memErr("free", id, addr, 0, err)
	}
	return v.freeLocked(id, m, addr)
}

func (v *VMM) freeLocked(id VSEID, m *vseMem, addr uint64) error {
	r, found := m.ranges[addr]
	if !found {
		return memErr("free", id, addr, 0, ErrDoubleFree)
	}
	if err := v.cfg.Policy.Free(r.addr, r.size); err != nil {
		return memErr("free", id, addr, r.size, err)
	}
	clear(v.pool[r.addr : r.addr+r.reserved])
	for ref, g := range v.grants {
		if g.owner == id && g.addr < r.addr+r.reserved && r.addr < g.addr+g.n {
			delete(v.grants, ref)
		}
	}
	v.mark(r.addr, r.reserved, 0)
	delete(m.ranges, addr)
	m.bytes -= r.size
	m.reserved -= r.reserved
	v.used -= r.size
	v.reserved -= r.reserved
	return nil
}

// Validate implements Hypervisor.
func (v *VMM) Validate(id VSEID, addr, n uint64) error {
	if v == nil || !v.ok {
		return ErrNotInitialized
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	_, err := v.validateLocked("validate", id, addr, n)
	return err
}

func (v *VMM) validateLocked(op string, id VSEID, addr, n uint64) (*vseMem, error) {
	m, err := v.lookup(id)
	if err != nil {
		return nil, memErr(op, id, addr, n, err)
	}
	if n == 0 {
		return nil, memErr(op, id, addr, n, ErrSize)
	}
	end, carry := bits.Add64(addr, n, 0)
	if carry != 0 {
		return nil, memErr(op, id, addr, n, ErrOverflow)
	}
	if end > v.cfg.PoolBytes || !v.owned(addr, end, m.slot) {
		return nil, memErr(op, id, addr, n, ErrAccess)
	}
	return m, nil
}

// ReadAt implements Hypervisor.
func (v *VMM) ReadAt(id VSEID, p []byte, addr uint64) error {
	if v == nil || !v.ok {
		return ErrNotInitialized
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, err := v.validateLocked("read", id, addr, uint64(len(p))); err != nil {
		return err
	}
	copy(p, v.pool[addr:])
	return nil
}

// WriteAt implements Hypervisor.
func (v *VMM) WriteAt(id VSEID, p []byte, addr uint64) error {
	if v == nil || !v.ok {
		return ErrNotInitialized
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, err := v.validateLocked("write", id, addr, uint64(len(p))); err != nil {
		return err
	}
	copy(v.pool[addr:], p)
	return nil
}

// Grant implements Granter.
func (v *VMM) Grant(ctx context.Context, owner, peer VSEID, addr, n uint64, readOnly bool) (GrantRef, error) {
	if v == nil || !v.ok {
		return 0, ErrNotInitialized
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	m, err := v.validateLocked("grant", owner, addr, n)
	if err != nil {
		return 0, err
	}
	// The granted bytes must lie in one range: a grant across two
	// adjacent ranges would outlive the free of the one it does not
	// start in.
	inOne := false
	for _, r := range m.ranges {
		if addr >= r.addr && addr+n <= r.addr+r.size {
			inOne = true
			break
		}
	}
	if !inOne {
		return 0, memErr("grant", owner, addr, n, fmt.Errorf("%w: the granted bytes span more than one range", ErrAccess))
	}
	if _, err := v.lookup(peer); err != nil || peer == owner {
		if err == nil {
			err = fmt.Errorf("%w: a VSE cannot grant to itself", ErrGrant)
		}
		return 0, memErr("grant", peer, addr, n, err)
	}
	ref := v.nextRef
	v.nextRef++
	v.grants[ref] = &grant{owner: owner, peer: peer, addr: addr, n: n, readOnly: readOnly}
	return ref, nil
}

// Revoke implements Granter.
func (v *VMM) Revoke(ctx context.Context, owner VSEID, ref GrantRef) error {
	if v == nil || !v.ok {
		return ErrNotInitialized
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	g, err := v.grantLocked(ref)
	if err != nil {
		return memErr("revoke", owner, 0, 0, err)
	}
	if g.owner != owner {
		return memErr("revoke", owner, g.addr, g.n, ErrGrant)
	}
	delete(v.grants, ref)
	return nil
}

func (v *VMM) grantLocked(ref GrantRef) (*grant, error) {
	if g, ok := v.grants[ref]; ok {
		return g, nil
	}
	if ref > 0 && ref < v.nextRef {
		return nil, ErrGrantRevoked
	}
	return nil, ErrGrant
}

func (v *VMM) grantAccess(op string, peer VSEID, ref GrantRef, off uint64, n int, write bool) (uint64, error) {
	if _, err := v.lookup(peer); err != nil {
		return 0, memErr(op, peer, off, uint64(n), err)
	}
	g, err := v.grantLocked(ref)
	if err != nil {
		return 0, memErr(op, peer, off, uint64(n), err)
	}
	if g.peer != peer {
		return 0, memErr(op, peer, off, uint64(n), ErrGrant)
	}
	if write && g.readOnly {
		return 0, memErr(op, peer, off, uint64(n), ErrReadOnly)
	}
	end, carry := bits.Add64(off, uint64(n), 0)
	if carry != 0 {
		return 0, memErr(op, peer, off, uint64(n), ErrOverflow)
	}
	if n == 0 || end > g.n {
		return 0, memErr(op, peer, off, uint64(n), ErrAccess)
	}
	return g.addr + off, nil
}

// ReadGrant implements Granter.
func (v *VMM) ReadGrant(peer VSEID, ref GrantRef, off uint64, p []byte) error {
	if v == nil || !v.ok {
		return ErrNotInitialized
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	a, err := v.grantAccess("read-grant", peer, ref, off, len(p), false)
	if err != nil {
		return err
	}
	copy(p, v.pool[a:])
	return nil
}

// WriteGrant implements Granter.
func (v *VMM) WriteGrant(peer VSEID, ref GrantRef, off uint64, p []byte) error {
	if v == nil || !v.ok {
		return ErrNotInitialized
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	a, err := v.grantAccess("write-grant", peer, ref, off, len(p), true)
	if err != nil {
		return err
	}
	copy(v.pool[a:], p)
	return nil
}

// PoolStats describes the pool's use and fragmentation.
type PoolStats struct {
	Policy    string
	PoolBytes uint64
	PageSize  uint64
	VSEs      int
	// UsedBytes is what the live ranges asked for; ReservedBytes what
	// the policy set aside for them (the difference is internal
	// fragmentation: buddy rounding, whole static partitions).
	UsedBytes, ReservedBytes uint64
	// HighWater is the largest ReservedBytes seen.
	HighWater uint64
	// FreeBytes is the allocatable free memory, LargestFree its largest
	// block and FreeBlocks the number of free blocks.
	FreeBytes, LargestFree uint64
	FreeBlocks             int
	// FreeByOrder[k] counts free blocks of 2^k to 2^(k+1)−1 pages.
	FreeByOrder []int
}

// Fragmentation returns the external fragmentation 1 − LargestFree /
// FreeBytes: 0 when the free memory is one block (or none is free), near 1
// when it is scattered in small pieces.
func (s PoolStats) Fragmentation() float64 {
	if s.FreeBytes == 0 {
		return 0
	}
	return 1 - float64(s.LargestFree)/float64(s.FreeBytes)
}

// Stats returns the pool statistics.
func (v *VMM) Stats() PoolStats {
	if v == nil || !v.ok {
		return PoolStats{}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	s := PoolStats{
		Policy: v.cfg.Policy.Name(), PoolBytes: v.cfg.PoolBytes, PageSize: v.cfg.PageSize,
		VSEs: len(v.vses), UsedBytes: v.used, ReservedBytes: v.reserved, HighWater: v.high,
	}
	v.cfg.Policy.FreeBlocks(func(_, size uint64) bool {
		s.FreeBytes += size
		s.LargestFree = max(s.LargestFree, size)
		s.FreeBlocks++
		k := bits.Len64(size/v.cfg.PageSize) - 1
		if k >= 0 {
			for len(s.FreeByOrder) <= k {
				s.FreeByOrder = append(s.FreeByOrder, 0)
			}
			s.FreeByOrder[k]++
		}
		return true
	})
	return s
}

// Usage returns what the VSE's live ranges asked for (used) and what the
// policy reserved for them (reserved, the amount charged to its quota:
// reserved ≤ VSERequest.MemoryBytes always holds). Errors: ErrNoVSE,
// ErrDestroyed.
func (v *VMM) Usage(id VSEID) (used, reserved uint64, err error) {
	if v == nil || !v.ok {
		return 0, 0, ErrNotInitialized
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	m, err := v.lookup(id)
	if err != nil {
		return 0, 0, memErr("usage", id, 0, 0, err)
	}
	return m.bytes, m.reserved, nil
}

// Ranges returns the VSE's live ranges as (address, size) pairs in address
// order. Errors: ErrNoVSE, ErrDestroyed.
func (v *VMM) Ranges(id VSEID) ([][2]uint64, error) {
	if v == nil || !v.ok {
		return nil, ErrNotInitialized
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	m, err := v.lookup(id)
	if err != nil {
		return nil, memErr("ranges", id, 0, 0, err)
	}
	out := make([][2]uint64, 0, len(m.ranges))
	for _, r := range m.ranges {
		out = append(out, [2]uint64{r.addr, r.size})
	}
	slices.SortFunc(out, func(a, b [2]uint64) int { return cmp.Compare(a[0], b[0]) })
	return out, nil
}
