package se_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/setest"
)

// tagApplet answers every command with its tag, so tests can see which
// applet a channel reaches.
type tagApplet struct {
	tag       byte
	selects   []int
	deselects []int
	refuse    bool
}

func (a *tagApplet) Select(_ context.Context, s se.Selection) apdu.Response {
	a.selects = append(a.selects, s.Channel)
	if a.refuse {
		return apdu.Response{SW: apdu.SWConditionsNotSatisfied}
	}
	return apdu.Response{SW: apdu.SWSuccess}
}
func (a *tagApplet) Process(context.Context, apdu.Command) apdu.Response {
	return apdu.Response{Data: []byte{a.tag}, SW: apdu.SWSuccess}
}
func (a *tagApplet) Deselect(_ context.Context, ch int) { a.deselects = append(a.deselects, ch) }

func tx(t *testing.T, e se.Transmitter, cmd apdu.Command) apdu.Response {
	t.Helper()
	r, err := e.Transmit(context.Background(), cmd)
	if err != nil {
		t.Fatalf("Transmit %v: %v", cmd, err)
	}
	return r
}

func selectCmd(cla byte, p2 byte, aid []byte) apdu.Command {
	return apdu.Command{CLA: cla, INS: 0xA4, P1: 0x04, P2: p2, Data: aid, Ne: 256}
}

