package tlv_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/payedge/payedge/nfc/tlv"
)

func TestFindRealPPSE(t *testing.T) {
	aid, err := tlv.Find(mcPPSE, 0x6F, 0xA5, 0xBF0C, 0x61, 0x4F)
	if err != nil || !bytes.Equal(aid, h("a0000000041010")) {
		t.Fatalf("AID = %x, %v", aid, err)
	}
	label, err := tlv.Find(mcPPSE, 0x6F, 0xA5, 0xBF0C, 0x61, 0x50)
	if err != nil || string(label) != "Debit MasterCard" {
		t.Fatalf("label = %q, %v", label, err)
	}
	// Strict mode accepts this canonical response too.
	if err := (tlv.Decoder{}).Check(mcPPSE); err != nil {
		t.Fatal(err)
	}
}

func TestRealRecord(t *testing.T) {
	rec, err := tlv.Find(mcRecord, 0x70)
	if err != nil {
		t.Fatal(err)
	}
	want := map[tlv.Tag]string{
		0x5A:   "5375050000160110",
		0x5F24: "240331",
		0x5F34: "00",
		0x57:   "5375050000160110d24032212794329000000f",
	}
	got := map[tlv.Tag]string{}
	it := tlv.NewIter(rec, tlv.Strict)
	n := 0
	for obj, ok := it.Next(); ok; obj, ok = it.Next() {
		n++
		if _, ok := want[obj.Tag]; ok {
			got[obj.Tag] = hexs(obj.Value)
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 16 {
		t.Errorf("record has %d objects, want 16", n)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("record (-want +got):\n%s", d)
	}
}

func TestRealPDOL(t *testing.T) {
	pdol, err := tlv.Find(visaSelect, 0x6F, 0xA5, 0x9F38)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tlv.ParseDOL(pdol)
	if err != nil {
		t.Fatal(err)
	}
	want := []tlv.DOLEntry{{0x9F66, 4}, {0x9F02, 6}, {0x9F03, 6}, {0x9F1A, 2}, {0x95, 5}, {0x5F2A, 2}, {0x9A, 3}, {0x9C, 1}, {0x9F37, 4}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("PDOL (-want +got):\n%s", d)
	}
	// The same log's GET PROCESSING OPTIONS data for these terminal values.
	vals := map[tlv.Tag][]byte{
		0x9F66: h("27000000"), 0x9F02: h("000000001000"), 0x9F1A: h("0978"),
		0x5F2A: h("0978"), 0x9A: h("230301"), 0x9F37: h("38393031"),
	}
	data, err := tlv.FillDOL(nil, pdol, func(t tlv.Tag, n int) []byte { return vals[t] })
	if err != nil {
		t.Fatal(err)
	}
	if w := h("27000000000000001000000000000000097800000000000978230301003839303100")[:33]; !bytes.Equal(data, w) {
		t.Fatalf("PDOL data\n got %x\nwant %x", data, w)
	}
}

func hexs(b []byte) string {
	const x = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, x[c>>4], x[c&15])
	}
	return string(out)
}

