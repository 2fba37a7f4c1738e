package emv_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/payedge/payedge/nfc/emv"
	"github.com/payedge/payedge/nfc/emv/emvtest"
)

// scriptedCard answers each command with the next response of a script:
// responses are stored as a two-byte big-endian length and the bytes.
type scriptedCard struct{ script []byte }

func (s *scriptedCard) Transceive(ctx context.Context, _ []byte) ([]byte, error) {
	if len(s.script) < 2 {
		return nil, errors.New("card left the field")
	}
	n := int(binary.BigEndian.Uint16(s.script))
	s.script = s.script[2:]
	n = min(n, len(s.script))
	out := s.script[:n]
	s.script = s.script[n:]
	return out, nil
}

func script(resps ...[]byte) []byte {
	var out []byte
	for _, r := range resps {
		out = binary.BigEndian.AppendUint16(out, uint16(len(r)))
		out = append(out, r...)
	}
	return out
}

// FuzzRead runs a whole Reader.Read against a card that answers from fuzz
// input: it must end (no endless loop), never panic, and a successful read
// must have a PAN that only the accessor reveals.
func FuzzRead(f *testing.F) {
	for _, card := range []*emvtest.Card{emvtest.Visa(), emvtest.Mastercard()} {
		r, _ := emv.NewReader(card, emv.Config{})
		if _, err := r.Read(context.Background()); err != nil {
			f.Fatal(err)
		}
		var resps [][]byte
		for _, e := range card.Log() {
			resps = append(resps, e.Response)
		}
		f.Add(script(resps...))
	}
	f.Add(script(h("6a82")))
	f.Add(script(h("61ff"), h("6cff")))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 1<<14 {
			t.Skip()
		}
		r, err := emv.NewReader(&scriptedCard{in}, emv.Config{MaxRecords: 16})
		if err != nil {
			t.Fatal(err)
		}
		c, err := r.Read(context.Background())
		if err != nil {
			return
		}
		pan := c.RevealPAN()
		if pan == "" {
			t.Fatal("read succeeded without a PAN")
		}
		for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", *c), c.String()} {
			if len(pan) > 4 && strings.Contains(s, pan) {
				t.Fatalf("formatting shows the PAN: %s", s)
			}
		}
	})
}
