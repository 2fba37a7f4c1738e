package scp03_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/payedge/payedge/internal/zerotest"
	"github.com/payedge/payedge/se/apdu"
	"github.com/payedge/payedge/se/scp03"
)

// The zero value of every exported type with methods works or returns a
// clear error; nothing panics (issue 17 point 2). HostSession has its own
// test in zero_host_test.go.
func TestZeroValues(t *testing.T) {
	zerotest.Covered(t, "CMAC", "CardSession", "HostSession", "InitializeUpdateInfo", "KeyKind", "PutKeyRequest", "SecurityLevel", "StaticKeys")
	noPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("%s panicked on a zero value: %v", name, r)
			}
		}()
		f()
	}

	var m scp03.CMAC
	noPanic("CMAC", func() {
		_, _, _ = m.Size(), m.BlockSize(), m.String()
		m.Reset()
		if _, err := m.Write([]byte("x")); !errors.Is(err, scp03.ErrNotInitialized) {
			t.Errorf("CMAC.Write: %v, want ErrNotInitialized", err)
		}
		for name, f := range map[string]func(){"Sum": func() { m.Sum(nil) }, "MAC": func() { m.MAC([]byte("x")) }} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("CMAC.%s of a zero CMAC returned a tag (documented to panic)", name)
					}
				}()
				f()
			}()
		}
		m.Zero()
		_ = m.GoString()
		_ = fmt.Sprintf("%v", &m)
	})

	var c scp03.CardSession
	noPanic("CardSession", func() {
		_, _, _ = c.SequenceCounter(), c.Level(), c.Open()
		if _, err := c.InitializeUpdate(apdu.Command{CLA: 0x80, INS: 0x50, Data: make([]byte, 8)}); !errors.Is(err, scp03.ErrNotInitialized) {
			t.Errorf("CardSession.InitializeUpdate: %v, want ErrNotInitialized", err)
		}
		if _, err := c.ExternalAuthenticate(apdu.Command{CLA: 0x84, INS: 0x82}); err == nil {
			t.Error("CardSession.ExternalAuthenticate succeeded")
		}
		if _, err := c.Unwrap(apdu.Command{CLA: 0x84, INS: 0xCA}); err == nil {
			t.Error("CardSession.Unwrap succeeded")
		}
		if _, err := c.UnwrapRaw([]byte{0x84, 0xCA, 0, 0}); err == nil {
			t.Error("CardSession.UnwrapRaw succeeded")
		}
		if _, err := c.Wrap(apdu.Response{SW: 0x9000}); err == nil {
			t.Error("CardSession.Wrap succeeded")
		}
		if _, err := c.AppendWrap(nil, apdu.Response{SW: 0x9000}); err == nil {
			t.Error("CardSession.AppendWrap succeeded")
		}
		_ = c.Close()
		_, _ = c.String(), c.GoString()
	})

	noPanic("InitializeUpdateInfo", func() { _ = scp03.InitializeUpdateInfo{}.S16() })
	noPanic("KeyKind", func() { _ = scp03.KeyKind(0).String() })
	noPanic("PutKeyRequest", func() { _ = scp03.PutKeyRequest{}.PutKeyResponse() })
	noPanic("SecurityLevel", func() {
		l := scp03.SecurityLevel(0)
		_, _, _ = l.Validate(), l.Has(0), l.String()
	})
	noPanic("StaticKeys", func() {
		var k scp03.StaticKeys
		if err := k.Validate(); err == nil {
			t.Error("zero StaticKeys validated")
		}
		_, _ = k.KeyVersion(), k.KeyLen()
		if err := k.Derive(0, 0, nil, make([]byte, 16)); err == nil {
			t.Error("zero StaticKeys derived a key")
		}
		_, _ = k.String(), k.GoString()
		k.Zero()
	})
}
