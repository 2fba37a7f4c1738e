package se_test

import (
	"context"
	"errors"
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
	"github.com/payedge/payedge/se"
	"github.com/payedge/payedge/se/apdu"
)

// TestZeroValues calls every method of every exported type with methods on
// its zero value: each works or returns ErrNotInitialized, none panics.
func TestZeroValues(t *testing.T) {
	ctx := context.Background()
	notInit := func(name string, err error) {
		t.Helper()
		if !errors.Is(err, se.ErrNotInitialized) {
			t.Errorf("%s on zero value: %v, want ErrNotInitialized", name, err)
		}
	}
	cases := map[string]func(){
		"Memory": func() {
			var m se.Memory
			notInit("Install", m.Install([]byte{1, 2, 3, 4, 5}, okApplet, se.InstallOptions{}))
			notInit("Uninstall", m.Uninstall([]byte{1, 2, 3, 4, 5}))
			_, err := m.Transmit(ctx, apdu.Command{})
			notInit("Transmit", err)
			_, err = m.OpenLogicalChannel(ctx, nil)
			notInit("OpenLogicalChannel", err)
			notInit("Close", m.Close())
			if m.AIDs() != nil || m.ATR() != nil || m.OpenChannels() != 0 {
				t.Error("zero Memory reports content")
			}
			var nilM *se.Memory
			notInit("nil Close", nilM.Close())
		},
		"MemoryConfig": func() {
			if err := (se.MemoryConfig{}).Validate(); err != nil {
				t.Errorf("zero MemoryConfig: %v", err)
			}
		},
		"ISD": func() {
			var d se.ISD
			if r := d.Select(ctx, se.Selection{}); r.SW != apdu.SWConditionsNotSatisfied {
				t.Errorf("ISD.Select: %v", r)
			}
			if r := d.Process(ctx, apdu.Command{}); r.SW != apdu.SWConditionsNotSatisfied {
				t.Errorf("ISD.Process: %v", r)
			}
			d.Deselect(ctx, 0)
			d.Deselect(ctx, 99)
			if d.KeyVersions() != nil {
				t.Error("zero ISD has keys")
			}
		},
		"ISDConfig": func() {
			if err := (se.ISDConfig{}).Validate(); !errors.Is(err, se.ErrConfig) {
				t.Errorf("zero ISDConfig: %v", err)
			}
		},
		"CPLC": func() {
			if b := (se.CPLC{}).MarshalBinary(); len(b) != 3+se.CPLCLen {
				t.Errorf("zero CPLC: %d bytes", len(b))
			}
		},
		"ProcessFunc": func() {
			var f se.ProcessFunc
			if r := f.Select(ctx, se.Selection{}); !r.Success() {
				t.Errorf("nil ProcessFunc Select: %v", r)
			}
			if r := f.Process(ctx, apdu.Command{}); r.SW != apdu.SWINSNotSupported {
				t.Errorf("nil ProcessFunc Process: %v", r)
			}
			f.Deselect(ctx, 0)
		},
		"MemoryError": func() {
			var e se.MemoryError
			_ = e.Error()
			if e.Unwrap() != nil {
				t.Error("zero MemoryError unwraps")
			}
			var ne *se.MemoryError
			_ = ne.Error()
			_ = ne.Unwrap()
		},
		"VSERequest": func() {
			if err := (se.VSERequest{}).Validate(); !errors.Is(err, se.ErrConfig) {
				t.Errorf("zero VSERequest: %v", err)
			}
		},
		"VMMConfig": func() {
			if err := (se.VMMConfig{}).Validate(); err != nil {
				t.Errorf("zero VMMConfig: %v", err)
			}
		},
		"VMM": func() {
			var v se.VMM
			_, err := v.CreateVSE(ctx, se.VSERequest{})
			notInit("CreateVSE", err)
			notInit("DestroyVSE", v.DestroyVSE(ctx, 1))
			_, err = v.Alloc(ctx, 1, 256)
			notInit("Alloc", err)
			notInit("Free", v.Free(ctx, 1, 0))
			notInit("Validate", v.Validate(1, 0, 1))
			notInit("ReadAt", v.ReadAt(1, make([]byte, 1), 0))
			notInit("WriteAt", v.WriteAt(1, make([]byte, 1), 0))
			_, err = v.Grant(ctx, 1, 2, 0, 1, false)
			notInit("Grant", err)
			notInit("Revoke", v.Revoke(ctx, 1, 1))
			notInit("ReadGrant", v.ReadGrant(1, 1, 0, make([]byte, 1)))
			notInit("WriteGrant", v.WriteGrant(1, 1, 0, make([]byte, 1)))
			_, err = v.Ranges(1)
			notInit("Ranges", err)
			_, _, err = v.Usage(1)
			notInit("Usage", err)
			if v.Stats().PoolBytes != 0 || v.Config().PoolBytes != 0 {
				t.Error("zero VMM has a pool")
			}
		},
		"PoolStats": func() {
			if f := (se.PoolStats{}).Fragmentation(); f != 0 {
				t.Errorf("zero PoolStats fragmentation %v", f)
			}
		},
		"VirtualManager": func() {
			var m se.VirtualManager
			_, err := m.Create(ctx, se.VirtualConfig{ID: "x"})
			notInit("Create", err)
			_, err = m.Get("x")
			notInit("Get", err)
			_, err = m.Transmit(ctx, "x", apdu.Command{})
			notInit("Transmit", err)
			notInit("Destroy", m.Destroy(ctx, "x"))
			if m.IDs() != nil {
				t.Error("zero VirtualManager has VSEs")
			}
			if _, err := m.Request(se.VirtualConfig{}); !errors.Is(err, se.ErrConfig) {
				t.Errorf("Request of zero config: %v", err)
			}
		},
		"VirtualConfig": func() {
			if err := (se.VirtualConfig{}).Validate(); !errors.Is(err, se.ErrConfig) {
				t.Errorf("zero VirtualConfig: %v", err)
			}
			if err := (se.VirtualConfig{ID: "x"}).Validate(); err != nil {
				t.Errorf("VirtualConfig with only an ID: %v", err)
			}
		},
		"InstallOptions": func() {
			if err := (se.InstallOptions{}).Validate(); err != nil {
				t.Errorf("zero InstallOptions: %v", err)
			}
		},
		"VSE": func() {
			var v se.VSE
			notInit("Install", v.Install([]byte{1, 2, 3, 4, 5}, okApplet, se.InstallOptions{}))
			notInit("Uninstall", v.Uninstall([]byte{1, 2, 3, 4, 5}))
			_, err := v.Transmit(ctx, apdu.Command{})
			notInit("Transmit", err)
			_, err = v.OpenLogicalChannel(ctx, nil)
			notInit("OpenLogicalChannel", err)
			notInit("Close", v.Close())
			if v.ID() != 0 || v.ATR() != nil || v.OpenChannels() != 0 || v.Request().ID != "" {
				t.Error("zero VSE reports content")
			}
		},
	}
	names := make([]string, 0, len(cases))
	for name, f := range cases {
		names = append(names, name)
		t.Run(name, func(t *testing.T) { f() })
	}
	zerotest.Covered(t, names...)
	// Package functions on nil inputs.
	if _, err := se.OpenLogicalChannel(ctx, nil, nil); !errors.Is(err, se.ErrNotInitialized) {
		t.Errorf("OpenLogicalChannel(nil): %v", err)
	}
	if _, err := se.TransmitFunc(nil)(ctx, []byte{0, 0, 0, 0}); !errors.Is(err, se.ErrNotInitialized) {
		t.Errorf("TransmitFunc(nil): %v", err)
	}
}
