package vehicle

// ReplayWindowSize is the number of sequence numbers a ReplayWindow
// remembers behind the highest one accepted.
const ReplayWindowSize = 64

// ReplayWindow is the anti-replay sliding window of RFC 4303 §3.4.3 (IPsec
// ESP) with a 64-entry bitmap: a sequence number is accepted once, if it is
// above the highest seen or inside the window and not yet seen. Check it
// only on authenticated sequence numbers, as ESP does, so forged packets
// cannot advance the window. Sequence numbers start at 1.
//
// The zero value is an empty window ready to use. A ReplayWindow is not
// safe for concurrent use; Vehicle guards its windows, and saves them in
// its replay state so that they survive a restart (Vehicle.ReplayState).
type ReplayWindow struct {
	top    uint64 // highest sequence accepted; 0 = none yet
	bitmap uint64 // bit i set: sequence top-i accepted
}

// Check reports, without changing the window, whether seq would be
// accepted; the error is a *ReplayError.
func (w *ReplayWindow) Check(seq uint64) error {
	if w == nil {
		return ErrNotInitialized
	}
	switch {
	case seq == 0:
		return &ReplayError{Sequence: seq, Highest: w.top}
	case seq > w.top:
		return nil
	case w.top-seq >= ReplayWindowSize:
		return &ReplayError{Sequence: seq, Highest: w.top}
	case w.bitmap&(1<<(w.top-seq)) != 0:
		return &ReplayError{Sequence: seq, Highest: w.top, Duplicate: true}
	}
	return nil
}

// Accept checks seq and, if it is acceptable, records it.
func (w *ReplayWindow) Accept(seq uint64) error {
	if err := w.Check(seq); err != nil {
		return err
	}
	if seq > w.top {
		shift := seq - w.top
		if shift >= ReplayWindowSize {
			w.bitmap = 0
		} else {
			w.bitmap <<= shift
		}
		w.bitmap |= 1
		w.top = seq
		return nil
	}
	w.bitmap |= 1 << (w.top - seq)
	return nil
}

// Highest returns the highest sequence number accepted, 0 if none.
func (w *ReplayWindow) Highest() uint64 {
	if w == nil {
		return 0
	}
	return w.top
}
