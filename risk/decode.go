package risk

import (
	"encoding/json"
	"fmt"
	"io"
)

// MaxObservationJSON bounds the JSON form of one NeighborObservation read by
// DecodeObservation, in bytes: room for MaxScan neighbours of about 100
// bytes each and the header.
const MaxObservationJSON = 128 << 10

// DecodeObservation reads one JSON NeighborObservation (the form documented
// on NeighborObservation) from r and validates it. It reads at most
// MaxObservationJSON+1 bytes, so an endpoint can hand it a request body
// directly; larger input, malformed JSON or trailing data are errors wrapping
// ErrObservation, and an invalid neighbour is a *NeighborError as from
// NeighborObservation.Validate.
func DecodeObservation(r io.Reader) (NeighborObservation, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxObservationJSON+1))
	if err != nil {
		return NeighborObservation{}, fmt.Errorf("%w: read: %w", ErrObservation, err)
	}
	if len(b) > MaxObservationJSON {
		return NeighborObservation{}, fmt.Errorf("%w: JSON longer than %d bytes", ErrObservation, MaxObservationJSON)
	}
	var obs NeighborObservation
	// Unmarshal, unlike a Decoder, rejects anything after the value.
	if err := json.Unmarshal(b, &obs); err != nil {
		return NeighborObservation{}, fmt.Errorf("%w: %w", ErrObservation, err)
	}
	if err := obs.Validate(); err != nil {
		return NeighborObservation{}, err
	}
	return obs, nil
}
