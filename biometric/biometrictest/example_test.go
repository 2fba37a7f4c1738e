package biometrictest_test

import (
	"context"
	"fmt"

	"github.com/payedge/payedge/biometric"
	"github.com/payedge/payedge/biometric/biometrictest"
)

// A host checks its own EnrolmentStore once at start-up (in a test it
// would call biometrictest.TestEnrolmentStore instead).
func ExampleCheckEnrolmentStore() {
	err := biometrictest.CheckEnrolmentStore(context.Background(), func() (biometric.EnrolmentStore, error) {
		return biometric.NewMemoryStore(), nil
	})
	fmt.Println("contract holds:", err == nil)
	// Output: contract holds: true
}
