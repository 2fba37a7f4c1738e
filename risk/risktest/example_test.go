package risktest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/payedge/payedge/risk"
	"github.com/payedge/payedge/risk/risktest"
)

// A host runs the conformance suite against its own store from a test,
// giving each check a fresh, empty store (here a scratch namespace).
func ExampleTestProfileStore() {
	// In the host's store_test.go:
	testStore := func(t *testing.T) {
		risktest.TestProfileStore(t, func(t *testing.T) risk.ProfileStore {
			return risk.NewMemoryStore() // the host's store on a scratch namespace
		})
	}
	_ = testStore
}

func ExampleCheckProfileStore() {
	// The same checks without a *testing.T, e.g. at start-up against a
	// scratch Redis database.
	err := risktest.CheckProfileStore(context.Background(), func() (risk.ProfileStore, error) {
		return risk.NewMemoryStore(), nil
	})
	fmt.Println("contract violations:", err)
	// Output:
	// contract violations: <nil>
}