func TestBadInput(t *testing.T) {
	bomb := make([]byte, 0, 4000)
	for range 1000 {
		bomb = append(bomb, 0x61, 0x81) // constructed, long form
	}
	tests := []struct {
		name string
		in   []byte
		mode tlv.Mode
		want error
	}{
		{"empty tag continuation", h("9f"), tlv.Strict, tlv.ErrTruncated},
		{"missing length", h("5a"), tlv.Strict, tlv.ErrTruncated},
		{"value beyond buffer", h("5a0812"), tlv.Strict, tlv.ErrTruncated},
		{"length bytes beyond buffer", h("5a82"), tlv.Strict, tlv.ErrTruncated},
		{"length beyond buffer", h("5a84ffffffff00"), tlv.Lenient, tlv.ErrLength},
		{"five length bytes", h("5a850000000001"), tlv.Lenient, tlv.ErrLength},
		{"five-byte tag", h("9f8181810100"), tlv.Lenient, tlv.ErrTagTooLong},
		{"indefinite strict", h("6180"), tlv.Strict, tlv.ErrIndefinite},
		{"indefinite lenient", h("61805a0100"), tlv.Lenient, tlv.ErrIndefinite},
		{"non-minimal 81", h("5a810100"), tlv.Strict, tlv.ErrNonMinimal},
		{"non-minimal 82", h("5a82000100"), tlv.Strict, tlv.ErrNonMinimal},
		{"non-minimal tag", h("9f800101"), tlv.Strict, tlv.ErrNonMinimal},
		{"padding strict", h("5a0100005a0100"), tlv.Strict, tlv.ErrPadding},
		{"ff padding strict", h("ff5a0100"), tlv.Strict, tlv.ErrPadding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tlv.Decode(tt.in, tt.mode)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode(%x) error %v, want %v", tt.in, err, tt.want)
			}
			var te *tlv.Error
			if !errors.As(err, &te) {
				t.Fatalf("error %T is not a *tlv.Error", err)
			}
		})
	}
	// Depth bomb: nested constructed objects are refused by Walk, not
	// followed down the stack.
	nested := []byte{0x5A, 0x00}
	for range 100 {
		enc, _ := tlv.Encode(0x61, nested)
		nested = enc
	}
	if err := (tlv.Decoder{Mode: tlv.Lenient}).Check(nested); !errors.Is(err, tlv.ErrDepth) {
		t.Errorf("depth bomb: %v", err)
	}
	if err := (tlv.Decoder{MaxDepth: 200}).Check(nested); err == nil {
		t.Errorf("MaxDepth beyond MaxDepthLimit accepted")
	}
	shallow := []byte{0x5A, 0x00}
	for range 30 {
		shallow, _ = tlv.Encode(0x61, shallow)
	}
	if err := (tlv.Decoder{MaxDepth: tlv.MaxDepthLimit}).Check(shallow); err != nil {
		t.Errorf("depth 31 with MaxDepth 32: %v", err)
	}
	if err := (tlv.Decoder{MaxDepth: 30}).Check(shallow); !errors.Is(err, tlv.ErrDepth) {
		t.Errorf("depth 31 with MaxDepth 30: %v", err)
	}
	if err := (tlv.Decoder{}).Check(bomb); err == nil {
		t.Error("truncated bomb accepted")
	}
	path := make([]tlv.Tag, 40)
	if _, err := (tlv.Decoder{}).Find(nested, path...); !errors.Is(err, tlv.ErrDepth) {
		t.Errorf("long path: %v", err)
	}
}

func TestLenient(t *testing.T) {
	// 00/FF padding and the non-minimal lengths cards emit.
	in := h("00ff5a8102123400005f248200032403310000")
	objs, err := tlv.Decode(in, tlv.Lenient)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].Tag != 0x5A || hexs(objs[0].Value) != "1234" || objs[1].Tag != 0x5F24 || hexs(objs[1].Value) != "240331" {
		t.Fatalf("lenient decode: %+v", objs)
	}
	if _, err := tlv.Decode(in, tlv.Strict); err == nil {
		t.Fatal("strict accepted padding")
	}
	if _, _, err := tlv.DecodeOne(h("0000"), tlv.Lenient); !errors.Is(err, tlv.ErrNotFound) {
		t.Errorf("only padding: %v", err)
	}
}