func TestSelectPartialOccurrences(t *testing.T) {
	m, _ := se.NewMemory(se.MemoryConfig{})
	rid := []byte{0xA0, 0x00, 0x00, 0x00, 0x04}
	apps := []*tagApplet{{tag: 1}, {tag: 2}, {tag: 3}}
	aids := [][]byte{append(rid[:5:5], 0x10, 0x10), append(rid[:5:5], 0x20), append(rid[:5:5], 0x10, 0x20)}
	for i, a := range apps {
		if err := m.Install(aids[i], a, se.InstallOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	probe := apdu.Command{CLA: 0x80, INS: 0x01}
	// First occurrence of the RID: install order.
	r := tx(t, m, selectCmd(0, 0x00, rid))
	if !r.Success() || !bytes.Equal(r.Data, se.FCI(aids[0])) {
		t.Fatalf("SELECT first: %v", r)
	}
	for i, want := range []byte{2, 3} {
		r = tx(t, m, selectCmd(0, 0x02, rid))
		if !r.Success() {
			t.Fatalf("SELECT next %d: %v", i, r)
		}
		if got := tx(t, m, probe).Data[0]; got != want {
			t.Fatalf("next occurrence %d reached applet %d, want %d", i, got, want)
		}
	}
	if r = tx(t, m, selectCmd(0, 0x02, rid)); r.SW != apdu.SWFileNotFound {
		t.Fatalf("SELECT next past the last: %v, want 6A82", r)
	}
	// A longer partial AID narrows the match; next occurrence of it.
	tx(t, m, selectCmd(0, 0x00, aids[0][:6]))
	if got := tx(t, m, probe).Data[0]; got != 1 {
		t.Fatalf("partial A0000000 0410: applet %d", got)
	}
	tx(t, m, selectCmd(0, 0x02, aids[0][:6]))
	if got := tx(t, m, probe).Data[0]; got != 3 {
		t.Fatalf("next of A0000000 0410: applet %d, want 3", got)
	}
	// P2 = 0C: no response data.
	if r = tx(t, m, selectCmd(0, 0x0C, aids[1])); !r.Success() || len(r.Data) != 0 {
		t.Fatalf("SELECT P2=0C: %v", r)
	}
	// Unsupported occurrence (last, previous) and P2 high bits.
	for _, p2 := range []byte{0x01, 0x03, 0x10} {
		if r = tx(t, m, selectCmd(0, p2, aids[1])); r.SW != apdu.SWIncorrectP1P2 {
			t.Errorf("SELECT P2=%02X: %v, want 6A86", p2, r)
		}
	}
	// The refused selection leaves nothing selected.
	bad := &tagApplet{tag: 9, refuse: true}
	badAID := []byte{0xA0, 0, 0, 0, 0x09, 0x09}
	if err := m.Install(badAID, bad, se.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	if r = tx(t, m, selectCmd(0, 0, badAID)); r.SW != apdu.SWConditionsNotSatisfied {
		t.Fatalf("refused SELECT: %v", r)
	}
	if r = tx(t, m, probe); r.SW != apdu.SWConditionsNotSatisfied {
		t.Fatalf("command after refused SELECT: %v, want 6985 (nothing selected)", r)
	}
	if len(apps[1].deselects) == 0 {
		t.Error("previous applet was not deselected")
	}
}

func TestManageChannelStatusWords(t *testing.T) {
	m, _ := se.NewMemory(se.MemoryConfig{MaxChannels: 4})
	aid := []byte{0xA0, 0, 0, 0, 0x01, 0x01}
	def := &tagApplet{tag: 7}
	if err := m.Install(aid, def, se.InstallOptions{Default: true}); err != nil {
		t.Fatal(err)
	}
	probe := apdu.Command{CLA: 0x80, INS: 0x01}
	if got := tx(t, m, probe).Data; !bytes.Equal(got, []byte{7}) {
		t.Fatalf("default applet not selected on the basic channel: %X", got)
	}
	tests := []struct {
		name string
		cmd  apdu.Command
		sw   uint16
		data []byte
	}{
		{"open 1", apdu.Command{INS: 0x70, Ne: 1}, 0x9000, []byte{1}},
		{"open without Le", apdu.Command{INS: 0x70}, 0x6700, nil},
		{"open with data", apdu.Command{INS: 0x70, Data: []byte{1}, Ne: 1}, 0x6700, nil},
		{"open 3 explicitly", apdu.Command{INS: 0x70, P2: 3}, 0x9000, nil},
		{"open 3 again", apdu.Command{INS: 0x70, P2: 3}, 0x6985, nil},
		{"open 4 beyond MaxChannels", apdu.Command{INS: 0x70, P2: 4}, 0x6881, nil},
		{"open 20", apdu.Command{INS: 0x70, P2: 20}, 0x6A86, nil},
		{"open 2", apdu.Command{INS: 0x70, Ne: 1}, 0x9000, []byte{2}},
		{"no free channel", apdu.Command{INS: 0x70, Ne: 1}, 0x6A81, nil},
		{"bad P1", apdu.Command{INS: 0x70, P1: 0x40}, 0x6A86, nil},
		{"close basic", apdu.Command{INS: 0x70, P1: 0x80, P2: 0}, 0x6A86, nil},
		{"close 2", apdu.Command{INS: 0x70, P1: 0x80, P2: 2}, 0x9000, nil},
		{"close 2 again", apdu.Command{INS: 0x70, P1: 0x80, P2: 2}, 0x6881, nil},
		{"APDU on closed channel 2", apdu.Command{CLA: 0x82, INS: 0x01}, 0x6881, nil},
		{"APDU on channel 5 > max", apdu.Command{CLA: 0xC1, INS: 0x01}, 0x6881, nil},
		{"CLA FF", apdu.Command{CLA: 0xFF, INS: 0x01}, 0x6E00, nil},
		{"CLA 20", apdu.Command{CLA: 0x20, INS: 0x01}, 0x6E00, nil},
		{"channel 3 reaches the default applet", apdu.Command{CLA: 0x83, INS: 0x01}, 0x9000, []byte{7}},
		{"close 3 from itself", apdu.Command{CLA: 0x03, INS: 0x70, P1: 0x80}, 0x9000, nil},
		{"select unknown", selectCmd(0, 0, []byte{1, 2, 3, 4, 5}), 0x6A82, nil},
		{"select 17 bytes", selectCmd(0, 0, make([]byte, 17)), 0x6700, nil},
		{"select 4 bytes", selectCmd(0, 0, make([]byte, 4)), 0x6700, nil},
	}
	for _, tc := range tests {
		r := tx(t, m, tc.cmd)
		if r.SW != tc.sw || !bytes.Equal(r.Data, tc.data) {
			t.Errorf("%s: got %v, want %04X % X", tc.name, r, tc.sw, tc.data)
		}
	}
	if n := m.OpenChannels(); n != 1 {
		t.Errorf("OpenChannels = %d, want 1 (channel 1)", n)
	}
}

func TestChannelInheritsSelection(t *testing.T) {
	m, _ := se.NewMemory(se.MemoryConfig{})
	a, b := &tagApplet{tag: 1}, &tagApplet{tag: 2}
	_ = m.Install([]byte{1, 1, 1, 1, 1}, a, se.InstallOptions{Default: true})
	_ = m.Install([]byte{2, 2, 2, 2, 2}, b, se.InstallOptions{})
	tx(t, m, apdu.Command{INS: 0x70, P2: 1})
	tx(t, m, selectCmd(0x01, 0, []byte{2, 2, 2, 2, 2}))
	// Opened from channel 1: starts with channel 1's applet (b).
	tx(t, m, apdu.Command{CLA: 0x01, INS: 0x70, P2: 2})
	if got := tx(t, m, apdu.Command{CLA: 0x82, INS: 0x01}).Data[0]; got != 2 {
		t.Errorf("channel opened from 1 reaches applet %d, want 2", got)
	}
	// SELECT with no data selects the default applet.
	tx(t, m, selectCmd(0x02, 0, nil))
	if got := tx(t, m, apdu.Command{CLA: 0x82, INS: 0x01}).Data[0]; got != 1 {
		t.Errorf("SELECT without data reaches applet %d, want the default 1", got)
	}
}

func TestInstallUninstall(t *testing.T) {
	m, _ := se.NewMemory(se.MemoryConfig{MaxStorageBytes: 4096})
	aid := []byte{0xA0, 0, 0, 0, 0x01}
	if err := m.Install(aid, &tagApplet{}, se.InstallOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		aid  []byte
		opts se.InstallOptions
		want error
	}{
		{aid, se.InstallOptions{}, se.ErrDuplicateAID},
		{[]byte{1, 2, 3, 4}, se.InstallOptions{}, se.ErrAIDLength},
		{make([]byte, 17), se.InstallOptions{}, se.ErrAIDLength},
		{[]byte{1, 2, 3, 4, 5}, se.InstallOptions{StorageBytes: 8192}, se.ErrConfig},
		{[]byte{1, 2, 3, 4, 5}, se.InstallOptions{StorageBytes: -1}, se.ErrConfig},
	} {
		if err := m.Install(tc.aid, &tagApplet{}, tc.opts); !errors.Is(err, tc.want) {
			t.Errorf("Install(% X, %+v) = %v, want %v", tc.aid, tc.opts, err, tc.want)
		}
	}
	if err := m.Install([]byte{7, 7, 7, 7, 7}, &tagApplet{}, se.InstallOptions{Default: true}); err != nil {
		t.Fatal(err)
	}
	if err := m.Install([]byte{7, 7, 7, 7, 8}, &tagApplet{}, se.InstallOptions{Default: true}); !errors.Is(err, se.ErrConfig) {
		t.Errorf("second default applet: %v", err)
	}
	if err := m.Install([]byte{1, 2, 3, 4, 5}, nil, se.InstallOptions{}); !errors.Is(err, se.ErrConfig) {
		t.Errorf("Install(nil applet) = %v", err)
	}
	tx(t, m, selectCmd(0, 0, aid))
	if err := m.Uninstall(aid); !errors.Is(err, se.ErrAppletSelected) {
		t.Errorf("Uninstall of a selected applet = %v", err)
	}
	// A failed SELECT keeps the current selection (ISO/IEC 7816-4).
	tx(t, m, selectCmd(0, 0, []byte{9, 9, 9, 9, 9}))
	if err := m.Uninstall(aid); !errors.Is(err, se.ErrAppletSelected) {
		t.Errorf("Uninstall after failed SELECT = %v", err)
	}
	other := []byte{0xB0, 0, 0, 0, 0x01}
	_ = m.Install(other, &tagApplet{}, se.InstallOptions{})
	tx(t, m, selectCmd(0, 0, other))
	if err := m.Uninstall(aid); err != nil {
		t.Errorf("Uninstall: %v", err)
	}
	if err := m.Uninstall(aid); !errors.Is(err, se.ErrAppletNotFound) {
		t.Errorf("second Uninstall = %v", err)
	}
	if got := len(m.AIDs()); got != 2 {
		t.Errorf("AIDs after uninstall: %d", got)
	}
	if _, err := se.NewMemory(se.MemoryConfig{MaxChannels: 21}); !errors.Is(err, se.ErrConfig) {
		t.Errorf("MaxChannels 21: %v", err)
	}
	if _, err := se.NewMemory(se.MemoryConfig{ATR: make([]byte, 34)}); !errors.Is(err, se.ErrConfig) {
		t.Errorf("34-byte ATR: %v", err)
	}
}

func TestStorageBounds(t *testing.T) {
	m, _ := se.NewMemory(se.MemoryConfig{})
	var st se.Storage
	app := se.ProcessFunc(func(context.Context, apdu.Command) apdu.Response { return apdu.Response{SW: 0x9000} })
	capt := &captureStorage{Applet: app, got: &st}
	aid := []byte{0xA0, 0, 0, 0, 0x01}
	_ = m.Install(aid, capt, se.InstallOptions{StorageBytes: 100})
	tx(t, m, selectCmd(0, 0, aid))
	if st == nil || st.Size() != 100 {
		t.Fatalf("storage %v", st)
	}
	checkStorage(t, st)
}

type captureStorage struct {
	se.Applet
	got *se.Storage
}

func (c *captureStorage) Select(ctx context.Context, s se.Selection) apdu.Response {
	*c.got = s.Storage
	return c.Applet.Select(ctx, s)
}

func checkStorage(t *testing.T, st se.Storage) {
	t.Helper()
	n := st.Size()
	if _, err := st.WriteAt([]byte("hello"), n-5); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 5)
	if _, err := st.ReadAt(p, n-5); err != nil || string(p) != "hello" {
		t.Fatalf("ReadAt: %q %v", p, err)
	}
	for _, off := range []int64{-1, n - 4, n + 1, 1 << 62} {
		if _, err := st.WriteAt([]byte("hello"), off); !errors.Is(err, se.ErrStorage) {
			t.Errorf("WriteAt(off %d) = %v, want ErrStorage", off, err)
		}
		if _, err := st.ReadAt(p, off); !errors.Is(err, se.ErrStorage) {
			t.Errorf("ReadAt(off %d) = %v, want ErrStorage", off, err)
		}
	}
}

func TestStateAppletPersistsAcrossSelections(t *testing.T) {
	m, _ := se.NewMemory(se.MemoryConfig{})
	_ = m.Install(stateAID, setest.NewStateApplet(), se.InstallOptions{})
	ctx := context.Background()
	ch, err := m.OpenLogicalChannel(ctx, stateAID)
	if err != nil {
		t.Fatal(err)
	}
	tx(t, ch, apdu.Command{CLA: 0x80, INS: setest.InsStore, Data: []byte("persist")})
	_ = ch.Close()
	ch, _ = m.OpenLogicalChannel(ctx, stateAID)
	if r := tx(t, ch, apdu.Command{CLA: 0x80, INS: setest.InsLoad, Ne: 256}); string(r.Data) != "persist" {
		t.Errorf("after reselection: %v", r)
	}
}

func TestDefaultATRChecksum(t *testing.T) {
	atr := se.DefaultATR()
	// ISO/IEC 7816-3 §8.2.5: with T=1 offered, the XOR of T0 … TCK is 0.
	var x byte
	for _, c := range atr[1:] {
		x ^= c
	}
	if atr[0] != 0x3B || x != 0 {
		t.Errorf("ATR % X: TS %02X, checksum %02X", atr, atr[0], x)
	}
	m, _ := se.NewMemory(se.MemoryConfig{})
	if !bytes.Equal(m.ATR(), atr) {
		t.Error("Memory ATR is not the default")
	}
}
