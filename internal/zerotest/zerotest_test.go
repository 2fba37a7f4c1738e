package zerotest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTypesWithMethods(t *testing.T) {
	dir := t.TempDir()
	src := `package p
type A struct{}
func (A) M() {}
type B[T any] struct{}
func (b *B[T]) N() {}
type C int
func (C) unexported() {}
type d struct{}
func (d) M() {}
type E struct{}
`
	if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p_test.go"), []byte("package p\ntype F struct{}\nfunc (F) M() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := TypesWithMethods(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"A", "B"}, got); diff != "" {
		t.Errorf("TypesWithMethods (-want +got):\n%s", diff)
	}
	if _, err := TypesWithMethods(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing dir: want error")
	}
}

func TestCoveredReportsMissing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte("package p\ntype A struct{}\nfunc (A) M() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ft := &fakeT{TB: t}
	CoveredIn(ft, dir)
	if ft.errors != 1 {
		t.Errorf("missing A: %d errors, want 1", ft.errors)
	}
	ft = &fakeT{TB: t}
	CoveredIn(ft, dir, "A", "Z")
	if ft.errors != 1 {
		t.Errorf("extra Z: %d errors, want 1", ft.errors)
	}
	ft = &fakeT{TB: t}
	CoveredIn(ft, dir, "A")
	if ft.errors != 0 {
		t.Errorf("exact: %d errors, want 0", ft.errors)
	}
}

type fakeT struct {
	testing.TB
	errors int
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.errors++ }
func (f *fakeT) Fatal(...any)          { f.errors++ }
