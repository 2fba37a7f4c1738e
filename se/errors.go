package se

import (
	"errors"
	"fmt"
)

// Errors of the secure element, its channels and applets. They are wrapped
// with detail; test with errors.Is.
var (
	// ErrNotInitialized reports use of a zero-value Memory, VSE, VMM or
	// VirtualManager (or a nil element): construct them with their New
	// functions.
	ErrNotInitialized = errors.New("se: not initialized (use the New… constructor)")
	// ErrClosed reports use of a SecureElement after Close.
	ErrClosed = errors.New("se: secure element closed")
	// ErrChannelClosed reports an APDU on a closed or never-opened channel
	// (SW 6881 at the APDU level).
	ErrChannelClosed = errors.New("se: logical channel not open")
	// ErrNoFreeChannel reports MANAGE CHANNEL open when every logical
	// channel is in use (SW 6A81).
	ErrNoFreeChannel = errors.New("se: no free logical channel")
	// ErrAIDLength reports an AID shorter than 5 or longer than 16 bytes
	// (ISO/IEC 7816-5; SW 6700 at the APDU level).
	ErrAIDLength = errors.New("se: AID length outside 5–16 bytes")
	// ErrAppletNotFound reports an AID that matches no installed applet
	// (SW 6A82).
	ErrAppletNotFound = errors.New("se: applet not found")
	// ErrSelectFailed reports a SELECT that the applet or element refused
	// with another status word.
	ErrSelectFailed = errors.New("se: selection refused")
	// ErrDuplicateAID reports installing an AID that is already installed.
	ErrDuplicateAID = errors.New("se: AID already installed")
	// ErrAppletSelected reports uninstalling an applet that is selected on
	// some channel.
	ErrAppletSelected = errors.New("se: applet is selected")
	// ErrAIDNotAllowed reports installing on a virtual SE an AID that its
	// configuration does not list.
	ErrAIDNotAllowed = errors.New("se: AID not allowed in this virtual SE")
	// ErrNesting reports an inter-applet APDU (Selection.Element) sent
	// outside an applet call or nested deeper than MaxNesting.
	ErrNesting = errors.New("se: inter-applet APDU outside an applet call or nested too deep")
	// ErrProtocol reports a response that breaks ISO/IEC 7816-4, such as a
	// MANAGE CHANNEL answer without a channel number.
	ErrProtocol = errors.New("se: protocol violation")
	// ErrStorage reports a storage access outside the applet's storage.
	ErrStorage = errors.New("se: storage access out of range")
	// ErrConfig reports an invalid configuration value.
	ErrConfig = errors.New("se: invalid configuration")
	// ErrCPLC reports CPLC data of the wrong length or tag.
	ErrCPLC = errors.New("se: malformed CPLC data")
)

// Errors of the virtual machine monitor, for bad memory requests and
// accesses. They come wrapped in a *MemoryError.
var (
	// ErrSize reports a zero size or a request larger than the pool.
	ErrSize = errors.New("se: invalid size")
	// ErrAlignment reports a size or address that is not a multiple of the
	// page size, or a page size that is not a power of two.
	ErrAlignment = errors.New("se: misaligned size or address")
	// ErrOverflow reports a range whose end wraps around (base+size < base)
	// or lies beyond the pool.
	ErrOverflow = errors.New("se: range overflows")
	// ErrOverlap reports an allocation that would overlap an existing one
	// (a broken Policy); the VMM refuses it.
	ErrOverlap = errors.New("se: ranges overlap")
	// ErrQuota reports an allocation that would take the bytes reserved
	// for a VSE (with the policy's rounding) beyond its MemoryBytes.
	ErrQuota = errors.New("se: VSE memory quota exceeded")
	// ErrTooManyVSEs reports a VSE beyond the monitor's MaxVSEs.
	ErrTooManyVSEs = errors.New("se: too many virtual SEs")
	// ErrNoMemory reports a pool without a free block large enough.
	ErrNoMemory = errors.New("se: out of memory")
	// ErrDoubleFree reports freeing a range that is not allocated.
	ErrDoubleFree = errors.New("se: range not allocated (double free?)")
	// ErrNoVSE reports a VSE ID that never existed.
	ErrNoVSE = errors.New("se: no such virtual SE")
	// ErrDestroyed reports use of a VSE after it was destroyed.
	ErrDestroyed = errors.New("se: virtual SE destroyed")
	// ErrDuplicateVSE reports creating a VSE whose ID is in use.
	ErrDuplicateVSE = errors.New("se: virtual SE ID in use")
	// ErrAccess reports an access outside the VSE's own ranges.
	ErrAccess = errors.New("se: access outside the VSE's memory")
	// ErrGrant reports an unknown grant reference or a grant used by
	// another VSE than its peer.
	ErrGrant = errors.New("se: no such grant for this VSE")
	// ErrGrantRevoked reports use of a revoked grant.
	ErrGrantRevoked = errors.New("se: grant revoked")
	// ErrReadOnly reports a write through a read-only grant.
	ErrReadOnly = errors.New("se: grant is read-only")
	// ErrBusy reports destroying a VSE that has open logical channels.
	ErrBusy = errors.New("se: virtual SE has open channels")
)

// MemoryError is the typed error of the virtual machine monitor: the
// operation, the VSE, the range and the reason (one of the sentinel errors
// above, matched with errors.Is).
type MemoryError struct {
	Op   string // "alloc", "free", "read", "write", "validate", "grant", …
	VSE  VSEID
	Addr uint64
	Len  uint64
	Err  error
}

// Error describes the failure.
func (e *MemoryError) Error() string {
	if e == nil {
		return "<nil>"
	}
	return fmt.Sprintf("se: %s vse %d [%#x, +%#x): %v", e.Op, e.VSE, e.Addr, e.Len, e.Err)
}

// Unwrap returns the reason.
func (e *MemoryError) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

func memErr(op string, id VSEID, addr, n uint64, err error) error {
	return &MemoryError{Op: op, VSE: id, Addr: addr, Len: n, Err: err}
}
