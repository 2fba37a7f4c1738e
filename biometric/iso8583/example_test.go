package iso8583_test

import (
	"context"
	"fmt"
	"time"

	"github.com/payedge/payedge/biometric"
	bio "github.com/payedge/payedge/biometric/iso8583"
	"github.com/payedge/payedge/biometric/iso8583/iso8583test"
	"github.com/payedge/payedge/risk"
)

// Authorise a payment over real TCP against the simulator, then reverse it.
func Example() {
	issuer, _ := biometric.NewIssuer(biometric.IssuerConfig{})
	_ = issuer.Open("4111111111111111", risk.Amount{Minor: 10_000, Currency: "EUR"})
	sim, err := iso8583test.Start(iso8583test.Config{Issuer: issuer})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()

	auth, _ := bio.New(bio.Config{Addr: sim.Addr()})
	defer auth.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := biometric.AuthRequest{Token: "4111111111111111", Amount: risk.Amount{Minor: 2_50, Currency: "EUR"},
		STAN: 1, RRN: "633817000001", TransmittedAt: time.Now(), TerminalID: "TERM0001", MerchantID: "SHOP17"}
	res, err := auth.Authorize(ctx, req)
	fmt.Println(res.ResponseCode, res.STAN, err)
	bal, _ := issuer.Balance("4111111111111111")
	fmt.Println("balance", bal.Minor)

	err = auth.Reverse(ctx, biometric.Reversal{Original: req, STAN: 2, TransmittedAt: time.Now()})
	bal, _ = issuer.Balance("4111111111111111")
	fmt.Println("reversed:", err == nil, "balance", bal.Minor)
	// Output:
	// 00 1 <nil>
	// balance 9750
	// reversed: true balance 10000
}
