package apdu

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// Encodings follow ISO/IEC 7816-4:2020 §5.1 (Table 1 and Figures 2–9).
func TestCommandCases(t *testing.T) {
	tests := []struct {
		name string
		cmd  Command
		hex  string
		cas  int
	}{
		{"case1", Command{0x00, 0x70, 0x00, 0x00, nil, 0}, "00700000", 1},
		{"case2S Le=1", Command{0x00, 0xB0, 0x00, 0x00, nil, 1}, "00B0000001", 2},
		{"case2S Le=00 means 256", Command{0x00, 0xB0, 0x00, 0x00, nil, 256}, "00B0000000", 2},
		{"case3S", Command{0x00, 0xA4, 0x04, 0x00, []byte{0xA0, 0x00}, 0}, "00A4040002A000", 3},
		{"case3S Nc=255", Command{0x00, 0xD6, 0x00, 0x00, seq(255), 0}, "00D60000FF" + hex.EncodeToString(seq(255)), 3},
		{"case4S", Command{0x00, 0xA4, 0x04, 0x00, []byte{0xA0, 0x00}, 256}, "00A4040002A00000", 4},
		{"case4S Le=10", Command{0x80, 0xCA, 0x9F, 0x7F, []byte{1}, 0x10}, "80CA9F7F010110", 4},
		{"case2E Ne=257", Command{0x00, 0xB0, 0x00, 0x00, nil, 257}, "00B00000000101", 2},
		{"case2E Ne=65536", Command{0x00, 0xB0, 0x00, 0x00, nil, 65536}, "00B00000000000", 2},
		{"case3E Nc=256", Command{0x00, 0xD6, 0x00, 0x00, seq(256), 0}, "00D60000000100" + hex.EncodeToString(seq(256)), 3},
		{"case4E Nc=256 Ne=1", Command{0x00, 0x2A, 0x9E, 0x9A, seq(256), 1}, "002A9E9A000100" + hex.EncodeToString(seq(256)) + "0001", 4},
		{"case4E Nc=1 Ne=65536", Command{0x00, 0x2A, 0x9E, 0x9A, []byte{7}, 65536}, "002A9E9A00000107" + "0000", 4},
		{"case4E Nc=2 Ne=300", Command{0x00, 0x2A, 0x9E, 0x9A, []byte{7, 8}, 300}, "002A9E9A0000020708012C", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := mustHex(t, tt.hex)
			got, err := tt.cmd.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("MarshalBinary = %X, want %X", got, want)
			}
			if n := tt.cmd.EncodedLen(); n != len(want) {
				t.Errorf("EncodedLen = %d, want %d", n, len(want))
			}
			if c := tt.cmd.Case(); c != tt.cas {
				t.Errorf("Case = %d, want %d", c, tt.cas)
			}
			parsed, err := ParseCommand(want)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.cmd, parsed); diff != "" {
				t.Errorf("ParseCommand (-want +got):\n%s", diff)
			}
			app, err := tt.cmd.AppendBinary([]byte{0xEE})
			if err != nil || !bytes.Equal(app[1:], want) || app[0] != 0xEE {
				t.Errorf("AppendBinary = %X, %v", app, err)
			}
		})
	}
}

func TestParseCommandAliases(t *testing.T) {
	raw := mustHex(t, "00A4040002A00000")
	c, err := ParseCommand(raw)
	if err != nil {
		t.Fatal(err)
	}
	raw[5] = 0xFF
	if c.Data[0] != 0xFF {
		t.Fatal("Data does not alias the input")
	}
}

