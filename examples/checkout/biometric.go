package main

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/payedge/payedge/biometric"
	"github.com/payedge/payedge/risk"
)

// biometricEvidence sets up pay-by-face for the story and returns one
// evidence function: the shop's identity server with 2000 enrolled
// customers (seeded synthetic face embeddings, sealed records), an
// in-memory issuer, and a biometric.Processor. For each scene the payer
// looks into the terminal's camera — the enrolled regular customer when
// the terminal is at the shop (sc.AtShop), a stranger holding the stolen
// terminal otherwise — and the processor runs the payment for sc.Tx.Amount
// (identify → 0100/0110). The evidence is the Result's risk.Signal
// (Source "biometric"): an identification carries the likelihood ratio
// (1−FNIR)/FPIR, a stranger's miss FNIR/(1−FPIR). The processor's trail is
// PAN-free; the function prints nothing.
func biometricEvidence(ctx context.Context, seed uint64) (evidence, error) {
	const (
		dim       = 128
		customers = 2000
		regular   = 17 // the customer who pays in the story
	)
	rng := rand.New(rand.NewPCG(seed, 0xface))
	face := func() []float64 {
		v := make([]float64, dim)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return v
	}
	capture := func(id []float64) []float32 { // pose, light, expression
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(id[i] + 0.6*rng.NormFloat64())
		}
		return v
	}
	key := make([]byte, biometric.KeySize) // the host's KMS would supply it
	for i := range key {
		key[i] = byte(rng.Uint32())
	}
	sealer, err := biometric.NewSealer(key, nil)
	if err != nil {
		return nil, err
	}
	ids, err := biometric.NewServer(biometric.ServerConfig{Threshold: 0.45}, biometric.NewMemoryStore(), sealer)
	if err != nil {
		return nil, err
	}
	issuer, err := biometric.NewIssuer(biometric.IssuerConfig{})
	if err != nil {
		return nil, err
	}
	faces := make([][]float64, customers)
	for i := range faces {
		faces[i] = face()
		rec := biometric.Record{
			ID: fmt.Sprintf("cust-%04d", i), Token: fmt.Sprintf("tok-%04d-%04d", i, 1000+i),
			CardRef: fmt.Sprintf("VISA •••• %04d", 1000+i), Modality: biometric.ModalityFace, Template: capture(faces[i]),
		}
		if err := ids.Enrol(ctx, rec); err != nil {
			return nil, err
		}
		if err := issuer.Open(rec.Token, eur(500_00)); err != nil {
			return nil, err
		}
	}
	proc, err := biometric.NewProcessor(biometric.ProcessorConfig{
		// The operating point measured for this gallery (examples/biometric).
		Assessor: biometric.AssessorConfig{FPIR: 0.01, FNIR: 0.02},
	}, ids, issuer)
	if err != nil {
		return nil, err
	}
	n := 0
	return func(ctx context.Context, sc *scene) (risk.Signal, error) {
		payer := faces[regular]
		if !sc.AtShop {
			payer = face() // someone who is not enrolled
		}
		n++
		tx := biometric.Transaction{ID: fmt.Sprintf("story-%d", n), Amount: sc.Tx.Amount, TerminalID: "TERM0001", MerchantID: merchant}
		res, err := proc.Pay(ctx, biometric.Sample{Modality: biometric.ModalityFace, Embedding: capture(payer)}, tx)
		if err != nil && res.Signal.Source == "" {
			return risk.Signal{}, err // the payment did not even reach identification
		}
		return res.Signal, nil
	}, nil
}
