package iso8583

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Framing: every message travels behind a 2-byte big-endian binary length
// header (the "2-byte binary" framing of most card networks' TCP links).

// DefaultMaxMessageLen bounds a framed message in bytes. ISO 8583:1987
// messages of the fields used here are a few hundred bytes.
const DefaultMaxMessageLen = 8192

// FrameError reports a length header outside [1, Max]: the peer is not
// speaking this framing (or is hostile) and the stream cannot be
// resynchronised, so the connection is closed.
type FrameError struct {
	Length, Max int
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("iso8583: frame length %d not in [1, %d]", e.Length, e.Max)
}

// Unwrap returns ErrFrame.
func (e *FrameError) Unwrap() error { return ErrFrame }

// LengthReader returns a reader of the 2-byte header that rejects lengths
// outside [1, max] with a *FrameError (max ≤ 0 means DefaultMaxMessageLen).
func LengthReader(max int) func(r io.Reader) (int, error) {
	if max <= 0 {
		max = DefaultMaxMessageLen
	}
	return func(r io.Reader) (int, error) {
		var h [2]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return 0, err
		}
		n := int(binary.BigEndian.Uint16(h[:]))
		if n < 1 || n > max {
			return 0, &FrameError{Length: n, Max: max}
		}
		return n, nil
	}
}

// WriteLength writes the 2-byte header for a message of length bytes.
func WriteLength(w io.Writer, length int) (int, error) {
	if length < 1 || length > 0xffff {
		return 0, &FrameError{Length: length, Max: 0xffff}
	}
	var h [2]byte
	binary.BigEndian.PutUint16(h[:], uint16(length))
	return w.Write(h[:])
}
