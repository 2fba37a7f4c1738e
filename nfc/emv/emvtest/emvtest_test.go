package emvtest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
	"github.com/payedge/payedge/nfc/emv"
	"github.com/payedge/payedge/nfc/emv/emvtest"
)

func TestZeroValues(t *testing.T) {
	zerotest.Covered(t, "Card", "ReplayError", "Replay")
	ctx := context.Background()
	// A zero Card has no applications: SELECT PPSE answers 6A82.
	var c emvtest.Card
	resp, err := c.Transceive(ctx, []byte{0x00, 0xA4, 0x04, 0x00, 0x0E, '2', 'P', 'A', 'Y', '.', 'S', 'Y', 'S', '.', 'D', 'D', 'F', '0', '1', 0x00})
	if err != nil || len(resp) != 2 || resp[0] != 0x6A || resp[1] != 0x82 {
		t.Errorf("zero card: %x %v", resp, err)
	}
	if len(c.Log()) != 1 || c.GPOData() != nil {
		t.Error("zero card log")
	}
	c.Reset()
	var np *emvtest.Card
	if _, err := np.Transceive(ctx, nil); !errors.Is(err, emvtest.ErrNotInitialized) {
		t.Error(err)
	}
	np.Reset()
	_ = np.Log()
	_ = np.GPOData()

	var re emvtest.ReplayError
	_ = re.Error()
	var nre *emvtest.ReplayError
	_ = nre.Error()

	var r emvtest.Replay
	if _, err := r.Transceive(ctx, []byte{0}); !errors.As(err, new(*emvtest.ReplayError)) {
		t.Errorf("zero replay: %v", err)
	}
	if r.Remaining() != 0 {
		t.Error("remaining")
	}
	var nr *emvtest.Replay
	if _, err := nr.Transceive(ctx, nil); !errors.Is(err, emvtest.ErrNotInitialized) {
		t.Error(err)
	}
	_ = nr.Remaining()
}

func TestCardsRead(t *testing.T) {
	for _, card := range []*emvtest.Card{emvtest.Visa(), emvtest.Mastercard()} {
		r, _ := emv.NewReader(card, emv.Config{})
		if _, err := r.Read(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func Example() {
	card := emvtest.Mastercard()
	r, _ := emv.NewReader(card, emv.Config{})
	c, err := r.Read(context.Background())
	fmt.Println(c, err, len(card.Log()))
	// Output: MASTERCARD ************0434 A0000000041010 <nil> 7
}

func TestParseLog(t *testing.T) {
	log, err := emvtest.ParseLog(strings.NewReader("# a log\n> 00a4 0400 00\n< 6a82\n\n> 80a8000002830000\n< 9000\n"))
	if err != nil || len(log) != 2 || len(log[0].Command) != 5 || log[1].Response[0] != 0x90 {
		t.Fatalf("%+v %v", log, err)
	}
	for _, bad := range []string{"< 9000\n", "> 00a4\n< 9000\n", "> 00a40400\n", "> 00a40400\n< 90\n", "> zz\n", "x 00\n", "> 00a40400\n> 00a40400\n"} {
		if _, err := emvtest.ParseLog(strings.NewReader(bad)); !errors.Is(err, emvtest.ErrLog) {
			t.Errorf("ParseLog(%q) = %v", bad, err)
		}
	}
}

func FuzzParseLog(f *testing.F) {
	f.Add("> 00a40400\n< 9000\n")
	f.Add("# c\n> 00 a4 04 00 00\n< 6f00 9000\n")
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 1<<16 {
			t.Skip()
		}
		log, err := emvtest.ParseLog(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, e := range log {
			if len(e.Command) < 4 || len(e.Response) < 2 {
				t.Fatalf("bad exchange accepted: %+v", e)
			}
		}
	})
}
