package biometric_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/payedge/payedge/biometric"
	"github.com/payedge/payedge/risk"
)

// Enrol two people, then pay by face: identification releases a token, the
// in-memory issuer approves, and the result carries a PAN-free trail and a
// risk.Signal.
func Example() {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	embed := func() []float32 { // stands in for the host's face model
		v := make([]float32, biometric.DefaultDim)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	alice, bob := embed(), embed()

	key := bytes.Repeat([]byte{0x42}, biometric.KeySize) // from the host's KMS
	sealer, _ := biometric.NewSealer(key, nil)
	ids, _ := biometric.NewServer(biometric.ServerConfig{}, biometric.NewMemoryStore(), sealer)
	_ = ids.Enrol(ctx, biometric.Record{ID: "alice", Token: "tok-alice-4242", CardRef: "VISA •••• 4242", Template: alice})
	_ = ids.Enrol(ctx, biometric.Record{ID: "bob", Token: "tok-bob-0005", CardRef: "MC •••• 0005", Template: bob})

	issuer, _ := biometric.NewIssuer(biometric.IssuerConfig{})
	_ = issuer.Open("tok-alice-4242", risk.Amount{Minor: 5000, Currency: "EUR"})
	p, _ := biometric.NewProcessor(biometric.ProcessorConfig{}, ids, issuer)

	capture := make([]float32, len(alice)) // a second capture of Alice's face
	for i := range capture {
		capture[i] = alice[i] + 0.3*float32(rng.NormFloat64())
	}
	res, err := p.Pay(ctx, biometric.Sample{Modality: biometric.ModalityFace, Embedding: capture},
		biometric.Transaction{ID: "tx-1", Amount: risk.Amount{Minor: 450, Currency: "EUR"}, TerminalID: "T0000001"})
	fmt.Println(res.Status, err, res.CardRef, res.MaskedToken)
	for _, s := range res.Trail {
		fmt.Println(" ", s.Name)
	}
	fmt.Printf("%s %.3f %s\n", res.Signal.Source, res.Signal.Confidence, res.Signal.Reasons[0].Code)
	left, _ := issuer.Balance("tok-alice-4242")
	fmt.Println("balance", left.Minor)
	// Output:
	// approved <nil> VISA •••• 4242 …4242
	//   identify
	//   authorize
	//   auth-response
	//   done
	// biometric 0.999 biometric.match
	// balance 4550
}

// Pick the threshold that keeps false positives at 1 % for a gallery of
// 1000 people, from impostor comparison scores.
func ExampleCalibrate() {
	rng := rand.New(rand.NewPCG(3, 4))
	impostor := make([]float64, 200_000)
	for i := range impostor {
		impostor[i] = 0.1 * rng.NormFloat64()
	}
	t1, _ := biometric.Calibrate(nil, impostor, 0.01, 1)
	t1000, _ := biometric.Calibrate(nil, impostor, 0.01, 1000)
	fmt.Printf("threshold for N=1: %.2f, for N=1000: %.2f\n", t1, t1000)
	// Output: threshold for N=1: 0.23, for N=1000: 0.43
}