func TestParseCommandErrors(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want error
	}{
		{"empty", "", ErrTruncated},
		{"3 bytes", "00A404", ErrTruncated},
		{"short Lc=00", "00A404000001", ErrLength},
		{"short Lc too long", "00A4040003A000", ErrTruncated},
		{"short trailing garbage", "00A4040001A00000", ErrLength},
		{"extended Lc=0000", "00A40400000000AA", ErrLength},
		{"extended Lc too long", "00A4040000000301", ErrTruncated},
		{"extended with short Le", "00A404000000010100", ErrLength},
		{"extended trailing garbage", "00A4040000000101000000", ErrLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCommand(mustHex(t, tt.hex))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	for _, c := range []Command{
		{Data: make([]byte, MaxNc+1)},
		{Ne: -1},
		{Ne: MaxNe + 1},
	} {
		if _, err := c.MarshalBinary(); !errors.Is(err, ErrLength) {
			t.Errorf("MarshalBinary(Nc=%d, Ne=%d) err = %v, want ErrLength", len(c.Data), c.Ne, err)
		}
		if _, err := c.AppendBinary(nil); !errors.Is(err, ErrLength) {
			t.Errorf("AppendBinary err = %v", err)
		}
	}
	c := Command{Data: make([]byte, MaxNc), Ne: MaxNe}
	b, err := c.MarshalBinary()
	if err != nil || len(b) != MaxCommandLen {
		t.Fatalf("max command: len %d, err %v", len(b), err)
	}
}

func TestResponse(t *testing.T) {
	r, err := ParseResponse(mustHex(t, "01029000"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Response{Data: []byte{1, 2}, SW: 0x9000}, r); diff != "" {
		t.Fatal(diff)
	}
	if !r.Success() || r.Err() != nil || r.SW1() != 0x90 || r.SW2() != 0 {
		t.Fatal("success helpers")
	}
	r, err = ParseResponse(mustHex(t, "6A82"))
	if err != nil || r.Data != nil || r.SW != SWFileNotFound {
		t.Fatalf("%v %v", r, err)
	}
	var se *StatusError
	if !errors.As(r.Err(), &se) || se.SW != 0x6A82 || !strings.Contains(se.Error(), "file or application not found") {
		t.Fatalf("Err = %v", r.Err())
	}
	if _, err := ParseResponse([]byte{0x90}); !errors.Is(err, ErrTruncated) {
		t.Fatal(err)
	}
	if _, err := ParseResponse(make([]byte, MaxNe+3)); !errors.Is(err, ErrLength) {
		t.Fatal(err)
	}
	b, err := Response{Data: []byte{0xAA}, SW: 0x6310}.MarshalBinary()
	if err != nil || !bytes.Equal(b, []byte{0xAA, 0x63, 0x10}) {
		t.Fatalf("%X %v", b, err)
	}
	if _, err := (Response{Data: make([]byte, MaxNe+1)}).MarshalBinary(); !errors.Is(err, ErrLength) {
		t.Fatal(err)
	}
}

func TestStatusText(t *testing.T) {
	for sw, want := range map[uint16]string{
		0x9000: "normal processing",
		0x6982: "security status not satisfied",
		0x6110: "16 response bytes still available",
		0x6C00: "wrong Le field: 256 bytes available",
		0x63C2: "2 retries left",
		0x6A99: "wrong parameters P1-P2",
		0x1234: "unknown status",
	} {
		if got := StatusText(sw); !strings.Contains(got, want) {
			t.Errorf("StatusText(%04X) = %q, want it to contain %q", sw, got, want)
		}
	}
	if !IsWarning(0x6283) || !IsWarning(0x6300) || IsWarning(0x9000) || IsWarning(0x6400) {
		t.Fatal("IsWarning")
	}
	if !IsSuccess(0x9000) || IsSuccess(0x6100) {
		t.Fatal("IsSuccess")
	}
}

// Class-byte codings of ISO/IEC 7816-4:2020 §5.4.1 Tables 2 and 3 and of
// GlobalPlatform Card Specification v2.3.1 §11.1.4 (80/84 on channels 0–3,
// C0/E0 on channels 4–19).
func TestWithChannel(t *testing.T) {
	tests := []struct {
		cla  byte
		ch   int
		want byte
	}{
		{0x00, 0, 0x00}, {0x00, 1, 0x01}, {0x00, 3, 0x03},
		{0x00, 4, 0x40}, {0x00, 19, 0x4F},
		{0x80, 2, 0x82}, {0x84, 3, 0x87}, {0x84, 4, 0xE0}, {0x84, 19, 0xEF},
		{0x80, 5, 0xC1}, {0xE1, 0, 0x84}, {0xC1, 1, 0x81},
		{0x10, 7, 0x53}, {0x08, 6, 0x62}, {0x62, 2, 0x0A},
		{0x0C, 2, 0x0E},
	}
	for _, tt := range tests {
		got, err := WithChannel(tt.cla, tt.ch)
		if err != nil || got != tt.want {
			t.Errorf("WithChannel(%02X, %d) = %02X, %v; want %02X", tt.cla, tt.ch, got, err, tt.want)
			continue
		}
		ch, err := Channel(got)
		if err != nil || ch != tt.ch {
			t.Errorf("Channel(%02X) = %d, %v; want %d", got, ch, err, tt.ch)
		}
		if SecureMessaging(got) != SecureMessaging(tt.cla) {
			t.Errorf("secure messaging not preserved: %02X -> %02X", tt.cla, got)
		}
	}
	for _, ch := range []int{-1, 20, 255} {
		if _, err := WithChannel(0x00, ch); !errors.Is(err, ErrChannel) {
			t.Errorf("channel %d: err = %v, want ErrChannel", ch, err)
		}
	}
	if _, err := WithChannel(0x0C, 4); !errors.Is(err, ErrClass) {
		t.Errorf("header-authenticated SM to channel 4: %v", err)
	}
	if _, err := WithChannel(0xFF, 0); !errors.Is(err, ErrClass) {
		t.Errorf("CLA FF: %v", err)
	}
	if _, err := Channel(0xFF); !errors.Is(err, ErrClass) {
		t.Errorf("Channel(FF): %v", err)
	}
	// Reserved classes 20–3F have no channel coding; recoding them (or the
	// proprietary A0–BF) would silently drop b6.
	for _, cla := range []byte{0x20, 0x21, 0x3F} {
		if ch, err := Channel(cla); !errors.Is(err, ErrClass) {
			t.Errorf("Channel(%02X) = %d, %v; want ErrClass", cla, ch, err)
		}
	}
	for _, cla := range []byte{0x20, 0x33, 0xA0, 0xB1} {
		if got, err := WithChannel(cla, 1); !errors.Is(err, ErrClass) {
			t.Errorf("WithChannel(%02X, 1) = %02X, %v; want ErrClass", cla, got, err)
		}
	}
	if ch, err := Channel(0xA1); err != nil || ch != 1 {
		t.Errorf("Channel(A1) = %d, %v; want 1", ch, err)
	}
	c, err := Command{CLA: 0x80, INS: 0xCA}.OnChannel(9)
	if err != nil || c.CLA != 0xC5 {
		t.Fatalf("OnChannel = %02X, %v", c.CLA, err)
	}
	if SetSecureMessaging(0x81) != 0x85 || SetSecureMessaging(0xC5) != 0xE5 ||
		ClearSecureMessaging(0x85) != 0x81 || ClearSecureMessaging(0xE5) != 0xC5 {
		t.Fatal("Set/ClearSecureMessaging")
	}
}

// fakeCard answers with a fixed payload, at most chunk bytes at a time via
// 61xx, and insists on an exact Le via 6Cxx for its first answer.
type fakeCard struct {
	payload []byte
	chunk   int
	sent    int
	exactLe bool
	log     []string
}

func (f *fakeCard) tx(_ context.Context, b []byte) ([]byte, error) {
	f.log = append(f.log, hex.EncodeToString(b))
	c, err := ParseCommand(b)
	if err != nil {
		return []byte{0x67, 0x00}, nil
	}
	if c.INS == insGetResponse {
		if c.CLA&0x03 != 0x02 {
			return []byte{0x6E, 0x00}, nil
		}
	} else {
		f.sent = 0
		if f.exactLe && c.Ne != f.chunk {
			return []byte{0x6C, byte(f.chunk)}, nil
		}
	}
	rest := f.payload[f.sent:]
	n := min(len(rest), f.chunk, c.Ne)
	out := append([]byte(nil), rest[:n]...)
	f.sent += n
	if left := len(f.payload) - f.sent; left > 0 {
		return append(out, 0x61, byte(min(left, 255))), nil
	}
	return append(out, 0x90, 0x00), nil
}

func TestTransmitChains(t *testing.T) {
	card := &fakeCard{payload: seq(600), chunk: 200, exactLe: true}
	resp, err := Transmit(context.Background(), card.tx, Command{CLA: 0x82, INS: 0xCA, P1: 0x00, P2: 0xFE, Ne: 256})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Success() || !bytes.Equal(resp.Data, seq(600)) {
		t.Fatalf("got %d bytes SW %04X", len(resp.Data), resp.SW)
	}
	want := []string{"82ca00fe00", "82ca00fec8", "02c00000ff", "02c00000c8"}
	if diff := cmp.Diff(want, card.log); diff != "" {
		t.Fatalf("exchange (-want +got):\n%s", diff)
	}
}

// GET RESPONSE on a further-interindustry channel uses 0x40 | (n−4).
func TestTransmitGetResponseChannel(t *testing.T) {
	var log []string
	tx := func(_ context.Context, b []byte) ([]byte, error) {
		log = append(log, hex.EncodeToString(b))
		if b[1] == insGetResponse {
			return []byte{0x03, 0x90, 0x00}, nil
		}
		return []byte{0x01, 0x02, 0x61, 0x01}, nil
	}
	resp, err := Transmit(context.Background(), tx, Command{CLA: 0xE7, INS: 0xCA, Ne: 256}) // channel 11, SM
	if err != nil || !bytes.Equal(resp.Data, []byte{1, 2, 3}) || resp.SW != SWSuccess {
		t.Fatalf("%v %v", resp, err)
	}
	if diff := cmp.Diff([]string{"e7ca000000", "47c0000001"}, log); diff != "" {
		t.Fatalf("exchange (-want +got):\n%s", diff)
	}
	if _, err := Transmit(context.Background(), tx, Command{CLA: 0x30, INS: 0xCA}); !errors.Is(err, ErrClass) {
		t.Fatalf("reserved CLA: %v", err)
	}
}

func TestTransmitBounds(t *testing.T) {
	card := &fakeCard{payload: seq(5000), chunk: 10}
	tr := Transmitter{Tx: card.tx, MaxChain: 8}
	if _, err := tr.Transmit(context.Background(), Command{CLA: 0x02, INS: 0xB0, Ne: 256}); !errors.Is(err, ErrChainTooLong) {
		t.Fatalf("err = %v, want ErrChainTooLong", err)
	}
	card = &fakeCard{payload: seq(5000), chunk: 200}
	tr = Transmitter{Tx: card.tx, MaxResponse: 1000}
	if _, err := tr.Transmit(context.Background(), Command{CLA: 0x02, INS: 0xB0, Ne: 256}); !errors.Is(err, ErrLength) {
		t.Fatalf("err = %v, want ErrLength", err)
	}
	loop := func(context.Context, []byte) ([]byte, error) { return []byte{0x6C, 0x10}, nil }
	if _, err := Transmit(context.Background(), loop, Command{INS: 0xB0, Ne: 1}); !errors.Is(err, ErrChainTooLong) {
		t.Fatalf("6C loop: err = %v", err)
	}
	boom := errors.New("reader unplugged")
	fail := func(context.Context, []byte) ([]byte, error) { return nil, boom }
	if _, err := Transmit(context.Background(), fail, Command{INS: 0xB0}); !errors.Is(err, boom) {
		t.Fatalf("transport error: %v", err)
	}
	short := func(context.Context, []byte) ([]byte, error) { return []byte{0x90}, nil }
	if _, err := Transmit(context.Background(), short, Command{INS: 0xB0}); !errors.Is(err, ErrTruncated) {
		t.Fatalf("short response: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Transmit(ctx, short, Command{INS: 0xB0}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if _, err := (Transmitter{}).Transmit(context.Background(), Command{}); !errors.Is(err, ErrNoTransport) {
		t.Fatal("nil Tx accepted")
	}
	final := func(context.Context, []byte) ([]byte, error) { return []byte{0x6A, 0x82}, nil }
	r, err := Transmit(context.Background(), final, Command{INS: 0xA4})
	if err != nil || r.SW != 0x6A82 || r.Data != nil {
		t.Fatalf("%v %v", r, err)
	}
}
