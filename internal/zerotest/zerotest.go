// Package zerotest helps each payedge package prove that the zero value of
// every exported type with methods either works or returns one clear error.
//
// A package's test keeps a table of zero-value cases, one per exported type
// that has methods, and calls [Covered] with the names in that table. Covered
// parses the package's non-test source files and fails the test for every
// exported type with methods that the table does not name, so a type added
// later cannot skip the check.
package zerotest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TypesWithMethods returns, sorted, the exported type names declared in the
// non-test Go files of dir that have at least one exported method (value or
// pointer receiver). Generic receivers are reported by their base name.
func TypesWithMethods(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("zerotest: %w", err)
	}
	fset := token.NewFileSet()
	declared := map[string]bool{}
	withMethods := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("zerotest: %w", err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok && ts.Name.IsExported() {
						declared[ts.Name.Name] = true
					}
				}
			case *ast.FuncDecl:
				if d.Recv == nil || len(d.Recv.List) == 0 || !d.Name.IsExported() {
					continue
				}
				if n := receiverName(d.Recv.List[0].Type); n != "" {
					withMethods[n] = true
				}
			}
		}
	}
	var out []string
	for n := range withMethods {
		if declared[n] && ast.IsExported(n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

func receiverName(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

// Covered fails t for every exported type with methods in the package in
// the current directory (a test's working directory is its package's folder)
// that is missing from names, and for every name that is not such a type.
func Covered(t testing.TB, names ...string) {
	t.Helper()
	CoveredIn(t, ".", names...)
}

// CoveredIn is [Covered] for the package in dir.
func CoveredIn(t testing.TB, dir string, names ...string) {
	t.Helper()
	want, err := TypesWithMethods(dir)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, n := range want {
		if !have[n] {
			t.Errorf("zero-value table misses exported type %s (it has methods)", n)
		}
		delete(have, n)
	}
	for n := range have {
		t.Errorf("zero-value table names %s, which is not an exported type with methods in %s", n, dir)
	}
}