func TestFindErrors(t *testing.T) {
	if _, err := tlv.Find(mcPPSE, 0x6F, 0x84, 0x4F); !errors.Is(err, tlv.ErrNotConstructed) {
		t.Errorf("descend into primitive: %v", err)
	}
	if _, err := tlv.Find(mcPPSE, 0x6F, 0x99); !errors.Is(err, tlv.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	if _, err := tlv.Find(mcPPSE); !errors.Is(err, tlv.ErrNotFound) {
		t.Errorf("empty path: %v", err)
	}
	if _, err := tlv.Find(mcPPSE[:20], 0x6F, 0xA5); !errors.Is(err, tlv.ErrTruncated) {
		t.Errorf("truncated: %v", err)
	}
}

func TestBuilderRoundTrip(t *testing.T) {
	long := bytes.Repeat([]byte{0xAB}, 300)
	var b tlv.Builder
	b.Constructed(0x77, func(b *tlv.Builder) {
		b.Add(0x82, h("1980"))
		b.Add(0x94, h("08010100"))
		b.Constructed(0xBF0C, func(b *tlv.Builder) { b.Add(0x9F4B, long) })
	})
	enc, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if err := (tlv.Decoder{}).Check(enc); err != nil {
		t.Fatalf("builder output not strict: %v (%x)", err, enc)
	}
	got, err := tlv.Find(enc, 0x77, 0xBF0C, 0x9F4B)
	if err != nil || !bytes.Equal(got, long) {
		t.Fatalf("round trip: %v", err)
	}
	if enc[1] != 0x82 {
		t.Errorf("outer length form %x, want 82", enc[1])
	}
	var bad tlv.Builder
	bad.Constructed(0x5A, nil)
	if _, err := bad.Bytes(); !errors.Is(err, tlv.ErrTag) {
		t.Errorf("primitive tag as constructed: %v", err)
	}
	bad.Reset()
	bad.Add(0x9F, nil) // 9F needs a continuation byte
	if _, err := bad.Bytes(); !errors.Is(err, tlv.ErrTag) {
		t.Errorf("invalid tag: %v", err)
	}
}

func TestLengthEncoding(t *testing.T) {
	for _, n := range []int{0, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000, 0xFFFFFF, 0x1000000} {
		b, err := tlv.AppendLength(nil, n)
		if err != nil {
			t.Fatal(err)
		}
		obj := append([]byte{0x5A}, b...)
		obj = append(obj, make([]byte, n)...)
		got, err := tlv.Decode(obj, tlv.Strict)
		if err != nil || len(got) != 1 || len(got[0].Value) != n {
			t.Fatalf("length %d: %v", n, err)
		}
	}
	if _, err := tlv.AppendLength(nil, -1); !errors.Is(err, tlv.ErrLength) {
		t.Error("negative length accepted")
	}
}

func TestTag(t *testing.T) {
	tests := []struct {
		tag         tlv.Tag
		str         string
		n           int
		constructed bool
		valid       bool
	}{
		{0x6F, "6F", 1, true, true},
		{0x5A, "5A", 1, false, true},
		{0x9F38, "9F38", 2, false, true},
		{0xBF0C, "BF0C", 2, true, true},
		{0xDF8101, "DF8101", 3, false, true},
		{0x9F, "9F", 1, false, false},
		{0x5A01, "5A01", 2, false, false},
		{0x9F8101, "9F8101", 3, false, true},
		{0x9F0181, "9F0181", 3, false, false},
		{0, "00", 0, false, false},
	}
	for _, tt := range tests {
		if tt.tag.String() != tt.str || tt.tag.Len() != tt.n || tt.tag.Constructed() != tt.constructed || tt.tag.Valid() != tt.valid {
			t.Errorf("%s: got %s %d %v %v", tt.str, tt.tag, tt.tag.Len(), tt.tag.Constructed(), tt.tag.Valid())
		}
	}
	if tlv.Tag(0x9F38).Class() != 2 || tlv.Tag(0x5F24).Class() != 1 {
		t.Error("class")
	}
}

func TestDOLErrors(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want error
	}{
		{"9f", tlv.ErrTruncated},
		{"9f66", tlv.ErrTruncated},
		{"9f6680", tlv.ErrIndefinite},
		{"9f6683010000", tlv.ErrDOL},
		{"9f66821100", tlv.ErrDOL}, // 4352 > MaxDOLData
		{"009f6604", tlv.ErrTag},
		{"9f818181810104", tlv.ErrTagTooLong},
	} {
		if _, err := tlv.ParseDOL(h(tt.in)); !errors.Is(err, tt.want) {
			t.Errorf("ParseDOL(%s): %v, want %v", tt.in, err, tt.want)
		}
		if _, err := tlv.FillDOL(nil, h(tt.in), nil); !errors.Is(err, tt.want) {
			t.Errorf("FillDOL(%s): %v, want %v", tt.in, err, tt.want)
		}
	}
	// Truncate and pad per EMV Book 3 §5.4.
	got, err := tlv.FillDOL([]byte{0xEE}, h("9f37049a03"), func(tg tlv.Tag, n int) []byte {
		if tg == 0x9F37 {
			return h("0102030405")
		}
		return h("23")
	})
	if err != nil || hexs(got) != "ee01020304230000" {
		t.Errorf("FillDOL = %x, %v", got, err)
	}
	if n, err := tlv.DOLDataLen(h("9f37049a03")); n != 7 || err != nil {
		t.Errorf("DOLDataLen = %d, %v", n, err)
	}
}

