package risktest_test

import (
	"context"
	"fmt"

	"github.com/payedge/payedge/risk"
	"github.com/payedge/payedge/risk/risktest"
)

func ExampleCheckProfileStore() {
	// A host checks its own store the same way, e.g. at start-up against a
	// scratch Redis database.
	err := risktest.CheckProfileStore(context.Background(), func() (risk.ProfileStore, error) {
		return risk.NewMemoryStore(), nil
	})
	fmt.Println("contract violations:", err)
	// Output:
	// contract violations: <nil>
}
