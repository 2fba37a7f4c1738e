package risk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxObservationJSON bounds the JSON form of one NeighborObservation read by
// DecodeObservation, in bytes: room for MaxScan neighbours of about 100
// bytes each and the header.
const MaxObservationJSON = 128 << 10

// DecodeObservation reads one JSON NeighborObservation (the form documented
// on NeighborObservation) from r and validates it. It reads at most
// MaxObservationJSON+1 bytes, so an endpoint can hand it a request body
// directly. It is stricter than encoding/json: a key repeated in one object
// (where encoding/json keeps the last) and a key that matches a field only
// when case is folded ("Terminal_ID", where encoding/json matches
// "terminal_id") are errors; unknown keys are ignored. Larger input,
// malformed JSON, such keys or trailing data are errors wrapping
// ErrObservation; an invalid neighbour (including a duplicate one) is a
// *NeighborError as from NeighborObservation.Validate, and the header rules
// (terminal ID characters, time range) are Validate's.
func DecodeObservation(r io.Reader) (NeighborObservation, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxObservationJSON+1))
	if err != nil {
		return NeighborObservation{}, fmt.Errorf("%w: read: %w", ErrObservation, err)
	}
	if len(b) > MaxObservationJSON {
		return NeighborObservation{}, fmt.Errorf("%w: JSON longer than %d bytes", ErrObservation, MaxObservationJSON)
	}
	if err := checkKeys(b); err != nil {
		return NeighborObservation{}, fmt.Errorf("%w: %w", ErrObservation, err)
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

// JSON object contexts checkKeys knows.
const (
	ctxOther = iota
	ctxObservation
	ctxSeen // the "seen" array
	ctxNeighbor
)

type jsonFrame struct {
	object  bool
	wantKey bool
	ctx     int
	lastKey string
	keys    []string        // the object's keys while few
	many    map[string]bool // all its keys once there are more
}

// checkKeys walks the JSON tokens of b and rejects duplicate keys in any
// object, and keys of an observation or neighbour object that equal a field
// name only under case folding. It does not allocate per value beyond what
// the tokenizer does, and its work is linear in len(b) except for the key
// comparison within one object, which is bounded by the input size.
func checkKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	var stack []jsonFrame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil // syntax errors and trailing data are Unmarshal's
		}
		if err != nil {
			return nil
		}
		var top *jsonFrame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				valueDone(stack)
				continue
			}
			k, _ := tok.(string)
			if err := top.addKey(k); err != nil {
				return err
			}
			continue
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			child := ctxOther
			switch {
			case top == nil:
				child = ctxObservation
			case top.ctx == ctxObservation && top.lastKey == "seen":
				child = ctxSeen
			case top.ctx == ctxSeen:
				child = ctxNeighbor
			}
			obj := tok == json.Delim('{')
			if !obj && child != ctxSeen {
				child = ctxOther
			}
			if obj && child == ctxSeen {
				child = ctxOther
			}
			stack = append(stack, jsonFrame{object: obj, wantKey: obj, ctx: child})
		case json.Delim('}'), json.Delim(']'):
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			valueDone(stack)
		default:
			valueDone(stack)
		}
	}
}

// valueDone records that the value of the current key of the innermost
// object is complete.
func valueDone(stack []jsonFrame) {
	if len(stack) > 0 && stack[len(stack)-1].object {
		stack[len(stack)-1].wantKey = true
	}
}

func (f *jsonFrame) addKey(k string) error {
	f.wantKey = false
	f.lastKey = k
	dup := false
	if f.many != nil {
		dup = f.many[k]
		f.many[k] = true
	} else {
		for _, have := range f.keys {
			dup = dup || have == k
		}
		f.keys = append(f.keys, k)
		if len(f.keys) > 16 {
			f.many = make(map[string]bool, 2*len(f.keys))
			for _, have := range f.keys {
				f.many[have] = true
			}
			f.keys = nil
		}
	}
	if dup {
		return fmt.Errorf("JSON key %q repeated in one object", truncate(k, 32))
	}
	// The exact keys of the JSON forms of NeighborObservation and Neighbor.
	switch f.ctx {
	case ctxObservation:
		return exactKey(k, "terminal_id", "at", "seen", "sig")
	case ctxNeighbor:
		return exactKey(k, "id", "kind", "rssi", "random")
	}
	return nil
}

// exactKey rejects k when it equals one of names only under case folding,
// which encoding/json would accept as that field.
func exactKey(k string, names ...string) error {
	for _, name := range names {
		if k != name && strings.EqualFold(k, name) {
			return fmt.Errorf("JSON key %q differs from %q only in case", truncate(k, 32), name)
		}
	}
	return nil
}