func TestWalkOffsets(t *testing.T) {
	var depths []int
	var tags []tlv.Tag
	err := tlv.Decoder{}.Walk(mcPPSE, func(d int, o tlv.TLV) error {
		depths = append(depths, d)
		tags = append(tags, o.Tag)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]tlv.Tag{0x6F, 0x84, 0xA5, 0xBF0C, 0x61, 0x4F, 0x50, 0x87, 0x9F0A}, tags); d != "" {
		t.Errorf("walk order (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]int{0, 1, 1, 2, 3, 4, 4, 4, 4}, depths); d != "" {
		t.Errorf("depths (-want +got):\n%s", d)
	}
	stop := errors.New("stop")
	if err := (tlv.Decoder{}).Walk(mcPPSE, func(int, tlv.TLV) error { return stop }); err != stop {
		t.Errorf("callback error not returned: %v", err)
	}
	// Error offsets point into the original buffer.
	bad := append([]byte{}, mcPPSE...)
	bad[len(bad)-5] = 0x05 // 9F0A length beyond its parent
	err = (tlv.Decoder{}).Check(bad)
	var te *tlv.Error
	if !errors.As(err, &te) || te.Offset != len(bad)-7 {
		t.Errorf("error %v, want offset %d", err, len(bad)-7)
	}
}

func TestDecoderValidate(t *testing.T) {
	if err := (tlv.Decoder{Mode: 7}).Validate(); err == nil {
		t.Error("unknown mode accepted")
	}
	if err := (tlv.Decoder{MaxDepth: 33}).Validate(); err == nil {
		t.Error("depth 33 accepted")
	}
	if err := (tlv.Decoder{MaxDepth: -1}).Validate(); err == nil {
		t.Error("negative depth accepted")
	}
	if _, err := (tlv.Decoder{Mode: 9}).Find(mcPPSE, 0x6F); err == nil {
		t.Error("Find with bad decoder")
	}
}

func TestAllocs(t *testing.T) {
	rec := mcRecord
	n := testing.AllocsPerRun(100, func() {
		it := tlv.NewIter(rec, tlv.Lenient)
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			if o.Constructed() {
				inner := tlv.NewIter(o.Value, tlv.Lenient)
				for _, ok := inner.Next(); ok; _, ok = inner.Next() {
				}
			}
		}
		_, _ = tlv.Find(mcPPSE, 0x6F, 0xA5, 0xBF0C, 0x61, 0x4F)
		_ = tlv.Decoder{}.Check(mcPPSE)
	})
	if n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}

func TestIterate(t *testing.T) {
	var tags []tlv.Tag
	for o, err := range tlv.Iterate(mcRecord[3:], tlv.Strict) {
		if err != nil {
			t.Fatal(err)
		}
		tags = append(tags, o.Tag)
	}
	if len(tags) != 16 || tags[0] != 0x9F42 || tags[15] != 0x57 {
		t.Errorf("tags %v", tags)
	}
	var last error
	n := 0
	for _, err := range tlv.Iterate(h("5a01005a05"), tlv.Strict) {
		n++
		last = err
	}
	if n != 2 || !errors.Is(last, tlv.ErrTruncated) {
		t.Errorf("n=%d err=%v", n, last)
	}
	for range tlv.Iterate(mcRecord[3:], tlv.Strict) {
		break // early stop
	}
	allocs := testing.AllocsPerRun(50, func() {
		for o, err := range tlv.Iterate(mcRecord[3:], tlv.Lenient) {
			if err != nil || o.Tag == 0 {
				panic("bad")
			}
		}
	})
	if allocs != 0 {
		t.Errorf("Iterate: %v allocations", allocs)
	}
}
