package iso8583test_test

import (
	"context"
	"fmt"
	"time"

	"github.com/payedge/payedge/biometric"
	bio "github.com/payedge/payedge/biometric/iso8583"
	"github.com/payedge/payedge/biometric/iso8583/iso8583test"
	"github.com/payedge/payedge/risk"
)

// An issuer simulator on 127.0.0.1 that loses one response: the
// authoriser times out, and the held 0110 can be released later as a late
// answer.
func ExampleSimulator_Hold() {
	issuer, _ := biometric.NewIssuer(biometric.IssuerConfig{})
	_ = issuer.Open("tok-1", risk.Amount{Minor: 10_000, Currency: "EUR"})
	sim, err := iso8583test.Start(iso8583test.Config{Issuer: issuer})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()
	auth, _ := bio.New(bio.Config{Addr: sim.Addr()})
	defer auth.Close()

	sim.Hold(1) // keep the next response back
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = auth.Authorize(ctx, biometric.AuthRequest{Token: "tok-1", Amount: risk.Amount{Minor: 5_00, Currency: "EUR"},
		STAN: 7, RRN: "633817000007", TransmittedAt: time.Now(), TerminalID: "TERM0001", MerchantID: "SHOP17"})
	fmt.Println("timed out:", err != nil)
	fmt.Println("held responses released:", sim.Release())
	// Output:
	// timed out: true
	// held responses released: 1
}
